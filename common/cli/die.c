#include "common/cli/die.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/cli/exitcode.h"

const char *progname = "xmpp";
int quiet;

static void vline(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
    return status;
}

int fail_oom(const char *what)
{
    return what ? fail(XE_OSERR, "%s: out of memory", what)
                : fail(XE_OSERR, "out of memory");
}

void warnx(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

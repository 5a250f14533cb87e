#include "common/cli/die.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/escape.h"

#include "common/cli/exitcode.h"

const char *progname = "xmpp";
int quiet;

/* Messages carry what servers and peers said (error texts, addresses):
 * escaped like text output, so that each is one line and nothing in it
 * reaches the terminal as a control. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
    char buf[512], *msg = buf;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    if (n >= (int)sizeof buf && (msg = malloc((size_t)n + 1)))
        vsnprintf(msg, (size_t)n + 1, fmt, again);
    va_end(again);
    if (!msg) /* out of memory: the message, cut short */
        msg = buf;
    if (prefix)
        fprintf(stderr, "%s: ", prefix);
    escape_text(stderr, msg, n < 0 ? 0 : strlen(msg));
    fputc('\n', stderr);
    if (msg != buf)
        free(msg);
}

int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(progname, fmt, ap);
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
    vline(progname, fmt, ap);
    va_end(ap);
}

void trace(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(NULL, fmt, ap);
    va_end(ap);
}

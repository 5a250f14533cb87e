#include "common/io/input.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/utf8.h"

/* Who took stdin for a secret; NULL: it is the tool's. Process-wide, as
 * stdin is. */
static const char *stdin_reserved;

void input_reserve_stdin(const char *by)
{
    stdin_reserved = by;
}

int input_stdin_check(void)
{
    if (!stdin_reserved)
        return 0;
    return fail(XE_USAGE,
                "%s reads the password from stdin, so the input cannot "
                "come from stdin too; give it as an argument or a file",
                stdin_reserved);
}

int input_read(const char *path, size_t max, char **buf, size_t *len)
{
    int use_stdin = !path || !strcmp(path, "-");
    if (use_stdin && input_stdin_check())
        return XE_USAGE;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    const char *name = use_stdin ? "stdin" : path;
    if (!f)
        return fail(XE_NOINPUT, "%s: %s", path, strerror(errno));
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    int rc = b ? 0 : fail_oom(name);
    while (!rc) {
        if (n == cap - 1) {
            if (cap > max + 1) {
                rc = fail(XE_DATA, "%s: larger than %zu bytes (--max-size)",
                          name, max);
                break;
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) { /* never send a truncated body */
                rc = fail_oom(name);
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (!rc && ferror(f))
        rc = fail(XE_NOINPUT, "%s: %s", name, strerror(errno));
    if (!rc && n > max)
        rc = fail(XE_DATA, "%s: larger than %zu bytes (--max-size)", name, max);
    if (!use_stdin)
        fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

int input_text(const char *what, char **buf, size_t *len, bool sanitize)
{
    size_t at;
    const char *why = utf8_check(*buf, *len, &at);
    if (!why)
        return 0;
    if (!sanitize)
        return fail(XE_DATA,
                    "%s: %s at byte %zu; fix the input or use "
                    "--sanitize",
                    what, why, at);
    char *clean = utf8_sanitize(*buf, *len, len);
    if (!clean)
        return fail_oom(what);
    free(*buf);
    *buf = clean;
    return 0;
}

ssize_t input_available(int fd, char *buf, size_t room)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return -1;
    ssize_t n = read(fd, buf, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -1;
    return n < 0 ? 0 : n;
}

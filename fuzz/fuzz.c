/* Helpers for every fuzz target; see fuzz.h. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../common/tool.h"

/* main.c's, which the targets do not link. */
const struct tool *current_tool;

static FILE *real_stderr;

/* Our code reports errors on stderr, once per input: thousands of lines a
 * second. Send them to /dev/null; libFuzzer and the sanitizers write to
 * file descriptor 2 directly and still get through. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    real_stderr = stderr;
    FILE *null = fopen("/dev/null", "w");
    if (null)
        stderr = null;
    return 0;
}

void fuzz_failed(const char *file, int line, const char *what)
{
    fprintf(real_stderr ? real_stderr : stderr, "%s:%d: invariant broken: %s\n",
            file, line, what);
    abort();
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    CHECK(s);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

char *fuzz_field(const uint8_t **p, const uint8_t *end)
{
    if (*p >= end)
        return NULL;
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *s = fuzz_cstr(*p, n);
    *p += n + (nul != NULL);
    return s;
}

void capture_open(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    CHECK(c->f);
}

void capture_close(struct capture *c)
{
    CHECK(fclose(c->f) == 0);
    c->f = NULL;
}

void capture_free(struct capture *c)
{
    free(c->buf);
    c->buf = NULL;
}

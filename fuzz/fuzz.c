/* Helpers for every fuzz target; see fuzz.h. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/cli/tool.h"
#include "common/io/output.h"

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

/* The text of the run of text nodes starting at *c (adjacent text nodes
 * are one text to XML), malloc'd; *c moves past it. */
static char *text_run(xmpp_stanza_t **c)
{
    char *run = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&run, &len);
    CHECK(f);
    for (; *c && xmpp_stanza_is_text(*c); *c = xmpp_stanza_get_next(*c)) {
        const char *t = xmpp_stanza_get_text_ptr(*c);
        fputs(t ? t : "", f);
    }
    fclose(f);
    return run;
}

static int has_elements(xmpp_stanza_t *st)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c))
        if (!xmpp_stanza_is_text(c))
            return 1;
    return 0;
}

/* Whitespace-only text between elements is indentation: the JSON form
 * and xmlin drop it, so it does not count. */
static void blank_to_empty(char *run, int between_elements)
{
    if (between_elements && !run[strspn(run, " \t\r\n")])
        run[0] = '\0';
}

/* The same element: name, attributes (in any order: libstrophe keeps
 * them in a hash table), text and children. */
int stanza_same(xmpp_stanza_t *a, xmpp_stanza_t *b)
{
    if (xmpp_stanza_is_text(a) || xmpp_stanza_is_text(b))
        return 0; /* text is compared as runs, below */
    if (strcmp(xmpp_stanza_get_name(a), xmpp_stanza_get_name(b)) != 0)
        return 0;
    int n = xmpp_stanza_get_attribute_count(a);
    if (n != xmpp_stanza_get_attribute_count(b))
        return 0;
    if (n > 0) {
        const char *attrs[2 * n];
        xmpp_stanza_get_attributes(a, attrs, 2 * n);
        for (int i = 0; i < 2 * n; i += 2) {
            const char *v = xmpp_stanza_get_attribute(b, attrs[i]);
            /* out_xml writes a lone "lang" as xml:lang (libstrophe's
             * parser drops the prefix, so that is what it means there). */
            if (!v && !strcmp(attrs[i], "lang") &&
                !xmpp_stanza_get_attribute(a, "xml:lang"))
                v = xmpp_stanza_get_attribute(b, "xml:lang");
            if (!v || strcmp(v, attrs[i + 1]) != 0)
                return 0;
        }
    }
    xmpp_stanza_t *x = xmpp_stanza_get_children(a);
    xmpp_stanza_t *y = xmpp_stanza_get_children(b);
    int mixed = has_elements(a) || has_elements(b);
    while (x || y) {
        char *tx = text_run(&x), *ty = text_run(&y);
        blank_to_empty(tx, mixed);
        blank_to_empty(ty, mixed);
        int same = strcmp(tx, ty) == 0;
        free(tx);
        free(ty);
        if (!same || !x != !y || (x && !stanza_same(x, y)))
            return 0;
        if (x) {
            x = xmpp_stanza_get_next(x);
            y = xmpp_stanza_get_next(y);
        }
    }
    return 1;
}

char *stanza_xml(xmpp_stanza_t *st, size_t *len)
{
    struct capture c;
    capture_open(&c);
    out_xml(c.f, st);
    capture_close(&c);
    CHECK(!memchr(c.buf, '\n', c.len) && !memchr(c.buf, '\r', c.len));
    CHECK(strlen(c.buf) == c.len);
    *len = c.len;
    return c.buf;
}

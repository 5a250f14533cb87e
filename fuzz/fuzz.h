/* Shared by the libFuzzer targets in fuzz/ (built by `make fuzz`): each
 * target feeds one parser or writer of ours arbitrary bytes and checks
 * what must hold for every input, not only that nothing crashes. */
#ifndef XMPP_FUZZ_H
#define XMPP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <strophe.h>

/* An invariant: on failure print it (to the real stderr) and abort, so
 * libFuzzer saves the input as a crash. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            fuzz_failed(__FILE__, __LINE__, #cond);                            \
    } while (0)

void fuzz_failed(const char *file, int line, const char *what)
    __attribute__((noreturn));

/* The input as a malloc'd C string, cut at its first NUL. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* The next NUL-separated field of [*p, end) as a malloc'd string, or
 * NULL when none is left: one input feeds several arguments. */
char *fuzz_field(const uint8_t **p, const uint8_t *end);

/* What a writer printed: open, write to .f, close, read .buf/.len. */
struct capture {
    FILE *f;
    char *buf;
    size_t len;
};
void capture_open(struct capture *c);
void capture_close(struct capture *c);
void capture_free(struct capture *c);

/* Are a and b the same element: name, attributes (in any order, as
 * libstrophe keeps them in a hash table), text and children? */
int stanza_same(xmpp_stanza_t *a, xmpp_stanza_t *b);

/* st written by out_xml (the --xml writer), checked to be one line:
 * a malloc'd string, its length in *len. */
char *stanza_xml(xmpp_stanza_t *st, size_t *len);

#endif

/* common/io/xmlstream.c: the checks in front of libstrophe's parser, on
 * the server's stream, fed in pieces of any size as reads bring them.
 * A stand-in for libstrophe's handlers records what reaches it, and:
 *  - nothing reaches it after a fault, and never more than the limits
 *    let through (stanza size, depth, children, attributes), text only
 *    inside stanzas, in one piece per run;
 *  - what reaches it is what plain expat reports for the same bytes
 *    (text runs joined), up to the fault: the checks never
 *    change an event, only stop them; with no fault, all of them, and
 *    malformed XML is a fault whenever expat finds it so;
 *  - expat renewed between stanzas (here after a few bytes, in the binary
 *    after 256 KiB) goes on as if it had not been;
 *  - after a reset (a new stream), the same bytes give the same events.
 * (Expat itself finds some errors sooner or later depending on where its
 * input is cut: the reference is fed the same pieces.)
 * Input: one byte choosing the limit, one seeding the piece sizes, then
 * the stream. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/xmlstream.h"
#include "fuzz.h"

static const XML_Char sep = '\x1F'; /* libstrophe 0.12's */

/* Events as a record: kind, length, bytes. */
struct log {
    struct capture c;
    int depth;       /* the library's view */
    bool last_text;  /* the previous event was text */
    long long start; /* byte index where the current stanza began */
    unsigned children[XMLSTREAM_MAX_DEPTH + 2];
};

static void record(struct log *l, char kind, const char *s, size_t n)
{
    fputc(kind, l->c.f);
    fwrite(&n, sizeof n, 1, l->c.f);
    fwrite(s, 1, n, l->c.f);
}

static void record_start(struct log *l, const XML_Char *name,
                         const XML_Char **attrs)
{
    record(l, 'S', name, strlen(name));
    for (int i = 0; attrs[i]; i++)
        record(l, 'A', attrs[i], strlen(attrs[i]));
}

/* ---- what libstrophe would be: the checked side ---- */

static struct xmlstream *x;
static XML_Parser p;
static struct log lib;
static unsigned long max_bytes;

static void lib_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    CHECK(ud == &lib);
    CHECK(xmlstream_fault(x, NULL) == XMLSTREAM_OK);
    int level = lib.depth++;
    CHECK(level <= XMLSTREAM_MAX_DEPTH);
    if (level == 1)
        lib.start = (long long)XML_GetCurrentByteIndex(p);
    if (level >= 2)
        CHECK(++lib.children[level - 1] <= XMLSTREAM_MAX_CHILDREN);
    lib.children[level] = 0;
    int n = 0;
    while (attrs[n])
        n++;
    CHECK(n / 2 <= XMLSTREAM_MAX_ATTRS);
    lib.last_text = false;
    record_start(&lib, name, attrs);
}

static void lib_end(void *ud, const XML_Char *name)
{
    CHECK(ud == &lib);
    CHECK(xmlstream_fault(x, NULL) == XMLSTREAM_OK);
    CHECK(lib.depth > 0);
    if (--lib.depth == 1) {
        long long end =
            (long long)XML_GetCurrentByteIndex(p) + XML_GetCurrentByteCount(p);
        CHECK(end - lib.start <= (long long)xmlstream_max_bytes(x));
        CHECK(xmlstream_max_bytes(x) >= max_bytes);
    }
    lib.last_text = false;
    record(&lib, 'E', name, strlen(name));
}

static void lib_text(void *ud, const XML_Char *s, int len)
{
    CHECK(ud == &lib);
    CHECK(xmlstream_fault(x, NULL) == XMLSTREAM_OK);
    CHECK(len > 0 && lib.depth >= 2 && !lib.last_text);
    lib.last_text = true;
    record(&lib, 'T', s, (size_t)len);
}

/* ---- plain expat: the reference ---- */

static struct {
    XML_Parser p;
    struct log log;
    char *run;
    size_t len, cap;
} ref;

static void ref_flush(void)
{
    if (ref.len)
        record(&ref.log, 'T', ref.run, ref.len);
    ref.len = 0;
}

static void ref_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)ud;
    ref_flush();
    ref.log.depth++;
    record_start(&ref.log, name, attrs);
}

static void ref_end(void *ud, const XML_Char *name)
{
    (void)ud;
    ref_flush();
    ref.log.depth--;
    record(&ref.log, 'E', name, strlen(name));
}

static void ref_text(void *ud, const XML_Char *s, int len)
{
    (void)ud;
    if (ref.log.depth < 2)
        return;
    if (ref.len + (size_t)len > ref.cap) {
        ref.cap = 2 * (ref.len + (size_t)len);
        ref.run = realloc(ref.run, ref.cap);
        CHECK(ref.run);
    }
    memcpy(ref.run + ref.len, s, (size_t)len);
    ref.len += (size_t)len;
}

/* A DOCTYPE ends the reference too: the checks refuse it, and what its
 * entities would expand to only costs time. */
static void ref_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                        const XML_Char *pubid, int internal)
{
    (void)ud, (void)name, (void)sysid, (void)pubid, (void)internal;
    XML_StopParser(ref.p, XML_FALSE);
}

/* The size of the next piece: 1 to 64 bytes. */
static size_t piece(unsigned *seed, size_t left)
{
    *seed = *seed * 1103515245 + 12345;
    size_t n = 1 + (*seed >> 16) % 64;
    return n < left ? n : left;
}

/* Expat finds some errors sooner or later depending on where its input
 * was cut, so the reference gets the same pieces. */
static bool reference(const char *s, size_t n, unsigned seed)
{
    memset(&ref, 0, sizeof ref);
    XML_Parser r = ref.p = XML_ParserCreate_MM("UTF-8", NULL, &sep);
    CHECK(r);
    XML_SetElementHandler(r, ref_start, ref_end);
    XML_SetCharacterDataHandler(r, ref_text);
    XML_SetStartDoctypeDeclHandler(r, ref_doctype);
    capture_open(&ref.log.c);
    bool ok = true;
    for (size_t at = 0, k; ok && at < n; at += k) {
        k = piece(&seed, n - at);
        ok = XML_Parse(r, s + at, (int)k, 0) == XML_STATUS_OK;
    }
    capture_close(&ref.log.c);
    free(ref.run);
    XML_ParserFree(r);
    return ok;
}

/* ---- the run ---- */

/* As libstrophe does on a new parser and after each reset. */
static void attach(void)
{
    memset(&lib, 0, sizeof lib);
    XML_SetUserData(p, &lib);
    xmlstream_set_user_data(x, &lib);
    xmlstream_set_element_handlers(x, lib_start, lib_end);
    xmlstream_set_text_handler(x, lib_text);
}

/* The stream in pieces of 1 to 64 bytes; what reached the library. */
static enum xmlstream_fault run(const char *s, size_t n, unsigned seed,
                                struct capture *out)
{
    attach();
    capture_open(&lib.c);
    for (size_t at = 0, k; at < n; at += k) {
        k = piece(&seed, n - at);
        xmlstream_parse(x, s + at, k, false);
    }
    capture_close(&lib.c);
    *out = lib.c;
    return xmlstream_fault(x, NULL);
}

static bool is_prefix(const struct capture *a, const struct capture *b)
{
    return a->len <= b->len && !memcmp(a->buf, b->buf, a->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const unsigned long maxes[] = {1024, 4096, 1UL << 20};
    /* Renewing expat every few bytes: at nearly every stanza's end. */
    struct xmlstream_limits limits = {maxes[data[0] % 3], data[0] & 4,
                                      1 + (data[0] >> 3)};
    max_bytes = limits.max_bytes;
    unsigned seed = data[1];
    const char *s = (const char *)data + 2;
    size -= 2;

    p = XML_ParserCreate_MM(NULL, NULL, &sep);
    CHECK(p);
    x = xmlstream_new(p, &limits);
    CHECK(x);
    struct capture first, again;
    enum xmlstream_fault f = run(s, size, seed, &first);
    bool ok = reference(s, size, seed);
    CHECK(is_prefix(&first, &ref.log.c));
    if (f == XMLSTREAM_OK)
        CHECK(ok && first.len == ref.log.c.len);
    if (f == XMLSTREAM_MALFORMED)
        CHECK(!ok);
    const char *why;
    CHECK((xmlstream_fault(x, &why) == XMLSTREAM_OK) == !*why);

    /* A new stream on the same parser: nothing of the first is left. */
    CHECK(XML_ParserReset(p, NULL));
    xmlstream_reset(x);
    CHECK(run(s, size, seed, &again) == f);
    CHECK(again.len == first.len && !memcmp(again.buf, first.buf, first.len));

    capture_free(&first);
    capture_free(&again);
    capture_free(&ref.log.c);
    xmlstream_free(x);
    XML_ParserFree(p);
    return 0;
}

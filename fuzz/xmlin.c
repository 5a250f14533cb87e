/* common/io/xmlin.c: user XML (iq payloads, shell stdin) into stanzas.
 *   xmlin_parse_one: what it accepts, written by out_xml, reads back as
 *   the same stanza;
 *   xmlin_new/xmlin_feed: fed a line at a time (as from a pipe) or in
 *   chunks of any size, the input gives errors exactly when it does fed
 *   whole, and the same elements when it is clean. (After an error in a
 *   construct that spans lines, such as an unclosed processing
 *   instruction, where parsing resumes depends on how much of it expat
 *   had consumed when it noticed, so the elements may differ then.) */
#include <stdlib.h>
#include <string.h>

#include "common/cli/exitcode.h"
#include "common/io/xmlin.h"
#include "fuzz.h"

#define MAX_ELEMENTS 64

static xmpp_ctx_t *ctx;

struct got {
    xmpp_stanza_t *st[MAX_ELEMENTS];
    int n, dropped;
};

static void collect(xmpp_stanza_t *st, void *ud)
{
    struct got *g = ud;
    if (g->n < MAX_ELEMENTS)
        g->st[g->n++] = st;
    else {
        g->dropped++;
        xmpp_stanza_release(st);
    }
}

static void release(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        xmpp_stanza_release(g->st[i]);
}

static void one(const uint8_t *data, size_t size)
{
    xmpp_stanza_t *st = (xmpp_stanza_t *)1;
    int rc = xmlin_parse_one(ctx, "fuzz", (const char *)data, size, &st);
    CHECK(rc == 0 || rc == XE_DATA);
    CHECK(rc == 0 ? st != NULL : st == NULL);
    if (!st)
        return;
    size_t n;
    char *xml = stanza_xml(st, &n);
    xmpp_stanza_t *back = NULL;
    CHECK(xmlin_parse_one(ctx, "again", xml, n, &back) == 0);
    CHECK(stanza_same(st, back));
    xmpp_stanza_release(back);
    xmpp_stanza_release(st);
    free(xml);
}

enum split { WHOLE, LINES, PIECES };

/* Feed data whole, a line at a time, or in pieces of 1..7 bytes whose
 * sizes come from seed. Returns the number of errors. */
static int feed(const uint8_t *data, size_t size, enum split how, unsigned seed,
                struct got *g)
{
    struct xmlin *x = xmlin_new(ctx, "fuzz", 4096, NULL, collect, g);
    CHECK(x);
    int errors = 0;
    size_t at = 0;
    while (at < size) {
        size_t piece = size - at;
        if (how == PIECES) {
            seed = seed * 1103515245 + 12345;
            piece = 1 + (seed >> 16) % 7;
        } else if (how == LINES) {
            const uint8_t *nl = memchr(data + at, '\n', size - at);
            piece = nl ? (size_t)(nl - data - at) + 1 : size - at;
        }
        if (piece > size - at)
            piece = size - at;
        errors += xmlin_feed(x, (const char *)data + at, piece, false);
        at += piece;
    }
    errors += xmlin_feed(x, "", 0, true);
    xmlin_free(x);
    return errors;
}

static void same_elements(const struct got *a, const struct got *b)
{
    CHECK(a->n == b->n && a->dropped == b->dropped);
    for (int i = 0; i < a->n; i++)
        CHECK(stanza_same(a->st[i], b->st[i]));
}

static void stream(const uint8_t *data, size_t size)
{
    struct got whole = {0}, lines = {0}, pieces = {0};
    int ew = feed(data, size, WHOLE, 0, &whole);
    int el = feed(data, size, LINES, 0, &lines);
    int ep = feed(data, size, PIECES, size ? data[0] : 0, &pieces);
    CHECK((ew == 0) == (el == 0) && (ew == 0) == (ep == 0));
    if (ew == 0) {
        same_elements(&whole, &lines);
        same_elements(&whole, &pieces);
    }
    release(&whole);
    release(&lines);
    release(&pieces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx)
        ctx = xmpp_ctx_new(NULL, NULL);
    one(data, size);
    stream(data, size);
    return 0;
}

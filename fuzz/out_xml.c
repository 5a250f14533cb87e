/* out_xml (common/io/output.c), the --xml writer. Two ways in:
 *   input starting with '<': XML as a server would send it, parsed by
 *   libstrophe (expat), written out, parsed again and written again;
 *   anything else: fields (NUL-separated) made into attribute values
 *   and text of a <message/> built in code, which must come back intact.
 * Either way the output is one line and well-formed. Before the first
 * input, a 100,000-deep stanza (deep_nesting). */
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

#include "common/io/output.h"
#include "common/io/utf8.h"
#include "fuzz.h"

static xmpp_ctx_t *ctx;

/* Does an element in no namespace sit under one in a namespace
 * (<x xmlns="b"><y xmlns=""/></x>)? libstrophe's parser gives every
 * element its namespace, so NULL there means "none"; but stanzas built
 * in code (xmlin's) leave NULL for "inherited", and out_xml writes for
 * those: such an element comes back in its parent's namespace. */
static int undeclares(xmpp_stanza_t *st, const char *in_force)
{
    if (xmpp_stanza_is_text(st))
        return 0;
    const char *own = xmpp_stanza_get_ns(st);
    if (!own && in_force)
        return 1;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c))
        if (undeclares(c, own))
            return 1;
    return 0;
}

/* Server XML: our writing of it reads back as the same stanza. */
static void from_server(const char *in)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, in);
    if (!st)
        return;
    size_t n;
    char *xml = stanza_xml(st, &n);
    xmpp_stanza_t *back = xmpp_stanza_new_from_string(ctx, xml);
    CHECK(back);
    CHECK(undeclares(st, NULL) || stanza_same(st, back));
    free(xml);
    xmpp_stanza_release(back);
    xmpp_stanza_release(st);
}

/* A field as text we would put in a stanza: UTF-8, XML characters only
 * (input_text's job before anything is sent). */
static char *clean(char *s)
{
    char *c = utf8_sanitize(s, strlen(s), NULL);
    CHECK(c);
    free(s);
    return c;
}

static void from_fields(const uint8_t *p, const uint8_t *end)
{
    static const char *const attrs[] = {"to", "id", "type", "x"};
    char *vals[4] = {0}, *text;
    xmpp_stanza_t *st = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(st, "message");
    for (int i = 0; i < 4; i++) {
        char *v = fuzz_field(&p, end);
        if (!v)
            break;
        vals[i] = clean(v);
        xmpp_stanza_set_attribute(st, attrs[i], vals[i]);
    }
    text = fuzz_field(&p, end);
    if (text) {
        text = clean(text);
        xmpp_stanza_t *body = xmpp_stanza_new(ctx), *t = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(body, "body");
        xmpp_stanza_set_text(t, text);
        xmpp_stanza_add_child_ex(body, t, 0);
        xmpp_stanza_add_child_ex(st, body, 0);
    }
    size_t n;
    char *xml = stanza_xml(st, &n);
    xmpp_stanza_t *back = xmpp_stanza_new_from_string(ctx, xml);
    CHECK(back);
    for (int i = 0; i < 4 && vals[i]; i++) {
        const char *v = xmpp_stanza_get_attribute(back, attrs[i]);
        CHECK(v && strcmp(v, vals[i]) == 0);
    }
    if (text) {
        char *got = xmpp_message_get_body(back);
        CHECK(strcmp(got ? got : "", text) == 0);
        xmpp_free(ctx, got);
    }
    xmpp_stanza_release(back);
    xmpp_stanza_release(st);
    free(xml);
    free(text);
    for (int i = 0; i < 4; i++)
        free(vals[i]);
}

/* A stanza nested DEEP levels, as libstrophe's parser builds from a
 * server's bytes: out_xml writes it whole with a stack of its own (it
 * used to recurse, and ran out of stack). Built and released here
 * without recursion either: each element also holds a reference of
 * ours, so releasing the outermost frees only it. */
#define DEEP 100000

static void deep_nesting(void)
{
    xmpp_stanza_t **chain = malloc(DEEP * sizeof *chain);
    CHECK(chain);
    for (int i = 0; i < DEEP; i++) {
        chain[i] = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(chain[i], "a");
        if (i)
            xmpp_stanza_add_child(chain[i - 1], chain[i]); /* ref 2 */
    }
    size_t n;
    char *xml = stanza_xml(chain[0], &n);
    CHECK(n == 7 * (size_t)(DEEP - 1) + 4);
    for (size_t i = 0; i < DEEP - 1; i++) {
        CHECK(!memcmp(xml + 3 * i, "<a>", 3));
        CHECK(!memcmp(xml + n - 4 * (i + 1), "</a>", 4));
    }
    CHECK(!memcmp(xml + 3 * (size_t)(DEEP - 1), "<a/>", 4));
    free(xml);
    for (int i = 0; i < DEEP; i++)
        xmpp_stanza_release(chain[i]);
    free(chain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) { /* the first input */
        ctx = xmpp_ctx_new(NULL, NULL);
        deep_nesting();
    }
    if (size && data[0] == '<') {
        char *xml = fuzz_cstr(data, size);
        from_server(xml);
        free(xml);
    } else {
        from_fields(data, data + size);
    }
    return 0;
}

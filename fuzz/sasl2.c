/* common/auth/sasl2.c on what a server may send, parsed by libstrophe
 * (expat) as the handlers would receive it. The first byte chooses:
 *   even: the rest is a <stream:features/> for sasl2_features_parse;
 *         accepted lists hold at most SASL2_MAX_ITEMS clean, non-empty
 *         entries within their length, a refusal keeps nothing;
 *   odd:  the rest is an answer for sasl2_answer_parse: the status fits
 *         the kind, payloads are NUL-terminated at their length, a
 *         token and a JID are clean; a payload sent back in a
 *         <response/> reads back the same, and an HT proof check on it
 *         never passes by accident.
 * The features wrapper must declare its namespace as a default (a
 * stanza alone has no stream to declare the stream: prefix). */
#include <stdlib.h>
#include <string.h>

#include "common/auth/sasl2.h"
#include "common/cli/exitcode.h"
#include "fuzz.h"

static xmpp_ctx_t *ctx;

/* No byte below 0x20, no DEL: what clean() guarantees and more. */
static void check_clean(const char *s, size_t max)
{
    size_t n = strlen(s);
    CHECK(n <= max);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7F);
}

static void check_list(const struct sasl2_list *l, size_t max)
{
    CHECK(l->n <= SASL2_MAX_ITEMS);
    CHECK(l->n == 0 || l->v);
    for (size_t i = 0; i < l->n; i++) {
        CHECK(l->v[i] && l->v[i][0]);
        check_clean(l->v[i], max);
    }
}

static void features(xmpp_stanza_t *st)
{
    struct sasl2_features f;
    int rc = sasl2_features_parse(st, &f);
    CHECK(rc == 0 || rc == XE_PROTOCOL);
    if (rc) {
        CHECK(f.error[0] && memchr(f.error, '\0', sizeof f.error));
        CHECK(!f.mechs.v && !f.cb_types.v && !f.mechs2.v &&
              !f.bind_features.v && !f.fast_mechs.v);
        return;
    }
    check_list(&f.mechs, SASL2_MAX_NAME);
    check_list(&f.cb_types, SASL2_MAX_NAME);
    check_list(&f.mechs2, SASL2_MAX_NAME);
    check_list(&f.bind_features, SASL2_MAX_VAR);
    check_list(&f.fast_mechs, SASL2_MAX_NAME);
    CHECK(f.sasl1 || !f.mechs.n);
    CHECK(f.sasl2 || (!f.mechs2.n && !f.bind2 && !f.fast && !f.sm));
    struct mech_offer o = {0};
    sasl2_features_offer(&f, true, &o);
    CHECK(o.sasl2 == f.sasl2);
    CHECK(!f.cb_advertised == !o.cb_types);
    const char *ours[] = {"tls-exporter", "tls-server-end-point"};
    const char *ht = ht_choose(&f.fast_mechs, ours, 2);
    CHECK(!ht || sasl2_listed(&f.fast_mechs, ht));
    sasl2_features_free(&f);
}

/* The payload back through <response/>, renamed a challenge. */
static void round_trip(const struct sasl2_answer *a)
{
    xmpp_stanza_t *r = sasl2_response(ctx, true, a->data, a->len);
    CHECK(r);
    xmpp_stanza_set_name(r, "challenge");
    struct sasl2_answer back;
    CHECK(sasl2_answer_parse(r, &back) == 0);
    CHECK(back.len == a->len && !memcmp(back.data, a->data, a->len));
    sasl2_answer_free(&back);
    xmpp_stanza_release(r);
}

static void answer(xmpp_stanza_t *st)
{
    struct sasl2_answer a;
    int rc = sasl2_answer_parse(st, &a);
    CHECK(rc == 0 || rc == XE_AUTH || rc == XE_PROTOCOL);
    if (rc)
        CHECK(a.error[0] && memchr(a.error, '\0', sizeof a.error));
    if (rc == 0)
        CHECK(a.kind == SASL2_CHALLENGE || a.kind == SASL2_SUCCESS);
    if (rc == XE_AUTH)
        CHECK(a.kind == SASL2_FAILURE || a.kind == SASL2_CONTINUE);
    if (rc == XE_PROTOCOL)
        CHECK(!a.data && !a.jid && !a.token && !a.sm.id);
    if (a.kind == SASL2_CHALLENGE && !rc)
        CHECK(a.data);
    if (a.data) {
        CHECK(a.len <= SASL2_MAX_DATA && a.data[a.len] == '\0');
        round_trip(&a);
        struct ht h;
        unsigned char *out;
        size_t len;
        CHECK(ht_start(&h, "HT-SHA-256-NONE", "user", "token", NULL, 0, &out,
                       &len) == 0);
        free(out);
        CHECK(ht_verify(&h, a.data, a.len) == XE_AUTH);
        ht_free(&h);
    }
    if (a.jid)
        check_clean(a.jid, 3071);
    if (a.token) {
        CHECK(a.token[0]);
        check_clean(a.token, SASL2_MAX_TOKEN);
        CHECK(a.token_expiry >= 0);
    }
    if (a.sm.id)
        CHECK(a.sm.enabled);
    CHECK(memchr(a.text, '\0', sizeof a.text));
    sasl2_answer_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!ctx)
        ctx = xmpp_ctx_new(NULL, NULL);
    char *xml = fuzz_cstr(data + 1, size - 1);
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
    if (st) {
        if (data[0] & 1)
            answer(st);
        else
            features(st);
        xmpp_stanza_release(st);
    }
    free(xml);
    return 0;
}

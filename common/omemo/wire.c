/* Reading what OMEMO puts on the wire (XEP-0384 v0.3 §4 and, for
 * OMEMO 2, v0.8 §4): device lists, bundles and <encrypted/> elements. All of it
 * comes from the network: every count, size and number is checked, and what
 * does not fit is refused with a reason, never trusted. */
#include <ctype.h>
#include <curve.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/omemo/omemo_priv.h"
#include "common/xmpp/stanza.h"

/* Limits far above what clients send, so that a hostile server cannot
 * make us allocate or loop much. */
#define MAX_DEVICES 1000
#define MAX_KEYS    1000
#define MAX_B64     (1 << 20)

/* A decimal id 1 .. 2^31-1 (§4.1: device ids; prekey ids likewise). */
static bool parse_id(const char *s, uint32_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || errno || v == 0 || v > 0x7fffffff)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* The base64 text of el, whitespace ignored, decoded into *out (with
 * xmpp_free). Returns 0, or -1 when it is no base64. */
static int b64(xmpp_ctx_t *ctx, xmpp_stanza_t *el, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    char *t = el ? xmpp_stanza_get_text(el) : NULL;
    if (!t)
        return -1;
    size_t n = 0;
    for (char *p = t; *p; p++)
        if (!isspace((unsigned char)*p))
            t[n++] = *p;
    t[n] = '\0';
    if (n && n <= MAX_B64)
        xmpp_base64_decode_bin(ctx, t, n, out, len);
    xmpp_free(ctx, t);
    return *out && *len ? 0 : -1;
}

/* A serialized Curve25519 public key: 33 bytes, type 0x05 (§4.3; some
 * clients publish the 32 bytes without the type). */
static int b64_key(xmpp_ctx_t *ctx, xmpp_stanza_t *el, uint8_t key[33])
{
    uint8_t *d;
    size_t n;
    if (b64(ctx, el, &d, &n))
        return -1;
    int rc = 0;
    if (n == 33 && d[0] == 0x05)
        memcpy(key, d, 33);
    else if (n == 32) {
        key[0] = 0x05;
        memcpy(key + 1, d, 32);
    } else
        rc = -1;
    xmpp_free(ctx, d);
    return rc;
}

/* The payload of the first <item/> under items: <NAME xmlns=NS_OMEMO>,
 * or for OMEMO 2 NS_OMEMO2. */
static xmpp_stanza_t *item_payload(xmpp_stanza_t *items, const char *name,
                                   unsigned gen)
{
    xmpp_stanza_t *item =
        items ? xmpp_stanza_get_child_by_name(items, "item") : NULL;
    return item ? xmpp_stanza_get_child_by_name_and_ns(
                      item, name, gen == OMEMO_V2 ? NS_OMEMO2 : NS_OMEMO)
                : NULL;
}

int wire_parse_devices(xmpp_stanza_t *items, unsigned gen, uint32_t **ids,
                       size_t *n)
{
    xmpp_stanza_t *list =
        item_payload(items, gen == OMEMO_V2 ? "devices" : "list", gen);
    *ids = NULL;
    *n = 0;
    if (!list)
        return items && !xmpp_stanza_get_child_by_name(items, "item") ? 0 : -1;
    size_t cap = 0;
    for (xmpp_stanza_t *d = xmpp_stanza_get_child_by_name(list, "device");
         d && *n < MAX_DEVICES; d = next_named(d, "device")) {
        uint32_t id;
        if (!parse_id(xmpp_stanza_get_attribute(d, "id"), &id))
            continue; /* one bad entry does not hide the others */
        bool dup = false;
        for (size_t i = 0; i < *n && !dup; i++)
            dup = (*ids)[i] == id;
        if (dup)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            uint32_t *p = realloc(*ids, cap * sizeof *p);
            if (!p)
                return -1;
            *ids = p;
        }
        (*ids)[(*n)++] = id;
    }
    return 0;
}

/* One prekey of the bundle, picked at random, so that two senders
 * fetching the same bundle at once rarely pick the same one. */
static const char *pick_prekey(xmpp_ctx_t *ctx, xmpp_stanza_t *prekeys,
                               struct wire_bundle *b)
{
    bool two = b->gen == OMEMO_V2;
    const char *name = two ? "pk" : "preKeyPublic";
    size_t n = 0;
    for (xmpp_stanza_t *p = xmpp_stanza_get_child_by_name(prekeys, name); p;
         p = next_named(p, name))
        n++;
    if (!n)
        return "no prekeys";
    uint32_t r = 0;
    omemo_random(&r, sizeof r);
    size_t want = r % n, i = 0;
    for (xmpp_stanza_t *p = xmpp_stanza_get_child_by_name(prekeys, name); p;
         p = next_named(p, name), i++) {
        if (i != want)
            continue;
        if (!parse_id(xmpp_stanza_get_attribute(p, two ? "id" : "preKeyId"),
                      &b->pk_id) ||
            b64_key(ctx, p, b->pk))
            return "a malformed prekey";
    }
    return NULL;
}

/* The 64-byte signature in el, into b. NULL or why not. */
static const char *take_sig(xmpp_ctx_t *ctx, xmpp_stanza_t *el,
                            struct wire_bundle *b)
{
    uint8_t *sig;
    if (b64(ctx, el, &sig, &b->sig_len) || b->sig_len != 64) {
        if (sig)
            xmpp_free(ctx, sig);
        return "a malformed signature";
    }
    b->sig = malloc(64);
    if (b->sig)
        memcpy(b->sig, sig, 64);
    xmpp_free(ctx, sig);
    return b->sig ? NULL : "out of memory";
}

/* v0.8 §4.3: the identity key is the Ed25519 form; its Curve25519
 * form, the one trust and fingerprints go by, is derived. */
static int b64_ed_key(xmpp_ctx_t *ctx, xmpp_stanza_t *el, struct wire_bundle *b)
{
    uint8_t *d;
    size_t n;
    ec_public_key *k = NULL;
    signal_buffer *ser = NULL;
    if (b64(ctx, el, &d, &n))
        return -1;
    int rc = n == 32 ? 0 : -1;
    if (!rc)
        memcpy(b->ik_ed, d, 32);
    xmpp_free(ctx, d);
    if (rc || curve_decode_point_ed(&k, b->ik_ed, 32, NULL) ||
        ec_public_key_serialize(&ser, k))
        rc = -1;
    else
        memcpy(b->ik, signal_buffer_data(ser), 33);
    signal_buffer_free(ser);
    SIGNAL_UNREF(k);
    return rc;
}

static const char *parse_bundle03(xmpp_ctx_t *ctx, xmpp_stanza_t *bundle,
                                  struct wire_bundle *b)
{
    xmpp_stanza_t *spk =
        xmpp_stanza_get_child_by_name(bundle, "signedPreKeyPublic");
    if (!spk ||
        !parse_id(xmpp_stanza_get_attribute(spk, "signedPreKeyId"),
                  &b->spk_id) ||
        b64_key(ctx, spk, b->spk))
        return "a malformed signed prekey";
    const char *why = take_sig(
        ctx, xmpp_stanza_get_child_by_name(bundle, "signedPreKeySignature"), b);
    if (why)
        return why;
    if (b64_key(ctx, xmpp_stanza_get_child_by_name(bundle, "identityKey"),
                b->ik))
        return "a malformed identity key";
    xmpp_stanza_t *pks = xmpp_stanza_get_child_by_name(bundle, "prekeys");
    return pks ? pick_prekey(ctx, pks, b) : "no prekeys";
}

static const char *parse_bundle2(xmpp_ctx_t *ctx, xmpp_stanza_t *bundle,
                                 struct wire_bundle *b)
{
    xmpp_stanza_t *spk = xmpp_stanza_get_child_by_name(bundle, "spk");
    if (!spk || !parse_id(xmpp_stanza_get_attribute(spk, "id"), &b->spk_id) ||
        b64_key(ctx, spk, b->spk))
        return "a malformed signed prekey";
    const char *why =
        take_sig(ctx, xmpp_stanza_get_child_by_name(bundle, "spks"), b);
    if (why)
        return why;
    if (b64_ed_key(ctx, xmpp_stanza_get_child_by_name(bundle, "ik"), b))
        return "a malformed identity key";
    xmpp_stanza_t *pks = xmpp_stanza_get_child_by_name(bundle, "prekeys");
    return pks ? pick_prekey(ctx, pks, b) : "no prekeys";
}

const char *wire_parse_bundle(xmpp_ctx_t *ctx, xmpp_stanza_t *items,
                              unsigned gen, struct wire_bundle *b)
{
    memset(b, 0, sizeof *b);
    b->gen = gen;
    xmpp_stanza_t *bundle = item_payload(items, "bundle", gen);
    if (!bundle)
        return "no bundle";
    return gen == OMEMO_V2 ? parse_bundle2(ctx, bundle, b)
                           : parse_bundle03(ctx, bundle, b);
}

void wire_bundle_free(struct wire_bundle *b)
{
    free(b->sig);
    b->sig = NULL;
}

static int add_key(xmpp_ctx_t *ctx, xmpp_stanza_t *k, const char *kex,
                   struct wire_msg *m)
{
    struct wire_key wk = {0};
    uint8_t *d;
    if (!parse_id(xmpp_stanza_get_attribute(k, "rid"), &wk.rid) ||
        b64(ctx, k, &d, &wk.len))
        return 0; /* a broken key for someone: not ours to judge */
    wk.data = malloc(wk.len);
    if (wk.data)
        memcpy(wk.data, d, wk.len);
    xmpp_free(ctx, d);
    const char *pk = xmpp_stanza_get_attribute(k, kex);
    wk.prekey = pk && (!strcmp(pk, "true") || !strcmp(pk, "1"));
    struct wire_key *p = realloc(m->keys, (m->nkeys + 1) * sizeof *p);
    if (!wk.data || !p) {
        free(wk.data);
        if (p)
            m->keys = p;
        return -1;
    }
    m->keys = p;
    m->keys[m->nkeys++] = wk;
    return 0;
}

/* The <payload/> of enc into m, if there is one. NULL or why not. */
static const char *parse_payload(xmpp_ctx_t *ctx, xmpp_stanza_t *enc,
                                 struct wire_msg *m)
{
    xmpp_stanza_t *pl = xmpp_stanza_get_child_by_name(enc, "payload");
    if (pl) {
        uint8_t *d;
        if (b64(ctx, pl, &d, &m->payload_len))
            return "a payload that is not base64";
        m->payload = malloc(m->payload_len);
        if (m->payload)
            memcpy(m->payload, d, m->payload_len);
        xmpp_free(ctx, d);
        if (!m->payload)
            return "out of memory";
    }
    return NULL;
}

/* The <header sid=DEV/> of enc (both generations), the sid into m. */
static xmpp_stanza_t *parse_header(xmpp_stanza_t *enc, struct wire_msg *m)
{
    memset(m, 0, sizeof *m);
    xmpp_stanza_t *h = xmpp_stanza_get_child_by_name(enc, "header");
    return h && parse_id(xmpp_stanza_get_attribute(h, "sid"), &m->sid) ? h
                                                                       : NULL;
}

const char *wire_parse_msg(xmpp_ctx_t *ctx, xmpp_stanza_t *enc,
                           struct wire_msg *m)
{
    xmpp_stanza_t *h = parse_header(enc, m);
    if (!h)
        return "no header with a sender device id";
    uint8_t *iv;
    size_t ivlen;
    if (b64(ctx, xmpp_stanza_get_child_by_name(h, "iv"), &iv, &ivlen) ||
        ivlen != 12) {
        if (iv)
            xmpp_free(ctx, iv);
        return "no 12-byte IV";
    }
    memcpy(m->iv, iv, 12);
    xmpp_free(ctx, iv);
    for (xmpp_stanza_t *k = xmpp_stanza_get_child_by_name(h, "key");
         k && m->nkeys < MAX_KEYS; k = next_named(k, "key"))
        if (add_key(ctx, k, "prekey", m))
            return "out of memory";
    return parse_payload(ctx, enc, m);
}

/* RFC 7622: a JID compares without case (for the ASCII we meet). */
static bool same_jid(const char *a, const char *b)
{
    return a && b && !strcasecmp(a, b);
}

const char *wire_parse_msg2(xmpp_ctx_t *ctx, xmpp_stanza_t *enc, const char *to,
                            struct wire_msg *m)
{
    xmpp_stanza_t *h = parse_header(enc, m);
    if (!h)
        return "no header with a sender device id";
    for (xmpp_stanza_t *ks = xmpp_stanza_get_child_by_name(h, "keys"); ks;
         ks = next_named(ks, "keys")) {
        if (!same_jid(xmpp_stanza_get_attribute(ks, "jid"), to))
            continue;
        for (xmpp_stanza_t *k = xmpp_stanza_get_child_by_name(ks, "key");
             k && m->nkeys < MAX_KEYS; k = next_named(k, "key"))
            if (add_key(ctx, k, "kex", m))
                return "out of memory";
    }
    return parse_payload(ctx, enc, m);
}

void wire_msg_free(struct wire_msg *m)
{
    for (size_t i = 0; i < m->nkeys; i++)
        free(m->keys[i].data);
    free(m->keys);
    free(m->payload);
    memset(m, 0, sizeof *m);
}

/* ---- writing ---- */

void wire_add_b64(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                  const uint8_t *d, size_t n, const char *attr, uint32_t id)
{
    char *t = xmpp_base64_encode(ctx, d, n);
    xmpp_stanza_t *el = stanza_text_child(ctx, name, t ? t : "");
    if (attr) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", id);
        xmpp_stanza_set_attribute(el, attr, buf);
    }
    xmpp_stanza_add_child_ex(parent, el, 0);
    xmpp_free(ctx, t);
}

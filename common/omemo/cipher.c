/* Encrypting for the devices of recipients (XEP-0384 v0.3 §4.4-4.5,
 * v0.8 §4.4-4.5): sessions are built from fetched bundles (X3DH), the
 * body goes under AES-128-GCM (0.3) or, wrapped in an XEP-0420
 * envelope, AES-256-CBC with HMAC (OMEMO 2), and the key goes to each
 * device through its Double Ratchet session of that generation. */
#include <curve.h>
#include <openssl/crypto.h>
#include <protocol.h>
#include <session_builder.h>
#include <session_cipher.h>
#include <session_pre_key.h>
#include <stdio.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/omemo/omemo_priv.h"
#include "common/xmpp/stanza.h"

void omemo_targets_free(struct omemo *om)
{
    for (size_t i = 0; i < om->ntargets; i++) {
        free(om->targets[i].jid);
        free(om->targets[i].dev);
        free(om->targets[i].gens);
        free(om->targets[i].use);
    }
    free(om->targets);
    om->targets = NULL;
    om->ntargets = 0;
}

/* t's devices with the ids of one generation's list merged in. */
static int merge_list(struct omemo_target *t, unsigned gen, const uint32_t *ids,
                      size_t n)
{
    uint32_t *dev = realloc(t->dev, (t->n + n + 1) * sizeof *dev);
    uint8_t *gens = dev ? realloc(t->gens, t->n + n + 1) : NULL;
    if (dev)
        t->dev = dev;
    if (!gens)
        return -1;
    t->gens = gens;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < t->n && t->dev[k] != ids[i])
            k++;
        if (k == t->n) {
            t->dev[t->n] = ids[i];
            t->gens[t->n++] = 0;
        }
        t->gens[k] |= (uint8_t)gen;
    }
    return 0;
}

/* Fetch both device lists of targets[0..n) at once (one round trip).
 * A JID that has none (item-not-found, or an error) gets zero. */
static int fetch_lists(struct omemo *om, struct session *s)
{
    size_t n = om->ntargets;
    xmpp_stanza_t **iqs = calloc(2 * n, sizeof *iqs);
    xmpp_stanza_t **rep = calloc(2 * n, sizeof *rep);
    int rc = iqs && rep ? 0 : fail_oom(NULL);
    for (size_t i = 0; !rc && i < 2 * n; i++)
        iqs[i] = pep_items_iq(s, om->targets[i / 2].jid,
                              i % 2 ? OMEMO2_NODE_DEVICES : OMEMO_NODE_DEVICES);
    if (!rc)
        rc = session_iq_all(s, iqs, 2 * n, rep);
    for (size_t i = 0; !rc && i < 2 * n; i++) {
        struct omemo_target *t = &om->targets[i / 2];
        unsigned gen = i % 2 ? OMEMO_V2 : OMEMO_V03;
        xmpp_stanza_t *items = pep_items(rep[i]);
        uint32_t *ids = NULL;
        size_t k = 0;
        if (items && wire_parse_devices(items, gen, &ids, &k))
            warnx("%s: malformed OMEMO%s device list; ignored", t->jid,
                  gen == OMEMO_V2 ? " 2" : "");
        if (merge_list(t, gen, ids, k))
            rc = fail_oom(NULL);
        free(ids);
    }
    for (size_t i = 0; !rc && i < n; i++)
        if (!(om->targets[i].use = calloc(om->targets[i].n + 1, 1)))
            rc = fail_oom(NULL);
    pep_release(iqs, rep, 2 * n);
    return rc;
}

/* The generation we speak with a device that announces gens: OMEMO 2
 * where it can. */
static unsigned pick_gen(unsigned gens)
{
    return gens & OMEMO_V2 ? OMEMO_V2 : OMEMO_V03;
}

/* X3DH with a fetched bundle (v0.3 §4.4, v0.8 §4.4): a session of the
 * bundle's generation with jid's device dev, kept in the store. OMEMO
 * 2's identity key is taken in its Ed25519 form, which the signature
 * is checked against. Returns NULL or why not. */
static const char *build_session(struct omemo *om, const char *jid,
                                 uint32_t dev, const struct wire_bundle *b)
{
    ec_public_key *spk = NULL, *pk = NULL, *ik = NULL;
    session_pre_key_bundle *bundle = NULL;
    session_builder *builder = NULL;
    struct omemo_addr a;
    bool two = b->gen == OMEMO_V2;
    const char *why = "malformed keys";
    omemo_addr(&a, jid, dev, b->gen);
    if (curve_decode_point(&spk, b->spk, 33, om->sg) ||
        curve_decode_point(&pk, b->pk, 33, om->sg) ||
        (two ? curve_decode_point_ed(&ik, b->ik_ed, 32, om->sg)
             : curve_decode_point(&ik, b->ik, 33, om->sg)))
        goto done;
    why = "out of memory";
    if (session_pre_key_bundle_create(&bundle, dev, (int)dev, b->pk_id, pk,
                                      b->spk_id, spk, b->sig, b->sig_len, ik) ||
        session_builder_create(&builder, om->store, &a.a, om->sg))
        goto done;
    if (two)
        session_builder_set_version(builder, CIPHERTEXT_OMEMO_VERSION);
    int rc = session_builder_process_pre_key_bundle(builder, bundle);
    why = rc == SG_ERR_UNTRUSTED_IDENTITY ? "its identity key is distrusted"
          : rc == SG_ERR_INVALID_KEY      ? "the bundle's signature is invalid"
          : rc                            ? "session setup failed"
                                          : NULL;
done:
    session_builder_free(builder);
    SIGNAL_UNREF(bundle);
    SIGNAL_UNREF(spk);
    SIGNAL_UNREF(pk);
    SIGNAL_UNREF(ik);
    return why;
}

/* Bundles for the devices we have no session with (in the generation
 * we speak with each), fetched at once, and sessions built from them. */
static int fetch_bundles(struct omemo *om, struct session *s)
{
    size_t n = 0, all = 0;
    for (size_t t = 0; t < om->ntargets; t++)
        all += om->targets[t].n;
    struct bundle_req *req = calloc(all + 1, sizeof *req);
    if (!req)
        return fail_oom(NULL);
    for (size_t t = 0; t < om->ntargets; t++) {
        struct omemo_target *tg = &om->targets[t];
        for (size_t k = 0; k < tg->n; k++) {
            unsigned gen = pick_gen(tg->gens[k]);
            if (!store_has_session(om, tg->jid, tg->dev[k], gen))
                req[n++] = (struct bundle_req){
                    .jid = tg->jid, .dev = tg->dev[k], .gen = gen};
        }
    }
    int rc = pep_get_bundles(s, req, n);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *why = req[i].why;
        if (!why &&
            store_remember_peer(om, req[i].jid, req[i].dev, req[i].b.ik))
            why = "store";
        if (!why)
            why = build_session(om, req[i].jid, req[i].dev, &req[i].b);
        if (why)
            warnx("%s device %u: no%s session (%s); not encrypting for it",
                  req[i].jid, req[i].dev,
                  req[i].gen == OMEMO_V2 ? " OMEMO 2" : "", why);
    }
    pep_bundles_free(req, n);
    free(req);
    return rc;
}

/* Which devices of target t get the key, and in which generation: those
 * with a session that the trust rules allow. Returns how many. */
static size_t choose(struct omemo *om, struct omemo_target *t,
                     bool trusted_only, size_t *unverified)
{
    size_t used = 0;
    for (size_t k = 0; k < t->n; k++) {
        uint8_t key[33];
        bool known;
        enum omemo_trust tr;
        unsigned gen = pick_gen(t->gens[k]);
        t->use[k] = 0;
        if (!store_has_session(om, t->jid, t->dev[k], gen) ||
            store_peer(om, t->jid, t->dev[k], key, &known, &tr))
            continue;
        if (tr == OMEMO_VERIFIED || (tr == OMEMO_BLIND && !trusted_only)) {
            t->use[k] = (uint8_t)gen;
            used++;
            continue;
        }
        char fpr[OMEMO_FPR_LEN];
        omemo_fingerprint(key, fpr);
        if (tr != OMEMO_DISTRUSTED)
            ++*unverified;
        warnx("%s device %u (%s) is %s; not encrypting for it", t->jid,
              t->dev[k], fpr,
              tr == OMEMO_DISTRUSTED ? "distrusted" : "not verified");
    }
    return used;
}

/* Targets: the recipients, then our own account (our other devices). */
static int set_targets(struct omemo *om, char **jids, int n)
{
    om->targets = calloc((size_t)n + 1, sizeof *om->targets);
    if (!om->targets)
        return fail_oom(NULL);
    om->ntargets = (size_t)n + 1;
    for (int i = 0; i <= n; i++)
        if (!(om->targets[i].jid = omemo_bare(i < n ? jids[i] : om->jid)))
            return fail_oom(NULL);
    return 0;
}

int omemo_prepare_send(struct omemo *om, struct session *s, char **jids, int n,
                       bool trusted_only)
{
    int rc;
    omemo_targets_free(om);
    if ((rc = set_targets(om, jids, n)) || (rc = fetch_lists(om, s)))
        return rc;
    struct omemo_target *self = &om->targets[n];
    for (size_t k = 0; k < self->n; k++)
        if (self->dev[k] == om->device_id) { /* not to ourselves */
            self->dev[k] = self->dev[--self->n];
            self->gens[k--] = self->gens[self->n];
        }
    for (int i = 0; i < n; i++)
        if (!om->targets[i].n)
            return fail(XE_UNAVAILABLE,
                        "%s announces no OMEMO device; nothing sent (it must "
                        "enable OMEMO, or send without --omemo)",
                        jids[i]);
    /* Under the store's lock: a concurrent run sees the sessions this
     * one builds instead of building its own on the same prekeys. */
    if ((rc = store_begin(om)))
        return rc;
    if ((rc = fetch_bundles(om, s))) {
        store_rollback(om);
        return rc;
    }
    if ((rc = store_commit(om)))
        return rc;
    for (size_t i = 0; i < om->ntargets; i++) {
        size_t unverified = 0;
        struct omemo_target *t = &om->targets[i];
        if (choose(om, t, trusted_only, &unverified) || (int)i == n)
            continue;
        if (trusted_only && unverified)
            return fail(XE_UNTRUSTED,
                        "%s has no verified OMEMO device (--trusted-only); "
                        "nothing sent; verify one with 'xmpp omemo trust'",
                        t->jid);
        return fail(XE_UNAVAILABLE,
                    "%s has no OMEMO device we can encrypt for; nothing sent",
                    t->jid);
    }
    return 0;
}

/* <key rid=DEV [prekey=true]> (0.3), <key rid=DEV [kex=true]> (OMEMO
 * 2) under parent: kt through the session of that generation. */
static int encrypt_key(struct omemo *om, xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
                       const char *jid, uint32_t dev, unsigned gen,
                       const uint8_t *kt, size_t ktlen)
{
    struct omemo_addr a;
    session_cipher *c = NULL;
    ciphertext_message *msg = NULL;
    omemo_addr(&a, jid, dev, gen);
    if (session_cipher_create(&c, om->store, &a.a, om->sg))
        return -1;
    if (gen == OMEMO_V2)
        session_cipher_set_version(c, CIPHERTEXT_OMEMO_VERSION);
    if (session_cipher_encrypt(c, kt, ktlen, &msg)) {
        session_cipher_free(c);
        return -1;
    }
    signal_buffer *ser = ciphertext_message_get_serialized(msg);
    char *t = xmpp_base64_encode(ctx, signal_buffer_data(ser),
                                 signal_buffer_len(ser));
    xmpp_stanza_t *k = stanza_text_child(ctx, "key", t ? t : "");
    char id[16];
    snprintf(id, sizeof id, "%u", dev);
    xmpp_stanza_set_attribute(k, "rid", id);
    if (ciphertext_message_get_type(msg) == CIPHERTEXT_PREKEY_TYPE)
        xmpp_stanza_set_attribute(k, gen == OMEMO_V2 ? "kex" : "prekey",
                                  "true");
    xmpp_stanza_add_child_ex(parent, k, 0);
    xmpp_free(ctx, t);
    SIGNAL_UNREF(msg);
    session_cipher_free(c);
    return 0;
}

static struct omemo_target *target_of(struct omemo *om, const char *jid)
{
    char *bare = omemo_bare(jid);
    struct omemo_target *t = NULL;
    for (size_t i = 0; bare && i + 1 < om->ntargets && !t; i++)
        if (!strcmp(om->targets[i].jid, bare))
            t = &om->targets[i];
    free(bare);
    return t;
}

/* The keys for every device of t chosen for gen: under hdr (0.3), or
 * under a <keys jid=JID/> of hdr (OMEMO 2, v0.8 §4.5). 0 or -1. */
static int encrypt_keys(struct omemo *om, xmpp_ctx_t *ctx, xmpp_stanza_t *hdr,
                        struct omemo_target *t, unsigned gen, const uint8_t *kt,
                        size_t ktlen)
{
    xmpp_stanza_t *parent = hdr;
    for (size_t k = 0; k < t->n; k++) {
        if (t->use[k] != gen)
            continue;
        if (parent == hdr && gen == OMEMO_V2) {
            parent = stanza_add_el(hdr, "keys", NULL);
            xmpp_stanza_set_attribute(parent, "jid", t->jid);
        }
        if (encrypt_key(om, ctx, parent, t->jid, t->dev[k], gen, kt, ktlen)) {
            fail(XE_CONFIG, "%s device %u: encryption failed", t->jid,
                 t->dev[k]);
            return -1;
        }
    }
    return 0;
}

static xmpp_stanza_t *new_header(xmpp_ctx_t *ctx, struct omemo *om,
                                 const char *ns, xmpp_stanza_t **enc)
{
    *enc = stanza_new_el(ctx, "encrypted", ns);
    xmpp_stanza_t *hdr = stanza_add_el(*enc, "header", NULL);
    char sid[16];
    snprintf(sid, sizeof sid, "%u", om->device_id);
    xmpp_stanza_set_attribute(hdr, "sid", sid);
    return hdr;
}

/* v0.3 §4.5: the text under AES-128-GCM; key and tag to each device. */
static xmpp_stanza_t *encrypt03(struct omemo *om, xmpp_ctx_t *ctx,
                                struct omemo_target *t, const char *text,
                                size_t len)
{
    uint8_t kt[32], iv[12]; /* key, then the GCM tag */
    uint8_t *ct = malloc(len + 1);
    xmpp_stanza_t *enc = NULL, *hdr;
    if (!ct || omemo_random(kt, 16) || omemo_random(iv, 12) ||
        omemo_gcm(true, kt, iv, (const uint8_t *)text, len, ct, kt + 16)) {
        free(ct);
        fail(XE_OSERR, "%s: encryption failed", t->jid);
        return NULL;
    }
    hdr = new_header(ctx, om, NS_OMEMO, &enc);
    if (encrypt_keys(om, ctx, hdr, t, OMEMO_V03, kt, 32) ||
        encrypt_keys(om, ctx, hdr, &om->targets[om->ntargets - 1], OMEMO_V03,
                     kt, 32)) {
        xmpp_stanza_release(enc);
        enc = NULL;
    } else {
        wire_add_b64(ctx, hdr, "iv", iv, 12, NULL, 0);
        wire_add_b64(ctx, enc, "payload", ct, len, NULL, 0);
    }
    OPENSSL_cleanse(kt, sizeof kt);
    free(ct);
    return enc;
}

/* v0.8 §4.4-4.5: the text in an XEP-0420 envelope under a random key
 * (AES-256-CBC, HMAC-SHA-256); key and truncated HMAC to each device. */
static xmpp_stanza_t *encrypt2(struct omemo *om, xmpp_ctx_t *ctx,
                               struct omemo_target *t, const char *text)
{
    uint8_t kt[48]; /* key, then the HMAC's first 16 bytes */
    signal_buffer *ct = NULL;
    char *env = sce_wrap(ctx, text, t->jid, om->jid);
    xmpp_stanza_t *enc = NULL, *hdr;
    if (!env || omemo_random(kt, 32) ||
        omemo_payload2(true, kt, (const uint8_t *)env, strlen(env), &ct,
                       kt + 32)) {
        free(env);
        fail(XE_OSERR, "%s: encryption failed", t->jid);
        return NULL;
    }
    hdr = new_header(ctx, om, NS_OMEMO2, &enc);
    if (encrypt_keys(om, ctx, hdr, t, OMEMO_V2, kt, 48) ||
        encrypt_keys(om, ctx, hdr, &om->targets[om->ntargets - 1], OMEMO_V2, kt,
                     48)) {
        xmpp_stanza_release(enc);
        enc = NULL;
    } else {
        wire_add_b64(ctx, enc, "payload", signal_buffer_data(ct),
                     signal_buffer_len(ct), NULL, 0);
    }
    OPENSSL_cleanse(kt, sizeof kt);
    signal_buffer_free(ct);
    free(env);
    return enc;
}

/* The generations t's chosen devices are spoken to in. */
static unsigned gens_used(const struct omemo_target *t)
{
    unsigned g = 0;
    for (size_t k = 0; k < t->n; k++)
        g |= t->use[k];
    return g;
}

unsigned omemo_encrypt(struct omemo *om, xmpp_stanza_t *m, const char *to,
                       const char *text, size_t len)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(m);
    struct omemo_target *t = target_of(om, to);
    if (!t) {
        fail(XE_OSERR, "%s: encryption failed", to);
        return 0;
    }
    unsigned want = gens_used(t) | gens_used(&om->targets[om->ntargets - 1]);
    xmpp_stanza_t *enc[2] = {0};
    if (store_begin(om))
        return 0;
    bool ok =
        (!(want & OMEMO_V2) || (enc[0] = encrypt2(om, ctx, t, text))) &&
        (!(want & OMEMO_V03) || (enc[1] = encrypt03(om, ctx, t, text, len)));
    if (!ok || store_commit(om)) {
        store_rollback(om);
        for (int i = 0; i < 2; i++)
            if (enc[i])
                xmpp_stanza_release(enc[i]);
        return 0;
    }
    for (int i = 0; i < 2; i++)
        if (enc[i])
            xmpp_stanza_add_child_ex(m, enc[i], 0);
    return want;
}

/* ---- omemo devices ---- */

/* The keys of jid's devices we have not seen, from their bundles. */
static void learn_keys(struct omemo *om, struct session *s,
                       struct omemo_target *t)
{
    struct bundle_req *req = calloc(t->n + 1, sizeof *req);
    size_t n = 0;
    for (size_t k = 0; req && k < t->n; k++) {
        uint8_t key[33];
        bool known;
        enum omemo_trust tr;
        if (!store_peer(om, t->jid, t->dev[k], key, &known, &tr) && !known &&
            (strcmp(t->jid, om->jid) || t->dev[k] != om->device_id))
            req[n++] = (struct bundle_req){
                .jid = t->jid, .dev = t->dev[k], .gen = pick_gen(t->gens[k])};
    }
    if (n && !pep_get_bundles(s, req, n) && !store_begin(om)) {
        for (size_t i = 0; i < n; i++)
            if (!req[i].why)
                store_remember_peer(om, t->jid, req[i].dev, req[i].b.ik);
        store_commit(om);
    }
    pep_bundles_free(req, n);
    free(req);
}

int omemo_devices(struct omemo *om, struct session *s, const char *jid,
                  struct omemo_device **out, size_t *n)
{
    char *one[1] = {(char *)jid};
    int rc;
    *out = NULL;
    *n = 0;
    omemo_targets_free(om);
    if ((rc = set_targets(om, one, 1)))
        return rc;
    free(om->targets[1].jid); /* not our own account as well */
    om->targets[1].jid = NULL;
    om->ntargets = 1;
    if ((rc = fetch_lists(om, s)))
        return rc;
    struct omemo_target *t = &om->targets[0];
    learn_keys(om, s, t);
    if (!(*out = calloc(t->n + 1, sizeof **out)))
        return fail_oom(NULL);
    for (size_t k = 0; k < t->n; k++) {
        struct omemo_device *d = &(*out)[(*n)++];
        uint8_t key[33];
        bool known;
        d->id = t->dev[k];
        d->gens = t->gens[k];
        d->own = !strcmp(t->jid, om->jid) && d->id == om->device_id;
        if (d->own) {
            omemo_fingerprint(om->pub, d->fpr);
            d->trust = OMEMO_VERIFIED;
        } else if (!store_peer(om, t->jid, d->id, key, &known, &d->trust) &&
                   known) {
            omemo_fingerprint(key, d->fpr);
        }
    }
    return 0;
}

/* ---- session repair ---- */

/* A new session of generation gen with jid's device dev from its
 * bundle, replacing any. Returns 0 or a status (said). */
static int rebuild(struct omemo *om, struct session *s, const char *jid,
                   uint32_t dev, unsigned gen)
{
    struct bundle_req req = {.jid = jid, .dev = dev, .gen = gen};
    int rc = pep_get_bundles(s, &req, 1);
    const char *why = req.why;
    struct omemo_addr a;
    omemo_addr(&a, jid, dev, gen);
    if (!rc && !why && !(rc = store_begin(om))) {
        signal_protocol_session_delete_session(om->store, &a.a);
        why = store_remember_peer(om, jid, dev, req.b.ik)
                  ? "store"
                  : build_session(om, jid, dev, &req.b);
        rc = why ? (store_rollback(om), 0) : store_commit(om);
    }
    pep_bundles_free(&req, 1);
    if (!rc && why)
        rc =
            fail(XE_UNAVAILABLE, "%s device %u: cannot repair the session (%s)",
                 jid, dev, why);
    return rc;
}

/* The empty message (a header, no payload) that carries the new
 * session to jid's device dev: for 0.3 a random key and an IV (what
 * Conversations sends), for OMEMO 2 32 zero bytes (v0.8 §4.5, as
 * python-omemo). NULL when it fails (said). */
static xmpp_stanza_t *key_transport(struct omemo *om, xmpp_ctx_t *ctx,
                                    const char *jid, uint32_t dev, unsigned gen)
{
    uint8_t kt[32] = {0}, iv[12];
    bool two = gen == OMEMO_V2;
    xmpp_stanza_t *enc,
        *hdr = new_header(ctx, om, two ? NS_OMEMO2 : NS_OMEMO, &enc),
        *parent = hdr;
    if (!two && (omemo_random(kt, 32) || omemo_random(iv, 12))) {
        xmpp_stanza_release(enc);
        fail_oom(NULL);
        return NULL;
    }
    if (two) {
        parent = stanza_add_el(hdr, "keys", NULL);
        xmpp_stanza_set_attribute(parent, "jid", jid);
    }
    int rc = store_begin(om);
    if (!rc && encrypt_key(om, ctx, parent, jid, dev, gen, kt, 32)) {
        store_rollback(om);
        rc = fail(XE_CONFIG, "%s device %u: encryption failed", jid, dev);
    } else if (!rc) {
        rc = store_commit(om);
    }
    if (rc) {
        xmpp_stanza_release(enc);
        return NULL;
    }
    if (!two)
        wire_add_b64(ctx, hdr, "iv", iv, 12, NULL, 0);
    return enc;
}

int omemo_repair(struct omemo *om, struct session *s, const char *jid,
                 uint32_t dev, unsigned gen)
{
    char *bare = omemo_bare(jid);
    if (!bare)
        return fail_oom(NULL);
    int rc = rebuild(om, s, bare, dev, gen);
    xmpp_stanza_t *enc = rc ? NULL : key_transport(om, s->ctx, bare, dev, gen);
    if (!rc && !enc)
        rc = XE_CONFIG;
    if (enc) {
        char *id = session_id(s);
        xmpp_stanza_t *m = xmpp_message_new(s->ctx, "chat", bare, id);
        xmpp_stanza_add_child_ex(m, enc, 0);
        stanza_add_el(m, "store", "urn:xmpp:hints");
        session_send(s, m);
        xmpp_stanza_release(m);
        xmpp_free(s->ctx, id);
    }
    free(bare);
    return rc;
}

/* Encrypting for the devices of recipients and decrypting what comes
 * to ours (XEP-0384 v0.3 §4.4-4.6): sessions are built from fetched
 * bundles (X3DH), the body goes under AES-128-GCM, and the key and tag
 * go to each device through its Double Ratchet session. */
#include <curve.h>
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
        free(om->targets[i].use);
    }
    free(om->targets);
    om->targets = NULL;
    om->ntargets = 0;
}

/* Fetch the device lists of targets[0..n) at once (one round trip).
 * A JID that has none (item-not-found, or an error) gets zero. */
static int fetch_lists(struct omemo *om, struct session *s)
{
    size_t n = om->ntargets;
    xmpp_stanza_t **iqs = calloc(n, sizeof *iqs);
    xmpp_stanza_t **rep = calloc(n, sizeof *rep);
    int rc = iqs && rep ? 0 : fail_oom(NULL);
    for (size_t i = 0; !rc && i < n; i++)
        iqs[i] = pep_items_iq(s, om->targets[i].jid, OMEMO_NODE_DEVICES);
    if (!rc)
        rc = session_iq_all(s, iqs, n, rep);
    for (size_t i = 0; i < n; i++) {
        struct omemo_target *t = &om->targets[i];
        xmpp_stanza_t *items = rc ? NULL : pep_items(rep[i]);
        if (items && wire_parse_devices(items, &t->dev, &t->n))
            warnx("%s: malformed OMEMO device list; ignored", t->jid);
        if (!rc && !(t->use = calloc(t->n + 1, sizeof *t->use)))
            rc = fail_oom(NULL);
    }
    pep_release(iqs, rep, n);
    return rc;
}

/* X3DH with a fetched bundle (§4.4): a session with jid's device dev,
 * kept in the store. Returns NULL or why not. */
static const char *build_session(struct omemo *om, const char *jid,
                                 uint32_t dev, const struct wire_bundle *b)
{
    ec_public_key *spk = NULL, *pk = NULL, *ik = NULL;
    session_pre_key_bundle *bundle = NULL;
    session_builder *builder = NULL;
    signal_protocol_address a = {jid, strlen(jid), (int32_t)dev};
    const char *why = "malformed keys";
    if (curve_decode_point(&spk, b->spk, 33, om->sg) ||
        curve_decode_point(&pk, b->pk, 33, om->sg) ||
        curve_decode_point(&ik, b->ik, 33, om->sg))
        goto done;
    why = "out of memory";
    if (session_pre_key_bundle_create(&bundle, dev, (int)dev, b->pk_id, pk,
                                      b->spk_id, spk, b->sig, b->sig_len, ik) ||
        session_builder_create(&builder, om->store, &a, om->sg))
        goto done;
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

/* Bundles for the devices we have no session with, fetched at once,
 * and sessions built from them. */
static int fetch_bundles(struct omemo *om, struct session *s)
{
    size_t n = 0, all = 0;
    for (size_t t = 0; t < om->ntargets; t++)
        all += om->targets[t].n;
    struct bundle_req *req = calloc(all + 1, sizeof *req);
    if (!req)
        return fail_oom(NULL);
    for (size_t t = 0; t < om->ntargets; t++)
        for (size_t k = 0; k < om->targets[t].n; k++)
            if (!store_has_session(om, om->targets[t].jid,
                                   om->targets[t].dev[k]))
                req[n++] = (struct bundle_req){.jid = om->targets[t].jid,
                                               .dev = om->targets[t].dev[k]};
    int rc = pep_get_bundles(s, req, n);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *why = req[i].why;
        if (!why &&
            store_remember_peer(om, req[i].jid, req[i].dev, req[i].b.ik))
            why = "store";
        if (!why)
            why = build_session(om, req[i].jid, req[i].dev, &req[i].b);
        if (why)
            warnx("%s device %u: no session (%s); not encrypting for it",
                  req[i].jid, req[i].dev, why);
    }
    pep_bundles_free(req, n);
    free(req);
    return rc;
}

/* Which devices of target t get the key: those with a session that the
 * trust rules allow. Returns how many. */
static size_t choose(struct omemo *om, struct omemo_target *t,
                     bool trusted_only, size_t *unverified)
{
    size_t used = 0;
    for (size_t k = 0; k < t->n; k++) {
        uint8_t key[33];
        bool known;
        enum omemo_trust tr;
        t->use[k] = false;
        if (!store_has_session(om, t->jid, t->dev[k]) ||
            store_peer(om, t->jid, t->dev[k], key, &known, &tr))
            continue;
        if (tr == OMEMO_VERIFIED || (tr == OMEMO_BLIND && !trusted_only)) {
            t->use[k] = true;
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
        if (self->dev[k] == om->device_id) /* not to ourselves */
            self->dev[k--] = self->dev[--self->n];
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

/* <key rid=DEV [prekey=true]>: the key and tag through the session. */
static int encrypt_key(struct omemo *om, xmpp_ctx_t *ctx, xmpp_stanza_t *hdr,
                       const char *jid, uint32_t dev, const uint8_t kt[32])
{
    signal_protocol_address a = {jid, strlen(jid), (int32_t)dev};
    session_cipher *c = NULL;
    ciphertext_message *msg = NULL;
    if (session_cipher_create(&c, om->store, &a, om->sg) ||
        session_cipher_encrypt(c, kt, 32, &msg)) {
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
        xmpp_stanza_set_attribute(k, "prekey", "true");
    xmpp_stanza_add_child_ex(hdr, k, 0);
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

/* The keys for every chosen device of t, under one transaction. */
static int encrypt_keys(struct omemo *om, xmpp_ctx_t *ctx, xmpp_stanza_t *hdr,
                        struct omemo_target *t, const uint8_t kt[32])
{
    for (size_t k = 0; k < t->n; k++)
        if (t->use[k] && encrypt_key(om, ctx, hdr, t->jid, t->dev[k], kt)) {
            fail(XE_CONFIG, "%s device %u: encryption failed", t->jid,
                 t->dev[k]);
            return -1;
        }
    return 0;
}

xmpp_stanza_t *omemo_encrypt(struct omemo *om, xmpp_ctx_t *ctx, const char *to,
                             const char *text, size_t len)
{
    struct omemo_target *t = target_of(om, to);
    uint8_t kt[32], iv[12]; /* key, then the GCM tag */
    uint8_t *ct = malloc(len + 1);
    xmpp_stanza_t *enc = NULL;
    if (!t || !ct || omemo_random(kt, 16) || omemo_random(iv, 12) ||
        omemo_gcm(true, kt, iv, (const uint8_t *)text, len, ct, kt + 16)) {
        free(ct);
        fail(XE_OSERR, "%s: encryption failed", to);
        return NULL;
    }
    enc = stanza_new_el(ctx, "encrypted", NS_OMEMO);
    xmpp_stanza_t *hdr = stanza_add_el(enc, "header", NULL);
    char sid[16];
    snprintf(sid, sizeof sid, "%u", om->device_id);
    xmpp_stanza_set_attribute(hdr, "sid", sid);
    if (store_begin(om) || encrypt_keys(om, ctx, hdr, t, kt) ||
        encrypt_keys(om, ctx, hdr, &om->targets[om->ntargets - 1], kt) ||
        store_commit(om)) {
        store_rollback(om);
        xmpp_stanza_release(enc);
        enc = NULL;
    } else {
        wire_add_b64(ctx, hdr, "iv", iv, 12, NULL, 0);
        wire_add_b64(ctx, enc, "payload", ct, len, NULL, 0);
    }
    memset(kt, 0, sizeof kt);
    free(ct);
    return enc;
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
            req[n++] = (struct bundle_req){.jid = t->jid, .dev = t->dev[k]};
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

/* A new session with jid's device dev from its bundle, replacing any.
 * Returns 0 or a status (said). */
static int rebuild(struct omemo *om, struct session *s, const char *jid,
                   uint32_t dev)
{
    struct bundle_req req = {.jid = jid, .dev = dev};
    int rc = pep_get_bundles(s, &req, 1);
    const char *why = req.why;
    signal_protocol_address a = {jid, strlen(jid), (int32_t)dev};
    if (!rc && !why && !(rc = store_begin(om))) {
        signal_protocol_session_delete_session(om->store, &a);
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

int omemo_repair(struct omemo *om, struct session *s, const char *jid,
                 uint32_t dev)
{
    char *bare = omemo_bare(jid);
    uint8_t kt[32], iv[12];
    if (!bare || omemo_random(kt, 32) || omemo_random(iv, 12)) {
        free(bare);
        return fail_oom(NULL);
    }
    int rc = rebuild(om, s, bare, dev);
    xmpp_stanza_t *enc = stanza_new_el(s->ctx, "encrypted", NS_OMEMO);
    xmpp_stanza_t *hdr = stanza_add_el(enc, "header", NULL);
    char sid[16];
    snprintf(sid, sizeof sid, "%u", om->device_id);
    xmpp_stanza_set_attribute(hdr, "sid", sid);
    if (!rc && !(rc = store_begin(om))) {
        if (encrypt_key(om, s->ctx, hdr, bare, dev, kt)) {
            store_rollback(om);
            rc = fail(XE_CONFIG, "%s device %u: encryption failed", bare, dev);
        } else {
            rc = store_commit(om);
        }
    }
    if (!rc) { /* a key transport element: a header, no payload */
        wire_add_b64(s->ctx, hdr, "iv", iv, 12, NULL, 0);
        char *id = session_id(s);
        xmpp_stanza_t *m = xmpp_message_new(s->ctx, "chat", bare, id);
        xmpp_stanza_add_child_ex(m, enc, 0);
        enc = NULL;
        stanza_add_el(m, "store", "urn:xmpp:hints");
        session_send(s, m);
        xmpp_stanza_release(m);
        xmpp_free(s->ctx, id);
    }
    if (enc)
        xmpp_stanza_release(enc);
    free(bare);
    return rc;
}

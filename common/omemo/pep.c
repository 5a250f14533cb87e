/* OMEMO over PEP (XEP-0384 v0.3 §4.2-4.3, v0.8 §4.2-4.3, XEP-0163):
 * our device lists and bundles of both generations published open to
 * anyone, and those of others fetched, several at a time in one round
 * trip. */
#include <stdio.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/omemo/omemo_priv.h"
#include "common/xmpp/stanza.h"

/* <iq type=get to=JID><pubsub><items node=NODE max_items=1/>. */
xmpp_stanza_t *pep_items_iq(struct session *s, const char *jid,
                            const char *node)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", NULL);
    xmpp_stanza_set_to(iq, jid);
    xmpp_stanza_t *ps = stanza_add_el(iq, "pubsub", NS_PUBSUB);
    xmpp_stanza_t *items = stanza_add_el(ps, "items", NULL);
    xmpp_stanza_set_attribute(items, "node", node);
    xmpp_stanza_set_attribute(items, "max_items", "1");
    return iq;
}

/* v0.8 §4.3: OMEMO 2 keeps every bundle in one node, the device id
 * as the item id: <items node=NODE><item id=DEV/>. */
static xmpp_stanza_t *pep_item_iq(struct session *s, const char *jid,
                                  const char *node, uint32_t dev)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", NULL);
    xmpp_stanza_set_to(iq, jid);
    xmpp_stanza_t *ps = stanza_add_el(iq, "pubsub", NS_PUBSUB);
    xmpp_stanza_t *items = stanza_add_el(ps, "items", NULL);
    xmpp_stanza_set_attribute(items, "node", node);
    char id[16];
    snprintf(id, sizeof id, "%u", dev);
    xmpp_stanza_set_attribute(stanza_add_el(items, "item", NULL), "id", id);
    return iq;
}

/* The <items/> of a pubsub reply, or NULL (an error, or none). */
xmpp_stanza_t *pep_items(xmpp_stanza_t *reply)
{
    const char *type = reply ? xmpp_stanza_get_type(reply) : NULL;
    if (!type || strcmp(type, "result"))
        return NULL;
    xmpp_stanza_t *ps =
        xmpp_stanza_get_child_by_name_and_ns(reply, "pubsub", NS_PUBSUB);
    return ps ? xmpp_stanza_get_child_by_name(ps, "items") : NULL;
}

/* XEP-0060 §7.1.5: a field of the publish-options form. */
static void add_field(xmpp_stanza_t *x, const char *var, const char *value)
{
    xmpp_stanza_t *f = stanza_add_el(x, "field", NULL);
    xmpp_stanza_set_attribute(f, "var", var);
    stanza_add_text_child(f, "value", value);
}

/* Publish payload (taken over) as item `id` of our node, open to
 * anyone (§4: others fetch it without a subscription); with many, the
 * node keeps as many items as the server allows (v0.8 §4.3: one per
 * device's bundle). */
static xmpp_stanza_t *publish_iq(struct session *s, const char *node,
                                 const char *id, bool many,
                                 xmpp_stanza_t *payload)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "set", NULL);
    xmpp_stanza_t *ps = stanza_add_el(iq, "pubsub", NS_PUBSUB);
    xmpp_stanza_t *pub = stanza_add_el(ps, "publish", NULL);
    xmpp_stanza_set_attribute(pub, "node", node);
    xmpp_stanza_t *item = stanza_add_el(pub, "item", NULL);
    xmpp_stanza_set_attribute(item, "id", id);
    xmpp_stanza_add_child_ex(item, payload, 0);
    xmpp_stanza_t *po = stanza_add_el(ps, "publish-options", NULL);
    xmpp_stanza_t *x = stanza_add_el(po, "x", "jabber:x:data");
    xmpp_stanza_set_type(x, "submit");
    add_field(x, "FORM_TYPE", NS_PUBSUB "#publish-options");
    add_field(x, "pubsub#access_model", "open");
    if (many)
        add_field(x, "pubsub#max_items", "max");
    return iq;
}

static void add_key(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                    ec_public_key *k, const char *attr, uint32_t id)
{
    signal_buffer *b = NULL;
    if (ec_public_key_serialize(&b, k) == 0)
        wire_add_b64(ctx, parent, name, signal_buffer_data(b),
                     signal_buffer_len(b), attr, id);
    signal_buffer_free(b);
}

/* v0.3 §4.3: our bundle. */
static xmpp_stanza_t *bundle03(xmpp_ctx_t *ctx, struct omemo *om,
                               session_signed_pre_key *spk,
                               session_pre_key **pks, size_t npk)
{
    xmpp_stanza_t *b = stanza_new_el(ctx, "bundle", NS_OMEMO);
    add_key(ctx, b, "signedPreKeyPublic",
            ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
            "signedPreKeyId", session_signed_pre_key_get_id(spk));
    wire_add_b64(ctx, b, "signedPreKeySignature",
                 session_signed_pre_key_get_signature(spk),
                 session_signed_pre_key_get_signature_len(spk), NULL, 0);
    wire_add_b64(ctx, b, "identityKey", om->pub, 33, NULL, 0);
    xmpp_stanza_t *p = stanza_add_el(b, "prekeys", NULL);
    for (size_t i = 0; i < npk; i++)
        add_key(ctx, p, "preKeyPublic",
                ec_key_pair_get_public(session_pre_key_get_key_pair(pks[i])),
                "preKeyId", session_pre_key_get_id(pks[i]));
    return b;
}

/* v0.8 §4.3: the keys as 32 bytes (Curve25519; the identity key in
 * its Ed25519 form), the signature over the 32 bytes of the signed
 * prekey (libomemo-c keeps it beside the 0.3 one). */
static void add_key2(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                     ec_public_key *k, uint32_t id)
{
    signal_buffer *b = ec_public_key_get_mont(k);
    if (b)
        wire_add_b64(ctx, parent, name, signal_buffer_data(b),
                     signal_buffer_len(b), "id", id);
    signal_buffer_free(b);
}

static xmpp_stanza_t *bundle2(xmpp_ctx_t *ctx, struct omemo *om,
                              session_signed_pre_key *spk,
                              session_pre_key **pks, size_t npk)
{
    xmpp_stanza_t *b = stanza_new_el(ctx, "bundle", NS_OMEMO2);
    add_key2(ctx, b, "spk",
             ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
             session_signed_pre_key_get_id(spk));
    wire_add_b64(ctx, b, "spks",
                 session_signed_pre_key_get_signature_omemo(spk),
                 session_signed_pre_key_get_signature_omemo_len(spk), NULL, 0);
    ec_public_key *ik = NULL;
    signal_buffer *ed = NULL;
    if (!curve_decode_point(&ik, om->pub, 33, om->sg) &&
        (ed = ec_public_key_get_ed(ik)))
        wire_add_b64(ctx, b, "ik", signal_buffer_data(ed),
                     signal_buffer_len(ed), NULL, 0);
    signal_buffer_free(ed);
    SIGNAL_UNREF(ik);
    xmpp_stanza_t *p = stanza_add_el(b, "prekeys", NULL);
    for (size_t i = 0; i < npk; i++)
        add_key2(ctx, p, "pk",
                 ec_key_pair_get_public(session_pre_key_get_key_pair(pks[i])),
                 session_pre_key_get_id(pks[i]));
    return b;
}

/* Our bundle of generation gen. NULL when the store fails (said). */
static xmpp_stanza_t *bundle_el(struct omemo *om, xmpp_ctx_t *ctx, unsigned gen)
{
    session_signed_pre_key *spk = NULL;
    session_pre_key **pks = NULL;
    size_t npk = 0;
    if (store_bundle_keys(om, &spk, &pks, &npk))
        return NULL;
    xmpp_stanza_t *b = gen == OMEMO_V2 ? bundle2(ctx, om, spk, pks, npk)
                                       : bundle03(ctx, om, spk, pks, npk);
    for (size_t i = 0; i < npk; i++)
        SIGNAL_UNREF(pks[i]);
    free(pks);
    SIGNAL_UNREF(spk);
    return b;
}

static xmpp_stanza_t *list_el(xmpp_ctx_t *ctx, unsigned gen,
                              const uint32_t *ids, size_t n)
{
    xmpp_stanza_t *l = gen == OMEMO_V2
                           ? stanza_new_el(ctx, "devices", NS_OMEMO2)
                           : stanza_new_el(ctx, "list", NS_OMEMO);
    for (size_t i = 0; i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", ids[i]);
        xmpp_stanza_set_attribute(stanza_add_el(l, "device", NULL), "id", buf);
    }
    return l;
}

/* Our device lists of both generations as the server has them
 * ([0]: 0.3, [1]: OMEMO 2), fetched at once. Returns 0 or a status. */
struct own_lists {
    uint32_t *ids[2];
    size_t n[2];
};

static const char *const list_node[2] = {OMEMO_NODE_DEVICES,
                                         OMEMO2_NODE_DEVICES};

static void own_lists_free(struct own_lists *ol)
{
    free(ol->ids[0]);
    free(ol->ids[1]);
}

static int own_lists(struct omemo *om, struct session *s, struct own_lists *ol)
{
    xmpp_stanza_t *iqs[2], *rep[2] = {0};
    memset(ol, 0, sizeof *ol);
    for (int g = 0; g < 2; g++)
        iqs[g] = pep_items_iq(s, om->jid, list_node[g]);
    int rc = session_iq_all(s, iqs, 2, rep);
    for (int g = 0; g < 2 && !rc; g++) {
        const char *type = xmpp_stanza_get_type(rep[g]);
        if (type && !strcmp(type, "error") &&
            !strcmp(stanza_error_condition(rep[g]), "item-not-found"))
            continue; /* no list yet */
        if (!type || strcmp(type, "result"))
            rc = report_stanza_error("fetching our OMEMO device list", rep[g]);
        else if (wire_parse_devices(pep_items(rep[g]), g ? OMEMO_V2 : OMEMO_V03,
                                    &ol->ids[g], &ol->n[g]))
            rc = fail(XE_PROTOCOL, "our OMEMO device list on the server is "
                                   "malformed");
    }
    for (int g = 0; g < 2; g++) {
        xmpp_stanza_release(iqs[g]);
        if (rep[g])
            xmpp_stanza_release(rep[g]);
    }
    if (rc)
        own_lists_free(ol);
    return rc;
}

/* Our bundle's publication: 0.3 as node BUNDLES:DEV item "current",
 * OMEMO 2 as item DEV of the one bundles node. */
static xmpp_stanza_t *publish_bundle_iq(struct omemo *om, struct session *s,
                                        unsigned gen)
{
    char node[64], id[16];
    xmpp_stanza_t *b = bundle_el(om, s->ctx, gen);
    if (!b)
        return NULL;
    snprintf(node, sizeof node, OMEMO_NODE_BUNDLES "%u", om->device_id);
    snprintf(id, sizeof id, "%u", om->device_id);
    return gen == OMEMO_V2 ? publish_iq(s, OMEMO2_NODE_BUNDLES, id, true, b)
                           : publish_iq(s, node, "current", false, b);
}

/* Publish both lists and, with bundle, both bundles: one round trip. */
static int publish(struct omemo *om, struct session *s,
                   const struct own_lists *ol, bool bundle)
{
    static const char *const what[4] = {"publishing our OMEMO device list",
                                        "publishing our OMEMO 2 device list",
                                        "publishing our OMEMO bundle",
                                        "publishing our OMEMO 2 bundle"};
    xmpp_stanza_t *iqs[4] = {0}, *replies[4] = {0};
    size_t k = bundle ? 4 : 2;
    for (int g = 0; g < 2; g++)
        iqs[g] = publish_iq(
            s, list_node[g], "current", false,
            list_el(s->ctx, g ? OMEMO_V2 : OMEMO_V03, ol->ids[g], ol->n[g]));
    for (size_t i = 2; i < k; i++)
        if (!(iqs[i] = publish_bundle_iq(om, s, i == 3 ? OMEMO_V2 : OMEMO_V03)))
            k = 0;
    int rc = k ? session_iq_all(s, iqs, k, replies) : XE_CONFIG;
    for (size_t i = 0; i < k && !rc; i++)
        if (strcmp(xmpp_stanza_get_type(replies[i]), "result"))
            rc = report_stanza_error(what[i], replies[i]);
    for (size_t i = 0; i < 4; i++) {
        if (iqs[i])
            xmpp_stanza_release(iqs[i]);
        if (replies[i])
            xmpp_stanza_release(replies[i]);
    }
    return rc;
}

/* ids with id in it (added at the end when missing). 0 or -1. */
static int list_add(uint32_t **ids, size_t *n, uint32_t id)
{
    for (size_t i = 0; i < *n; i++)
        if ((*ids)[i] == id)
            return 0;
    uint32_t *p = realloc(*ids, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    p[(*n)++] = id;
    *ids = p;
    return 0;
}

/* ids without id. Returns whether it was there. */
static bool list_remove(uint32_t *ids, size_t *n, uint32_t id)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (ids[i] != id)
            ids[k++] = ids[i];
    bool was = k != *n;
    *n = k;
    return was;
}

/* Our device into both lists and our bundles (one round trip to read
 * the lists, one to publish them all). */
static int publish_all(struct omemo *om, struct session *s)
{
    struct own_lists ol;
    int rc = own_lists(om, s, &ol);
    if (rc)
        return rc;
    if (list_add(&ol.ids[0], &ol.n[0], om->device_id) ||
        list_add(&ol.ids[1], &ol.n[1], om->device_id))
        rc = fail_oom(NULL);
    else
        rc = publish(om, s, &ol, true);
    own_lists_free(&ol);
    return rc;
}

/* The signed prekey's schedule (store_rotate_spk), under the store's
 * lock: a new one is published before the lock is let go, or not kept.
 * *published: the bundle went out. */
static int rotate(struct omemo *om, struct session *s, bool *published)
{
    *published = false;
    if (!store_spk_due(om))
        return 0;
    int rc = store_begin(om), r = rc ? 0 : store_rotate_spk(om);
    if (rc)
        return rc;
    if (r < 0) {
        store_rollback(om);
        return store_fail(om, "rotating the signed prekey");
    }
    if (r > 0 && (rc = publish_all(om, s))) {
        store_rollback(om);
        return rc;
    }
    *published = r > 0;
    return store_commit(om);
}

int omemo_publish(struct omemo *om, struct session *s)
{
    bool done;
    int rc = rotate(om, s, &done);
    if (!rc && !done)
        rc = publish_all(om, s);
    if (!rc)
        store_set_published(om);
    return rc;
}

/* Under the store's lock: runs started together (cron) publish once,
 * not all at the same time (ejabberd refuses concurrent first
 * publishes to a new node with item-not-found). */
int omemo_ensure_published(struct omemo *om, struct session *s)
{
    bool done;
    int rc = rotate(om, s, &done);
    if (rc || om->published)
        return rc;
    if ((rc = store_begin(om)))
        return rc;
    if (store_is_published(om)) {
        om->published = true;
        return store_commit(om);
    }
    if ((rc = publish_all(om, s))) {
        store_rollback(om);
        return rc;
    }
    store_mark_published(om);
    return store_commit(om);
}

int omemo_remove_device(struct omemo *om, struct session *s, uint32_t id)
{
    struct own_lists ol;
    int rc = own_lists(om, s, &ol);
    if (rc)
        return rc;
    bool was = list_remove(ol.ids[0], &ol.n[0], id);
    was |= list_remove(ol.ids[1], &ol.n[1], id);
    if (!was)
        rc = fail(XE_DATA, "device %u is not in our device list", id);
    else
        rc = publish(om, s, &ol, false);
    own_lists_free(&ol);
    return rc;
}

void omemo_refill(struct omemo *om, struct session *s)
{
    if (store_new_prekey(om))
        return;
    for (unsigned gen = OMEMO_V03; gen <= OMEMO_V2; gen++) {
        xmpp_stanza_t *iq = publish_bundle_iq(om, s, gen);
        if (!iq)
            return;
        char *id = session_id(s);
        xmpp_stanza_set_id(iq, id);
        xmpp_free(s->ctx, id);
        session_send(s, iq); /* the answer does not matter to the reader */
        xmpp_stanza_release(iq);
    }
}

int pep_get_bundles(struct session *s, struct bundle_req *req, size_t n)
{
    xmpp_stanza_t **iqs = calloc(n + 1, sizeof *iqs);
    xmpp_stanza_t **rep = calloc(n + 1, sizeof *rep);
    int rc = iqs && rep ? 0 : fail_oom(NULL);
    for (size_t i = 0; !rc && i < n; i++) {
        char node[64];
        snprintf(node, sizeof node, OMEMO_NODE_BUNDLES "%u", req[i].dev);
        iqs[i] =
            req[i].gen == OMEMO_V2
                ? pep_item_iq(s, req[i].jid, OMEMO2_NODE_BUNDLES, req[i].dev)
                : pep_items_iq(s, req[i].jid, node);
    }
    if (!rc && n)
        rc = session_iq_all(s, iqs, n, rep);
    for (size_t i = 0; i < n; i++)
        req[i].why = rc ? "no answer"
                        : wire_parse_bundle(s->ctx, pep_items(rep[i]),
                                            req[i].gen ? req[i].gen : OMEMO_V03,
                                            &req[i].b);
    pep_release(iqs, rep, n);
    return rc;
}

void pep_release(xmpp_stanza_t **iqs, xmpp_stanza_t **rep, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (iqs && iqs[i])
            xmpp_stanza_release(iqs[i]);
        if (rep && rep[i])
            xmpp_stanza_release(rep[i]);
    }
    free(iqs);
    free(rep);
}

void pep_bundles_free(struct bundle_req *req, size_t n)
{
    for (size_t i = 0; req && i < n; i++)
        wire_bundle_free(&req[i].b);
}

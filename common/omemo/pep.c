/* OMEMO over PEP (XEP-0384 v0.3 §4.2-4.3, XEP-0163): our device list
 * and bundle published open to anyone, and those of others fetched,
 * several at a time in one round trip. */
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

/* Publish payload (taken over) as item "current" of our node, open to
 * anyone (§4: others fetch it without a subscription). */
static xmpp_stanza_t *publish_iq(struct session *s, const char *node,
                                 xmpp_stanza_t *payload)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "set", NULL);
    xmpp_stanza_t *ps = stanza_add_el(iq, "pubsub", NS_PUBSUB);
    xmpp_stanza_t *pub = stanza_add_el(ps, "publish", NULL);
    xmpp_stanza_set_attribute(pub, "node", node);
    xmpp_stanza_t *item = stanza_add_el(pub, "item", NULL);
    xmpp_stanza_set_attribute(item, "id", "current");
    xmpp_stanza_add_child_ex(item, payload, 0);
    xmpp_stanza_t *po = stanza_add_el(ps, "publish-options", NULL);
    xmpp_stanza_t *x = stanza_add_el(po, "x", "jabber:x:data");
    xmpp_stanza_set_type(x, "submit");
    add_field(x, "FORM_TYPE", NS_PUBSUB "#publish-options");
    add_field(x, "pubsub#access_model", "open");
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

/* §4.3: our bundle. NULL when the store fails (said). */
static xmpp_stanza_t *bundle_el(struct omemo *om, xmpp_ctx_t *ctx)
{
    session_signed_pre_key *spk = NULL;
    session_pre_key **pks = NULL;
    size_t npk = 0;
    if (store_bundle_keys(om, &spk, &pks, &npk))
        return NULL;
    xmpp_stanza_t *b = stanza_new_el(ctx, "bundle", NS_OMEMO);
    add_key(ctx, b, "signedPreKeyPublic",
            ec_key_pair_get_public(session_signed_pre_key_get_key_pair(spk)),
            "signedPreKeyId", session_signed_pre_key_get_id(spk));
    wire_add_b64(ctx, b, "signedPreKeySignature",
                 session_signed_pre_key_get_signature(spk),
                 session_signed_pre_key_get_signature_len(spk), NULL, 0);
    wire_add_b64(ctx, b, "identityKey", om->pub, 33, NULL, 0);
    xmpp_stanza_t *p = stanza_add_el(b, "prekeys", NULL);
    for (size_t i = 0; i < npk; i++) {
        add_key(ctx, p, "preKeyPublic",
                ec_key_pair_get_public(session_pre_key_get_key_pair(pks[i])),
                "preKeyId", session_pre_key_get_id(pks[i]));
        SIGNAL_UNREF(pks[i]);
    }
    free(pks);
    SIGNAL_UNREF(spk);
    return b;
}

static xmpp_stanza_t *list_el(xmpp_ctx_t *ctx, const uint32_t *ids, size_t n)
{
    xmpp_stanza_t *l = stanza_new_el(ctx, "list", NS_OMEMO);
    for (size_t i = 0; i < n; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "%u", ids[i]);
        xmpp_stanza_set_attribute(stanza_add_el(l, "device", NULL), "id", buf);
    }
    return l;
}

/* Our device list as the server has it. Returns 0 or a status. */
static int own_list(struct omemo *om, struct session *s, uint32_t **ids,
                    size_t *n)
{
    xmpp_stanza_t *iq = pep_items_iq(s, om->jid, OMEMO_NODE_DEVICES), *reply;
    int rc = session_iq(s, iq, &reply);
    xmpp_stanza_release(iq);
    *ids = NULL;
    *n = 0;
    if (rc == XE_STANZA &&
        !strcmp(stanza_error_condition(reply), "item-not-found"))
        rc = 0; /* no list yet */
    else if (rc == XE_STANZA)
        rc = report_stanza_error("fetching our OMEMO device list", reply);
    else if (!rc && wire_parse_devices(pep_items(reply), ids, n))
        rc = fail(XE_PROTOCOL, "our OMEMO device list on the server is "
                               "malformed");
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

/* Publish list (ids) and, with bundle, our bundle: one round trip. */
static int publish(struct omemo *om, struct session *s, const uint32_t *ids,
                   size_t n, bool bundle)
{
    char node[64];
    snprintf(node, sizeof node, OMEMO_NODE_BUNDLES "%u", om->device_id);
    xmpp_stanza_t *iqs[2], *replies[2] = {0};
    iqs[0] = publish_iq(s, OMEMO_NODE_DEVICES, list_el(s->ctx, ids, n));
    xmpp_stanza_t *b = bundle ? bundle_el(om, s->ctx) : NULL;
    if (bundle && !b) {
        xmpp_stanza_release(iqs[0]);
        return XE_CONFIG;
    }
    size_t k = 1;
    if (b)
        iqs[k++] = publish_iq(s, node, b);
    int rc = session_iq_all(s, iqs, k, replies);
    for (size_t i = 0; i < k; i++) {
        if (!rc && strcmp(xmpp_stanza_get_type(replies[i]), "result"))
            rc = report_stanza_error(i ? "publishing our OMEMO bundle"
                                       : "publishing our OMEMO device list",
                                     replies[i]);
        if (replies[i])
            xmpp_stanza_release(replies[i]);
        xmpp_stanza_release(iqs[i]);
    }
    return rc;
}

/* Our device into our list and our bundle (one round trip to read the
 * list, one to publish both). */
static int publish_all(struct omemo *om, struct session *s)
{
    uint32_t *ids;
    size_t n;
    int rc = own_list(om, s, &ids, &n);
    if (rc)
        return rc;
    bool listed = false;
    for (size_t i = 0; i < n; i++)
        listed |= ids[i] == om->device_id;
    uint32_t *all = realloc(ids, (n + 1) * sizeof *all);
    if (!all) {
        free(ids);
        return fail_oom(NULL);
    }
    if (!listed)
        all[n++] = om->device_id;
    rc = publish(om, s, all, n, true);
    free(all);
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
    uint32_t *ids;
    size_t n, k = 0;
    int rc = own_list(om, s, &ids, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (ids[i] != id)
            ids[k++] = ids[i];
    if (k == n)
        rc = fail(XE_DATA, "device %u is not in our device list", id);
    else
        rc = publish(om, s, ids, k, false);
    free(ids);
    return rc;
}

void omemo_refill(struct omemo *om, struct session *s)
{
    char node[64];
    if (store_new_prekey(om))
        return;
    xmpp_stanza_t *b = bundle_el(om, s->ctx);
    if (!b)
        return;
    snprintf(node, sizeof node, OMEMO_NODE_BUNDLES "%u", om->device_id);
    xmpp_stanza_t *iq = publish_iq(s, node, b);
    char *id = session_id(s);
    xmpp_stanza_set_id(iq, id);
    xmpp_free(s->ctx, id);
    session_send(s, iq); /* the answer does not matter to the reader */
    xmpp_stanza_release(iq);
}

int pep_get_bundles(struct session *s, struct bundle_req *req, size_t n)
{
    xmpp_stanza_t **iqs = calloc(n + 1, sizeof *iqs);
    xmpp_stanza_t **rep = calloc(n + 1, sizeof *rep);
    int rc = iqs && rep ? 0 : fail_oom(NULL);
    for (size_t i = 0; !rc && i < n; i++) {
        char node[64];
        snprintf(node, sizeof node, OMEMO_NODE_BUNDLES "%u", req[i].dev);
        iqs[i] = pep_items_iq(s, req[i].jid, node);
    }
    if (!rc && n)
        rc = session_iq_all(s, iqs, n, rep);
    for (size_t i = 0; i < n; i++)
        req[i].why =
            rc ? "no answer"
               : wire_parse_bundle(s->ctx, pep_items(rep[i]), &req[i].b);
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

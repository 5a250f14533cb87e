/* Shared by the files of the OMEMO module only (crypto.c, store.c,
 * omemo.c, wire.c); the tools see omemo.h. */
#ifndef XMPP_OMEMO_PRIV_H
#define XMPP_OMEMO_PRIV_H

#include <curve.h>
#include <ratchet.h>
#include <session_pre_key.h>
#include <signal_protocol.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/omemo/omemo.h"

/* Whom omemo_prepare_send made ready: a bare JID, its devices and
 * which of them get the key. */
struct omemo_target {
    char *jid;
    uint32_t *dev;
    size_t n;
    bool *use;
};

struct omemo {
    sqlite3 *db;
    char *path; /* the store file, for messages */
    char *jid;  /* our bare JID */
    signal_context *sg;
    signal_protocol_store_context *store;
    uint32_t device_id;
    uint8_t pub[33]; /* our identity key, serialized (0x05 first) */
    bool published;
    bool prekey_used; /* set by the store when a prekey is removed */
    bool failed;      /* a store call failed inside libomemo-c */
    struct omemo_target *targets; /* the recipients, then ourselves */
    size_t ntargets;
};

/* omemo.c */
char *omemo_bare(const char *jid);

/* cipher.c */
void omemo_targets_free(struct omemo *om);

/* pep.c */
xmpp_stanza_t *pep_items_iq(struct session *s, const char *jid,
                            const char *node);
xmpp_stanza_t *pep_items(xmpp_stanza_t *reply);
/* Release n requests and their replies (NULLs skipped), and the arrays. */
void pep_release(xmpp_stanza_t **iqs, xmpp_stanza_t **rep, size_t n);

/* crypto.c */
extern const signal_crypto_provider omemo_crypto;
int omemo_random(void *buf, size_t len);
int omemo_gcm(bool enc, const uint8_t key[16], const uint8_t iv[12],
              const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]);

/* store.c: the SQLite file and the stores libomemo-c calls. */
int store_open(struct omemo *om, const char *path, bool create);
void store_close(struct omemo *om);
/* One transaction (BEGIN IMMEDIATE: the write lock). 0 or XE_*. */
int store_begin(struct omemo *om);
int store_commit(struct omemo *om);
void store_rollback(struct omemo *om);
/* The message for a failed SQLite call: XE_CONFIG naming the file. */
int store_fail(struct omemo *om, const char *what);
/* Our identity: load it, or with create make one. 0 or XE_*. */
int store_identity(struct omemo *om, bool create);
void store_set_published(struct omemo *om);
/* Inside a transaction: what the file says now, and saying it. */
bool store_is_published(struct omemo *om);
void store_mark_published(struct omemo *om);
/* Our signed prekey (the current one) and the prekeys, for a bundle. */
int store_bundle_keys(struct omemo *om, session_signed_pre_key **spk,
                      session_pre_key ***pks, size_t *npk);
/* Is the signed prekey due for rotation, or a retired one past its
 * grace? (Reads only: the check every send makes.) */
bool store_spk_due(struct omemo *om);
/* Inside a transaction: a new signed prekey when the current one is a
 * week old (the old one kept a month more), and retired ones past that
 * month removed. Returns 1 when the bundle changed, 0, or -1. */
int store_rotate_spk(struct omemo *om);
/* Make one more prekey (after one was used). */
int store_new_prekey(struct omemo *om);
/* What we know of a contact's device. */
int store_peer(struct omemo *om, const char *jid, uint32_t dev, uint8_t key[33],
               bool *known, enum omemo_trust *trust);
bool store_jid_has_verified(struct omemo *om, const char *jid);
int store_set_trust(struct omemo *om, const char *jid, const uint8_t key[33],
                    enum omemo_trust t, int *changed);
bool store_has_session(struct omemo *om, const char *jid, uint32_t dev);
int store_remember_peer(struct omemo *om, const char *jid, uint32_t dev,
                        const uint8_t key[33]);

/* wire.c: the XML of device lists, bundles and <encrypted/>. */
#define OMEMO_NODE_DEVICES NS_OMEMO ".devicelist"
#define OMEMO_NODE_BUNDLES NS_OMEMO ".bundles:"
#define NS_PUBSUB          "http://jabber.org/protocol/pubsub"

/* The device ids in a <list/> (a pubsub <items/> reply or event).
 * *ids malloc'd. Returns 0, or -1 when the element is not a list. */
int wire_parse_devices(xmpp_stanza_t *items, uint32_t **ids, size_t *n);

/* A contact's bundle (§4.3), parsed: keys checked for size. */
struct wire_bundle {
    uint32_t spk_id;
    uint8_t spk[33];
    uint8_t *sig;
    size_t sig_len;
    uint8_t ik[33];
    uint32_t pk_id;
    uint8_t pk[33]; /* one prekey, picked at random */
};
/* From a pubsub <items/> reply. Returns NULL, or the reason it is not
 * a usable bundle. */
const char *wire_parse_bundle(xmpp_ctx_t *ctx, xmpp_stanza_t *items,
                              struct wire_bundle *b);
void wire_bundle_free(struct wire_bundle *b);

/* An <encrypted/> element taken apart. */
struct wire_key {
    uint32_t rid;
    bool prekey;
    uint8_t *data;
    size_t len;
};
struct wire_msg {
    uint32_t sid;
    uint8_t iv[12];
    struct wire_key *keys;
    size_t nkeys;
    uint8_t *payload; /* NULL: a key transport element */
    size_t payload_len;
};
/* Returns NULL, or why the element is malformed. */
const char *wire_parse_msg(xmpp_ctx_t *ctx, xmpp_stanza_t *enc,
                           struct wire_msg *m);
void wire_msg_free(struct wire_msg *m);

/* Append <name [attr=id]>base64 of d</name> to parent (attr NULL:
 * none). */
void wire_add_b64(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                  const uint8_t *d, size_t n, const char *attr, uint32_t id);

/* pep.c: bundles of several devices, fetched in one round trip. */
struct bundle_req {
    const char *jid;
    uint32_t dev;
    struct wire_bundle b;
    const char *why; /* NULL: b holds the bundle; else why not */
};
/* Returns 0 or the session's status (then every why is set). */
int pep_get_bundles(struct session *s, struct bundle_req *req, size_t n);
void pep_bundles_free(struct bundle_req *req, size_t n); /* not req */

#endif

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

/* Whom omemo_prepare_send made ready: a bare JID, its devices, the
 * generations each announces (OMEMO_V03 | OMEMO_V2) and which one each
 * gets the key with (0: none). */
struct omemo_target {
    char *jid;
    uint32_t *dev;
    size_t n;
    uint8_t *gens;
    uint8_t *use;
};

/* The address libomemo-c keeps a session under: the bare JID for 0.3,
 * "2:" and the JID for OMEMO 2 (no JID starts so), as a device that
 * speaks both has a session of each. The identity store takes the
 * prefix off: one identity key per device. */
struct omemo_addr {
    signal_protocol_address a;
    char name[3072];
};
void omemo_addr(struct omemo_addr *x, const char *jid, uint32_t dev,
                unsigned gen);
/* The JID of an address name, the prefix taken off. */
const char *omemo_addr_jid(const char *name, size_t len, size_t *jlen);

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
/* OMEMO 2's payload under key (AES-256-CBC, then HMAC-SHA-256 cut to
 * tag's 16 bytes). enc: *out the ciphertext and tag written; else tag
 * checked, *out the text. Returns 0, or -1 (a wrong tag: nothing). */
int omemo_payload2(bool enc, const uint8_t key[32], const uint8_t *in,
                   size_t len, signal_buffer **out, uint8_t tag[16]);

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
bool store_has_session(struct omemo *om, const char *jid, uint32_t dev,
                       unsigned gen);
int store_remember_peer(struct omemo *om, const char *jid, uint32_t dev,
                        const uint8_t key[33]);

/* wire.c: the XML of device lists, bundles and <encrypted/>. */
#define OMEMO_NODE_DEVICES  NS_OMEMO ".devicelist"
#define OMEMO_NODE_BUNDLES  NS_OMEMO ".bundles:"
#define OMEMO2_NODE_DEVICES NS_OMEMO2 ":devices"
#define OMEMO2_NODE_BUNDLES NS_OMEMO2 ":bundles"
#define NS_PUBSUB           "http://jabber.org/protocol/pubsub"

/* The device ids in a device list of generation gen (0.3 <list/>,
 * OMEMO 2 <devices/>) in a pubsub <items/> reply or event. *ids
 * malloc'd. Returns 0, or -1 when the element is not a list. */
int wire_parse_devices(xmpp_stanza_t *items, unsigned gen, uint32_t **ids,
                       size_t *n);

/* A contact's bundle (v0.3 §4.3, v0.8 §4.3), parsed: keys checked for
 * size. Keys are held serialized (0x05, the Curve25519 key); OMEMO 2's
 * identity key is also kept as published (Ed25519), which the
 * signature is checked against. */
struct wire_bundle {
    unsigned gen;
    uint32_t spk_id;
    uint8_t spk[33];
    uint8_t *sig;
    size_t sig_len;
    uint8_t ik[33];
    uint8_t ik_ed[32]; /* OMEMO 2 */
    uint32_t pk_id;
    uint8_t pk[33]; /* one prekey, picked at random */
};
/* From a pubsub <items/> reply. Returns NULL, or the reason it is not
 * a usable bundle. */
const char *wire_parse_bundle(xmpp_ctx_t *ctx, xmpp_stanza_t *items,
                              unsigned gen, struct wire_bundle *b);
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
/* The same for OMEMO 2 (v0.8 §4.6), keeping the keys for bare JID
 * `to` only; there is no IV; prekey means kex='true'. */
const char *wire_parse_msg2(xmpp_ctx_t *ctx, xmpp_stanza_t *enc, const char *to,
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
    unsigned gen;
    struct wire_bundle b;
    const char *why; /* NULL: b holds the bundle; else why not */
};
/* Returns 0 or the session's status (then every why is set). */
int pep_get_bundles(struct session *s, struct bundle_req *req, size_t n);
void pep_bundles_free(struct bundle_req *req, size_t n); /* not req */

/* sce.c: XEP-0420 envelopes, OMEMO 2's plaintext. */
/* <envelope> with body text, padding, to, from and time, serialized;
 * malloc'd, NULL when out of memory. */
char *sce_wrap(xmpp_ctx_t *ctx, const char *text, const char *to,
               const char *from);
/* The body of envelope xml[0..len), checked to be from bare JID `from`
 * to bare JID `to` (XEP-0420 §4: else it was replayed or forged).
 * Returns NULL with *text malloc'd, or why not. */
const char *sce_open(xmpp_ctx_t *ctx, const char *xml, size_t len,
                     const char *to, const char *from, char **text);

#endif

/* End-to-end encryption with OMEMO on libomemo-c, both generations:
 * OMEMO 0.3 (XEP-0384 v0.3, eu.siacs.conversations.axolotl), what
 * Conversations, Monal, Dino, Gajim and profanity speak, and OMEMO 2
 * (XEP-0384 v0.8, urn:xmpp:omemo:2), one identity and device id for
 * both (as python-omemo does). What send, recv and the omemo tool
 * call; everything else of the module is private.
 *
 * Keys live per account in one SQLite file, $XDG_DATA_HOME/xmpp/omemo/
 * BAREJID.db (else ~/.local/share/xmpp/omemo/), mode 0600. Every
 * change is one transaction taken with BEGIN IMMEDIATE: two runs at
 * once wait for each other (up to the deadline), a one-time prekey is
 * never handed out twice, and a crash or kill -9 leaves the last
 * committed state (SQLite's journal). */
#ifndef XMPP_OMEMO_H
#define XMPP_OMEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <strophe.h>

#include "common/net/session.h"

#define NS_OMEMO  "eu.siacs.conversations.axolotl"
#define NS_OMEMO2 "urn:xmpp:omemo:2"

/* The generations a device announces (bits) or a message was. */
#define OMEMO_V03 1u
#define OMEMO_V2  2u

/* What we think of a contact's device (XEP-0384 §5.4; blind trust
 * before verification, as Conversations does it: a device is trusted
 * until the account verifies one of that contact's devices). */
enum omemo_trust {
    OMEMO_BLIND,      /* not verified; trusted while none of the JID is */
    OMEMO_VERIFIED,   /* `xmpp omemo trust` */
    OMEMO_DISTRUSTED, /* `xmpp omemo distrust` */
    OMEMO_UNDECIDED,  /* not verified, and another device of the JID is */
};

/* "verified", "blind", ... for output. */
const char *omemo_trust_name(enum omemo_trust t);

struct omemo;

/* Open the key store of account `jid` (bare, or full: the resource is
 * dropped). With create, make the file and an identity when there is
 * none. Returns 0, XE_CONFIG (a store that is not ours or is corrupt,
 * naming the file), XE_NOINPUT (no store and !create) or XE_OSERR, the
 * message printed. */
int omemo_open(struct omemo **om, const char *jid, bool create);
void omemo_close(struct omemo *om);

/* Has account jid a key store here? */
bool omemo_has_keys(const char *jid);

uint32_t omemo_device_id(const struct omemo *om);

/* A device's identity key as clients show it: 64 hex digits in groups
 * of 8 (the Curve25519 key, without the type byte). buf: 72 bytes. */
#define OMEMO_FPR_LEN 72
void omemo_fingerprint(const uint8_t *key33, char buf[OMEMO_FPR_LEN]);

/* Our own fingerprint. */
void omemo_own_fingerprint(struct omemo *om, char buf[OMEMO_FPR_LEN]);

/* Publish our device in our device lists of both generations (keeping
 * the others there) and our bundles, all open to anyone
 * (pubsub#access_model=open). Returns 0 or an exit status, the message printed.
 */
int omemo_publish(struct omemo *om, struct session *s);

/* As omemo_publish, only when this store never published. */
int omemo_ensure_published(struct omemo *om, struct session *s);

/* One device of a JID as `omemo devices` shows it. */
struct omemo_device {
    uint32_t id;
    char fpr[OMEMO_FPR_LEN]; /* "" when unknown (no bundle) */
    enum omemo_trust trust;
    bool own;      /* this store's device */
    unsigned gens; /* OMEMO_V03 | OMEMO_V2: the lists it is in */
};

/* The devices jid announces, with what we know of them, fetching the
 * bundles of those whose key we have not seen. *out is malloc'd.
 * Returns 0 or an exit status, the message printed. */
int omemo_devices(struct omemo *om, struct session *s, const char *jid,
                  struct omemo_device **out, size_t *n);

/* Set a device's trust by its fingerprint (spaces and case ignored).
 * Returns 0, or XE_DATA when no device of jid we know has that key. */
int omemo_set_trust(struct omemo *om, const char *jid, const char *fpr,
                    enum omemo_trust t);

/* Take device id out of our device lists. Returns 0 or a status. */
int omemo_remove_device(struct omemo *om, struct session *s, uint32_t id);

/* Get ready to encrypt for jids[0..n): fetch their device lists of
 * both generations and ours (one round trip), then the bundles of
 * devices we have no session with (one more), and build those
 * sessions: OMEMO 2 with a device in the OMEMO 2 list, 0.3 with one
 * only in the 0.3 list. A JID left with
 * no device to encrypt for is an error naming it: XE_UNAVAILABLE; with
 * trusted_only a device not verified is refused: XE_UNTRUSTED. */
int omemo_prepare_send(struct omemo *om, struct session *s, char **jids, int n,
                       bool trusted_only);

/* Add to message m the <encrypted/> elements carrying text for `to`
 * (one of the JIDs prepared) and our other devices: OMEMO 2 (the text
 * in an XEP-0420 envelope) for the devices that speak it, 0.3 for the
 * others, both when both are needed. Returns the generations used
 * (OMEMO_V03 | OMEMO_V2), or 0 when it fails (said). */
unsigned omemo_encrypt(struct omemo *om, xmpp_stanza_t *m, const char *to,
                       const char *text, size_t len);

/* What decrypting a message gave. */
struct omemo_plain {
    char *text;             /* malloc'd; NULL when not decrypted */
    const char *why;        /* then: the reason, for the marker */
    enum omemo_trust trust; /* of the sender's device */
    bool prekey_used;       /* a one-time prekey was used: republish */
    bool broken;            /* no or a broken session: omemo_repair */
    uint32_t sid;           /* the sender's device */
    unsigned gen;           /* OMEMO_V03 or OMEMO_V2 */
};

/* The <encrypted/> of message st, OMEMO 2's first, or NULL. */
xmpp_stanza_t *omemo_element(xmpp_stanza_t *st);

/* Decrypt message st from `from` (which has an omemo_element): the
 * OMEMO 2 element when it has a key for us, else the 0.3 one. Never
 * fails hard: p->why says why there is no text. */
void omemo_decrypt(struct omemo *om, xmpp_stanza_t *st, const char *from,
                   struct omemo_plain *p);

/* A session that cannot decrypt (p->broken): build a new one with
 * jid's device dev from its bundle and send that device an empty OMEMO
 * message (the key transport Conversations uses for this), so that its
 * next message to us decrypts. Returns 0 or an exit status (said). */
int omemo_repair(struct omemo *om, struct session *s, const char *jid,
                 uint32_t dev, unsigned gen);

/* After a decryption used one of our prekeys: make a new one and
 * publish the bundle again, without waiting for the answer. */
void omemo_refill(struct omemo *om, struct session *s);

#endif

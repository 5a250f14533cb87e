/* Decrypting an OMEMO message for our device (XEP-0384 v0.3 §4.6, v0.8
 * §4.6): our <key/> through the sender device's session of that
 * generation (built from it when it is a key exchange), then the
 * payload: under AES-128-GCM (0.3), or AES-256-CBC with HMAC holding an
 * XEP-0420 envelope (OMEMO 2). Nothing here fails hard: a message we
 * cannot read gets a reason. */
#include <protocol.h>
#include <session_cipher.h>
#include <string.h>

#include "common/omemo/omemo_priv.h"

static const char *signal_why(int rc)
{
    switch (rc) {
    case SG_ERR_DUPLICATE_MESSAGE: return "a duplicate, already decrypted";
    case SG_ERR_NO_SESSION:
        return "no session with the sender's device (it must start a new one)";
    case SG_ERR_INVALID_KEY_ID:
        return "it uses a prekey we no longer have (already used)";
    case SG_ERR_INVALID_MAC: return "its MAC does not verify (broken session)";
    case SG_ERR_UNTRUSTED_IDENTITY:
        return "the sender device's identity key is distrusted";
    case SG_ERR_LEGACY_MESSAGE:
    case SG_ERR_INVALID_VERSION: return "an unsupported message version";
    case SG_ERR_NOMEM: return "out of memory";
    default: return "its key does not decrypt";
    }
}

/* Our key's plaintext (the AES key and tag) through the session. */
static int open_key(struct omemo *om, const char *from, uint32_t sid,
                    unsigned gen, const struct wire_key *k, signal_buffer **out)
{
    struct omemo_addr a;
    session_cipher *c = NULL;
    bool two = gen == OMEMO_V2;
    omemo_addr(&a, from, sid, gen);
    int rc = session_cipher_create(&c, om->store, &a.a, om->sg);
    if (rc)
        return rc;
    if (two)
        session_cipher_set_version(c, CIPHERTEXT_OMEMO_VERSION);
    if (k->prekey) {
        pre_key_signal_message *m = NULL;
        rc = two ? pre_key_signal_message_deserialize_omemo(&m, k->data, k->len,
                                                            sid, om->sg)
                 : pre_key_signal_message_deserialize(&m, k->data, k->len,
                                                      om->sg);
        if (!rc)
            rc = session_cipher_decrypt_pre_key_signal_message(c, m, NULL, out);
        SIGNAL_UNREF(m);
    } else {
        signal_message *m = NULL;
        rc = two ? signal_message_deserialize_omemo(&m, k->data, k->len, om->sg)
                 : signal_message_deserialize(&m, k->data, k->len, om->sg);
        if (!rc)
            rc = session_cipher_decrypt_signal_message(c, m, NULL, out);
        SIGNAL_UNREF(m);
    }
    session_cipher_free(c);
    return rc;
}

/* The payload with the key (and the tag: after the key since
 * Conversations 1.22, else at the payload's end). */
static const char *open_payload(const struct wire_msg *m, signal_buffer *kt,
                                char **text)
{
    const uint8_t *k = signal_buffer_data(kt);
    size_t klen = signal_buffer_len(kt), len = m->payload_len;
    uint8_t tag[16];
    if (klen == 32)
        memcpy(tag, k + 16, 16);
    else if (klen == 16 && len >= 16)
        memcpy(tag, m->payload + (len -= 16), 16);
    else
        return "a key of the wrong size";
    char *t = malloc(len + 1);
    if (!t)
        return "out of memory";
    if (omemo_gcm(false, k, m->iv, m->payload, len, (uint8_t *)t, tag)) {
        free(t);
        return "the payload does not verify (AES-GCM tag)";
    }
    t[len] = '\0';
    *text = t;
    return NULL;
}

/* v0.8 §4.6: the key and HMAC open the payload; what it holds is an
 * XEP-0420 envelope, which must be from the sender and to us. */
static const char *open_payload2(struct omemo *om, xmpp_ctx_t *ctx,
                                 const struct wire_msg *m, signal_buffer *kt,
                                 const char *from, char **text)
{
    signal_buffer *env = NULL;
    uint8_t tag[16];
    if (signal_buffer_len(kt) != 48)
        return "a key of the wrong size";
    memcpy(tag, signal_buffer_data(kt) + 32, 16);
    if (omemo_payload2(false, signal_buffer_data(kt), m->payload,
                       m->payload_len, &env, tag))
        return "the payload does not verify (HMAC)";
    const char *why = sce_open(ctx, (const char *)signal_buffer_data(env),
                               signal_buffer_len(env), om->jid, from, text);
    signal_buffer_bzero_free(env);
    return why;
}

static const struct wire_key *our_key(struct omemo *om,
                                      const struct wire_msg *m)
{
    for (size_t i = 0; i < m->nkeys; i++)
        if (m->keys[i].rid == om->device_id)
            return &m->keys[i];
    return NULL;
}

xmpp_stanza_t *omemo_element(xmpp_stanza_t *st)
{
    xmpp_stanza_t *e =
        xmpp_stanza_get_child_by_name_and_ns(st, "encrypted", NS_OMEMO2);
    return e ? e
             : xmpp_stanza_get_child_by_name_and_ns(st, "encrypted", NS_OMEMO);
}

/* The element of generation gen taken apart, with our key. */
static const char *parse(struct omemo *om, xmpp_stanza_t *st, unsigned gen,
                         struct wire_msg *m, const struct wire_key **k)
{
    bool two = gen == OMEMO_V2;
    xmpp_stanza_t *enc = xmpp_stanza_get_child_by_name_and_ns(
        st, "encrypted", two ? NS_OMEMO2 : NS_OMEMO);
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(st);
    memset(m, 0, sizeof *m);
    *k = NULL;
    if (!enc)
        return "no OMEMO element";
    const char *why = two ? wire_parse_msg2(ctx, enc, om->jid, m)
                          : wire_parse_msg(ctx, enc, m);
    if (!why && !(*k = our_key(om, m)))
        why = "not encrypted for this device";
    return why;
}

void omemo_decrypt(struct omemo *om, xmpp_stanza_t *st, const char *from,
                   struct omemo_plain *p)
{
    struct wire_msg m;
    const struct wire_key *k;
    signal_buffer *kt = NULL;
    char *bare = omemo_bare(from ? from : "");
    memset(p, 0, sizeof *p);
    p->trust = OMEMO_BLIND;
    /* OMEMO 2 first; the 0.3 element beside it when that has no key for
     * this device (a sender that sends both). */
    p->gen = OMEMO_V2;
    p->why = parse(om, st, OMEMO_V2, &m, &k);
    if (!k && xmpp_stanza_get_child_by_name_and_ns(st, "encrypted", NS_OMEMO)) {
        wire_msg_free(&m);
        p->gen = OMEMO_V03;
        p->why = parse(om, st, OMEMO_V03, &m, &k);
    }
    if (!bare)
        p->why = "out of memory";
    if (p->why)
        goto done;
    om->prekey_used = false;
    if (store_begin(om)) {
        p->why = "the key store is locked or broken";
        goto done;
    }
    int rc = open_key(om, bare, m.sid, p->gen, k, &kt);
    if (rc || store_commit(om)) {
        store_rollback(om);
        p->why = rc ? signal_why(rc) : "the key store cannot be written";
        p->sid = m.sid;
        p->broken = rc == SG_ERR_NO_SESSION || rc == SG_ERR_INVALID_MAC ||
                    rc == SG_ERR_INVALID_KEY_ID;
        goto done;
    }
    p->prekey_used = om->prekey_used;
    uint8_t key[33];
    bool known;
    store_peer(om, bare, m.sid, key, &known, &p->trust);
    if (!m.payload)
        p->why = "a key transport message (no text)";
    else if (p->gen == OMEMO_V2)
        p->why = open_payload2(om, xmpp_stanza_get_context(st), &m, kt, bare,
                               &p->text);
    else
        p->why = open_payload(&m, kt, &p->text);
done:
    signal_buffer_bzero_free(kt);
    wire_msg_free(&m);
    free(bare);
}

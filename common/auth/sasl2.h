/* The stanzas of a login beyond SASL's own messages: XEP-0388 (SASL2)
 * with XEP-0386 (Bind2), XEP-0198 Stream Management enabled inline and
 * XEP-0484 (FAST) tokens, and the HT-* mechanisms FAST logs in with
 * (draft-schmaus-kitten-sasl-ht). RFC 6120 <mechanisms/> and XEP-0440
 * channel-binding types are read from the same features.
 *
 * Pure: libstrophe stanzas in (as handlers receive them) and out, no
 * I/O, nothing printed. Every function returns 0 or an exit status of
 * cli/exitcode.h with a one-line reason in the struct's error field (no
 * prefix, no server name; the server's own words appear as received,
 * cut to fit: print it through fail(), which escapes it):
 *   XE_AUTH      the server refused the login, asked for what we do not
 *                do (<continue/> tasks), or proved nothing (HT)
 *   XE_PROTOCOL  the server's stanza breaks the protocol or our bounds
 *   XE_USAGE     the caller asked for something impossible
 *   XE_OSERR     out of memory, or an OpenSSL failure
 *
 * A login over SASL2, in order:
 *   sasl2_features_parse(features, &f)   with the <stream:features/>
 *   sasl2_features_offer(&f, true, &offer) ... mech_choose (auth/mech.h)
 *     or, with a saved token: ht_choose / ht_start for its initial data
 *   sasl2_authenticate(ctx, &auth, &st)  send st
 *   sasl2_answer_parse(reply, &a)        every answer until kind is
 *     SASL2_SUCCESS (0) or a refusal; for a challenge
 *     st = sasl2_response(ctx, true, data, len) and send it
 *   on success: a.data is the mechanism's final message (scram_server_final,
 *   ht_verify), a.jid the bound full JID, a.sm / a.token what Bind2 and
 *   FAST gave. */
#ifndef XMPP_SASL2_H
#define XMPP_SASL2_H

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

#include "common/auth/mech.h"

#define XMLNS_SASL    "urn:ietf:params:xml:ns:xmpp-sasl"
#define XMLNS_SASL2   "urn:xmpp:sasl:2"
#define XMLNS_SASL_CB "urn:xmpp:sasl-cb:0"
#define XMLNS_BIND2   "urn:xmpp:bind:0"
#define XMLNS_FAST    "urn:xmpp:fast:0"
#define XMLNS_SM3     "urn:xmpp:sm:3"

/* Bounds on what a server's features may hold; more is refused
 * (XE_PROTOCOL) rather than cut, since a cut list would change what
 * XEP-0474's hash covers. Real servers list under ten of each. */
#define SASL2_MAX_ITEMS 32    /* entries in each list */
#define SASL2_MAX_NAME  64    /* a mechanism or channel-binding type */
#define SASL2_MAX_VAR   256   /* a Bind2 inline feature (a namespace) */
#define SASL2_MAX_DATA  16384 /* base64 text of one SASL message */
#define SASL2_MAX_TOKEN 1024  /* a FAST token */

/* A list of strings from the server, as sent (surrounding XML
 * whitespace removed), each UTF-8 without control characters. */
struct sasl2_list {
    char **v;
    size_t n;
};

struct sasl2_features {
    /* RFC 6120 §6.4.1 <mechanisms xmlns='...xmpp-sasl'/> */
    bool sasl1;
    struct sasl2_list mechs;
    /* XEP-0440 <sasl-channel-binding/>: cb_advertised false when the
     * server did not send the element (not the same as an empty list) */
    bool cb_advertised;
    struct sasl2_list cb_types;
    /* XEP-0388 <authentication xmlns='urn:xmpp:sasl:2'/> */
    bool sasl2;
    struct sasl2_list mechs2;
    /* ... its <inline/>: XEP-0386 <bind/> with the var of each of its
     * <inline><feature/>; XEP-0484 <fast/> with its mechanisms (and
     * tls-0rtt, which we do not use); XEP-0198 <sm xmlns=sm:3/> */
    bool bind2;
    struct sasl2_list bind_features;
    bool fast;
    bool fast_0rtt;
    struct sasl2_list fast_mechs;
    bool sm;
    char error[256];
};

/* Read a <stream:features/> (after TLS). Unknown children are ignored;
 * what this module reads is checked against the bounds above. On an
 * error nothing is kept (f is as after sasl2_features_free). */
int sasl2_features_parse(xmpp_stanza_t *features, struct sasl2_features *f);

/* Free every list: the one call for all of them. */
void sasl2_features_free(struct sasl2_features *f);

/* Is name in the list? */
bool sasl2_listed(const struct sasl2_list *l, const char *name);

/* Fill o's mechs, nmechs, cb_types, ncb and sasl2 from f: SASL2's
 * mechanisms when use_sasl2 (and f->sasl2), else RFC 6120's. The other
 * fields of o are the caller's. o points into f: keep f alive. */
void sasl2_features_offer(const struct sasl2_features *f, bool use_sasl2,
                          struct mech_offer *o);

/* What goes into <authenticate/>. Strings are copied into the stanza;
 * each must be UTF-8 without control characters. */
struct sasl2_auth {
    const char *mech;
    /* The mechanism's initial response (raw bytes, base64'd here); NULL:
     * none (the server then sends an empty challenge); len 0 with
     * non-NULL: an empty one ("=", XEP-0388 §2.2 as RFC 6120 §6.4.2) */
    const unsigned char *initial;
    size_t initial_len;
    /* XEP-0388 §2.2.1 <user-agent/>: id a stable UUID per account
     * (agent_load, auth/state.h), or NULL for none; software "xmpp";
     * device the host name, or NULL */
    const char *agent_id;
    const char *software;
    const char *device;
    /* XEP-0386 §2.3: bind with this tag (NULL: no <bind/>, RFC 6120
     * binding after the login); sm_enable adds XEP-0198 <enable/> inside
     * it (the server listed urn:xmpp:sm:3 among Bind2's inline features),
     * sm_resume asks for resumption */
    const char *bind_tag;
    bool sm_enable;
    bool sm_resume;
    /* XEP-0484 §3.2: ask for a token for this HT mechanism (a password
     * login), or NULL */
    const char *request_token;
    /* XEP-0484 §3.3: this login uses a token: <fast/>, with invalidate
     * ending the token after this login (§3.5) */
    bool fast;
    bool invalidate;
    char error[256];
};

/* <authenticate xmlns='urn:xmpp:sasl:2'/> into *out (release it), or
 * an error in a->error: XE_USAGE for a field that is empty or holds a
 * control character, SM without Bind2, invalidate without fast;
 * XE_OSERR. */
int sasl2_authenticate(xmpp_ctx_t *ctx, struct sasl2_auth *a,
                       xmpp_stanza_t **out);

/* <response/> with data base64'd ("=" when empty): XEP-0388's with
 * sasl2, RFC 6120's <response xmlns='...xmpp-sasl'/> without. NULL only
 * when out of memory (XE_OSERR). */
xmpp_stanza_t *sasl2_response(xmpp_ctx_t *ctx, bool sasl2,
                              const unsigned char *data, size_t len);

enum sasl2_kind {
    SASL2_NONE = 0,  /* not an answer of SASL or SASL2 */
    SASL2_CHALLENGE, /* <challenge/>: data for the mechanism */
    SASL2_SUCCESS,   /* <success/> */
    SASL2_FAILURE,   /* <failure/> */
    SASL2_CONTINUE,  /* XEP-0388 <continue/>: tasks, none of which we do */
};

/* The server's answer to <authenticate/>, <response/> (or, without
 * SASL2, to RFC 6120's <auth/> and <response/>, the same shapes). */
struct sasl2_answer {
    enum sasl2_kind kind;
    bool sasl2; /* in XEP-0388's namespace, not RFC 6120's */
    /* The base64-decoded payload, NUL-terminated (len excludes the NUL),
     * NULL when none was sent: the challenge; in a success the
     * additional-data (SCRAM's server-final message, HT's proof). */
    unsigned char *data;
    size_t len;
    /* <success/> */
    char *jid;        /* authorization-identifier: the account, or with Bind2
                         the bound full JID; NULL if absent */
    bool bound;       /* XEP-0386 <bound/> was there */
    struct {          /* XEP-0198 inside <bound/> (XEP-0386 §2.4) */
        bool enabled; /* <enabled/> */
        bool resume;  /* its resume='true'/'1' */
        char *id;     /* its id (a resumption id), or NULL */
        unsigned long max;  /* its max, 0 when absent */
        bool failed;        /* <failed/> instead */
        char condition[64]; /* the failure's condition, "" if none */
    } sm;
    char *token;            /* XEP-0484 §3.4 <token/>: a new token, or NULL */
    long long token_expiry; /* its expiry (seconds since 1970), 0: none */
    /* <failure/>: RFC 6120 §6.5 condition element name (e.g.
     * "not-authorized"), and <text/> as sent (cut to fit, NUL-free) */
    char condition[64];
    char text[256];
    char error[320];
};

/* Read an answer. Returns:
 *   0 with kind SASL2_CHALLENGE or SASL2_SUCCESS;
 *   XE_AUTH with kind SASL2_FAILURE: error says "the server refused
 *     the login: CONDITION (TEXT)" (the caller may fall back, e.g. from
 *     a FAST token to the password, by looking at kind);
 *   XE_AUTH with kind SASL2_CONTINUE: error names the tasks the server
 *     wants ("... asks for further steps (TOTP); xmpp does none");
 *   XE_PROTOCOL: not an answer (kind SASL2_NONE), or one that breaks
 *     XEP-0388/RFC 6120 (data not base64, a bad token expiry, ...). */
int sasl2_answer_parse(xmpp_stanza_t *st, struct sasl2_answer *a);

void sasl2_answer_free(struct sasl2_answer *a);

/* --- FAST's HT-SHA-256-* (draft-schmaus-kitten-sasl-ht §3) --- */

/* The HT mechanism to use among the offered ones, given the
 * channel-binding types we can compute on this connection: -EXPR
 * (tls-exporter), else -ENDP (tls-server-end-point), else -NONE. -UNIQ
 * (tls-unique) is never chosen: TLS 1.3 has no tls-unique. A static
 * string, or NULL when none fits. */
const char *ht_choose(const struct sasl2_list *offered,
                      const char *const *our_cb, size_t nour);

/* The channel-binding type an HT mechanism needs into *type (NULL for
 * -NONE). Returns false for a mechanism we do not do. */
bool ht_cb_type(const char *mech, const char **type);

struct ht {
    const char *mech;            /* static */
    unsigned char responder[32]; /* the proof the server must send */
    char error[256];
};

/* The initial response of mech for the account authcid (the JID's
 * localpart) holding token, into *out (malloc'd, *len bytes):
 *   authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data)
 * cb: the channel-binding data of ht_cb_type's type (ignored for
 * -NONE, required otherwise: XE_USAGE without). */
int ht_start(struct ht *h, const char *mech, const char *authcid,
             const char *token, const unsigned char *cb, size_t cb_len,
             unsigned char **out, size_t *len);

/* The success's additional-data must be HMAC-SHA-256(token, "Responder"
 * || cb-data) (compared in constant time): mutual authentication. A
 * success without it, or with another, is XE_AUTH. */
int ht_verify(struct ht *h, const unsigned char *data, size_t len);

/* Wipe the expected proof. */
void ht_free(struct ht *h);

#endif

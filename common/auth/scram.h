/* A SCRAM client (RFC 5802; SCRAM-SHA-256 RFC 7677; SCRAM-SHA-512 the
 * same construction with SHA-512) with channel binding (the -PLUS
 * variants, RFC 5056, RFC 5929 tls-server-end-point, RFC 9266
 * tls-exporter) and XEP-0474 downgrade protection (the h= attribute).
 *
 * Pure: SCRAM messages in, SCRAM messages or an error out. The messages
 * are the bare SCRAM texts of RFC 5802 §7, not base64: XMPP wraps them in
 * base64 inside <auth/>, <challenge/>, <response/>, <success/> (SASL1)
 * or their SASL2 counterparts, which is the caller's part. No libstrophe
 * types, no I/O, nothing printed.
 *
 * One login, in order:
 *   struct scram s;
 *   scram_client_first(&s, &params, &first);   send first
 *   scram_server_first(&s, challenge, len);    the server's answer
 *   (scram_ssdp_check(&s, ...) when the server sent h=)
 *   scram_client_final(&s, password, cached, &final);   send final
 *   scram_server_final(&s, success_data, len); must return 0
 *   (keep scram_salted(&s) for the next login, keyed by mechanism hash,
 *    salt and iteration count: s.salt, s.iterations)
 *   scram_free(&s);
 * Every function returns 0 or an exit status of cli/exitcode.h, with a
 * one-line reason in s.error (no prefix, no server name: the caller adds
 * those and prints it through fail(), which escapes it):
 *   XE_AUTH      the server's answer fails a check that guards the login
 *                (foreign nonce, iteration count above the limit, wrong
 *                or missing signature, e=, SSDP mismatch), or the
 *                password cannot be prepared (see scram_client_final)
 *   XE_PROTOCOL  the server's message does not follow RFC 5802's grammar
 *   XE_USAGE     the caller asked for something impossible (an unknown
 *                mechanism, -PLUS without channel binding data)
 *   XE_OSERR     out of memory or an OpenSSL failure */
#ifndef XMPP_SCRAM_H
#define XMPP_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

/* The most PBKDF2 iterations we run when the caller gives no limit. The
 * server chooses the count: 2^31-1 keeps a client busy for half an hour.
 * Servers use 4096 (ejabberd, RFC 7677's minimum) to 10000 (Prosody);
 * one million SHA-1 iterations take about half a second here, so a
 * count above it is an attack or a misconfiguration, not a login. */
#define SCRAM_MAX_ITERATIONS 1000000UL

/* The largest hash (SHA-512): the size of keys and signatures. */
#define SCRAM_KEY_MAX 64

/* What scram_client_first needs. The strings are copied. */
struct scram_params {
    const char *mech; /* "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512",
                         or one of them with "-PLUS" */
    const char *user; /* the authentication identity: the JID's localpart */
    /* The GS2 channel-binding flag (RFC 5802 §6, §7 gs2-cbind-flag):
     *   'n'  we do not do channel binding (or the server offered -PLUS
     *        with no type we share, XEP-0474 §6 "new rule 6")
     *   'y'  we could, but the server offered no -PLUS mechanism
     *   'p'  -PLUS: cb_type and cb_data must be given
     * mech_choose (auth/mech.h) says which. 0 means 'n'. */
    char cb_flag;
    const char *cb_type;          /* "tls-exporter" or "tls-server-end-point" */
    const unsigned char *cb_data; /* the channel binding data of cb_type */
    size_t cb_len;
    unsigned long max_iterations; /* 0: SCRAM_MAX_ITERATIONS */
    const char *nonce; /* tests only: the client nonce; NULL: 24 random
                          bytes in base64 */
};

/* One exchange. Fields are read-only for the caller. */
struct scram {
    const void *md; /* the OpenSSL EVP_MD of the mechanism */
    size_t hlen;    /* its output size */
    char *gs2;      /* the GS2 header, "n,,", "y,," or "p=TYPE,," */
    unsigned char *cb_data;
    size_t cb_len;
    char *first_bare;   /* client-first-message-bare */
    char *cnonce;       /* our nonce */
    char *server_first; /* as received */
    char *nonce;        /* client + server nonce (r= of server-first) */
    unsigned char *salt;
    size_t salt_len;
    unsigned long iterations; /* i= of server-first */
    char *ssdp;               /* h= of server-first (XEP-0474), or NULL */
    unsigned long max_iterations;
    unsigned char salted[SCRAM_KEY_MAX]; /* SaltedPassword */
    unsigned char server_sig[SCRAM_KEY_MAX];
    int step; /* 0 fresh, 1 client-first, 2 server-first, 3 client-final,
                 4 verified */
    char error[256];
};

/* Start an exchange: the client-first-message (GS2 header and bare
 * part, RFC 5802 §7) into *out, malloc'd. The user name goes out as
 * given (it is the JID's localpart, which the server compares after its
 * own RFC 7622 preparation), with ',' and '=' escaped (§5.1); one that is
 * not UTF-8 or holds a control character is refused. */
int scram_client_first(struct scram *s, const struct scram_params *p,
                       char **out);

/* The server-first-message (RFC 5802 §7), checked strictly: no m=
 * (mandatory extension, §5.1), r= extends our nonce by at least one
 * printable character, s= non-empty valid base64, i= a positive integer
 * without leading zeros and at most the limit (the count is named in the
 * error), then optional extensions "X=value", each non-empty, no
 * attribute twice. h= (XEP-0474) is kept in s->ssdp; other extensions
 * are ignored as §5 requires (they are covered by the signatures). */
int scram_server_first(struct scram *s, const char *msg, size_t len);

/* The client-final-message with the proof (RFC 5802 §3, §7), into *out,
 * malloc'd. salted: a SaltedPassword from an earlier login with the
 * same mechanism hash, salt and iteration count (hlen bytes), which
 * skips PBKDF2 and the password (may then be NULL); NULL to derive it
 * from password with PKCS5_PBKDF2_HMAC.
 *
 * The password is prepared as RFC 7613 §4.2 OpaqueString (the SASLprep
 * successor RFC 5802 points to): for ASCII that is the identity, but the
 * empty string and the controls U+0000-U+001F, U+007F are refused. A
 * password with non-ASCII characters is refused too (XE_AUTH, saying
 * so): preparing it needs Unicode normalization (NFC) and width mapping
 * tables that no library we link has, and a guess would fail the login
 * as a wrong password. */
int scram_client_final(struct scram *s, const char *password,
                       const unsigned char *salted, char **out);

/* The server-final-message (RFC 5802 §7): e= is the server's refusal
 * (its words go into the error); v= must equal the ServerSignature
 * (compared in constant time). A message without v= fails: a success
 * the server did not sign proves nothing about the server. */
int scram_server_final(struct scram *s, const char *msg, size_t len);

/* The SaltedPassword of this exchange (s->hlen bytes): worth keeping
 * only after scram_server_final returned 0. */
const unsigned char *scram_salted(const struct scram *s);

/* XEP-0474 §5.2: does the h= of server-first match the hash of what
 * the client saw advertised? mechs: the mechanism list of the SASL
 * profile in use (SASL1 <mechanisms/> or SASL2 <authentication/>);
 * cb_types: the XEP-0440 <sasl-channel-binding/> types, or NULL when the
 * server did not advertise that feature (an empty list with cb_types
 * non-NULL is "advertised, none"). Returns 0 when they match, XE_AUTH
 * when they do not ("possible downgrade") or when the server sent no h=
 * at all (call it only when s->ssdp is set, unless h= is required). */
int scram_ssdp_check(struct scram *s, const char *const *mechs, size_t nmechs,
                     const char *const *cb_types, size_t ncb);

/* Free what the exchange holds and wipe the keys. */
void scram_free(struct scram *s);

#endif

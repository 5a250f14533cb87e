/* Which SASL mechanism to log in with, or why none: the offer of a
 * server (RFC 6120 §6.3.3 <mechanisms/>, or XEP-0388 <authentication/>),
 * its channel-binding types (XEP-0440), the connection and the account's
 * pin in, a choice or a one-line refusal out. Pure: no I/O.
 *
 * Preference, best first: EXTERNAL when a client certificate is
 * configured; SCRAM-SHA-512-PLUS, -256-PLUS, -1-PLUS (when we share a
 * channel-binding type with the server: tls-exporter, else
 * tls-server-end-point); SCRAM-SHA-512, -256, -1; PLAIN only when
 * allowed (--allow-plain) and only over TLS. DIGEST-MD5, CRAM-MD5,
 * ANONYMOUS, X-OAUTH2 and everything else: never.
 *
 * Pinning (XEP-0474 §7): mechanisms fall into families ranked PLAIN <
 * SCRAM < SCRAM-PLUS = EXTERNAL. An account that has logged in with a
 * family (its pin, the strongest it has used) refuses a later offer whose
 * best is a lower family: that is what a man in the middle who strips
 * mechanisms produces. Within SCRAM the hash is not pinned (XEP-0474
 * says not to; its h= hash protects the list, scram_ssdp_check). */
#ifndef XMPP_MECH_H
#define XMPP_MECH_H

#include <stdbool.h>
#include <stddef.h>

struct mech_offer {
    const char *const *mechs; /* the mechanism names offered, as sent */
    size_t nmechs;
    /* XEP-0440 <sasl-channel-binding/> types; NULL when the server did
     * not advertise the feature at all. */
    const char *const *cb_types;
    size_t ncb;
    /* The channel-binding types we can compute on this connection
     * ("tls-exporter" needs TLS 1.3 and the SSL object,
     * "tls-server-end-point" the server's certificate); any order. */
    const char *const *our_cb;
    size_t nour;
    bool tls;         /* the stream is encrypted */
    bool sasl2;       /* the offer is XEP-0388's, not RFC 6120's */
    bool allow_plain; /* --allow-plain or the config key */
    bool client_cert; /* a client certificate is configured */
    const char *pin;  /* the account's pin: a mechanism name, or NULL */
};

struct mech_choice {
    const char *mech; /* a static string: the mechanism to use */
    /* For SCRAM, what scram_params wants: 'p' with cb_type (-PLUS), 'y'
     * (we could bind, the server offered no -PLUS) or 'n'. 0 for
     * EXTERNAL and PLAIN. */
    char cb_flag;
    const char *cb_type; /* a static string, with 'p' only */
    char error[320];     /* why none: one line, no prefix */
};

/* Choose. Returns 0 with c->mech set, or XE_AUTH (cli/exitcode.h) with
 * c->error saying why, one of:
 *   "the server offers no SASL mechanism"
 *   "the server offers no mechanism we accept (DIGEST-MD5, X-OAUTH2)"
 *   "the server offers only PLAIN; --allow-plain allows it over TLS"
 *   "the server offers PLAIN without TLS: refusing to send the password"
 *   "the server offers only SCRAM-SHA-1, PLAIN but this account has
 *    logged in with SCRAM-SHA-256-PLUS before: possible downgrade
 *    attack; if the server really changed, run again with --reset-pin"
 *   XEP-0440 §5 inconsistencies a stripping attacker leaves behind
 *   (channel-binding types without -PLUS, -PLUS over SASL2 without
 *   types, types without tls-server-end-point), each "possible
 *   downgrade attack".
 * Never says "wrong password": no mechanism is not a bad password. */
int mech_choose(const struct mech_offer *o, struct mech_choice *c);

/* The family rank of a mechanism: 0 not ours, 1 PLAIN, 2 SCRAM,
 * 3 SCRAM-PLUS or EXTERNAL. */
int mech_rank(const char *mech);

/* After a login with mech succeeded: should the account's pin become
 * mech (its family is above the pin's, or there is no pin)? */
bool mech_pin_raises(const char *pin, const char *mech);

#endif

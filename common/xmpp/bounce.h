/* Bounces of the messages we send (RFC 6120 §8.3): who may answer for a
 * message with an error, and route checks that bring a bounce from
 * another domain back before a one-shot tool leaves. */
#ifndef XMPP_BOUNCE_H
#define XMPP_BOUNCE_H

#include <stdbool.h>
#include <strophe.h>

#include "common/net/session.h"

/* May an error from `from` speak for a message we sent to `to`? The
 * recipient may (its bare JID or any of its resources), and so may its
 * server (the recipient's domain) and ours (no 'from', or our own
 * domain `self`: RFC 6120 §8.1.2.1, nobody else can send as those).
 * Anyone else who learnt the message's id may not. */
bool bounce_from_ok(const char *from, const char *to, const char *self);

/* A message to another domain is acked by our server before that
 * domain is reached: when it cannot be (a typo, no such server, none
 * answering), the bounce comes later (RFC 6120 §8.3.3.16, .17). So each
 * such domain gets an XEP-0199 ping sent after the messages. Servers
 * handle a stream's stanzas in order (RFC 6120 §10.1), ours on its way
 * to that domain and that domain's server: once the ping is answered,
 * any bounce of a message sent before it has arrived. */
struct route {
    char *domain;
    char id[48];
    bool answered;
    char why[300]; /* unreachable: "cancel/remote-server-not-found (...)" */
};

struct routes {
    struct session *s;
    struct route *r;
    int n;
};

/* Ping the domain of every JID in to[0..n) that is not self's domain
 * (each domain once), without waiting. Returns 0 or XE_OSERR (said). */
int routes_check(struct routes *rs, struct session *s, char *const *to, int n,
                 const char *self);

/* Wait until every ping is answered, or ms have passed (then
 * routes_unanswered names a domain that kept silent). Returns 0 or the
 * session's status (XE_TIMEOUT at the deadline). */
int routes_wait(struct routes *rs, long long ms);

/* Why the domain of jid cannot be reached ("type/condition (text)"),
 * or NULL when it answered (or was not asked about). */
const char *routes_failed(const struct routes *rs, const char *jid);

/* The first domain that has not answered, or NULL. */
const char *routes_unanswered(const struct routes *rs);

void routes_free(struct routes *rs);

#endif

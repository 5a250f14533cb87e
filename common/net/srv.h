/* Finding a client's server from the DNS (RFC 6120 §3.2.1, XEP-0368
 * §3): the SRV records of _xmpps-client._tcp (TLS from the first byte)
 * and _xmpp-client._tcp (STARTTLS), one list in RFC 2782 order, each
 * target tried until one takes the TCP connection. Without --server
 * only; a component always names its server. */
#ifndef XMPP_SRV_H
#define XMPP_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

#include "common/net/dnssrv.h"

/* The session's SRV state (session_state.srv): the targets, looked up
 * once, and how far the attempts got through them. */
struct srv_state {
    enum { SRV_UNKNOWN, SRV_RECORDS, SRV_NONE, SRV_DOT } found;
    size_t n;     /* targets */
    size_t next;  /* the next to try */
    size_t tried; /* attempts made on this connect */
    struct srv_target t[SRV_MAX];
};

struct session;

/* Connect the session (no --server) to its first SRV target: looked up
 * once per session; "." alone is an error (69, said); no records: the
 * JID's domain itself. Returns XMPP_EOK once an attempt is under way,
 * else the library's error or -1 with s->status set. */
int srv_connect(struct session *s, xmpp_conn_handler handler);

/* The connection handler got a disconnect before the session was up:
 * when it is the TCP connection to an SRV target that failed and
 * another target is left, connect to that one and return true. */
bool srv_next(struct session *s, int error, xmpp_conn_handler handler);

/* The server as a message names it: "DOMAIN (SRV)", or with the count
 * of targets tried, or "DOMAIN:PORT" when there were no records. */
void srv_describe(const struct srv_state *st, const char *domain, size_t dlen,
                  char *buf, size_t n);

#endif

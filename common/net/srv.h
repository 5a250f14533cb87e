/* Finding a client's server from the DNS (RFC 6120 §3.2.1, XEP-0368
 * §3): the SRV records of _xmpps-client._tcp (TLS from the first byte)
 * and _xmpp-client._tcp (STARTTLS), one list in RFC 2782 order, each
 * target tried until one takes the TCP connection. Without --server
 * only; a component always names its server. */
#ifndef XMPP_SRV_H
#define XMPP_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strophe.h>

/* Targets kept from both lookups together; more are ignored. */
#define SRV_MAX 16
/* A host name: 253 characters (RFC 1035 §2.3.4) and the NUL. */
#define SRV_HOST_MAX 254

struct srv_target {
    char host[SRV_HOST_MAX];
    unsigned short port;
    unsigned short priority, weight;
    bool direct_tls; /* _xmpps-client: XEP-0368 */
};

/* The session's SRV state (session_state.srv): the targets, looked up
 * once, and how far the attempts got through them. */
struct srv_state {
    enum { SRV_UNKNOWN, SRV_RECORDS, SRV_NONE, SRV_DOT } found;
    size_t n;     /* targets */
    size_t next;  /* the next to try */
    size_t tried; /* attempts made on this connect */
    struct srv_target t[SRV_MAX];
};

/* What a DNS answer held. */
struct srv_answer {
    size_t records; /* SRV records in its answer section */
    bool dot;       /* one of them had the target "." */
};

/* Append the usable SRV records of a raw DNS answer (res_query's) to
 * t[*n] up to t[max-1], marked direct_tls or not: a target that is no
 * host name (RFC 1123 §2.1 letters, digits, hyphens; at most 253
 * characters) is skipped, and so is ".", which *a notes. Returns 0, or
 * -1 when the message is malformed (nothing appended then). */
int srv_parse(const unsigned char *msg, size_t len, bool direct_tls,
              struct srv_target *t, size_t *n, size_t max,
              struct srv_answer *a);

/* RFC 2782: priority ascending; within a priority, a weighted random
 * order, each drawn with probability weight / sum of the weights left
 * (weight 0: only a small chance, before any other). rnd gives
 * uniformly random 32-bit numbers. */
void srv_order(struct srv_target *t, size_t n, uint32_t (*rnd)(void));

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

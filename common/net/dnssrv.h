/* SRV records (RFC 2782) from a raw DNS answer, and their order:
 * bytes in, targets out, nothing else (the lookup and the connection
 * are srv.c's), so that the unit tests and the fuzzer reach it. */
#ifndef XMPP_DNSSRV_H
#define XMPP_DNSSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * order, each record drawn with probability weight / sum of the weights
 * left, those of weight 0 last. rnd gives uniformly random 32-bit
 * numbers. */
void srv_order(struct srv_target *t, size_t n, uint32_t (*rnd)(void));

#endif

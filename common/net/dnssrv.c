/* SRV records from a raw DNS answer (RFC 2782), read with libresolv's
 * parser, and RFC 2782's order. */
#include "common/net/dnssrv.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

/* RFC 1123 §2.1: letters, digits and hyphens, labels of 1 to 63 that
 * neither begin nor end with a hyphen; at most 253 characters. What
 * dn_expand() gives for anything else (escapes, spaces) is refused. */
static bool host_name(const char *h)
{
    size_t len = strlen(h), label = 0;
    if (len == 0 || len > SRV_HOST_MAX - 1)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = h[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || h[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '-';
        if (!ldh || (c == '-' && label == 0))
            return false;
        label++;
    }
    return true;
}

/* One SRV record's RDATA (RFC 2782): priority, weight, port, target,
 * the target's name wholly inside the RDATA. 1: kept; 0: skipped. */
static int parse_rdata(const unsigned char *msg, size_t len, ns_rr *rr,
                       struct srv_target *out, struct srv_answer *a)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t rdlen = ns_rr_rdlen(*rr);
    char name[NS_MAXDNAME];
    if (rdlen < 7)
        return 0;
    int used = dn_expand(msg, msg + len, rd + 6, name, sizeof name);
    if (used < 1 || (size_t)used != rdlen - 6)
        return 0;
    if (!strcmp(name, "") || !strcmp(name, ".")) { /* RFC 2782: "." */
        a->dot = true;
        return 0;
    }
    if (!host_name(name))
        return 0;
    memset(out, 0, sizeof *out);
    out->priority = ns_get16(rd);
    out->weight = ns_get16(rd + 2);
    out->port = ns_get16(rd + 4);
    if (out->port == 0)
        return 0;
    snprintf(out->host, sizeof out->host, "%s", name);
    return 1;
}

int srv_parse(const unsigned char *msg, size_t len, bool direct_tls,
              struct srv_target *t, size_t *n, size_t max, struct srv_answer *a)
{
    ns_msg m;
    ns_rr rr;
    size_t start = *n;
    if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &m) < 0)
        return -1;
    int count = ns_msg_count(m, ns_s_an);
    for (int i = 0; i < count; i++) {
        if (ns_parserr(&m, ns_s_an, i, &rr) < 0) {
            *n = start;
            return -1;
        }
        if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
            continue;
        a->records++;
        if (*n < max && parse_rdata(msg, len, &rr, &t[*n], a))
            t[(*n)++].direct_tls = direct_tls;
    }
    return 0;
}

/* Stable: records of equal priority keep their order for the draw. */
static void sort_priority(struct srv_target *t, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct srv_target x = t[i];
        size_t j = i;
        for (; j > 0 && t[j - 1].priority > x.priority; j--)
            t[j] = t[j - 1];
        t[j] = x;
    }
}

/* Move t[k] to t[0], keeping the order of t[0..k-1]. */
static void to_front(struct srv_target *t, size_t k)
{
    struct srv_target x = t[k];
    memmove(t + 1, t, k * sizeof *t);
    t[0] = x;
}

/* RFC 2782's selection within one priority: each record in turn is
 * drawn with the probability of its weight among the weights left.
 * RFC 2782 draws from 0 to the sum inclusive, which gives the first
 * record of non-zero weight one chance too many; drawing below the sum
 * (as Go's net package does) keeps the proportions exact, and leaves
 * the records of weight 0 to the end, in the order given (the RFC's
 * "very small chance"). */
static void order_weights(struct srv_target *t, size_t n, uint32_t (*rnd)(void))
{
    for (size_t first = 0; first + 1 < n; first++) {
        unsigned long sum = 0, run = 0;
        for (size_t i = first; i < n; i++)
            sum += t[i].weight;
        if (sum == 0)
            return;
        unsigned long r = rnd() % sum;
        size_t k = first;
        while (k + 1 < n && (run += t[k].weight) <= r)
            k++;
        to_front(t + first, k - first);
    }
}

void srv_order(struct srv_target *t, size_t n, uint32_t (*rnd)(void))
{
    sort_priority(t, n);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && t[j].priority == t[i].priority)
            j++;
        order_weights(t + i, j - i, rnd);
        i = j;
    }
}

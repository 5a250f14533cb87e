/* SRV lookup for a client's server (RFC 6120 §3.2.1, RFC 2782,
 * XEP-0368 §3), and trying its targets in turn. libstrophe 0.12 looks
 * up only _xmpp-client._tcp, and tries another target only when the
 * name of one does not resolve: we look up both services, give the
 * library one host and port at a time, and move on when the TCP
 * connection fails. */
#include "common/net/srv.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/net/session_priv.h"
#include "common/xmpp/jid.h"

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

/* RFC 2782's selection within one priority: weight 0 first, then draw
 * a number from 0 to the sum of the weights left and take the first
 * record whose running sum reaches it; again with the rest. */
static void order_weights(struct srv_target *t, size_t n, uint32_t (*rnd)(void))
{
    for (size_t i = 0, z = 0; i < n; i++)
        if (t[i].weight == 0)
            to_front(t + z, i - z), z++;
    for (size_t first = 0; first + 1 < n; first++) {
        unsigned long sum = 0, run = 0;
        for (size_t i = first; i < n; i++)
            sum += t[i].weight;
        unsigned long r = rnd() % (sum + 1);
        size_t k = first;
        for (; k < n; k++) {
            run += t[k].weight;
            if (run >= r)
                break;
        }
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

static uint32_t random32(void)
{
    return arc4random();
}

/* One service's records for the domain, appended to st. A failed
 * lookup (no such name, no records, no answer) adds nothing: RFC 6120
 * §3.2.1 then falls back to the domain itself. */
static void lookup(struct srv_state *st, res_state rs, const char *service,
                   const char *domain, bool direct_tls, struct srv_answer *a)
{
    char name[NS_MAXDNAME];
    if ((size_t)snprintf(name, sizeof name, "_%s._tcp.%s", service, domain) >=
        sizeof name)
        return;
    unsigned char *buf = malloc(NS_MAXMSG);
    if (!buf)
        return;
    int len = res_nquery(rs, name, ns_c_in, ns_t_srv, buf, NS_MAXMSG);
    if (len > NS_MAXMSG)
        len = NS_MAXMSG; /* what did not fit is not in buf */
    if (len > 0)
        srv_parse(buf, (size_t)len, direct_tls, st->t, &st->n, SRV_MAX, a);
    free(buf);
}

/* The JID's domain, or NULL. */
static char *jid_domain(const struct session *s)
{
    const char *jid = s->creds.jid, *at = strchr(jid, '@');
    const char *d = at ? at + 1 : jid;
    return strndup(d, jid_bare_len(d));
}

/* Both services (XEP-0368 §3: one set, by priority and weight); with
 * --direct-tls only _xmpps-client. No records: the domain, on the
 * port of --port or the default. */
static void resolve(struct session *s, const char *domain)
{
    struct srv_state *st = &s->priv->srv;
    struct srv_answer a = {0};
    struct __res_state rs;
    memset(&rs, 0, sizeof rs);
    if (res_ninit(&rs) == 0) {
        lookup(st, &rs, "xmpps-client", domain, true, &a);
        if (!s->creds.direct_tls)
            lookup(st, &rs, "xmpp-client", domain, false, &a);
        res_nclose(&rs);
    }
    srv_order(st->t, st->n, random32);
    st->found = st->n ? SRV_RECORDS : a.dot ? SRV_DOT : SRV_NONE;
    if (st->found != SRV_NONE)
        return;
    snprintf(st->t[0].host, sizeof st->t[0].host, "%s", domain);
    st->t[0].port = server_port(&s->creds);
    st->t[0].direct_tls = s->creds.direct_tls;
    st->n = 1;
}

/* With -v: why a target was left. */
static void say_failed(const struct session *s, const struct srv_target *t,
                       int error)
{
    if (s->opt->verbose)
        trace("%s:%u: %s", t->host, (unsigned)t->port,
              strerror(error ? error : EIO));
}

/* Start the TCP connection to the next target that the library takes
 * (it resolves the name first). Returns XMPP_EOK or its last error. */
static int connect_next(struct session *s, xmpp_conn_handler handler)
{
    struct session_state *p = s->priv;
    struct srv_state *st = &p->srv;
    int rc = XMPP_EINT;
    while (rc != XMPP_EOK && st->next < st->n) {
        struct srv_target *t = &st->t[st->next++];
        long flags = xmpp_conn_get_flags(s->conn) & ~XMPP_CONN_FLAG_LEGACY_SSL;
        xmpp_conn_set_flags(
            s->conn, flags | (t->direct_tls ? XMPP_CONN_FLAG_LEGACY_SSL : 0));
        if (s->opt->verbose)
            trace("connecting to %s:%u (%s%s)", t->host, (unsigned)t->port,
                  t->direct_tls ? "direct TLS" : "STARTTLS",
                  st->found == SRV_RECORDS ? ", from SRV" : ", no SRV records");
        p->sock_error = 0;
        p->stage = AT_CONNECTING;
        st->tried++;
        errno = 0;
        rc = xmpp_connect_client(s->conn, t->host, t->port, handler, s);
        if (rc != XMPP_EOK) {
            p->sock_error = errno ? errno : EHOSTUNREACH;
            say_failed(s, t, p->sock_error);
        }
    }
    return rc;
}

int srv_connect(struct session *s, xmpp_conn_handler handler)
{
    struct srv_state *st = &s->priv->srv;
    char *domain = jid_domain(s);
    if (!domain)
        return s->status = fail_oom(NULL), -1;
    if (st->found == SRV_UNKNOWN)
        resolve(s, domain);
    if (st->found == SRV_DOT) {
        s->status = report(s, XE_UNAVAILABLE,
                           "%s has no XMPP service: its SRV records say so "
                           "(target \".\", RFC 2782); if a server does "
                           "serve it, give --server HOST",
                           domain);
        free(domain);
        return -1;
    }
    free(domain);
    st->next = st->tried = 0;
    return connect_next(s, handler);
}

bool srv_next(struct session *s, int error, xmpp_conn_handler handler)
{
    struct session_state *p = s->priv;
    struct srv_state *st = &p->srv;
    if (s->creds.host || s->creds.component || st->found != SRV_RECORDS ||
        p->stage != AT_CONNECTING || p->auth_hint || st->next >= st->n)
        return false;
    say_failed(s, &st->t[st->next - 1], error ? error : p->sock_error);
    return connect_next(s, handler) == XMPP_EOK;
}

void srv_describe(const struct srv_state *st, const char *domain, size_t dlen,
                  char *buf, size_t n)
{
    if (st->found == SRV_NONE)
        snprintf(buf, n, "%.*s:%u (no SRV records)", (int)dlen, domain,
                 (unsigned)st->t[0].port);
    else if (st->found == SRV_RECORDS && st->tried > 1)
        snprintf(buf, n, "%.*s (SRV, %zu targets tried)", (int)dlen, domain,
                 st->tried);
    else
        snprintf(buf, n, "%.*s (SRV)", (int)dlen, domain);
}

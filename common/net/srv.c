/* SRV lookup for a client's server (RFC 6120 §3.2.1, RFC 2782,
 * XEP-0368 §3), and trying its targets in turn. libstrophe 0.12 looks
 * up only _xmpp-client._tcp, and tries another target only when the
 * name of one does not resolve: we look up both services, give the
 * library one host and port at a time, and move on when the TCP
 * connection fails. */
#include "common/net/srv.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/net/session_priv.h"
#include "common/xmpp/jid.h"

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
        rc = xmpp_connect_raw(s->conn, t->host, t->port, handler, s);
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

#include "common/xmpp/bounce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/stanza.h"

#define NS_PING "urn:xmpp:ping"

/* The domainpart of jid: *len bytes from the result. */
static const char *domain_of(const char *jid, size_t *len)
{
    size_t bare = jid_bare_len(jid);
    const char *at = memchr(jid, '@', bare);
    const char *d = at ? at + 1 : jid;
    *len = bare - (size_t)(d - jid);
    return d;
}

/* Is s exactly the domain d (of dlen bytes)? Domains compare
 * case-insensitively. */
static bool is_domain(const char *s, const char *d, size_t dlen)
{
    return strlen(s) == dlen && !strncasecmp(s, d, dlen);
}

static bool same_domain(const char *a, const char *b)
{
    size_t alen, blen;
    const char *da = domain_of(a, &alen), *db = domain_of(b, &blen);
    return alen == blen && !strncasecmp(da, db, alen);
}

bool bounce_from_ok(const char *from, const char *to, const char *self)
{
    if (!from)
        return true; /* our server */
    size_t dlen, tlen = jid_bare_len(to);
    const char *d = domain_of(to, &dlen);
    if (jid_bare_len(from) == tlen && !strncasecmp(from, to, tlen))
        return true; /* the recipient, bare or any resource */
    if (is_domain(from, d, dlen))
        return true; /* its server */
    d = domain_of(self, &dlen);
    return is_domain(from, d, dlen); /* ours */
}

/* Only an answer from the domain pinged (RFC 6120 §8.1.2.1) settles it;
 * remote-server-not-found and remote-server-timeout (§8.3.3.16, .17)
 * say it cannot be reached, anything else that it can. */
static int on_route_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct routes *rs = ud;
    (void)conn;
    const char *id = xmpp_stanza_get_id(st), *type = xmpp_stanza_get_type(st);
    struct route *r = NULL;
    for (int i = 0; id && i < rs->n && !r; i++)
        if (!rs->r[i].answered && !strcmp(rs->r[i].id, id))
            r = &rs->r[i];
    if (!r || !type || (strcmp(type, "result") && strcmp(type, "error")) ||
        !session_reply_from(rs->s, r->domain, xmpp_stanza_get_from(st)))
        return 1;
    r->answered = true;
    const char *cond = stanza_error_condition(st);
    if (!strcmp(type, "error") && (!strcmp(cond, "remote-server-not-found") ||
                                   !strcmp(cond, "remote-server-timeout")))
        stanza_error_text(st, r->why, sizeof r->why);
    return 0;
}

static bool asked(const struct routes *rs, const char *jid)
{
    for (int i = 0; i < rs->n; i++)
        if (same_domain(rs->r[i].domain, jid))
            return true;
    return false;
}

/* One ping to the domain of jid. Returns 0 or XE_OSERR (said). */
static int ping_domain(struct routes *rs, const char *jid)
{
    size_t len;
    const char *d = domain_of(jid, &len);
    struct route *r = realloc(rs->r, (size_t)(rs->n + 1) * sizeof *r);
    if (!r)
        return fail_oom(NULL);
    rs->r = r;
    r = &rs->r[rs->n];
    *r = (struct route){.domain = strndup(d, len)};
    if (!r->domain)
        return fail_oom(NULL);
    rs->n++;
    snprintf(r->id, sizeof r->id, "xmpp-route-%d", rs->n);
    xmpp_stanza_t *iq = xmpp_iq_new(rs->s->ctx, "get", r->id);
    xmpp_stanza_set_to(iq, r->domain);
    stanza_add_el(iq, "ping", NS_PING);
    xmpp_id_handler_add(rs->s->conn, on_route_reply, r->id, rs);
    session_send(rs->s, iq);
    xmpp_stanza_release(iq);
    return 0;
}

int routes_check(struct routes *rs, struct session *s, char *const *to, int n,
                 const char *self)
{
    rs->s = s;
    for (int i = 0; i < n; i++) {
        if (same_domain(to[i], self) || asked(rs, to[i]))
            continue;
        int rc = ping_domain(rs, to[i]);
        if (rc)
            return rc;
    }
    return 0;
}

const char *routes_unanswered(const struct routes *rs)
{
    for (int i = 0; i < rs->n; i++)
        if (!rs->r[i].answered)
            return rs->r[i].domain;
    return NULL;
}

int routes_wait(struct routes *rs, long long ms)
{
    long long until = now_ms() + ms;
    while (routes_unanswered(rs) && now_ms() < until)
        if (session_step(rs->s, 100) != SESSION_RUNNING)
            return routes_unanswered(rs) ? rs->s->status : 0;
    return 0;
}

const char *routes_failed(const struct routes *rs, const char *jid)
{
    for (int i = 0; i < rs->n; i++)
        if (same_domain(rs->r[i].domain, jid))
            return rs->r[i].why[0] ? rs->r[i].why : NULL;
    return NULL;
}

void routes_free(struct routes *rs)
{
    for (int i = 0; i < rs->n; i++)
        free(rs->r[i].domain);
    free(rs->r);
    *rs = (struct routes){0};
}

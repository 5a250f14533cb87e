/* Delivery accounting: every stanza sent gets an ordinal, and the
 * server confirms the ones it processed, with Stream Management acks
 * (XEP-0198) when it offers them, else with a ping whose reply covers
 * everything sent before it (RFC 6120 §10.1). */
#include "common/net/session_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"

/* XEP-0198 §4: h counts the stanzas we handled. A stanza that arrives
 * after the tool has stopped was not handled: left unacked, the server
 * keeps it (offline storage) rather than losing it. */
static int on_any_stanza(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *name = xmpp_stanza_get_name(st);
    const char *id = xmpp_stanza_get_id(st);
    /* The library's own bind reply (id "_xmpp_bind1") is the stanza
     * that starts the session; it comes before <enable/>. */
    if (id && !strncmp(id, "_xmpp_", 6))
        return 1;
    if (s->status == SESSION_RUNNING && name &&
        (!strcmp(name, "message") || !strcmp(name, "presence") ||
         !strcmp(name, "iq")))
        s->priv->in++;
    return 1;
}

/* ---- --retry: what was sent and not confirmed ---- */

bool keeps_unconfirmed(const struct session *s)
{
    return s->creds.retry > 0 && !s->opt->reconnect;
}

/* Keep a copy of st, sent with this ordinal as the latest on this
 * connection. Without memory for it, the session ends: a stanza that
 * could not be sent again would break the promise of --retry. */
static void keep(struct session *s, xmpp_stanza_t *st, unsigned long ordinal)
{
    struct session_state *p = s->priv;
    if (p->nunconf == p->unconf_cap) {
        size_t cap = p->unconf_cap ? p->unconf_cap * 2 : 64;
        struct unconfirmed *u = realloc(p->unconf, cap * sizeof *u);
        if (!u) {
            session_stop(s, fail_oom(NULL));
            return;
        }
        p->unconf = u;
        p->unconf_cap = cap;
    }
    xmpp_stanza_t *copy = xmpp_stanza_copy(st);
    if (!copy) {
        session_stop(s, fail_oom(NULL));
        return;
    }
    p->unconf[p->nunconf++] =
        (struct unconfirmed){.ordinal = ordinal, .wire = p->wire, .st = copy};
}

/* The server processed the first `wire` stanzas of this connection:
 * they are confirmed, and everything up to the oldest still kept. */
static void confirm_wire(struct session *s, unsigned long wire)
{
    struct session_state *p = s->priv;
    size_t n = 0;
    for (size_t i = 0; i < p->nunconf; i++) {
        struct unconfirmed *u = &p->unconf[i];
        if (u->wire && u->wire <= wire)
            xmpp_stanza_release(u->st);
        else
            p->unconf[n++] = *u;
    }
    p->nunconf = n;
    unsigned long upto = n ? p->unconf[0].ordinal - 1 : s->out;
    if (upto > s->confirmed)
        s->confirmed = upto;
}

void resend_unconfirmed(struct session *s)
{
    struct session_state *p = s->priv;
    size_t again = 0;
    for (size_t i = 0; i < p->nunconf; i++) {
        struct unconfirmed *u = &p->unconf[i];
        if (u->wire) /* already sent on this connection (renew) */
            continue;
        xmpp_send(s->conn, u->st);
        u->wire = ++p->wire;
        again++;
    }
    if (!again)
        return;
    warnx("sending %zu unconfirmed stanza(s) again", again);
    session_request_ack(s);
}

void drop_unconfirmed(struct session *s)
{
    struct session_state *p = s->priv;
    for (size_t i = 0; i < p->nunconf; i++)
        xmpp_stanza_release(p->unconf[i].st);
    free(p->unconf);
    p->unconf = NULL;
    p->nunconf = p->unconf_cap = 0;
}

void send_ack(struct session *s)
{
    char a[64];
    snprintf(a, sizeof a, "<a xmlns='urn:xmpp:sm:3' h='%lu'/>",
             s->priv->in & 0xFFFFFFFFUL);
    xmpp_send_raw_string(s->conn, "%s", a);
}

static int on_sm(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *name = xmpp_stanza_get_name(st), *ns = xmpp_stanza_get_ns(st);
    if (!ns || strcmp(ns, XMPP_NS_SM)) /* <features/> with <sm/> in it */
        return 1;
    if (negotiate_sm(s, st))
        return 1;
    if (!strcmp(name, "r")) {
        send_ack(s);
    } else if (!strcmp(name, "a")) {
        const char *h = xmpp_stanza_get_attribute(st, "h");
        unsigned long v = h ? strtoul(h, NULL, 10) : 0;
        if (keeps_unconfirmed(s))
            confirm_wire(s, v);
        else if (v > s->confirmed && v <= s->out)
            s->confirmed = v;
    } else if (!strcmp(name, "enabled") || !strcmp(name, "failed")) {
        s->priv->sm = !strcmp(name, "enabled") ? SM_ON : SM_OFF;
        const char *id = xmpp_stanza_get_attribute(st, "id");
        const char *resume = xmpp_stanza_get_attribute(st, "resume");
        bool yes = resume && (!strcmp(resume, "true") || !strcmp(resume, "1"));
        /* XEP-0198 §5: what <resume/> names; printable, bounded. */
        if (s->priv->sm == SM_ON && yes && sm_id_fair(id))
            snprintf(s->priv->sm_id, sizeof s->priv->sm_id, "%s", id);
    }
    return 1;
}

void watch_sm(struct session *s)
{
    if (!s->priv->sm_handler_added)
        xmpp_handler_add(s->conn, on_sm, XMPP_NS_SM, NULL, NULL, s);
    s->priv->sm_handler_added = true;
}

/* Called once the session is up, before the tool sends anything: the
 * ordinals of what it sends then equal XEP-0198's count (with --retry,
 * unconfirmed() keeps the correspondence across connections). A new
 * session that is not a resumed one starts counting again; what the
 * last one did not confirm is in doubt, unless kept to be sent again. */
void start_accounting(struct session *s)
{
    struct session_state *p = s->priv;
    if (!p->handlers_added)
        xmpp_handler_add(s->conn, on_any_stanza, NULL, NULL, NULL, s);
    p->handlers_added = true;
    if (s->resumed) /* XEP-0198 §5: the counts go on */
        return;
    p->in = p->wire = 0;
    if (p->sm != SM_ON)
        *p->sm_id = '\0';
    for (size_t i = 0; i < p->nunconf; i++)
        p->unconf[i].wire = 0;
    if (!keeps_unconfirmed(s)) {
        s->unsure += s->out - s->confirmed;
        s->out = s->confirmed = 0;
    }
    if (p->sm == SM_ON) /* enabled inline with the login (XEP-0386) */
        return;
    if (p->sm != SM_OFFERED || s->creds.component) {
        p->sm = SM_OFF;
        return;
    }
    /* With --reconnect, a session the server keeps for us to resume. */
    xmpp_send_raw_string(s->conn, "<enable xmlns='urn:xmpp:sm:3'%s/>",
                         s->opt->reconnect ? " resume='true'" : "");
    p->sm = SM_ASKED;
}

unsigned long session_send(struct session *s, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st);
    /* XEP-0114 §3: a component addresses its stanzas itself. */
    if (s->creds.component && !xmpp_stanza_get_from(st))
        xmpp_stanza_set_from(st, s->creds.jid);
    if (!strcmp(name, "presence") && !xmpp_stanza_get_type(st) &&
        !xmpp_stanza_get_to(st))
        s->priv->presence_sent = true;
    xmpp_send(s->conn, st);
    s->priv->wire++;
    if (keeps_unconfirmed(s))
        keep(s, st, s->out + 1);
    return ++s->out;
}

/* The ordinal a confirming ping was sent with travels in its id. */
#define CONFIRM_ID "xmpp-confirm-"

/* Any answer to our IQ, even an error, shows that the server processed
 * it and, in order, everything we sent before it. */
void confirmed_up_to(struct session *s, unsigned long ordinal)
{
    struct session_state *p = s->priv;
    if (!keeps_unconfirmed(s)) {
        if (ordinal > s->confirmed && ordinal <= s->out)
            s->confirmed = ordinal;
        return;
    }
    /* Before it on this connection, not before it in number. */
    for (size_t i = 0; i < p->nunconf; i++)
        if (p->unconf[i].ordinal == ordinal && p->unconf[i].wire) {
            confirm_wire(s, p->unconf[i].wire);
            return;
        }
}

static int on_confirm_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *to = s->creds.component ? s->priv->confirm_to : NULL;
    if (!is_reply(st) || !session_reply_from(s, to, xmpp_stanza_get_from(st)))
        return 1;
    const char *id = xmpp_stanza_get_id(st);
    confirmed_up_to(s, strtoul(id + strlen(CONFIRM_ID), NULL, 10));
    return 0;
}

/* Whom a component asks to confirm: XEP-0114 §3 wants a 'to' on every
 * stanza (ejabberd closes the stream with improper-addressing without
 * one), and a ping to the component's own domain would come back to
 * the tool as a request. So: the domain it hangs off, the server's own
 * (component.example.org -> example.org), or itself when it has none. */
static const char *component_server(struct session *s)
{
    struct session_state *p = s->priv;
    const char *jid = s->creds.jid, *at = strchr(jid, '@');
    const char *d = at ? at + 1 : jid;
    size_t n = jid_bare_len(d);
    const char *dot = memchr(d, '.', n);
    if (dot && dot + 1 < d + n) {
        n -= (size_t)(dot + 1 - d);
        d = dot + 1;
    }
    snprintf(p->confirm_to, sizeof p->confirm_to, "%.*s", (int)n, d);
    return p->confirm_to;
}

void send_confirm_ping(struct session *s)
{
    char id[48];
    snprintf(id, sizeof id, CONFIRM_ID "%lu", s->out + 1);
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", id);
    if (s->creds.component)
        xmpp_stanza_set_to(iq, component_server(s));
    xmpp_stanza_t *ping = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
    xmpp_stanza_add_child_ex(iq, ping, 0);
    xmpp_id_handler_add(s->conn, on_confirm_reply, id, s);
    session_send(s, iq);
    xmpp_stanza_release(iq);
}

static void send_ack_request(struct session *s)
{
    if (s->priv->sm == SM_ON)
        xmpp_send_raw_string(s->conn, "<r xmlns='urn:xmpp:sm:3'/>");
    else
        send_confirm_ping(s);
}

void session_request_ack(struct session *s)
{
    if (s->confirmed >= s->out)
        return;
    /* <r/> before <enabled/> is not allowed, and waiting for <enabled/>
     * to send one costs a round trip: a ping sent now is answered as
     * soon (a one-shot send then takes 11 round trips, not 12). */
    if (s->priv->sm == SM_ASKED)
        send_confirm_ping(s);
    else
        send_ack_request(s);
}

int session_confirm(struct session *s)
{
    unsigned long target = s->out; /* not the confirming ping itself */
    unsigned connects = s->priv->connects;
    /* A ping, not an XEP-0198 <r/>: the server answers <r/> at once,
     * while the error it bounces a message with (a local recipient that
     * does not exist) comes through its router, and so does the ping's
     * answer, after it (ejabberd). The same round trip either way. */
    if (s->confirmed < s->out)
        send_confirm_ping(s);
    while (s->confirmed < target) {
        if (session_step(s, 1000) != SESSION_RUNNING)
            return s->confirmed >= target ? 0 : s->status;
        if (s->priv->connects == connects)
            continue;
        /* Reconnected: a new session counts from zero. */
        connects = s->priv->connects;
        if (!keeps_unconfirmed(s) && !s->resumed)
            target = s->out;
        session_request_ack(s);
    }
    return 0;
}

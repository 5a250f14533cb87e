/* Delivery accounting: every stanza sent gets an ordinal, and the
 * server confirms the ones it processed, with Stream Management acks
 * (XEP-0198) when it offers them, else with a ping whose reply covers
 * everything sent before it (RFC 6120 §10.1). */
#include "common/net/session_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    const char *name = xmpp_stanza_get_name(st);
    if (!strcmp(name, "r")) {
        send_ack(s);
    } else if (!strcmp(name, "a")) {
        const char *h = xmpp_stanza_get_attribute(st, "h");
        unsigned long v = h ? strtoul(h, NULL, 10) : 0;
        if (v > s->confirmed && v <= s->out)
            s->confirmed = v;
    } else if (!strcmp(name, "enabled") || !strcmp(name, "failed")) {
        s->priv->sm = !strcmp(name, "enabled") ? SM_ON : SM_OFF;
    }
    return 1;
}

/* Called once the session is up, before the tool sends anything: the
 * ordinals of what it sends then equal XEP-0198's count. */
void start_accounting(struct session *s)
{
    struct session_state *p = s->priv;
    s->out = s->confirmed = p->in = 0;
    if (!p->handlers_added)
        xmpp_handler_add(s->conn, on_any_stanza, NULL, NULL, NULL, s);
    /* With opt->reconnect the library runs XEP-0198 itself, to resume. */
    if (p->sm != SM_OFFERED || s->creds.component || s->opt->reconnect) {
        p->sm = SM_OFF;
        p->handlers_added = true;
        return;
    }
    if (!p->handlers_added)
        xmpp_handler_add(s->conn, on_sm, XMPP_NS_SM, NULL, NULL, s);
    p->handlers_added = true;
    xmpp_send_raw_string(s->conn, "<enable xmlns='urn:xmpp:sm:3'/>");
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
    return ++s->out;
}

/* The ordinal a confirming ping was sent with travels in its id. */
#define CONFIRM_ID "xmpp-confirm-"

/* Any answer to our IQ, even an error, shows that the server processed
 * it and, in order, everything we sent before it. */
void confirmed_up_to(struct session *s, unsigned long ordinal)
{
    if (ordinal > s->confirmed)
        s->confirmed = ordinal;
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

static void send_confirm_ping(struct session *s)
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
    session_request_ack(s);
    while (s->confirmed < target)
        if (session_step(s, 1000) != SESSION_RUNNING)
            return s->confirmed >= target ? 0 : s->status;
    return 0;
}

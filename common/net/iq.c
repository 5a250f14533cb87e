/* IQ round trips (RFC 6120 §8.2.3): a request and its reply from the
 * right sender, answers to the requests the tool does not handle
 * itself, and stanza errors in words. */
#include "common/net/session_priv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/caps.h"
#include "common/xmpp/jid.h"

struct iq_wait {
    struct session *s;
    const char *to;        /* whom we asked; NULL: our own server */
    unsigned long ordinal; /* of the request */
    xmpp_stanza_t *reply;
    bool done;
    size_t *left; /* session_iq_all: replies still awaited */
    bool *all;    /* set when none is */
};

/* RFC 6120 §8.1.2.1: a reply to an IQ sent without 'to' comes from our
 * server, our bare JID, or without 'from'. Anything else with the same
 * id is a forgery and is ignored. */
static int right_sender(struct session *s, const char *to, const char *from)
{
    const char *me = s->creds.jid;
    /* Our own bare JID is answered by our server, which may leave the
     * 'from' out (§8.1.2.1), as for no 'to' at all. */
    if (!to || (!strchr(to, '/') && jid_matches(me, to))) {
        const char *at = strchr(me, '@');
        const char *domain = at ? at + 1 : me;
        size_t dlen = jid_bare_len(domain);
        return !from || jid_matches(me, from) ||
               (strlen(from) == dlen && !strncasecmp(from, domain, dlen));
    }
    return from && jid_matches(from, to) &&
           (strchr(to, '/') || !strchr(from, '/'));
}

int session_reply_from(struct session *s, const char *to, const char *from)
{
    return right_sender(s, to, from);
}

int is_reply(xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    return type && (!strcmp(type, "result") || !strcmp(type, "error"));
}

static int on_iq_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct iq_wait *w = ud;
    (void)conn;
    if (!is_reply(st) || !right_sender(w->s, w->to, xmpp_stanza_get_from(st)))
        return 1;
    confirmed_up_to(w->s, w->ordinal);
    w->reply = xmpp_stanza_copy(st);
    w->done = true;
    if (w->left && !--*w->left)
        *w->all = true;
    return 0;
}

int session_iq(struct session *s, xmpp_stanza_t *iq, xmpp_stanza_t **reply)
{
    *reply = NULL;
    if (!xmpp_stanza_get_id(iq)) {
        char *id = session_id(s);
        xmpp_stanza_set_id(iq, id);
        xmpp_free(s->ctx, id);
    }
    struct iq_wait w = {.s = s, .to = xmpp_stanza_get_to(iq)};
    xmpp_id_handler_add(s->conn, on_iq_reply, xmpp_stanza_get_id(iq), &w);
    w.ordinal = session_send(s, iq);
    int rc = session_wait(s, &w.done);
    if (!w.done) {
        xmpp_id_handler_delete(s->conn, on_iq_reply, xmpp_stanza_get_id(iq));
        return rc;
    }
    *reply = w.reply;
    return strcmp(xmpp_stanza_get_type(w.reply), "error") ? 0 : XE_STANZA;
}

int session_iq_all(struct session *s, xmpp_stanza_t **iqs, size_t n,
                   xmpp_stanza_t **replies)
{
    struct iq_wait *w = calloc(n ? n : 1, sizeof *w);
    size_t left = n;
    bool all = n == 0;
    if (!w)
        return fail_oom(NULL);
    for (size_t i = 0; i < n; i++) {
        char *id = session_id(s);
        xmpp_stanza_set_id(iqs[i], id);
        xmpp_free(s->ctx, id);
        w[i] = (struct iq_wait){.s = s,
                                .to = xmpp_stanza_get_to(iqs[i]),
                                .left = &left,
                                .all = &all};
        xmpp_id_handler_add(s->conn, on_iq_reply, xmpp_stanza_get_id(iqs[i]),
                            &w[i]);
        w[i].ordinal = session_send(s, iqs[i]);
    }
    int rc = session_wait(s, &all);
    for (size_t i = 0; i < n; i++) {
        replies[i] = w[i].reply;
        if (!w[i].done)
            xmpp_id_handler_delete(s->conn, on_iq_reply,
                                   xmpp_stanza_get_id(iqs[i]));
    }
    free(w);
    return rc;
}

/* RFC 6121 §2.1.6: after a roster get the server pushes each change as
 * an IQ set, which the client acknowledges with an empty result. Only
 * our own account (or no 'from') may push; anything else is a spoof. */
static bool is_roster_push(struct session *s, xmpp_stanza_t *st,
                           const char *type)
{
    if (strcmp(type, "set") ||
        !xmpp_stanza_get_child_by_name_and_ns(st, "query", "jabber:iq:roster"))
        return false;
    const char *from = xmpp_stanza_get_from(st);
    size_t n = jid_bare_len(s->creds.jid);
    return !from || (strlen(from) == n && !strncasecmp(from, s->creds.jid, n));
}

static int on_iq_request(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *type = xmpp_stanza_get_type(st);
    const char *id = xmpp_stanza_get_id(st);
    if (!type || !id || (strcmp(type, "get") && strcmp(type, "set")))
        return 1;
    if (s->features && !strcmp(type, "get") &&
        xmpp_stanza_get_child_by_name_and_ns(
            st, "query", "http://jabber.org/protocol/disco#info")) {
        xmpp_stanza_t *info = caps_disco_result(s->ctx, st, s->features);
        session_send(s, info);
        xmpp_stanza_release(info);
        return 1;
    }
    xmpp_stanza_t *reply = xmpp_iq_new(s->ctx, "result", id);
    const char *from = xmpp_stanza_get_from(st);
    if (from)
        xmpp_stanza_set_to(reply, from);
    if (!xmpp_stanza_get_child_by_name_and_ns(st, "ping", "urn:xmpp:ping") &&
        !is_roster_push(s, st, type)) {
        xmpp_stanza_set_type(reply, "error");
        xmpp_stanza_t *err = xmpp_stanza_new(s->ctx);
        xmpp_stanza_t *cond = xmpp_stanza_new(s->ctx);
        xmpp_stanza_set_name(err, "error");
        xmpp_stanza_set_type(err, "cancel");
        xmpp_stanza_set_name(cond, "service-unavailable");
        xmpp_stanza_set_ns(cond, "urn:ietf:params:xml:ns:xmpp-stanzas");
        xmpp_stanza_add_child_ex(err, cond, 0);
        xmpp_stanza_add_child_ex(reply, err, 0);
    }
    session_send(s, reply);
    xmpp_stanza_release(reply);
    return 1;
}

void session_answer_iqs(struct session *s)
{
    xmpp_handler_add(s->conn, on_iq_request, NULL, "iq", NULL, s);
}

const char *stanza_error_text(xmpp_stanza_t *st, char *buf, size_t n)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error");
    const char *type = err ? xmpp_stanza_get_type(err) : NULL;
    const char *cond = NULL;
    char *text = NULL;
    for (xmpp_stanza_t *c = err ? xmpp_stanza_get_children(err) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (!name || xmpp_stanza_is_text(c))
            continue;
        if (!strcmp(name, "text"))
            text = xmpp_stanza_get_text(c);
        else if (!cond)
            cond = name;
    }
    snprintf(buf, n, "%s/%s%s%s%s", type ? type : "cancel",
             cond ? cond : "undefined-condition", text ? " (" : "",
             text ? text : "", text ? ")" : "");
    if (text)
        xmpp_free(xmpp_stanza_get_context(st), text);
    return buf;
}

int report_stanza_error(const char *what, xmpp_stanza_t *reply)
{
    char buf[512];
    return fail(XE_STANZA, "%s: %s", what,
                stanza_error_text(reply, buf, sizeof buf));
}

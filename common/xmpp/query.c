#include "common/xmpp/query.h"

#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/io/xmljson.h"
#include "common/xmpp/jid.h"

const char *stream_ns(const struct session *s)
{
    return s->creds.component ? NS_COMPONENT : NS_CLIENT;
}

int query_check_target(const struct session_opts *o, const char *jid)
{
    const char *why;
    if (jid && (why = jid_check(jid)))
        return fail(XE_DATA, "%s: invalid JID: %s", jid, why);
    if (!jid && o->component)
        return fail(XE_USAGE, "a component has no server of its own to "
                              "ask: give the JID");
    return 0;
}

int query_jid_operand(const struct session_opts *o, int argc, char **argv,
                      int first, const char **jid)
{
    *jid = first < argc ? argv[first++] : NULL;
    if (first < argc) {
        char syn[512];
        opts_synopsis(current_tool, NULL, syn, sizeof syn);
        return fail(XE_USAGE, "unexpected argument '%s'; usage: xmpp %s %s",
                    argv[first], current_tool->name, syn);
    }
    return query_check_target(o, *jid);
}

const char *query_target(const struct session *s, const char *jid)
{
    if (jid)
        return jid;
    const char *me = s->creds.jid, *at = strchr(me, '@');
    static char domain[1024];
    const char *d = at ? at + 1 : me;
    snprintf(domain, sizeof domain, "%.*s", (int)jid_bare_len(d), d);
    return domain;
}

xmpp_stanza_t *query_new(struct session *s, const char *type, const char *to,
                         const char *name, const char *ns,
                         xmpp_stanza_t **payload)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, type, NULL);
    if (to)
        xmpp_stanza_set_to(iq, to);
    xmpp_stanza_t *q = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(q, name);
    xmpp_stanza_set_ns(q, ns);
    xmpp_stanza_add_child_ex(iq, q, 0);
    if (payload)
        *payload = q;
    return iq;
}

int query_ask(struct session *s, xmpp_stanza_t *iq, xmpp_stanza_t **reply)
{
    const char *to = xmpp_stanza_get_to(iq);
    char *who = strdup(to ? to : query_target(s, NULL));
    int rc = session_iq(s, iq, reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA) {
        report_stanza_error(who ? who : "server", *reply);
        xmpp_stanza_release(*reply);
        *reply = NULL;
    } else if (rc == XE_TIMEOUT) {
        fail(XE_TIMEOUT, "%s: no answer by the deadline (--timeout)",
             who ? who : "server");
    }
    free(who);
    return rc;
}

static xmpp_stanza_t *first_element(xmpp_stanza_t *st)
{
    xmpp_stanza_t *c = xmpp_stanza_get_children(st);
    while (c && !xmpp_stanza_is_tag(c))
        c = xmpp_stanza_get_next(c);
    return c;
}

static xmpp_stanza_t *build(struct session *s, struct query *q, const char *to)
{
    xmpp_stanza_t *iq, *el;
    if (!q->payload) {
        iq = query_new(s, q->type, to, q->name, q->ns, &el);
        if (q->node)
            xmpp_stanza_set_attribute(el, "node", q->node);
        return iq;
    }
    iq = xmpp_iq_new(s->ctx, q->type, NULL);
    if (to)
        xmpp_stanza_set_to(iq, to);
    xmpp_stanza_add_child_ex(iq, q->payload, 0);
    q->payload = NULL;
    return iq;
}

static void show(struct session *s, const struct query *q, xmpp_stanza_t *reply,
                 const char *from)
{
    struct answer a = {.el = first_element(reply),
                       .from = from,
                       .ns = stream_ns(s),
                       .fmt = s->opt->format};
    if (!a.el || !q->print)
        return;
    if (a.fmt == OUT_XML)
        print_element(stdout, a.el, a.ns, OUT_XML);
    else
        q->print(&a, q->ud);
}

int query_once(struct session *s, struct query *q)
{
    const char *to = q->to ? q->to : q->to_self ? NULL : query_target(s, NULL);
    char *from = strdup(to ? to : query_target(s, NULL));
    xmpp_stanza_t *reply;
    int rc = query_ask(s, build(s, q, to), &reply);
    if (!rc) {
        show(s, q, reply, from);
        xmpp_stanza_release(reply);
    }
    free(from);
    if (q->payload)
        xmpp_stanza_release(q->payload);
    q->payload = NULL;
    return rc;
}

int query_jid_prepare(void *tool, struct session_opts *o,
                      const struct tool_args *a)
{
    struct query_jid *q = tool;
    return query_jid_operand(o, a->argc, a->argv, 0, &q->jid);
}

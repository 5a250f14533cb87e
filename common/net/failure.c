/* Why a connection failed or was lost: the exit status that means
 * (exitcode.h) and the one line that says so, printed at once or kept
 * for the tool or the reconnect that reports it. */
#include "common/net/session_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"

/* The port dialled when the host is given (--server, config). */
unsigned short server_port(const struct creds *c)
{
    if (c->port)
        return c->port;
    return c->component ? 5347 : c->direct_tls ? 5223 : 5222;
}

/* "host:port" as dialled, or the JID's domain when SRV decides. */
void describe_server(struct session *s, char *buf, size_t n)
{
    const struct creds *c = &s->creds;
    if (c->host)
        snprintf(buf, n, "%s:%u", c->host, (unsigned)server_port(c));
    else {
        const char *at = strchr(c->jid, '@');
        const char *domain = at ? at + 1 : c->jid;
        srv_describe(&s->priv->srv, domain, jid_bare_len(domain), buf, n);
    }
}

/* Say why the connection failed: printed at once, or, while
 * reconnecting, kept in why for the retry message. */
int report(struct session *s, int status, const char *fmt, ...)
{
    struct session_state *p = s->priv;
    char msg[sizeof p->why];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(p->why, msg, sizeof msg);
    bool quiet = p->reconnecting ||
                 (p->ready && (may_reconnect(s) || s->opt->tells_loss));
    if (quiet && !p->reconnecting)
        p->loss_untold = true; /* session_close says it if nobody does */
    return quiet ? status : fail(status, "%s", msg);
}

#define NS_STREAMS_IETF "urn:ietf:params:xml:ns:xmpp-streams"

/* RFC 6120 §4.9.2: the defined condition is the child in the streams
 * namespace that is not <text/> (the server's words, optional). */
static xmpp_stanza_t *stream_error_condition(xmpp_stanza_t *err)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(err); c;
         c = xmpp_stanza_get_next(c)) {
        const char *ns = xmpp_stanza_get_ns(c);
        if (xmpp_stanza_is_tag(c) && ns && !strcmp(ns, NS_STREAMS_IETF) &&
            strcmp(xmpp_stanza_get_name(c), "text"))
            return c;
    }
    return NULL;
}

/* RFC 6120 §4.9.3: after these, connecting again can work: the server
 * is going down or restarting (system-shutdown), wants a new stream
 * (reset), dropped an idle one (connection-timeout) or is short of
 * resources. After the others it would fail the same way again, or
 * (conflict) throw out the session that replaced ours. */
static bool stream_error_transient(const char *cond)
{
    static const char *const transient[] = {"system-shutdown", "reset",
                                            "connection-timeout",
                                            "resource-constraint", NULL};
    for (int i = 0; transient[i]; i++)
        if (!strcmp(cond, transient[i]))
            return true;
    return false;
}

/* What to do about a condition, where there is something to say. */
static void stream_error_hint(struct session *s, const char *cond,
                              xmpp_stanza_t *el, char *buf, size_t n)
{
    char *host = el ? xmpp_stanza_get_text(el) : NULL;
    *buf = '\0';
    if (!strcmp(cond, "conflict"))
        snprintf(buf, n,
                 "; another login took over this session (give "
                 "each client its own --resource)");
    else if (!strcmp(cond, "host-unknown") && s->creds.component)
        snprintf(buf, n, "; is the component configured on the server?");
    else if (!strcmp(cond, "see-other-host") && host) /* §4.9.3.19 */
        snprintf(buf, n, "; connect to %s instead (--server)", host);
    if (host)
        xmpp_free(s->ctx, host);
}

/* RFC 6120 §4.9: the server ended the stream with an error. One line
 * naming the condition and the server's text; 74 (connection lost) for
 * a transient condition when the tool reconnects, else 76. */
int report_stream_error(struct session *s, xmpp_stanza_t *err)
{
    xmpp_stanza_t *el = stream_error_condition(err);
    const char *cond = el ? xmpp_stanza_get_name(el) : "undefined-condition";
    xmpp_stanza_t *t =
        xmpp_stanza_get_child_by_name_and_ns(err, "text", NS_STREAMS_IETF);
    char *text = t ? xmpp_stanza_get_text(t) : NULL;
    char hint[200];
    stream_error_hint(s, cond, el, hint, sizeof hint);
    int status = XE_PROTOCOL;
    if (s->priv->ready && may_reconnect(s) && stream_error_transient(cond))
        status = XE_CONNLOST;
    bool said = text && *text;
    status = report(s, status, "the server closed the stream: %s%s%s%s%s", cond,
                    said ? " (" : "", said ? text : "", said ? ")" : "", hint);
    if (text)
        xmpp_free(s->ctx, text);
    return status;
}

const char *stage_words(int stage)
{
    static const char *const words[] = {
        [AT_CONNECTING] = "",
        [AT_STREAM] = " while opening the stream",
        [AT_TLS] = " during the TLS handshake",
        [AT_SASL] = " during authentication",
        [AT_BIND] = " while binding the resource",
    };
    return words[stage];
}

int classify_failure(struct session *s, int error, xmpp_stanza_t *stream_error)
{
    struct session_state *p = s->priv;
    /* Our negotiation refused, and said why (negotiate.c). */
    if (p->why_said)
        return report(s, p->auth_hint, "%s", p->why);
    xmpp_stanza_t *el =
        stream_error ? stream_error_condition(stream_error) : NULL;
    /* A component's handshake is refused with a stream error. */
    if (el && !strcmp(xmpp_stanza_get_name(el), "not-authorized"))
        p->auth_hint = XE_AUTH;
    else if (stream_error)
        return report_stream_error(s, stream_error);
    if (p->auth_hint == XE_AUTH && strstr(p->why, "certificate"))
        return report(s, XE_AUTH, "%s", p->why);
    if (p->auth_hint == XE_AUTH && strstr(p->why, "TLS is not supported"))
        return report(s, XE_AUTH,
                      "the server offers no TLS; refusing to log in "
                      "without it");
    if (p->auth_hint == XE_AUTH && !s->creds.password_from)
        return report(s, XE_AUTH,
                      "authentication failed for %s: check the client "
                      "certificate",
                      s->creds.jid);
    if (p->auth_hint == XE_AUTH)
        return report(s, XE_AUTH,
                      "authentication failed for %s: check the %s (%s)",
                      s->creds.jid, s->creds.component ? "secret" : "password",
                      s->creds.password_from);
    char where[300];
    describe_server(s, where, sizeof where);
    if (p->auth_hint == XE_UNAVAILABLE)
        return report(s, XE_UNAVAILABLE, "cannot connect to %s: %s", where,
                      p->why);
    if (p->auth_hint)
        return report(s, p->auth_hint, "%s", p->why);
    if (p->stage != AT_CONNECTING)
        return report(s, XE_CONNLOST,
                      "%s closed the connection%s; try "
                      "again, or check the server's log",
                      where, stage_words(p->stage));
    if (!error)
        error = p->sock_error;
    if (error)
        return report(s, XE_UNAVAILABLE, "cannot connect to %s: %s", where,
                      strerror(error));
    return report(s, XE_UNAVAILABLE,
                  "cannot connect to %s: connection closed "
                  "before the session was established",
                  where);
}

/* The library reports a socket errno or, for TLS, an SSL error code in
 * the same int; only the socket errors say something true. */
const char *lost_reason(int error)
{
    switch (error) {
    case ECONNRESET:
    case EPIPE:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN: return strerror(error);
    default: return "closed by the server or the network";
    }
}

/* RFC 6120 §4.9.3: the stream error that names each fault (libstrophe
 * 0.12 would still say RFC 3920's xml-not-well-formed). */
static const char *const fault_condition[] = {
    [XMLSTREAM_MALFORMED] = "not-well-formed",
    [XMLSTREAM_ENCODING] = "unsupported-encoding",
    [XMLSTREAM_RESTRICTED] = "restricted-xml", /* §11.1 */
    [XMLSTREAM_TOO_BIG] = "policy-violation",  /* XEP-0478 */
    [XMLSTREAM_TOO_COMPLEX] = "policy-violation",
    [XMLSTREAM_NOMEM] = "resource-constraint",
};

static xmpp_stanza_t *child(xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
                            const char *name, const char *ns)
{
    xmpp_stanza_t *c = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(c, name);
    if (ns)
        xmpp_stanza_set_ns(c, ns);
    xmpp_stanza_add_child(parent, c);
    xmpp_stanza_release(c);
    return c;
}

/* Say so to the server, and close the stream without waiting for its
 * answer: it would not be read (the parser has stopped for good). Not
 * through session_send: this ends the session, there is nothing left
 * to account for; and not xmpp_disconnect(), whose write the library
 * does not let us wait for. Bounded, as the server may not read. */
static void end_stream(struct session *s, enum xmlstream_fault f,
                       const char *why)
{
    xmpp_stanza_t *e = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(e, "stream:error");
    child(s->ctx, e, fault_condition[f], XMPP_NS_STREAMS_IETF);
    xmpp_stanza_t *text = child(s->ctx, e, "text", XMPP_NS_STREAMS_IETF);
    xmpp_stanza_t *words = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_text(words, why);
    xmpp_stanza_add_child(text, words);
    xmpp_stanza_release(words);
    xmpp_send(s->conn, e);
    xmpp_stanza_release(e);
    xmpp_send_raw_string(s->conn, "</stream:stream>");
    long long until = now_ms() + 500;
    while (xmpp_conn_send_queue_len(s->conn) > 0 &&
           xmpp_conn_is_connected(s->conn) && now_ms() < until &&
           (!s->deadline || now_ms() < s->deadline))
        xmpp_run_once(s->ctx, 10);
}

int refuse_stream(struct session *s)
{
    char why[200];
    enum xmlstream_fault f = stream_fault(why, sizeof why);
    if (!f || s->status != SESSION_RUNNING)
        return s->status;
    s->priv->stream_fault = true;
    end_stream(s, f, why);
    if (f == XMLSTREAM_NOMEM)
        return s->status = report(s, XE_OSERR, "out of memory");
    char where[300];
    describe_server(s, where, sizeof where);
    return s->status = report(
               s, XE_PROTOCOL, "%s sent %s; connection closed%s", where, why,
               f == XMLSTREAM_TOO_BIG ? " (--max-stanza raises the limit)"
                                      : ": report it to the server's operator");
}

const char *session_tell_loss(struct session *s)
{
    s->priv->loss_untold = false;
    return s->priv->why;
}

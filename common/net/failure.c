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
        snprintf(buf, n, "%.*s (SRV)", (int)jid_bare_len(domain), domain);
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
                 (p->ready && (s->opt->reconnect || s->opt->tells_loss));
    if (quiet && !p->reconnecting)
        p->loss_untold = true; /* session_close says it if nobody does */
    return quiet ? status : fail(status, "%s", msg);
}

int classify_failure(struct session *s, int error, xmpp_stream_error_t *se)
{
    struct session_state *p = s->priv;
    if (se) {
        const char *cond =
            se->stanza
                ? xmpp_stanza_get_name(xmpp_stanza_get_children(se->stanza))
                : NULL;
        int st = se->type == XMPP_SE_NOT_AUTHORIZED ? XE_AUTH : XE_PROTOCOL;
        return report(s, st, "server closed the stream: %s%s%s",
                      cond ? cond : "stream error", se->text ? ": " : "",
                      se->text ? se->text : "");
    }
    if (p->auth_hint == XE_AUTH && strstr(p->why, "certificate"))
        return report(s, XE_AUTH, "%s", p->why);
    if (p->auth_hint == XE_AUTH && strstr(p->why, "TLS is not supported"))
        return report(s, XE_AUTH,
                      "the server offers no TLS; refusing to log in "
                      "without it");
    if (p->auth_hint == XE_AUTH)
        return report(s, XE_AUTH, "authentication failed for %s: check the %s",
                      s->creds.jid,
                      s->creds.component ? "secret (--secret-file)"
                                         : "password");
    char where[300];
    describe_server(s, where, sizeof where);
    if (p->auth_hint == XE_UNAVAILABLE)
        return report(s, XE_UNAVAILABLE, "cannot connect to %s: %s", where,
                      p->why);
    if (p->auth_hint)
        return report(s, p->auth_hint, "%s", p->why);
    static const char *const stages[] = {
        [AT_STREAM] = "while opening the stream",
        [AT_SASL] = "during authentication",
        [AT_BIND] = "while binding the resource",
    };
    if (p->stage != AT_CONNECTING)
        return report(s, XE_CONNLOST,
                      "%s closed the connection %s; try "
                      "again, or check the server's log",
                      where, stages[p->stage]);
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

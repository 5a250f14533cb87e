/* External components (XEP-0114). libstrophe 0.12.2's
 * xmpp_connect_component() crashes on the first stanza after the
 * handshake (its Stream Management state is only allocated for
 * clients), so a component is a raw connection on which we open the
 * stream and shake hands ourselves. */
#include "common/net/session_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"

static int on_handshake(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)conn, (void)st;
    session_ready(ud);
    return 0;
}

/* --component may name an address within the component's domain
 * (alerts@component.example.org): the stream is for the domain, the
 * stanzas come from the address. */
void component_open(struct session *s)
{
    const char *jid = s->creds.jid, *at = strchr(jid, '@');
    const char *d = at ? at + 1 : jid;
    char domain[1024];
    snprintf(domain, sizeof domain, "%.*s", (int)jid_bare_len(d), d);
    char *attrs[] = {"to",           domain,
                     "xmlns",        "jabber:component:accept",
                     "xmlns:stream", "http://etherx.jabber.org/streams"};
    xmpp_conn_open_stream(s->conn, attrs, 6);
}

/* XEP-0114 §3: <handshake/> holds hex SHA-1(stream id + secret). */
void component_handshake(struct session *s)
{
    struct session_state *p = s->priv;
    watch_stream_errors(s);
    if (!*p->stream_id) {
        p->auth_hint = XE_PROTOCOL;
        snprintf(p->why, sizeof p->why, "the server's stream has no id");
        xmpp_disconnect(s->conn);
        return;
    }
    char *text = NULL;
    if (asprintf(&text, "%s%s", p->stream_id, s->creds.password) < 0)
        return session_stop(s, fail_oom(NULL));
    char *digest = xmpp_sha1(s->ctx, (unsigned char *)text, strlen(text));
    memset(text, 0, strlen(text));
    free(text);
    if (!digest)
        return session_stop(s, fail_oom(NULL));
    xmpp_handler_add(s->conn, on_handshake, NULL, "handshake", NULL, s);
    xmpp_send_raw_string(s->conn, "<handshake>%s</handshake>", digest);
    xmpp_free(s->ctx, digest);
}

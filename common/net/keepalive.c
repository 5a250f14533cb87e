/* Keepalive, for the tools that stay connected: a link that silently
 * drops every packet (a NAT or firewall that forgot the connection)
 * looks like a quiet server, and TCP says nothing for many minutes.
 * After creds.keepalive seconds without a word from the server we ask
 * for one; no answer within as long again, and the connection counts
 * as lost (then --reconnect takes it up again). So a dead link is
 * noticed within twice the keepalive of its last sign of life. */
#include "common/net/session_priv.h"

#include <stdio.h>
#include <sys/socket.h>

#include "common/cli/exitcode.h"

void keepalive_start(struct session *s)
{
    struct session_state *p = s->priv;
    p->heard = p->received;
    p->heard_at = now_ms();
    p->probed_at = 0;
}

static long long keepalive_ms(const struct session *s)
{
    return (long long)(s->creds.keepalive * 1000);
}

/* When keepalive_check has something to do next; 0: never. */
static long long next_due(const struct session *s)
{
    const struct session_state *p = s->priv;
    if (keepalive_ms(s) <= 0 || !p->ready)
        return 0;
    return (p->probed_at ? p->probed_at : p->heard_at) + keepalive_ms(s);
}

unsigned long keepalive_wait(struct session *s, unsigned long ms)
{
    long long due = next_due(s);
    if (!due)
        return ms;
    long long left = due - now_ms();
    if (left < 0)
        left = 0;
    return (long long)ms > left ? (unsigned long)left : ms;
}

/* XEP-0198 §4 where Stream Management is ours and on; else an XEP-0199
 * §4 ping to the server (with the library's Stream Management, it
 * follows the ping with an <r/> itself). Any answer will do. */
static void ask_for_sign_of_life(struct session *s)
{
    if (s->priv->sm == SM_ON)
        xmpp_send_raw_string(s->conn, "<r xmlns='urn:xmpp:sm:3'/>");
    else
        send_confirm_ping(s);
    s->priv->probed_at = now_ms();
}

/* Give up on the connection: lost, with why saying so. The socket is
 * shut down so that the library notices at once and can connect again;
 * a </stream:stream> would only wait for a server that cannot hear. */
static void declare_dead(struct session *s)
{
    struct session_state *p = s->priv;
    double silent = (double)(now_ms() - p->heard_at) / 1000;
    s->status = report(s, XE_CONNLOST,
                       "connection lost: no answer from the server for %.0f s "
                       "(--keepalive %g)%s",
                       silent, s->creds.keepalive,
                       s->opt->reconnect ? "" : "; --reconnect rides this out");
    if (p->sock > 0)
        shutdown(p->sock, SHUT_RDWR);
    long long until = now_ms() + 2000;
    if (s->deadline && s->deadline < until)
        until = s->deadline;
    while (!xmpp_conn_is_disconnected(s->conn) && now_ms() < until)
        run_library(s, 10);
}

void keepalive_check(struct session *s)
{
    struct session_state *p = s->priv;
    long long due = next_due(s);
    if (!due || s->status != SESSION_RUNNING)
        return;
    if (p->received != p->heard) {
        keepalive_start(s);
        return;
    }
    if (now_ms() < due)
        return;
    if (!p->probed_at)
        ask_for_sign_of_life(s);
    else
        declare_dead(s);
}

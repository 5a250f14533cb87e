/* The session: set up from the options every tool shares (credentials,
 * trust store, signals, the library's context and connection), the
 * connection handler that turns the library's events into the session's
 * state, and the clean close. Each other concern of the session has a
 * file of its own in common/net/, sharing session_priv.h. */
#include "common/net/session_priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* The library's certificate-failure callback carries no userdata; this is
 * the one session of the process, for it alone. */
static struct session *current_session;

/* The handshake is a chain of small writes that each wait for an
 * answer. With Nagle's algorithm on either side, a small write that
 * follows another one not yet acknowledged is held until the ACK comes,
 * and the peer delays its ACK by up to 40 ms: our stream header after
 * the TLS Finished, our ping after the message, the server's features
 * after its TLS session tickets (Prosody keeps Nagle on by default).
 * Such stalls were 85% of a one-shot send's wall time (bench/run). So
 * our writes go out at once, and we acknowledge at once: TCP_QUICKACK
 * is not sticky (the kernel falls back to delayed ACKs), so it is set
 * again before each wait. */
void quickack(const struct session *s)
{
    int one = 1;
    if (s->priv->sock > 0)
        setsockopt(s->priv->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

static int on_socket(xmpp_conn_t *conn, void *sock)
{
    int one = 1, fd = *(int *)sock;
    (void)conn;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (current_session) {
        current_session->priv->sock = fd;
        quickack(current_session);
    }
    return 0;
}

static int on_certfail(const xmpp_tlscert_t *cert, const char *const err)
{
    struct session *s = current_session;
    (void)cert;
    if (s) {
        s->priv->auth_hint = XE_AUTH;
        snprintf(s->priv->why, sizeof s->priv->why,
                 "TLS certificate rejected (%s); trust it with --ca-file "
                 "FILE",
                 err);
    }
    return 0;
}

void session_ready(struct session *s)
{
    s->priv->ready = true;
    start_accounting(s);
    s->priv->connects++;
    keepalive_start(s);
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                    xmpp_stream_error_t *se, void *ud)
{
    struct session *s = ud;
    (void)conn;
    if (ev == XMPP_CONN_RAW_CONNECT) {
        if (s->creds.component)
            component_open(s);
        else
            negotiate_start(s);
        return;
    }
    /* In raw mode, each stream header from the server: a client's
     * negotiation goes on in its handlers (negotiate.c). */
    if (ev == XMPP_CONN_CONNECT) {
        if (s->creds.component)
            component_handshake(s);
        return;
    }
    tls_forget();
    if (s->status != SESSION_RUNNING)
        return;
    if (!s->priv->ready && !s->priv->closing && srv_next(s, error, on_conn))
        return; /* that SRV target is down: the next one */
    xmpp_stanza_t *err = se ? se->stanza : s->priv->stream_error;
    if (s->priv->closing)
        s->status = XE_OK;
    else if (!s->priv->ready)
        s->status = classify_failure(s, error, err);
    else if (err)
        s->status = report_stream_error(s, err);
    else
        s->status =
            report(s, XE_CONNLOST, "connection lost: %s", lost_reason(error));
}

/* Set up the connection object once: a reconnect reuses it, and the
 * library does not free a setting that is made twice. */
static void configure_conn(struct session *s)
{
    struct creds *c = &s->creds;
    xmpp_conn_set_jid(s->conn, c->jid);
    xmpp_conn_set_sockopt_callback(s->conn, on_socket);
    if (c->component)
        return;
    /* The negotiation is ours (negotiate.c); the library's TLS settings
     * still apply to the TLS we start. Direct TLS: the default port. */
    long flags = XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM;
    if (c->direct_tls)
        flags |= XMPP_CONN_FLAG_LEGACY_SSL;
    if (c->insecure)
        flags |= XMPP_CONN_FLAG_TRUST_TLS;
    xmpp_conn_set_flags(s->conn, flags);
    if (c->ca_file)
        xmpp_conn_set_cafile(s->conn, c->ca_file);
    /* XEP-0178: presented in the TLS handshake, used by SASL EXTERNAL
     * (negotiate.c). */
    if (c->cert_file)
        xmpp_conn_set_client_cert(s->conn, c->cert_file, c->key_file);
    xmpp_conn_set_certfail_handler(s->conn, on_certfail);
}

static int start_connect(struct session *s)
{
    struct creds *c = &s->creds;
    /* XEP-0114 has no TLS; a client's is started by negotiate.c. */
    if (!c->host && !c->component)
        return srv_connect(s, on_conn);
    return xmpp_connect_raw(s->conn, c->host, server_port(c), on_conn, s);
}

/* Wait until the session is up or has failed; returns 0 or the status. */
int await_ready(struct session *s)
{
    /* The SRV lookup (srv.c) and the library's A/AAAA lookup are made
     * before it returns, without a timeout of ours: under the watchdog. */
    watchdog_follow(s);
    watchdog_enter();
    int rc = start_connect(s);
    watchdog_leave();
    if (rc != XMPP_EOK && s->status == SESSION_RUNNING)
        s->status = classify_failure(s, 0, NULL);
    while (!s->priv->ready && session_step(s, 1000) == SESSION_RUNNING)
        ;
    return s->priv->ready ? 0 : s->status;
}

int session_open(struct session *s, const struct session_opts *o)
{
    memset(s, 0, sizeof *s);
    s->opt = o;
    s->status = SESSION_RUNNING;
    if (o->timeout > 0)
        s->deadline = now_ms() + (long long)(o->timeout * 1000);
    s->priv = calloc(1, sizeof *s->priv);
    if (!s->priv)
        return s->status = fail_oom(NULL);
    int rc = creds_resolve(o, &s->creds);
    if (rc)
        return s->status = rc;
    /* --retry needs time of its own when -t does not say. */
    if (s->creds.retry > 0 && s->deadline && !o->timeout_given)
        s->deadline += (long long)(s->creds.retry * 1000);
    trim_trust_store(&s->creds, s->creds.insecure);
    stream_watch(s->creds.max_stanza);
    catch_signals();
    current_session = s;
    xmpp_initialize();
    s->priv->log = (xmpp_log_t){.handler = on_log, .userdata = s};
    s->ctx = xmpp_ctx_new(NULL, &s->priv->log);
    s->conn = s->ctx ? xmpp_conn_new(s->ctx) : NULL;
    if (!s->conn)
        return s->status = fail_oom(NULL);
    configure_conn(s);
    watchdog_start(s);
    /* --retry: a failed attempt is said once we give up. */
    s->priv->reconnecting = s->creds.retry > 0;
    rc = await_ready(s);
    s->priv->reconnecting = false;
    if (!rc || !(rc = retry_open(s, rc)))
        return 0;
    if (rc == XE_TIMEOUT) {
        char where[300];
        describe_server(s, where, sizeof where);
        fail(XE_TIMEOUT, "timed out connecting to %s (--timeout)%s", where,
             stage_words(s->priv->stage));
    }
    return s->status = rc;
}

char *session_id(struct session *s)
{
    return xmpp_uuid_gen(s->ctx);
}

/* How long the goodbye may wait for the server's </stream>: 2 s, but
 * never much past the deadline, nor long after a signal that ended the
 * run: -t and SIGTERM end the run within a grace. */
static long long goodbye_until(const struct session *s)
{
    long long now = now_ms(), until = now + 2000;
    long long soon = now + WATCHDOG_GRACE_MS / 2;
    if (s->deadline) {
        long long end = s->deadline > now ? s->deadline : now;
        if (end + WATCHDOG_GRACE_MS / 2 < until)
            until = end + WATCHDOG_GRACE_MS / 2;
    }
    if (s->status >= 128 && soon < until)
        until = soon;
    return until;
}

int session_close(struct session *s, int status)
{
    if (!s->priv) /* session_open() ran out of memory */
        return status;
    /* A loss the tool meant to report but did not reach: one line. */
    if (s->priv->loss_untold &&
        (status == XE_CONNLOST || status == XE_PROTOCOL))
        fail(status, "%s", s->priv->why);
    s->priv->loss_untold = false;
    /* Before the session is up there is nothing to say goodbye to, and
     * running the loop would let libstrophe go on with the handshake
     * (it leaks its SCRAM state when the stream then ends mid-auth); a
     * refused stream was ended already (refuse_stream). */
    if (s->conn && s->priv->ready && !s->priv->stream_fault &&
        xmpp_conn_is_connected(s->conn)) {
        if (s->priv->sm == SM_ON)
            send_ack(s); /* what we did not handle stays with the server */
        if (s->priv->presence_sent) {
            xmpp_stanza_t *p = xmpp_presence_new(s->ctx);
            xmpp_stanza_set_type(p, "unavailable");
            xmpp_send(s->conn, p);
            xmpp_stanza_release(p);
        }
        s->priv->closing = true;
        /* Bounded: a server that does not answer </stream> is left. */
        long long until = goodbye_until(s);
        watchdog_closing(until, status);
        if (s->status == SESSION_RUNNING || s->status >= 128)
            s->status = SESSION_RUNNING;
        /* Everything confirmed, no presence to end, no session the
         * server keeps for resumption: nothing the server's
         * </stream:stream> would tell us. Once ours is written, go (a
         * round trip less through a slow link). */
        bool quick = s->confirmed >= s->out && !s->priv->presence_sent &&
                     !*s->priv->sm_id;
        xmpp_disconnect(s->conn);
        while (!xmpp_conn_is_disconnected(s->conn) && now_ms() < until) {
            if (quick && !xmpp_conn_send_queue_len(s->conn)) {
                tls_close_quick();
                break;
            }
            run_library(s, quick ? 1 : 50);
        }
    }
    if (s->priv->stream_error)
        xmpp_stanza_release(s->priv->stream_error);
    watchdog_stop();
    drop_unconfirmed(s);
    negotiate_free(s);
    tls_forget();
    if (s->conn)
        xmpp_conn_release(s->conn);
    if (s->ctx) {
        xmpp_ctx_free(s->ctx);
        xmpp_shutdown();
    }
    creds_free(&s->creds);
    free(s->priv);
    s->priv = NULL;
    current_session = NULL;
    s->conn = NULL;
    s->ctx = NULL;
    return status;
}

/* Connecting again: after a first attempt failed (--retry), or after a
 * session that was up was lost (--reconnect, --retry). Back off with
 * jitter, check that the server answers at all, then set the session
 * up again: resumed, with XEP-0198, when the server kept it; else
 * announced again by the tool, with what the server had not confirmed
 * sent again. */
#include "common/net/session_priv.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* Can a TCP connection to the configured host be made now? 0, or an
 * errno. libstrophe 0.12 forgets the Stream Management state it needs
 * for resumption after one failed attempt (the previous id and bound
 * JID are replaced by those of the attempt that never had a session),
 * so a reconnect first finds out whether the server answers at all.
 * With SRV the library picks the host, and this cannot be checked. */
static int reachable(struct session *s)
{
    const struct creds *c = &s->creds;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)server_port(c));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    if (getaddrinfo(c->host, port, &hints, &res))
        return EHOSTUNREACH;
    int err = ECONNREFUSED;
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0)
            continue;
        err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
            err = errno;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        socklen_t len = sizeof err;
        long long wait = 5000;
        if (s->deadline && s->deadline - now_ms() < wait)
            wait = s->deadline > now_ms() ? s->deadline - now_ms() : 0;
        if (!err && poll(&p, 1, (int)wait) != 1)
            err = ETIMEDOUT;
        else if (!err)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        close(fd);
        if (!err)
            break;
    }
    freeaddrinfo(res);
    return err;
}

bool may_reconnect(const struct session *s)
{
    return s->opt->reconnect || s->creds.retry > 0;
}

/* One attempt: 0 once the session is up, else its status (why holds
 * the words). */
static int attempt(struct session *s)
{
    struct session_state *p = s->priv;
    s->status = SESSION_RUNNING;
    p->ready = s->resumed = false;
    p->auth_hint = p->sock_error = 0;
    p->why_said = false;
    if (p->stream_error) /* a component's, from the last connection */
        xmpp_stanza_release(p->stream_error);
    p->stream_error = NULL;
    p->stage = AT_CONNECTING;
    int err = s->creds.host ? reachable(s) : 0;
    if (err) {
        char where[160];
        describe_server(s, where, sizeof where);
        snprintf(p->why, sizeof p->why, "cannot connect to %s: %s", where,
                 strerror(err));
        return XE_UNAVAILABLE;
    }
    p->reconnecting = true;
    int rc = await_ready(s);
    p->reconnecting = false;
    return rc;
}

/* The failures worth another attempt: no server (yet), or a connection
 * that broke. */
static bool transient(int status)
{
    return status == XE_UNAVAILABLE || status == XE_CONNLOST;
}

/* --retry ran out: why says so, for whoever reports it. */
static int give_up(struct session *s, long long start, int status)
{
    struct session_state *p = s->priv;
    char why[sizeof p->why];
    snprintf(why, sizeof why, "%.200s; gave up after %.0f s (--retry)", p->why,
             (double)(now_ms() - start) / 1000);
    memcpy(p->why, why, sizeof why);
    p->loss_untold = true;
    return s->status = status;
}

/* Try again with exponential backoff (1 s doubling to 60 s, jittered)
 * until connected (0), a signal (128+N), the deadline (XE_TIMEOUT), an
 * authentication failure (XE_AUTH) or a stream we refused (said); with
 * `until` (--retry), until then, or a failure that will not pass by
 * waiting: the status (before any session, the last attempt's; after,
 * XE_CONNLOST) with why saying what went wrong, not said yet. */
static int connect_again(struct session *s, const char *verb, long long until,
                         int status)
{
    struct session_state *p = s->priv;
    long long start = now_ms();
    srandom((unsigned)(start ^ getpid()));
    for (int n = 0;; n++) {
        double delay = n < 6 ? (double)(1 << n) : 60;
        delay *= 0.75 + 0.5 * ((double)random() / RAND_MAX);
        long long left = until ? until - now_ms() : 0;
        if (until && left <= 0)
            return give_up(s, start, status);
        if (until && delay * 1000 > left)
            delay = (double)left / 1000;
        warnx("%s; %s in %.1f s", p->why, verb, delay);
        p->loss_untold = false;
        int rc = pause_ms(s, (long long)(delay * 1000));
        if (!rc && !(rc = attempt(s)))
            return 0;
        if ((rc == XE_AUTH || p->stream_fault) && !until)
            return s->status = fail(rc, "%s", p->why);
        if (rc == XE_TIMEOUT && s->opt->reconnect)
            fail(rc, "deadline reached while reconnecting");
        if (rc == XE_TIMEOUT || rc >= 128)
            return s->status = rc;
        /* Before any session, or for a stream we refused: the attempt's. */
        if (!p->connects || p->stream_fault)
            status = rc;
        if (until && !transient(rc)) { /* --retry: only what may pass */
            p->loss_untold = true;
            return s->status = status;
        }
    }
}

int retry_open(struct session *s, int status)
{
    if (s->creds.retry <= 0)
        return status;
    if (transient(status))
        status = connect_again(s, "retrying",
                               now_ms() + (long long)(s->creds.retry * 1000),
                               status);
    if (status && status != XE_TIMEOUT && status < 128)
        fail(status, "%s", s->priv->why);
    s->priv->loss_untold = false;
    return status;
}

int reconnect_lost(struct session *s)
{
    struct session_state *p = s->priv;
    if (s->status != XE_CONNLOST || !p->ready || p->renewing ||
        !may_reconnect(s))
        return s->status;
    p->renewing = true;
    int rc;
    do {
        long long until = s->opt->reconnect
                              ? 0
                              : now_ms() + (long long)(s->creds.retry * 1000);
        rc = connect_again(s, "reconnecting", until, XE_CONNLOST);
        if (rc)
            break;
        warnx("reconnected%s", s->resumed ? "; session resumed" : "");
        if (!s->resumed && s->renew)
            rc = s->renew(s, s->renew_ud);
        if (!rc)
            resend_unconfirmed(s);
    } while (rc == XE_CONNLOST && p->ready);
    p->renewing = false;
    return s->status = rc ? rc : SESSION_RUNNING;
}

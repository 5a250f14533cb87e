/* Reconnecting after the connection was lost: back off with jitter,
 * check that the server answers at all, then set the session up again
 * (resumed, with XEP-0198, when the server kept it). */
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

int session_reconnect(struct session *s)
{
    struct session_state *p = s->priv;
    srandom((unsigned)(now_ms() ^ getpid()));
    for (int attempt = 0;; attempt++) {
        double delay = attempt < 6 ? (double)(1 << attempt) : 60;
        delay *= 0.75 + 0.5 * ((double)random() / RAND_MAX);
        warnx("%s; reconnecting in %.1f s", p->why, delay);
        p->loss_untold = false;
        int rc = pause_ms(s, (long long)(delay * 1000));
        if (rc == XE_TIMEOUT)
            return s->status = fail(XE_TIMEOUT, "deadline reached while "
                                                "reconnecting");
        if (rc)
            return s->status = rc;
        s->status = SESSION_RUNNING;
        p->ready = s->resumed = false;
        p->auth_hint = p->sock_error = 0;
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
            continue;
        }
        p->reconnecting = true;
        rc = await_ready(s);
        p->reconnecting = false;
        if (!rc) {
            warnx("reconnected%s", s->resumed ? "; session resumed" : "");
            return 0;
        }
        if (rc == XE_AUTH || p->stream_fault)
            return fail(rc, "%s", p->why);
        if (rc == XE_TIMEOUT)
            return fail(rc, "deadline reached while reconnecting");
        if (rc >= 128)
            return rc;
    }
}

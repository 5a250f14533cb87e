/* The event loop under the session's deadline: one step of the
 * library's loop at a time, waiting for a condition, and SIGINT or
 * SIGTERM turned into the status 128+N. When the library does not give
 * control back, watchdog.c ends the run instead. */
#include "common/net/session_priv.h"

#include <poll.h>
#include <signal.h>
#include <time.h>

#include "common/cli/exitcode.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
    watchdog_signal(sig);
}

/* No SA_RESTART: the signal must interrupt the library's select(). */
void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms, cut short by a signal (128+N) or the deadline (XE_TIMEOUT). */
int pause_ms(struct session *s, long long ms)
{
    long long until = now_ms() + ms;
    while (now_ms() < until) {
        if (got_signal)
            return 128 + got_signal;
        if (s->deadline && now_ms() >= s->deadline)
            return XE_TIMEOUT;
        poll(NULL, 0, 100); /* a signal interrupts it: no SA_RESTART */
    }
    return 0;
}

void run_library(struct session *s, unsigned long ms)
{
    quickack(s);
    watchdog_enter();
    xmpp_run_once(s->ctx, ms);
    watchdog_leave();
}

int session_step(struct session *s, unsigned long ms)
{
    if (s->status != SESSION_RUNNING)
        return s->status;
    /* A signal that came while the tool had control ends the run now,
     * not after a wait the watchdog might cut short; one that lands
     * just before the library's select() is seen when the wait ends,
     * within half the watchdog's grace. */
    if (got_signal)
        return s->status = 128 + got_signal;
    if (ms > WATCHDOG_GRACE_MS / 2)
        ms = WATCHDOG_GRACE_MS / 2;
    if (s->deadline) {
        long long left = s->deadline - now_ms();
        if (left <= 0)
            return s->status = XE_TIMEOUT;
        if ((long long)ms > left)
            ms = (unsigned long)left;
    }
    ms = keepalive_wait(s, ms);
    watchdog_follow(s);
    unsigned long seen = s->priv->received;
    run_library(s, ms);
    refuse_stream(s);
    /* libstrophe 0.12 feeds its parser at most 4 KiB per run, then waits
     * in select() although OpenSSL may already hold the rest of a larger
     * TLS record: stanzas that came in full would wait for more bytes
     * or for the timeout. While runs bring stanzas, or OpenSSL holds
     * bytes read, run again without waiting (bounded, so that the tool
     * gets its turn, and by the deadline). */
    for (int i = 0; i < 64 &&
                    (s->priv->received != seen || tls_pending()) &&
                    !got_signal &&
                    s->status == SESSION_RUNNING &&
                    (!s->deadline || now_ms() < s->deadline);
         i++) {
        seen = s->priv->received;
        run_library(s, 0);
        refuse_stream(s);
    }
    keepalive_check(s);
    if (got_signal && s->status == SESSION_RUNNING)
        s->status = 128 + got_signal;
    return reconnect_lost(s);
}

int session_wait(struct session *s, const bool *done)
{
    while (!(done && *done))
        if (session_step(s, 1000) != SESSION_RUNNING)
            return s->status;
    return 0;
}

int session_clear_signal(struct session *s)
{
    int sig = s->status - 128;
    got_signal = 0;
    s->status = SESSION_RUNNING;
    watchdog_clear_signal(s);
    return sig;
}

void session_stop(struct session *s, int status)
{
    if (s->status == SESSION_RUNNING)
        s->status = status;
}

/* The deadline as a hard guarantee. The event loop ends the run at the
 * deadline or on SIGINT/SIGTERM, but only when the library gives it
 * control back, and libstrophe 0.12 does not always: its TLS handshake
 * waits on the socket without a timeout, SCRAM runs any PBKDF2
 * iteration count the server asks for, a parse can take seconds. So a
 * timer stands behind the loop, due a grace after the deadline (or
 * after the signal); when it fires, the loop has lost control, and the
 * process ends from the signal handler: one line said with write(2),
 * then _exit() with the status the loop would have given. What the loop
 * would have reported (unconfirmed stanzas) is counted in that line. */
#include "common/net/session_priv.h"

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* The one session of the process, as the signal handler sees it: a
 * handler takes no arguments, so this is global, like loop.c's flag. */
static struct {
    timer_t timer;
    bool made;                     /* timer created */
    long long armed;               /* ms it is due (main thread's view); 0 */
    struct session *s;             /* watched, read by the handler */
    volatile sig_atomic_t on;      /* between start and stop */
    volatile sig_atomic_t sig;     /* the SIGINT/SIGTERM it was armed for */
    volatile sig_atomic_t busy;    /* the library has control */
    volatile sig_atomic_t closing; /* session_close's status, or -1 */
    char where[300];               /* describe_server(), made at start */
} wd = {.closing = -1};

/* Async-signal-safe formatting: append a string or a number. */
static void put(char *buf, size_t *n, size_t cap, const char *str)
{
    while (*str && *n + 1 < cap)
        buf[(*n)++] = *str++;
}

static void put_ulong(char *buf, size_t *n, size_t cap, unsigned long v)
{
    char digits[24];
    size_t i = sizeof digits;
    digits[--i] = '\0';
    do
        digits[--i] = (char)('0' + v % 10);
    while ((v /= 10) && i);
    put(buf, n, cap, digits + i);
}

/* "1 of 3 stanza(s) not confirmed by the server", when some are not. */
static void put_unconfirmed(char *buf, size_t *n, size_t cap)
{
    unsigned long out = wd.s->out, confirmed = wd.s->confirmed;
    if (out <= confirmed)
        return;
    put(buf, n, cap, "; ");
    put_ulong(buf, n, cap, out - confirmed);
    put(buf, n, cap, " of ");
    put_ulong(buf, n, cap, out);
    put(buf, n, cap, " stanza(s) not confirmed by the server");
}

/* Could a write to fd go through now? Not when it is a pipe (or a
 * terminal, a socket) that is full: a reader that stopped reading holds
 * a tool that prints, from inside the library's stanza handlers too. */
static bool writable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    return poll(&p, 1, 0) != 0;
}

/* What the run was waiting for when the timer fired; returns the
 * status it ends with. */
static int describe(char *buf, size_t *n, size_t cap)
{
    const volatile struct session_state *p = wd.s->priv;
    int sig = wd.sig;
    const char *cause = sig == SIGINT    ? "interrupted (SIGINT)"
                        : sig == SIGTERM ? "terminated (SIGTERM)"
                                         : NULL;
    if (wd.closing >= 0) {
        put(buf, n, cap, "closing the connection to ");
        put(buf, n, cap, wd.where);
        put(buf, n, cap, " did not end in time; left open");
        return wd.closing;
    }
    if (!p->ready) {
        put(buf, n, cap, cause ? cause : "timed out");
        put(buf, n, cap, cause ? " while " : " ");
        put(buf, n, cap,
            p->reconnecting ? "reconnecting to " : "connecting to ");
        put(buf, n, cap, wd.where);
        put(buf, n, cap, cause ? "" : " (--timeout)");
        put(buf, n, cap, stage_words(p->stage));
    } else {
        put(buf, n, cap, cause ? cause : "deadline reached (--timeout)");
        if (!writable(STDOUT_FILENO)) {
            put(buf, n, cap,
                " while writing to standard output, which is "
                "not being read");
        } else if (wd.busy) {
            put(buf, n, cap,
                " while the XMPP library was busy with data from ");
            put(buf, n, cap, wd.where);
        } else {
            put(buf, n, cap, " before the tool finished its work");
        }
        put_unconfirmed(buf, n, cap);
    }
    return cause ? 128 + sig : XE_TIMEOUT;
}

static void on_alarm(int unused)
{
    (void)unused;
    if (!wd.on) /* stopped as it fired: the run ends by itself */
        return;
    char line[1024];
    size_t n = 0;
    put(line, &n, sizeof line - 1, progname);
    put(line, &n, sizeof line - 1, ": ");
    int status = describe(line, &n, sizeof line - 1);
    line[n++] = '\n';
    /* A stderr nobody reads must not hold the exit. */
    if (writable(STDERR_FILENO)) {
        ssize_t w = write(STDERR_FILENO, line, n);
        (void)w; /* nothing more can be done about stderr */
    }
    _exit(status);
}

/* Due at ms on the monotonic clock (0: never), unless a signal armed it. */
static void arm_at(long long ms)
{
    struct itimerspec due = {0};
    if (ms > 0) {
        due.it_value.tv_sec = ms / 1000;
        due.it_value.tv_nsec = (ms % 1000) * 1000000;
    }
    timer_settime(wd.timer, TIMER_ABSTIME, &due, NULL);
    wd.armed = ms;
}

void watchdog_start(struct session *s)
{
    /* CLOCK_MONOTONIC, as now_ms() and the deadline. Without a timer
     * (a resource limit), the loop alone keeps the deadline. */
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    if (!wd.made && timer_create(CLOCK_MONOTONIC, &ev, &wd.timer) != 0)
        return;
    wd.made = true;
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    describe_server(s, wd.where, sizeof wd.where);
    wd.s = s;
    wd.sig = wd.busy = 0;
    wd.closing = -1;
    wd.armed = 0;
    wd.on = 1;
    watchdog_follow(s);
}

void watchdog_follow(struct session *s)
{
    if (!wd.on || wd.sig || wd.closing >= 0)
        return;
    long long due = s->deadline ? s->deadline + WATCHDOG_GRACE_MS : 0;
    if (due == wd.armed)
        return;
    /* A signal now would arm the timer for itself: not in between. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    if (!wd.sig)
        arm_at(due);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

void watchdog_enter(void)
{
    wd.busy = 1;
}

void watchdog_leave(void)
{
    wd.busy = 0;
}

/* From loop.c's signal handler: the first signal gives the loop the
 * grace to end the run, unless the deadline's timer is due sooner. */
void watchdog_signal(int sig)
{
    if (!wd.on || wd.sig)
        return;
    wd.sig = sig;
    struct itimerspec left,
        due = {.it_value = {.tv_sec = WATCHDOG_GRACE_MS / 1000,
                            .tv_nsec = WATCHDOG_GRACE_MS % 1000 * 1000000}};
    if (timer_gettime(wd.timer, &left) == 0 &&
        (left.it_value.tv_sec || left.it_value.tv_nsec) &&
        (left.it_value.tv_sec < due.it_value.tv_sec ||
         (left.it_value.tv_sec == due.it_value.tv_sec &&
          left.it_value.tv_nsec <= due.it_value.tv_nsec)))
        return;
    timer_settime(wd.timer, 0, &due, NULL);
}

void watchdog_clear_signal(struct session *s)
{
    if (!wd.on)
        return;
    wd.armed = -1; /* whatever the signal armed is replaced */
    wd.sig = 0;
    watchdog_follow(s);
}

void watchdog_closing(long long until, int status)
{
    if (!wd.on)
        return;
    wd.closing = status;
    arm_at(until + WATCHDOG_GRACE_MS / 2);
}

void watchdog_stop(void)
{
    if (!wd.on)
        return;
    wd.on = 0;
    arm_at(0);
    wd.s = NULL;
}

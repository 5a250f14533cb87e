/* xmpp ping: XMPP ping (XEP-0199), like ping(1): a line per answer with
 * its round-trip time, then a summary. A monitoring check: exit 0 if
 * anything answered, 1 if only errors did, 75 if nothing did. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/xmpp/query.h"

#define NS_PING "urn:xmpp:ping"
#define PING_ID "xmpp-ping-"

static const struct tool_opt opts[] = {
    {.help = "Pinging:"},
    {"count", 'c', "N",
     "send N pings (default 1; 0: until interrupted\nor the deadline)"},
    {"interval", 'i', "SECONDS", "wait SECONDS between pings (default 1)"},
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static const char notes[] =
    "JID defaults to your server. Output: a line per answer,\n"
    "\"reply from JID: seq=N time=T ms\" (or \"error from JID: seq=N COND\n"
    "time=T ms\"), then how many were sent, answered and lost, and the\n"
    "min/avg/max round-trip time. --json: {seq, from, time_ms[, error]} per\n"
    "answer, {sent, received, errors, lost[, min_ms, avg_ms, max_ms]} last.\n";

static void init(void *tool);
static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

struct ping {
    struct query_jid q; /* first: query_jid_prepare fills it */
    long count;
    double interval;
    const struct session_opts *o;
    struct session *s;
    char *to;
    double *sent_at; /* ms, by sequence number - 1; 0: answered */
    long sent, received, errors;
    double min, max, sum;
    bool summed; /* the summary is out: an answer after it is not shown */
};

const struct tool tool_ping = {
    .name = "ping",
    .summary = "Ping an entity and time its answers (XEP-0199)",
    .operands = "[JID]",
    .opts = opts,
    .notes = notes,
    .size = sizeof(struct ping),
    .init = init,
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static void init(void *tool)
{
    struct ping *p = tool;
    p->count = 1;
    p->interval = 1;
}

static int option(void *tool, int key, const char *arg)
{
    struct ping *p = tool;
    switch (key) {
    case 'c':
        if (opts_int(arg, 0, 1L << 30, &p->count) < 0)
            return fail(XE_USAGE, "--count %s: give a number, 0 for no limit",
                        arg);
        break;
    case 'i':
        if (opts_seconds(arg, &p->interval) < 0)
            return fail(XE_USAGE, "--interval %s: give seconds", arg);
        break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct ping *p = tool;
    p->o = o;
    return query_jid_prepare(tool, o, a);
}

/* Round trips on a LAN take well under a millisecond. */
static double now_msf(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* Milliseconds to the microsecond, as the text output gives them. */
static void set_ms(json_t *j, const char *key, double ms)
{
    char t[32];
    snprintf(t, sizeof t, "%.3f", ms);
    json_object_set_new(j, key, json_real(strtod(t, NULL)));
}

static void print_answer(struct ping *p, xmpp_stanza_t *st, long seq, double ms,
                         const char *error)
{
    const char *from = xmpp_stanza_get_from(st);
    if (!from)
        from = p->to;
    if (p->o->format == OUT_XML) {
        print_element(stdout, st, stream_ns(p->s), OUT_XML);
    } else if (p->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "reply");
        json_object_set_new(j, "seq", json_integer(seq));
        out_json_set(j, "from", from);
        set_ms(j, "time_ms", ms);
        out_json_set(j, "error", error);
        out_json(stdout, j);
    } else {
        /* The error's text is the answering entity's: escaped. */
        fputs(error ? "error from " : "reply from ", stdout);
        out_text(stdout, from);
        printf(": seq=%ld ", seq);
        if (error) {
            out_text(stdout, error);
            putchar(' ');
        }
        printf("time=%.3f ms\n", ms);
    }
    fflush(stdout);
}

/* XEP-0199 §4: a result is a pong; an error answers too, and says why
 * (service-unavailable: the entity does not do pings). */
static int on_answer(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct ping *p = ud;
    (void)conn;
    const char *type = xmpp_stanza_get_type(st);
    long seq = strtol(xmpp_stanza_get_id(st) + strlen(PING_ID), NULL, 10);
    if (p->summed || !type ||
        (strcmp(type, "result") && strcmp(type, "error")) || seq < 1 ||
        seq > p->sent || !p->sent_at[seq - 1] ||
        !session_reply_from(p->s, p->to, xmpp_stanza_get_from(st)))
        return 1;
    double ms = now_msf() - p->sent_at[seq - 1];
    p->sent_at[seq - 1] = 0;
    if (!strcmp(type, "error")) {
        char why[256];
        p->errors++;
        print_answer(p, st, seq, ms, stanza_error_text(st, why, sizeof why));
        return 0;
    }
    if (!p->received++ || ms < p->min)
        p->min = ms;
    if (ms > p->max)
        p->max = ms;
    p->sum += ms;
    print_answer(p, st, seq, ms, NULL);
    return 0;
}

static int send_ping(struct ping *p)
{
    double *at = realloc(p->sent_at, (size_t)(p->sent + 1) * sizeof *at);
    if (!at)
        return fail_oom(NULL);
    p->sent_at = at;
    char id[48];
    snprintf(id, sizeof id, PING_ID "%ld", p->sent + 1);
    xmpp_stanza_t *iq = query_new(p->s, "get", p->to, "ping", NS_PING, NULL);
    xmpp_stanza_set_id(iq, id);
    xmpp_id_handler_add(p->s->conn, on_answer, id, p);
    p->sent_at[p->sent++] = now_msf();
    session_send(p->s, iq);
    xmpp_stanza_release(iq);
    return 0;
}

static long unanswered(const struct ping *p)
{
    return p->sent - p->received - p->errors;
}

/* Send on schedule, as ping(1) does, whether or not earlier pings were
 * answered; stop when all COUNT are answered, at the deadline or on a
 * signal. */
static int send_on_schedule(struct ping *p)
{
    long long next = now_ms(), step = (long long)(p->interval * 1000);
    for (;;) {
        long long now = now_ms();
        bool more = !p->count || p->sent < p->count;
        if (more && now >= next) {
            int rc = send_ping(p);
            if (rc)
                return rc;
            next += step;
            continue;
        }
        if (!more && !unanswered(p))
            return 0;
        long long wait = more ? next - now : 1000;
        if (session_step(p->s, (unsigned long)(wait > 0 ? wait : 0)) !=
            SESSION_RUNNING)
            return p->s->status;
    }
}

static void print_summary(struct ping *p)
{
    long lost = unanswered(p);
    p->summed = true;
    double avg = p->received ? p->sum / (double)p->received : 0;
    if (p->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "summary");
        json_object_set_new(j, "sent", json_integer(p->sent));
        json_object_set_new(j, "received", json_integer(p->received));
        json_object_set_new(j, "errors", json_integer(p->errors));
        json_object_set_new(j, "lost", json_integer(lost));
        if (p->received) {
            set_ms(j, "min_ms", p->min);
            set_ms(j, "avg_ms", avg);
            set_ms(j, "max_ms", p->max);
        }
        out_json(stdout, j);
    } else if (p->o->format == OUT_TEXT) {
        printf("--- %s ping statistics ---\n", p->to);
        printf("%ld sent, %ld received, ", p->sent, p->received);
        if (p->errors)
            printf("%ld error(s), ", p->errors);
        printf("%ld%% lost\n", p->sent ? lost * 100 / p->sent : 0);
        if (p->received)
            printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", p->min, avg,
                   p->max);
    }
    fflush(stdout);
}

/* The exit status: 0 if anything answered, 1 if only errors did. */
static int verdict(struct ping *p)
{
    print_summary(p);
    if (p->received)
        return XE_OK;
    if (p->errors)
        return XE_STANZA;
    return fail(XE_TIMEOUT, "%s: no answer to %ld ping(s)", p->to, p->sent);
}

static int run(void *tool, struct session *s)
{
    struct ping *p = tool;
    p->s = s;
    if (!(p->to = strdup(query_target(s, p->q.jid))))
        return fail_oom(NULL);
    int rc = send_on_schedule(p);
    /* The count, the deadline or a signal: the answers decide. */
    if (!rc || rc == XE_TIMEOUT || rc >= 128)
        rc = verdict(p);
    return rc;
}

/* After the session is closed: no answer can arrive any more. */
static void release(void *tool)
{
    struct ping *p = tool;
    free(p->sent_at);
    free(p->to);
}

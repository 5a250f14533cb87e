/* xmpp send: send a message to one or more JIDs, and exit 0 only once
 * the server has taken every one of them.
 *
 * usage: xmpp send [options] JID... [-m TEXT | -f FILE]
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/die.h"
#include "../common/exitcode.h"
#include "../common/input.h"
#include "../common/jid.h"
#include "../common/session.h"

static const char help[] =
    "Message:\n"
    "  -m, --message TEXT       the body (else --file, else stdin)\n"
    "  -f, --file FILE          read the body from FILE\n"
    "  -l, --lines              one message per stdin line, sent as it arrives\n"
    "      --type TYPE          chat (default), normal or headline\n"
    "  -s, --subject TEXT       the subject\n"
    "      --thread ID          the thread\n"
    "      --id ID              the stanza id (default: a fresh UUID)\n"
    "      --sanitize           replace invalid UTF-8 and forbidden control\n"
    "                           characters with U+FFFD instead of failing\n"
    "      --max-size BYTES     refuse a body larger than this (default 1 MiB)\n";

enum { OPT_TYPE = 1000, OPT_THREAD, OPT_ID, OPT_SANITIZE, OPT_MAX_SIZE };

static const struct option options[] = {
    {"message", required_argument, NULL, 'm'},
    {"file", required_argument, NULL, 'f'},
    {"lines", no_argument, NULL, 'l'},
    {"type", required_argument, NULL, OPT_TYPE},
    {"subject", required_argument, NULL, 's'},
    {"thread", required_argument, NULL, OPT_THREAD},
    {"id", required_argument, NULL, OPT_ID},
    {"sanitize", no_argument, NULL, OPT_SANITIZE},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {NULL, 0, NULL, 0},
};

static int cmd_send(int argc, char **argv);

const struct tool tool_send = {
    .name = "send",
    .run = cmd_send,
    .summary = "Send messages",
    .synopsis = "[options] JID... [-m TEXT | -f FILE | -l]",
    .help = help,
    .shortopts = "m:f:ls:",
    .options = options,
};

struct send {
    struct session_opts o;
    const char *message, *file, *type, *subject, *thread, *id;
    bool lines, sanitize;
    size_t max;
    char **to;
    int nto;
    struct session s;
    /* --lines bookkeeping: input line numbers, 1-based. */
    unsigned long line_no;       /* last line read */
    struct pending *pend;        /* lines sent, not yet confirmed, in order */
    size_t pend_head, pend_len, pend_cap;
    unsigned long asked_at;      /* session.out when we last asked for an ack */
    int bad_lines;
    int bounced;                 /* messages refused with an error */
};

/* A line sent but not yet confirmed: its number, and the ordinal of its
 * last message (see session.confirmed). */
struct pending {
    unsigned long line, ordinal;
};

static int on_opt(int c, const char *arg, void *ud)
{
    struct send *sd = ud;
    long n;
    switch (c) {
    case 'm': sd->message = arg; break;
    case 'f': sd->file = arg; break;
    case 'l': sd->lines = true; break;
    case 's': sd->subject = arg; break;
    case OPT_THREAD: sd->thread = arg; break;
    case OPT_ID: sd->id = arg; break;
    case OPT_SANITIZE: sd->sanitize = true; break;
    case OPT_TYPE:
        if (strcmp(arg, "chat") && strcmp(arg, "normal") &&
            strcmp(arg, "headline"))
            return fail(XE_USAGE, "--type %s: use chat, normal or headline",
                        arg);
        sd->type = arg;
        break;
    case OPT_MAX_SIZE:
        if (opts_int(arg, 1, 1L << 30, &n) < 0)
            return fail(XE_USAGE, "--max-size %s: give bytes, 1 to 1 GiB", arg);
        sd->max = (size_t)n;
        break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

static xmpp_stanza_t *text_child(xmpp_ctx_t *ctx, const char *name,
                                 const char *text)
{
    xmpp_stanza_t *el = xmpp_stanza_new(ctx);
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(el, name);
    xmpp_stanza_set_text(t, text);
    xmpp_stanza_add_child_ex(el, t, 0);
    return el;
}

/* One <message/> to each recipient (RFC 6121 §5.2). Returns the
 * ordinal of the last one. */
static unsigned long send_body(struct send *sd, const char *body)
{
    unsigned long ordinal = 0;
    xmpp_ctx_t *ctx = sd->s.ctx;
    for (int i = 0; i < sd->nto; i++) {
        char *id = sd->id ? NULL : session_id(&sd->s);
        xmpp_stanza_t *m = xmpp_message_new(ctx, sd->type, sd->to[i],
                                            sd->id ? sd->id : id);
        if (sd->subject)
            xmpp_stanza_add_child_ex(m, text_child(ctx, "subject", sd->subject),
                                     0);
        xmpp_message_set_body(m, body);
        if (sd->thread)
            xmpp_stanza_add_child_ex(m, text_child(ctx, "thread", sd->thread),
                                     0);
        ordinal = session_send(&sd->s, m);
        xmpp_stanza_release(m);
        if (id)
            xmpp_free(ctx, id);
    }
    return ordinal;
}

/* RFC 6120 §8.3: a refused message comes back as an error. A local
 * server bounces before it acks what we sent after the message, so
 * waiting for the confirmation collects the bounces too. */
static int on_bounce(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct send *sd = ud;
    (void)conn;
    char why[256];
    const char *from = xmpp_stanza_get_from(st);
    if (!sd->bounced++)
        fail(XE_STANZA, "%s: message refused: %s", from ? from : "server",
             stanza_error_text(st, why, sizeof why));
    return 1;
}

static int open_session(struct send *sd)
{
    int rc = session_open(&sd->s, &sd->o);
    if (!rc)
        xmpp_handler_add(sd->s.conn, on_bounce, NULL, "message", "error", sd);
    return rc;
}

/* The status once everything is confirmed: 1 if anything bounced. */
static int bounce_status(struct send *sd, int rc)
{
    if (rc || !sd->bounced)
        return rc;
    if (sd->bounced > 1)
        fail(XE_STANZA, "%d message(s) refused", sd->bounced);
    return XE_STANZA;
}

static int send_once(struct send *sd)
{
    char *body;
    size_t len;
    int rc;
    if (sd->message) {
        len = strlen(sd->message);
        if (len > sd->max)
            return fail(XE_DATA, "--message: larger than %zu bytes "
                                 "(--max-size)", sd->max);
        body = strdup(sd->message);
    } else if ((rc = input_read(sd->file, sd->max, &body, &len))) {
        return rc;
    }
    const char *what = sd->message ? "--message" : sd->file ? sd->file : "stdin";
    if ((rc = input_text(what, &body, &len, sd->sanitize))) {
        free(body);
        return rc;
    }
    if (len == 0) {
        free(body);
        return fail(XE_DATA, "%s: empty message; nothing sent", what);
    }
    if (!(rc = open_session(sd))) {
        unsigned long last = send_body(sd, body);
        if ((rc = session_confirm(&sd->s)))
            fail(rc, "%lu of %d message(s) not confirmed by the server",
                 last - sd->s.confirmed, sd->nto);
        rc = bounce_status(sd, rc);
    }
    free(body);
    return session_close(&sd->s, rc);
}

/* ---- --lines: stream stdin, confirming as we go ---- */

/* Ask for an ack every so many stanzas, and whenever the input pauses,
 * so that lines are confirmed while `tail -f` keeps the pipe open. */
#define ACK_EVERY 500

static int remember_line(struct send *sd, unsigned long ordinal)
{
    if (sd->pend_head + sd->pend_len == sd->pend_cap) {
        if (sd->pend_head) { /* slide down what is still pending */
            memmove(sd->pend, sd->pend + sd->pend_head,
                    sd->pend_len * sizeof *sd->pend);
            sd->pend_head = 0;
        } else {
            size_t cap = sd->pend_cap ? sd->pend_cap * 2 : 1024;
            struct pending *p = realloc(sd->pend, cap * sizeof *p);
            if (!p)
                return -1;
            sd->pend = p;
            sd->pend_cap = cap;
        }
    }
    sd->pend[sd->pend_head + sd->pend_len++] =
        (struct pending){.line = sd->line_no, .ordinal = ordinal};
    return 0;
}

/* Drop the lines the server has confirmed. */
static void forget_confirmed(struct send *sd)
{
    while (sd->pend_len &&
           sd->pend[sd->pend_head].ordinal <= sd->s.confirmed) {
        sd->pend_head++;
        sd->pend_len--;
    }
    if (!sd->pend_len)
        sd->pend_head = 0;
}

static void maybe_ask(struct send *sd, bool idle)
{
    unsigned long unasked = sd->s.out - sd->asked_at;
    if (unasked && (idle || unasked >= ACK_EVERY)) {
        session_request_ack(&sd->s);
        sd->asked_at = sd->s.out;
    }
}

static void send_line(struct send *sd, char *line, size_t len)
{
    char what[48];
    sd->line_no++;
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    if (len == 0)
        return;
    snprintf(what, sizeof what, "stdin line %lu", sd->line_no);
    if (len > sd->max) {
        fail(XE_DATA, "%s: larger than %zu bytes (--max-size); skipped", what,
             sd->max);
        sd->bad_lines++;
        return;
    }
    char *text = line;
    if (input_text(what, &text, &len, sd->sanitize)) {
        sd->bad_lines++;
        return;
    }
    unsigned long ordinal = send_body(sd, text);
    if (text != line)
        free(text);
    if (remember_line(sd, ordinal) < 0) {
        fail(XE_DATA, "%s: out of memory", what);
        sd->bad_lines++;
    }
}

/* Split buf into lines; returns how many bytes of a partial last line
 * remain (moved to the front). */
static size_t send_complete_lines(struct send *sd, char *buf, size_t n)
{
    char *p = buf, *end = buf + n, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        *nl = '\0';
        send_line(sd, p, (size_t)(nl - p));
        p = nl + 1;
    }
    size_t rest = (size_t)(end - p);
    memmove(buf, p, rest);
    return rest;
}

/* Read what stdin has now. Returns bytes read, 0 at EOF, -1 when there
 * is nothing yet. */
static ssize_t read_available(char *buf, size_t room)
{
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return -1;
    ssize_t n = read(0, buf, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return -1;
    return n < 0 ? 0 : n;
}

/* One line on stderr naming every line the server did not confirm, as
 * ranges: "3 line(s) not confirmed by the server: stdin line(s) 5-6,9". */
static void report_unconfirmed(struct send *sd)
{
    if (!sd->pend_len)
        return;
    char *list = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&list, &size);
    if (!f)
        return;
    struct pending *p = sd->pend + sd->pend_head;
    for (size_t i = 0; i < sd->pend_len;) {
        size_t j = i;
        while (j + 1 < sd->pend_len && p[j + 1].line == p[j].line + 1)
            j++;
        fprintf(f, "%s%lu", i ? "," : "", p[i].line);
        if (j > i)
            fprintf(f, "-%lu", p[j].line);
        i = j + 1;
    }
    fclose(f);
    fail(XE_CONNLOST, "%zu line(s) not confirmed by the server: stdin "
                      "line(s) %s", sd->pend_len, list);
    free(list);
}

static int send_lines(struct send *sd)
{
    int rc = open_session(sd);
    if (rc)
        return session_close(&sd->s, rc);
    /* Room for one line at the size limit plus a read's worth. */
    size_t cap = sd->max + 65536, have = 0;
    char *buf = malloc(cap + 1);
    bool eof = false;
    while (buf && !eof) {
        ssize_t n = -1;
        if (xmpp_conn_send_queue_len(sd->s.conn) < 2000)
            n = read_available(buf + have, cap - have);
        if (n == 0)
            eof = true;
        if (n > 0) {
            have = send_complete_lines(sd, buf, have + (size_t)n);
            if (have == cap) { /* a line over the limit: drop it */
                fail(XE_DATA, "stdin line %lu: larger than %zu bytes "
                              "(--max-size); skipped", sd->line_no + 1,
                     sd->max);
                sd->bad_lines++;
                have = 0;
            }
        }
        maybe_ask(sd, n < 0);
        forget_confirmed(sd);
        if (session_step(&sd->s, n > 0 ? 0 : 10) != SESSION_RUNNING)
            break;
    }
    if (buf && eof && have) {
        buf[have] = '\0';
        send_line(sd, buf, have);
    }
    free(buf);
    rc = sd->s.status == SESSION_RUNNING ? session_confirm(&sd->s)
                                         : sd->s.status;
    forget_confirmed(sd);
    report_unconfirmed(sd);
    free(sd->pend);
    rc = bounce_status(sd, rc);
    if (!rc && sd->bad_lines)
        rc = fail(XE_DATA, "%d line(s) were not sent", sd->bad_lines);
    return session_close(&sd->s, rc);
}

static int cmd_send(int argc, char **argv)
{
    struct send sd = {.type = "chat", .max = INPUT_MAX_DEFAULT};
    int first, rc = opts_parse(argc, argv, &sd.o, on_opt, &sd, &first);
    if (rc != OPTS_CONTINUE)
        return rc;
    sd.to = argv + first;
    sd.nto = argc - first;
    if (sd.nto == 0)
        return fail(XE_USAGE, "no recipient; usage: xmpp send %s",
                    tool_send.synopsis);
    if ((sd.message != NULL) + (sd.file != NULL) + sd.lines > 1)
        return fail(XE_USAGE, "choose one of --message, --file and --lines");
    for (int i = 0; i < sd.nto; i++) {
        const char *why = jid_check(sd.to[i]);
        if (why)
            return fail(XE_DATA, "%s: invalid JID: %s", sd.to[i], why);
    }
    return sd.lines ? send_lines(&sd) : send_once(&sd);
}

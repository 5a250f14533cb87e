/* xmpp send: send a message to one or more JIDs, and exit 0 only once
 * the server has taken every one of them.
 *
 * usage: xmpp send [options] JID... [-m TEXT | -f FILE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/die.h"
#include "../common/exitcode.h"
#include "../common/input.h"
#include "../common/jid.h"
#include "../common/session.h"
#include "../common/stanza.h"

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
    unsigned long line_no;        /* last line read */
    unsigned long first_unconfirmed; /* first sent line not yet confirmed */
    unsigned long last_sent;      /* last line sent */
    unsigned long sent_since_ping;
    unsigned long ping_line;      /* last_sent when the ping in flight left */
    bool ping_in_flight;
    int bad_lines;
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

/* One <message/> to each recipient (RFC 6121 §5.2). */
static void send_body(struct send *sd, const char *body)
{
    xmpp_ctx_t *ctx = sd->s.ctx;
    for (int i = 0; i < sd->nto; i++) {
        char *id = sd->id ? NULL : session_id(&sd->s);
        xmpp_stanza_t *m = xmpp_message_new(ctx, sd->type, sd->to[i],
                                            sd->id ? sd->id : id);
        if (sd->subject)
            stanza_add_text_child(m, "subject", sd->subject);
        xmpp_message_set_body(m, body);
        if (sd->thread)
            stanza_add_text_child(m, "thread", sd->thread);
        session_send(&sd->s, m);
        xmpp_stanza_release(m);
        if (id)
            xmpp_free(ctx, id);
    }
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
    if (!(rc = session_open(&sd->s, &sd->o))) {
        send_body(sd, body);
        rc = session_confirm(&sd->s);
        if (rc)
            warnx("%d message(s) not confirmed by the server", sd->nto);
    }
    free(body);
    return session_close(&sd->s, rc);
}

/* ---- --lines: stream stdin, confirming as we go ---- */

static int on_ping_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct send *sd = ud;
    (void)conn;
    (void)st;
    sd->first_unconfirmed = sd->ping_line + 1;
    sd->ping_in_flight = false;
    return 0;
}

/* Ask the server to confirm what it has so far: after a batch, or when
 * the input pauses. One ping at a time; RFC 6120 §10.1 in-order
 * processing makes its reply cover every message sent before it. */
static void maybe_ping(struct send *sd, bool idle)
{
    if (sd->ping_in_flight || sd->sent_since_ping == 0 ||
        (!idle && sd->sent_since_ping < 1000))
        return;
    xmpp_ctx_t *ctx = sd->s.ctx;
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", "xmpp-send-confirm");
    xmpp_stanza_t *ping = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
    xmpp_stanza_add_child_ex(iq, ping, 0);
    xmpp_id_handler_add(sd->s.conn, on_ping_reply, "xmpp-send-confirm", sd);
    xmpp_send(sd->s.conn, iq);
    xmpp_stanza_release(iq);
    sd->ping_in_flight = true;
    sd->ping_line = sd->last_sent;
    sd->sent_since_ping = 0;
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
    send_body(sd, text);
    if (text != line)
        free(text);
    if (!sd->first_unconfirmed || sd->first_unconfirmed > sd->last_sent)
        sd->first_unconfirmed = sd->line_no;
    sd->last_sent = sd->line_no;
    sd->sent_since_ping += (unsigned long)sd->nto;
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

static void report_unconfirmed(struct send *sd)
{
    if (sd->first_unconfirmed && sd->first_unconfirmed <= sd->last_sent)
        warnx("messages for stdin lines %lu-%lu were not confirmed by the "
              "server", sd->first_unconfirmed, sd->last_sent);
}

static int send_lines(struct send *sd)
{
    int rc = session_open(&sd->s, &sd->o);
    if (rc)
        return session_close(&sd->s, rc);
    /* Room for one line at the size limit plus a read's worth. */
    size_t cap = sd->max + 65536, have = 0;
    char *buf = malloc(cap + 1);
    bool eof = false;
    while (buf && !eof) {
        ssize_t n = -1;
        if (xmpp_conn_send_queue_len(sd->s.conn) < 2000)
            n = input_ready(0, buf + have, cap - have);
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
        maybe_ping(sd, n < 0);
        if (session_step(&sd->s, n > 0 ? 0 : 10) != SESSION_RUNNING)
            break;
    }
    if (buf && eof && have) {
        buf[have] = '\0';
        send_line(sd, buf, have);
    }
    free(buf);
    if (sd->s.status == SESSION_RUNNING) {
        rc = session_confirm(&sd->s);
        if (!rc)
            sd->first_unconfirmed = sd->last_sent + 1;
    } else {
        rc = sd->s.status;
    }
    report_unconfirmed(sd);
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

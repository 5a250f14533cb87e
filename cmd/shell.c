/* xmpp shell: the raw stanza pipe. Stanzas on stdin go to the server;
 * every stanza that arrives is printed as one line. For scripts and jq
 * pipelines that speak XMPP themselves. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/xmlin.h"
#include "common/io/xmljson.h"
#include "common/xmpp/query.h"

enum { OPT_JSON_IN = 1000, OPT_MAX_SIZE };

static const struct tool_opt opts[] = {
    {.help = "Pipe:"},
    {"json-in", OPT_JSON_IN, NULL,
     "read JSON Lines in the xmpp-iq(1) mapping,\n"
     "not XML"},
    {"max-size", OPT_MAX_SIZE, "BYTES",
     "refuse a stanza larger than this (default\n"
     "1 MiB)"},
    {.help = "Connection faults:"},
    OPTS_KEEPALIVE_ENTRY,
    OPTS_RECONNECT_ENTRY,
    {0},
};

static const char notes[] =
    "Input: message, presence and iq stanzas, one or many per line or one\n"
    "over many lines. A malformed one is reported with its line and column\n"
    "and skipped, with the rest of its line; nothing is sent half. 'from' is\n"
    "left to the server (to the component's address for a component); an\n"
    "IQ request without an id gets one. No presence is sent but yours.\n"
    "Output: each stanza that arrives as one line of XML, or JSON with\n"
    "--json. Runs until stdin ends, every IQ request sent is answered and\n"
    "the server has confirmed everything; -t sets a deadline.\n";

struct shell {
    struct session_opts *o;
    bool json_in;
    size_t max;
    struct session *s;
    struct xmlin *xml;
    char **ids; /* IQ requests sent and not answered yet */
    size_t nids, cap;
    size_t orphans; /* ...and never to be: sent on a lost session */
    unsigned long sent, asked_at; /* stanzas from stdin; when we asked */
    int bad;                      /* stanzas not sent */
    /* --json-in: the current line */
    char *line;
    size_t len, line_cap;
    unsigned long line_no;
    bool overlong;
    bool reader_gone; /* stdout was closed: stop, quietly */
};

static void init(void *tool);
static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

const struct tool tool_shell = {
    .name = "shell",
    .summary = "Pipe raw stanzas to and from the server",
    .operands = "[--json-in] [--max-size BYTES]",
    .opts = opts,
    .notes = notes,
    .flags = TOOL_LISTENER,
    .size = sizeof(struct shell),
    .init = init,
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

/* RFC 6120 §8: all a stream may carry. */
static const char *const stanzas[] = {"message", "presence", "iq", NULL};

static bool is_stanza(const char *name)
{
    for (int i = 0; stanzas[i]; i++)
        if (!strcmp(stanzas[i], name))
            return true;
    return false;
}

static void init(void *tool)
{
    struct shell *sh = tool;
    sh->max = INPUT_MAX_DEFAULT;
}

static int option(void *tool, int key, const char *arg)
{
    struct shell *sh = tool;
    switch (key) {
    case OPT_JSON_IN: sh->json_in = true; break;
    case OPT_MAX_SIZE: return opts_size(arg, &sh->max);
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* ---- IQ requests in flight ---- */

static void remember_id(struct shell *sh, const char *id)
{
    if (sh->nids == sh->cap) {
        size_t cap = sh->cap ? sh->cap * 2 : 16;
        char **ids = realloc(sh->ids, cap * sizeof *ids);
        if (!ids)
            return;
        sh->ids = ids;
        sh->cap = cap;
    }
    if ((sh->ids[sh->nids] = strdup(id)))
        sh->nids++;
}

/* Was id one of our requests? Forgets it. */
static bool answered(struct shell *sh, const char *id)
{
    for (size_t i = 0; id && i < sh->nids; i++) {
        if (strcmp(sh->ids[i], id))
            continue;
        free(sh->ids[i]);
        sh->ids[i] = sh->ids[--sh->nids];
        return true;
    }
    return false;
}

/* ---- stdin -> stream ---- */

static bool is_request(xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    return !strcmp(xmpp_stanza_get_name(st), "iq") && type &&
           (!strcmp(type, "get") || !strcmp(type, "set"));
}

/* Send a well-formed stanza; ours to release. Its answer, if it is an
 * IQ request, is waited for (RFC 6120 §8.2.3: every request has one). */
static void send_stanza(xmpp_stanza_t *st, void *ud)
{
    struct shell *sh = ud;
    if (is_request(st)) {
        if (!xmpp_stanza_get_id(st)) {
            char *id = session_id(sh->s);
            xmpp_stanza_set_id(st, id);
            xmpp_free(sh->s->ctx, id);
        }
        remember_id(sh, xmpp_stanza_get_id(st));
    }
    session_send(sh->s, st);
    sh->sent++;
    xmpp_stanza_release(st);
}

static void json_line(struct shell *sh, char *line, size_t len)
{
    char what[48];
    json_error_t err;
    xmpp_stanza_t *st;
    sh->line_no++;
    if (len && line[len - 1] == '\r')
        len--;
    if (strspn(line, " \t") >= len)
        return;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    snprintf(what, sizeof what, "stdin line %lu", sh->line_no);
    if (!j) {
        sh->bad++;
        fail(XE_DATA, "stdin: line %lu, column %d: %s; skipped", sh->line_no,
             err.column, err.text);
        return;
    }
    int rc = xmljson_to_stanza(sh->s->ctx, what, j, &st);
    json_decref(j);
    if (rc) {
        sh->bad++;
        return;
    }
    const char *name = xmpp_stanza_get_name(st);
    if (!is_stanza(name)) {
        sh->bad++;
        fail(XE_DATA,
             "%s: <%s> is not a stanza (message, presence or iq); "
             "skipped",
             what, name);
        xmpp_stanza_release(st);
        return;
    }
    send_stanza(st, sh);
}

/* JSON Lines: one stanza a line, each at most --max-size bytes. */
static void feed_json(struct shell *sh, const char *p, size_t n, bool final)
{
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t take = (size_t)((nl ? nl : end) - p);
        if (!sh->overlong && sh->len + take > sh->max) {
            sh->overlong = true;
            sh->bad++;
            fail(XE_DATA,
                 "stdin: line %lu: larger than %zu bytes "
                 "(--max-size); skipped",
                 sh->line_no + 1, sh->max);
        }
        if (!sh->overlong) {
            if (sh->len + take + 1 > sh->line_cap) {
                size_t cap = (sh->len + take + 1) * 2;
                char *b = realloc(sh->line, cap);
                if (!b)
                    return;
                sh->line = b;
                sh->line_cap = cap;
            }
            memcpy(sh->line + sh->len, p, take);
            sh->len += take;
            sh->line[sh->len] = '\0';
        }
        p += take;
        if (!nl)
            break;
        p++;
        if (sh->overlong)
            sh->line_no++;
        else
            json_line(sh, sh->line, sh->len);
        sh->len = 0;
        sh->overlong = false;
    }
    if (final && sh->len && !sh->overlong)
        json_line(sh, sh->line, sh->len);
}

static void feed(struct shell *sh, const char *buf, size_t n, bool final)
{
    if (sh->json_in)
        feed_json(sh, buf, n, final);
    else
        sh->bad += xmlin_feed(sh->xml, buf, n, final);
}

/* ---- stream -> stdout ---- */

static int on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct shell *sh = ud;
    (void)conn;
    const char *name = xmpp_stanza_get_name(st);
    const char *type = xmpp_stanza_get_type(st);
    if (!is_stanza(name)) /* stream management and the like */
        return 1;
    /* Answers to requests of the session's own (delivery confirmation)
     * are not the user's. */
    if (!strcmp(name, "iq") && type &&
        (!strcmp(type, "result") || !strcmp(type, "error")) &&
        !answered(sh, xmpp_stanza_get_id(st)))
        return 1;
    enum output_format fmt = sh->o->format == OUT_JSON ? OUT_JSON : OUT_XML;
    if (print_element(stdout, st, stream_ns(sh->s), fmt) < 0 ||
        out_flush(stdout) < 0) {
        sh->reader_gone = true;
        session_stop(sh->s, XE_OK);
    }
    return 1;
}

/* After a reconnect that could not resume the session (--reconnect):
 * the answers to requests sent on the lost one will never come. */
static int renew(struct session *s, void *ud)
{
    struct shell *sh = ud;
    (void)s;
    for (size_t i = 0; i < sh->nids; i++)
        free(sh->ids[i]);
    sh->orphans += sh->nids;
    sh->nids = 0;
    return 0;
}

/* With --reconnect, have what was sent confirmed whenever stdin pauses:
 * what is confirmed is not in doubt if the session is lost. */
static void ask_when_idle(struct shell *sh)
{
    if (sh->s->opt->reconnect && sh->sent != sh->asked_at) {
        session_request_ack(sh->s);
        sh->asked_at = sh->sent;
    }
}

/* Stream stdin until it ends, then wait for the answers. */
static int pipe_through(struct shell *sh)
{
    char buf[65536];
    bool eof = false;
    while (!eof) {
        ssize_t n = -1;
        if (xmpp_conn_send_queue_len(sh->s->conn) < 1000)
            n = input_available(0, buf, sizeof buf);
        eof = n == 0;
        if (n >= 0)
            feed(sh, buf, n > 0 ? (size_t)n : 0, eof);
        else
            ask_when_idle(sh);
        if (session_step(sh->s, n > 0 ? 0 : 10) != SESSION_RUNNING)
            return sh->s->status;
    }
    while (sh->nids)
        if (session_step(sh->s, 1000) != SESSION_RUNNING)
            return sh->s->status;
    return session_confirm(sh->s);
}

static int report(struct shell *sh, int rc)
{
    if (rc == XE_TIMEOUT && sh->nids)
        fail(rc, "deadline reached with %zu IQ request(s) unanswered",
             sh->nids);
    else if (rc == XE_TIMEOUT)
        fail(rc, "deadline reached");
    if (rc >= 128 || sh->reader_gone) /* how an interactive shell ends */
        return XE_OK;
    if (!rc && sh->s->out > sh->s->confirmed)
        rc = fail(XE_CONNLOST, "%lu stanza(s) not confirmed by the server",
                  sh->s->out - sh->s->confirmed);
    if (!rc && (sh->s->unsure || sh->orphans))
        rc = fail(XE_CONNLOST,
                  "a session was lost and could not be resumed: %lu "
                  "stanza(s) sent on it may not have reached the server, "
                  "%zu IQ request(s) went unanswered",
                  sh->s->unsure, sh->orphans);
    if (!rc && sh->bad)
        rc = fail(sh->xml && xmlin_out_of_memory(sh->xml) ? XE_OSERR : XE_DATA,
                  "%d stanza(s) were not sent", sh->bad);
    return rc;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct shell *sh = tool;
    sh->o = o;
    if (a->argc)
        return fail(XE_USAGE,
                    "unexpected argument '%s': stanzas come from "
                    "stdin",
                    a->argv[0]);
    return input_stdin_check();
}

static int run(void *tool, struct session *s)
{
    struct shell *sh = tool;
    sh->s = s;
    s->renew = renew;
    s->renew_ud = sh;
    sh->xml = xmlin_new(s->ctx, "stdin", sh->max, stanzas, send_stanza, sh);
    xmpp_handler_add(s->conn, on_stanza, NULL, NULL, NULL, sh);
    int rc = sh->xml ? pipe_through(sh) : fail_oom(NULL);
    rc = report(sh, rc);
    /* It was made with the session's context: gone before the session. */
    xmlin_free(sh->xml);
    sh->xml = NULL;
    return rc;
}

static void release(void *tool)
{
    struct shell *sh = tool;
    for (size_t i = 0; i < sh->nids; i++)
        free(sh->ids[i]);
    free(sh->ids);
    free(sh->line);
}

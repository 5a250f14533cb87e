/* xmpp recv: print incoming messages, one per line, until a count, an
 * idle spell, the deadline or a signal.
 *
 * usage: xmpp recv [options]
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/net/session.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/muc.h"
#include "common/xmpp/presence.h"
#include "common/xmpp/stanza.h"

static const char help[] =
    "Receiving:\n"
    "      --from JID           only messages from JID (bare: any resource)\n"
    "      --type TYPE          only messages of this type (chat, normal,\n"
    "                           headline, groupchat, error)\n"
    "  -n, --count N            stop after N messages\n"
    "      --idle SECONDS       stop after SECONDS without a message\n"
    "      --all                also messages without a body (chat states,\n"
    "                           receipts)\n"
    "      --priority N         presence priority, -128..127 (default 0)\n"
    "      --no-presence        send no presence: only messages to our full\n"
    "                           JID arrive\n"
    "      --reconnect          when the connection drops, reconnect with\n"
    "                           backoff and resume the session (XEP-0198)\n"
    "Group chat (XEP-0045):\n"
    "      --muc ROOM           join ROOM@SERVICE (repeat for more) and print\n"
    "                           only the rooms' messages; FROM is ROOM/NICK;\n"
    "                           our own are skipped unless --all\n"
    "      --nick NICK          nick in the rooms (default: the JID's localpart;\n"
    "                           a taken nick becomes NICK-2 ... NICK-5)\n"
    "      --history N          ask the rooms for their last N messages\n"
    "                           (default 0)\n"
    "      --room-password-file FILE  the rooms' password, from FILE's first "
    "line\n"
    "Output: FROM<TAB>TYPE<TAB>BODY with \\ TAB LF escaped as \\\\ \\t \\n;\n"
    "--json: from, to, type, id, thread, subject, body, delay; --xml: stanzas.\n";

enum {
    OPT_FROM = 1000,
    OPT_TYPE,
    OPT_IDLE,
    OPT_ALL,
    OPT_PRIORITY,
    OPT_NO_PRESENCE,
    OPT_RECONNECT,
    OPT_MUC,
    OPT_NICK,
    OPT_HISTORY,
    OPT_ROOM_PASSWORD_FILE
};

static const struct option options[] = {
    {"from", required_argument, NULL, OPT_FROM},
    {"type", required_argument, NULL, OPT_TYPE},
    {"count", required_argument, NULL, 'n'},
    {"idle", required_argument, NULL, OPT_IDLE},
    {"all", no_argument, NULL, OPT_ALL},
    {"priority", required_argument, NULL, OPT_PRIORITY},
    {"no-presence", no_argument, NULL, OPT_NO_PRESENCE},
    {"reconnect", no_argument, NULL, OPT_RECONNECT},
    {"muc", required_argument, NULL, OPT_MUC},
    {"nick", required_argument, NULL, OPT_NICK},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"room-password-file", required_argument, NULL, OPT_ROOM_PASSWORD_FILE},
    {NULL, 0, NULL, 0},
};

static int cmd_recv(int argc, char **argv);

const struct tool tool_recv = {
    .name = "recv",
    .run = cmd_recv,
    .summary = "Print incoming messages",
    .synopsis = "[options]",
    .help = help,
    .shortopts = "n:",
    .options = options,
    .flags = TOOL_LISTENER,
};

struct recv {
    struct session_opts o;
    const char *from, *type;
    long count, priority;
    double idle;
    bool all, no_presence;
    struct muc muc; /* --muc rooms */
    struct session s;
    long got;
    long long last_activity;
};

static int on_opt(int c, const char *arg, void *ud)
{
    struct recv *r = ud;
    const char *why;
    switch (c) {
    case OPT_FROM:
        if ((why = jid_check(arg)))
            return fail(XE_DATA, "--from %s: invalid JID: %s", arg, why);
        r->from = arg;
        break;
    case OPT_TYPE:
        if (strcmp(arg, "chat") && strcmp(arg, "normal") &&
            strcmp(arg, "headline") && strcmp(arg, "groupchat") &&
            strcmp(arg, "error"))
            return fail(XE_USAGE,
                        "--type %s: use chat, normal, headline, "
                        "groupchat or error",
                        arg);
        r->type = arg;
        break;
    case OPT_ALL: r->all = true; break;
    case OPT_NO_PRESENCE: r->no_presence = true; break;
    case OPT_RECONNECT: r->o.reconnect = true; break;
    case OPT_MUC: return muc_add(&r->muc, arg) ? XE_DATA : OPTS_CONTINUE;
    case OPT_NICK:
        r->muc.nick = arg;
        return muc_check_nick(arg) ? XE_DATA : OPTS_CONTINUE;
    case OPT_HISTORY:
        if (opts_int(arg, 0, 1000000, &r->muc.history) < 0)
            return fail(XE_USAGE, "--history %s: give a number of messages",
                        arg);
        break;
    case OPT_ROOM_PASSWORD_FILE: {
        int rc = muc_read_password(&r->muc, arg);
        return rc ? rc : OPTS_CONTINUE;
    }
    case 'n':
        if (opts_int(arg, 1, 1L << 40, &r->count) < 0)
            return fail(XE_USAGE, "--count %s: give a positive number", arg);
        break;
    case OPT_IDLE:
        if (opts_seconds(arg, &r->idle) < 0 || r->idle <= 0)
            return fail(XE_USAGE, "--idle %s: give seconds", arg);
        break;
    case OPT_PRIORITY:
        if (opts_int(arg, -128, 127, &r->priority) < 0)
            return fail(XE_USAGE, "--priority %s: give -128..127", arg);
        break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

static void print_message(struct recv *r, xmpp_stanza_t *st, const char *type,
                          const char *body)
{
    const char *from = xmpp_stanza_get_from(st);
    if (r->o.format == OUT_XML) {
        out_xml(stdout, st);
        putchar('\n');
    } else if (r->o.format == OUT_JSON) {
        char *subject = stanza_child_text(st, "subject");
        char *thread = stanza_child_text(st, "thread");
        json_t *j = json_object();
        out_json_set(j, "from", from);
        out_json_set(j, "to", xmpp_stanza_get_to(st));
        out_json_set(j, "type", type);
        out_json_set(j, "id", xmpp_stanza_get_id(st));
        out_json_set(j, "thread", thread);
        out_json_set(j, "subject", subject);
        out_json_set(j, "body", body);
        out_json_set(j, "delay", stanza_delay_stamp(st));
        out_json(stdout, j);
        xmpp_free(r->s.ctx, subject);
        xmpp_free(r->s.ctx, thread);
    } else {
        out_text(stdout, from);
        putchar('\t');
        out_text(stdout, type);
        putchar('\t');
        out_text(stdout, body);
        putchar('\n');
    }
}

/* XEP-0184 §5.4: a message we printed is delivered; say so when the
 * sender asked. Not for groupchat (§5.3) or errors. */
static void send_receipt(struct recv *r, xmpp_stanza_t *st, const char *type)
{
    const char *id = xmpp_stanza_get_id(st);
    const char *from = xmpp_stanza_get_from(st);
    if (!id || !from || !strcmp(type, "groupchat") || !strcmp(type, "error") ||
        !xmpp_stanza_get_child_by_name_and_ns(st, "request",
                                              "urn:xmpp:receipts"))
        return;
    char *rid = session_id(&r->s);
    xmpp_stanza_t *m = xmpp_message_new(r->s.ctx, NULL, from, rid);
    xmpp_stanza_t *rc = xmpp_stanza_new(r->s.ctx);
    xmpp_stanza_set_name(rc, "received");
    xmpp_stanza_set_ns(rc, "urn:xmpp:receipts");
    xmpp_stanza_set_attribute(rc, "id", id);
    xmpp_stanza_add_child_ex(m, rc, 0);
    session_send(&r->s, m);
    xmpp_stanza_release(m);
    xmpp_free(r->s.ctx, rid);
}

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct recv *r = ud;
    (void)conn;
    if (r->s.status != SESSION_RUNNING)
        return 1; /* stopped: left unacked for the server to keep */
    const char *type = xmpp_stanza_get_type(st);
    if (!type)
        type = "normal"; /* RFC 6121 §5.2.2 */
    if (r->from && !jid_matches(xmpp_stanza_get_from(st), r->from))
        return 1;
    if (r->muc.n &&
        (!muc_room_of(&r->muc, xmpp_stanza_get_from(st)) ||
         (!r->all && muc_is_self(&r->muc, xmpp_stanza_get_from(st)))))
        return 1; /* with --muc, the rooms' messages but our own */
    if (r->type && strcmp(type, r->type))
        return 1;
    char *body = xmpp_message_get_body(st);
    if (body || r->all) {
        print_message(r, st, type, body);
        r->last_activity = now_ms();
        if (out_flush(stdout) < 0) {
            session_stop(&r->s, XE_OK); /* the reader went away */
        } else {
            send_receipt(r, st, type);
            if (r->count && ++r->got >= r->count)
                session_stop(&r->s, XE_OK);
        }
    }
    xmpp_free(r->s.ctx, body);
    return 1;
}

static void send_presence(struct recv *r)
{
    xmpp_stanza_t *p =
        presence_build(r->s.ctx, NULL, NULL, NULL, NULL, r->priority);
    session_send(&r->s, p);
    xmpp_stanza_release(p);
}

/* Has the reader of our output gone (`xmpp recv | grep -m1 ...`)? A
 * pipe with no reader left shows POLLERR on our end. */
static bool reader_gone(void)
{
    struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* Run until something ends it; the idle timer and the reader are checked
 * between events. A signal is how a listener is meant to stop: exit 0. */
static int listen(struct recv *r)
{
    r->last_activity = now_ms();
    long long idle_ms = (long long)(r->idle * 1000);
    for (;;) {
        int st = session_step(&r->s, 200);
        if (st == XE_CONNLOST && r->o.reconnect) {
            if ((st = session_reconnect(&r->s)) == 0) {
                /* A new session: announce it, or be in the rooms again. */
                if (!r->s.resumed && r->muc.n)
                    st = muc_join(&r->muc, &r->s);
                else if (!r->s.resumed && !r->no_presence)
                    send_presence(r);
                if (!st)
                    continue;
            }
        }
        if (st != SESSION_RUNNING)
            return st >= 128 ? XE_OK : st;
        if (idle_ms && now_ms() - r->last_activity >= idle_ms)
            return XE_OK;
        if (reader_gone())
            return XE_OK;
    }
}

/* The job; the rooms are freed by cmd_recv, whichever way it ends. */
static int run_recv(struct recv *r, int argc, char **argv)
{
    int first, rc = opts_parse(argc, argv, &r->o, on_opt, r, &first);
    if (rc != OPTS_CONTINUE)
        return rc;
    if (first < argc)
        return fail(XE_USAGE, "unexpected argument '%s'", argv[first]);
    if (!r->muc.n && (r->muc.nick || r->muc.password || r->muc.history))
        return fail(XE_USAGE, "--nick, --history and --room-password-file "
                              "go with --muc ROOM");
    if (!(rc = session_open(&r->s, &r->o))) {
        xmpp_handler_add(r->s.conn, on_message, NULL, "message", NULL, r);
        session_answer_iqs(&r->s);
        if (!r->no_presence && !r->muc.n &&
            !r->o.component) /* XEP-0114: no session */
            send_presence(r);
        if (!r->muc.n || !(rc = muc_join(&r->muc, &r->s)))
            rc = listen(r);
        if (rc == XE_TIMEOUT && !r->count)
            rc = XE_OK;
        else if (rc == XE_TIMEOUT)
            fail(XE_TIMEOUT, "deadline reached after %ld of %ld messages",
                 r->got, r->count);
        muc_leave(&r->muc);
    }
    fflush(stdout);
    return session_close(&r->s, rc);
}

static int cmd_recv(int argc, char **argv)
{
    struct recv r = {0};
    int rc = run_recv(&r, argc, argv);
    muc_free(&r.muc);
    return rc;
}

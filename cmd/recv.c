/* xmpp recv: print incoming messages, one per line, until a count, an
 * idle spell, the deadline or a signal. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/datetime.h"
#include "common/io/output.h"
#include "common/net/session.h"
#include "common/omemo/omemo.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/message.h"
#include "common/xmpp/muc.h"
#include "common/xmpp/presence.h"
#include "common/xmpp/stanza.h"

enum {
    OPT_FROM = 1000,
    OPT_TYPE,
    OPT_IDLE,
    OPT_ALL,
    OPT_PRIORITY,
    OPT_NO_PRESENCE,
    OPT_LIVE,
    OPT_SINCE,
};

static const struct tool_opt opts[] = {
    {.help = "Receiving:"},
    {"from", OPT_FROM, "JID", "only messages from JID (bare: any resource)"},
    {"type", OPT_TYPE, "TYPE",
     "only messages of this type (chat, normal,\n"
     "headline, groupchat, error)",
     0, "chat normal headline groupchat error"},
    {"count", 'n', "N", "stop after N messages"},
    {"idle", OPT_IDLE, "SECONDS", "stop after SECONDS without a message"},
    {"live", OPT_LIVE, NULL,
     "only messages sent from now on: skip offline\n"
     "storage, room history and anything delayed"},
    {"since", OPT_SINCE, "TIME",
     "only messages sent since TIME: ISO 8601\n"
     "(2024-05-01T12:00Z) or a span back (10m, 2h, 1d)"},
    {"all", OPT_ALL, NULL,
     "also messages without a body (chat states,\n"
     "receipts)"},
    {"priority", OPT_PRIORITY, "N", "presence priority, -128..127 (default 0)"},
    {"no-presence", OPT_NO_PRESENCE, NULL,
     "send no presence: only messages to our full\n"
     "JID arrive"},
    {.help = "Connection faults:"},
    OPTS_KEEPALIVE_ENTRY,
    OPTS_RECONNECT_ENTRY,
    {.help = "Group chat (XEP-0045):"},
    {"muc", MUC_OPT_MUC, "ROOM",
     "join ROOM@SERVICE (repeat for more) and print\n"
     "only the rooms' messages; FROM is ROOM/NICK;\n"
     "our own are skipped unless --all",
     OPT_REPEAT},
    MUC_OPT_NICK_ENTRY,
    MUC_OPT_HISTORY_ENTRY,
    MUC_OPT_ROOM_PASSWORD_FILE_ENTRY,
    {0},
};

static const char notes[] =
    "Output: FROM<TAB>TYPE [delay: STAMP] [subject: SUBJECT]<TAB>BODY, the\n"
    "brackets only for a delayed message or one with a subject; \\ TAB LF CR\n"
    "as \\\\ \\t \\n \\r and other controls as \\xHH or \\uHHHH (xmpp(1),\n"
    "TEXT OUTPUT); an OMEMO message not decrypted has the BODY\n"
    "[OMEMO message not decrypted: REASON]; --json: kind, from, to, type,\n"
    "id, thread, subject, body, delay, and for OMEMO encrypted, trust,\n"
    "decrypt_error; --xml: stanzas as received.\n";

struct recv {
    struct session_opts *o;
    const char *from, *type;
    long count, priority;
    double idle;
    bool all, no_presence;
    bool live;             /* --live: nothing delayed */
    const char *since_arg; /* --since, as given */
    double since;          /* ...as a time */
    char since_stamp[32];  /* ...as XEP-0082, for the rooms */
    struct muc muc;        /* --muc rooms */
    struct session *s;
    struct omemo *om; /* this account's OMEMO keys, if it has any */
    /* Sender devices whose sessions broke, repaired between events (it
     * takes a round trip), once a run each; and whether -n was reached
     * while some waited. */
    struct repair {
        char *jid;
        uint32_t dev;
        unsigned gen;
        bool done;
    } * repair;
    size_t nrepair, pending;
    bool done;
    long got;
    long long last_activity;
};

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

const struct tool tool_recv = {
    .name = "recv",
    .summary = "Print incoming messages",
    .opts = opts,
    .notes = notes,
    .flags = TOOL_LISTENER,
    .size = sizeof(struct recv),
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static int option(void *tool, int key, const char *arg)
{
    struct recv *r = tool;
    const char *why;
    switch (key) {
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
    case OPT_LIVE: r->live = true; break;
    case OPT_SINCE:
        if (datetime_since(arg, datetime_now(), &r->since) < 0)
            return fail(XE_USAGE,
                        "--since %s: give an ISO 8601 time "
                        "(2024-05-01T12:00:00Z) or a span back from now "
                        "(30s, 10m, 2h, 1d)",
                        arg);
        r->since_arg = arg;
        break;
    case MUC_OPT_MUC:
    case MUC_OPT_NICK:
    case MUC_OPT_HISTORY:
    case MUC_OPT_ROOM_PASSWORD_FILE: return muc_option(&r->muc, key, arg);
    case 'n':
        if (opts_int(arg, 1, OPTS_COUNT_MAX, &r->count) < 0)
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
    char *rid = session_id(r->s);
    xmpp_stanza_t *m = xmpp_message_new(r->s->ctx, NULL, from, rid);
    xmpp_stanza_t *rc = xmpp_stanza_new(r->s->ctx);
    xmpp_stanza_set_name(rc, "received");
    xmpp_stanza_set_ns(rc, "urn:xmpp:receipts");
    xmpp_stanza_set_attribute(rc, "id", id);
    xmpp_stanza_add_child_ex(m, rc, 0);
    session_send(r->s, m);
    xmpp_stanza_release(m);
    xmpp_free(r->s->ctx, rid);
}

/* --live and --since: was the message sent before what we want? Its
 * time is its XEP-0203 delay stamp, or now for one without: offline
 * storage and room history carry one (§1), a live message none. */
static bool too_old(const struct recv *r, xmpp_stanza_t *st)
{
    const char *stamp = stanza_delay_stamp(st);
    double t;
    if (r->live)
        return stamp != NULL;
    if (!r->since_arg)
        return false;
    if (!stamp)
        return datetime_now() < r->since; /* a --since in the future */
    return datetime_parse(stamp, &t) < 0 || t < r->since;
}

/* A message printed: count it, confirm it, stop when told (after the
 * session repairs still to do). */
static void printed(struct recv *r, xmpp_stanza_t *st, const char *type)
{
    r->last_activity = now_ms();
    if (out_flush(stdout) < 0) {
        session_stop(r->s, XE_OK); /* the reader went away */
    } else {
        send_receipt(r, st, type);
        if (r->count && ++r->got >= r->count && !(r->done = r->pending))
            session_stop(r->s, XE_OK);
    }
}

/* Remember a sender device whose session (of generation gen) broke
 * (once). */
static void want_repair(struct recv *r, const char *from, uint32_t dev,
                        unsigned gen)
{
    size_t n = jid_bare_len(from);
    for (size_t i = 0; i < r->nrepair; i++)
        if (r->repair[i].dev == dev && r->repair[i].gen == gen &&
            !strncmp(r->repair[i].jid, from, n) && !r->repair[i].jid[n])
            return;
    struct repair *p = realloc(r->repair, (r->nrepair + 1) * sizeof *p);
    char *jid = strndup(from, n);
    if (!p || !jid) {
        free(jid);
        if (p)
            r->repair = p;
        return;
    }
    r->repair = p;
    r->repair[r->nrepair++] = (struct repair){jid, dev, gen, false};
    r->pending++;
}

/* Repair the sessions that broke; with -n reached meanwhile, stop. */
static int do_repairs(struct recv *r)
{
    int rc = 0;
    for (size_t i = 0; i < r->nrepair && !rc; i++) {
        if (r->repair[i].done)
            continue;
        r->repair[i].done = true;
        r->pending--;
        rc = omemo_repair(r->om, r->s, r->repair[i].jid, r->repair[i].dev,
                          r->repair[i].gen);
    }
    if (rc && rc != XE_UNAVAILABLE && rc != XE_CONFIG)
        return rc; /* the session ended */
    return r->done ? XE_OK : SESSION_RUNNING;
}

/* XEP-0384 v0.3 §4.6, v0.8 §4.6: decrypt for our device. One that
 * cannot be read is printed with the reason, not dropped; an empty
 * message that only keeps a session going (key transport) is shown
 * with --all only. */
static void decrypt_and_print(struct recv *r, xmpp_stanza_t *st,
                              xmpp_stanza_t *enc, const char *type)
{
    struct omemo_plain p = {
        .why = "this account has no OMEMO keys (xmpp omemo publish)",
        .gen =
            strcmp(xmpp_stanza_get_ns(enc), NS_OMEMO2) ? OMEMO_V03 : OMEMO_V2};
    if (r->om)
        omemo_decrypt(r->om, st, xmpp_stanza_get_from(st), &p);
    if (p.prekey_used) /* XEP-0384 §5.3.2: replace the used prekey */
        omemo_refill(r->om, r->s);
    if (p.broken && xmpp_stanza_get_from(st) && strcmp(type, "groupchat"))
        want_repair(r, xmpp_stanza_get_from(st), p.sid, p.gen);
    bool transport = !p.text && p.why && !strncmp(p.why, "a key transport", 15);
    if (!transport || r->all) {
        struct message_crypt c = {.why = p.text ? NULL : p.why,
                                  .trust = omemo_trust_name(p.trust),
                                  .scheme =
                                      p.gen == OMEMO_V2 ? "omemo2" : "omemo"};
        message_print(st, type, p.text, r->o->format, &c);
        printed(r, st, type);
    }
    free(p.text);
}

static int on_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct recv *r = ud;
    (void)conn;
    if (r->s->status != SESSION_RUNNING)
        return 1; /* stopped: left unacked for the server to keep */
    if (!stanza_from_ok(st))
        return 1;
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
    if (too_old(r, st))
        return 1;
    xmpp_stanza_t *enc = omemo_element(st);
    if (enc) {
        decrypt_and_print(r, st, enc, type);
        return 1;
    }
    char *body = xmpp_message_get_body(st);
    if (body || r->all) {
        message_print(st, type, body, r->o->format, NULL);
        printed(r, st, type);
    }
    xmpp_free(r->s->ctx, body);
    return 1;
}

static void send_presence(struct recv *r)
{
    xmpp_stanza_t *p =
        presence_build(r->s->ctx, NULL, NULL, NULL, NULL, r->priority);
    session_send(r->s, p);
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
        int st = session_step(r->s, 200);
        if (st == SESSION_RUNNING && r->pending)
            st = do_repairs(r);
        if (st != SESSION_RUNNING)
            return st >= 128 ? XE_OK : st;
        if (idle_ms && now_ms() - r->last_activity >= idle_ms)
            return XE_OK;
        if (reader_gone())
            return XE_OK;
    }
}

/* After a reconnect that could not resume the session (--reconnect):
 * announce the new one, or be in the rooms again. */
static int renew(struct session *s, void *ud)
{
    struct recv *r = ud;
    if (r->muc.n)
        return muc_join(&r->muc, s);
    if (!r->no_presence && !r->o->component)
        send_presence(r);
    return 0;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct recv *r = tool;
    r->o = o;
    if (a->argc)
        return fail(XE_USAGE, "unexpected argument '%s'", a->argv[0]);
    if (r->live && r->since_arg)
        return fail(XE_USAGE, "--live is --since now without anything "
                              "delayed: choose one");
    if (r->live && r->muc.history)
        return fail(XE_USAGE, "--live skips the --history it would ask "
                              "for: choose one");
    if (r->since_arg && r->muc.n) /* XEP-0045 §7.2.14 */
        r->muc.since =
            datetime_format(r->since, r->since_stamp, sizeof r->since_stamp);
    return muc_check_options(&r->muc);
}

static int run(void *tool, struct session *s)
{
    struct recv *r = tool;
    int rc;
    r->s = s;
    s->renew = renew;
    s->renew_ud = r;
    /* Decrypt when the account has keys; a broken store is an error. */
    if (!r->o->component && omemo_has_keys(s->creds.jid) &&
        (rc = omemo_open(&r->om, s->creds.jid, false)))
        return rc;
    xmpp_handler_add(s->conn, on_message, NULL, "message", NULL, r);
    session_answer_iqs(s);
    if (!r->no_presence && !r->muc.n &&
        !r->o->component) /* XEP-0114: no session */
        send_presence(r);
    if (!r->muc.n || !(rc = muc_join(&r->muc, s)))
        rc = listen(r);
    if (rc == XE_TIMEOUT && !r->count)
        rc = XE_OK;
    else if (rc == XE_TIMEOUT)
        fail(XE_TIMEOUT, "deadline reached after %ld of %ld messages", r->got,
             r->count);
    muc_leave(&r->muc);
    return rc;
}

static void release(void *tool)
{
    struct recv *r = tool;
    muc_free(&r->muc);
    omemo_close(r->om);
    for (size_t i = 0; i < r->nrepair; i++)
        free(r->repair[i].jid);
    free(r->repair);
}

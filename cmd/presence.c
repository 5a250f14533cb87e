/* xmpp presence: be online with a show and status, see who is online,
 * wait for a contact to come or go, watch the changes (RFC 6121 §4). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/net/session.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/presence.h"
#include "common/xmpp/roster.h"
#include "common/xmpp/stanza.h"

enum {
    O_SHOW = 1000,
    O_STATUS,
    O_PRIORITY,
    O_FOR,
    O_STDIN,
    O_WAIT,
    O_ALL,
    O_ONLINE,
    O_OFFLINE
};

static const struct tool_opt opts[] = {
    {.help = "Options:"},
    {"show", O_SHOW, "SHOW", "away, chat, dnd or xa (default: available)", 0,
     "away chat dnd xa"},
    {"status", O_STATUS, "TEXT", "the status message"},
    {"priority", O_PRIORITY, "N",
     "-128..127 (default -1: messages to the bare\n"
     "JID and offline messages are left to other\n"
     "clients)"},
    {"for", O_FOR, "SECONDS", "set: go unavailable after SECONDS"},
    {"stdin", O_STDIN, NULL,
     "set: stay until stdin closes; each line read\n"
     "becomes the status"},
    {"wait", O_WAIT, "SECONDS",
     "list, probe: how long presences may take to\n"
     "arrive (default 2)"},
    {"all", O_ALL, NULL,
     "list: also contacts with no resource online,\n"
     "as 'unavailable'"},
    {"online", O_ONLINE, NULL, "wait: until available (the default)"},
    {"offline", O_OFFLINE, NULL, "wait: until no resource is available"},
    {"count", 'n', "N", "watch: stop after N presences"},
    {.help = "Connection faults:"},
    OPTS_KEEPALIVE_ENTRY,
    OPTS_RECONNECT_ENTRY,
    OPTS_RETRY_ENTRY,
    {0},
};

static const char notes[] =
    "SHOW is available, away, chat, dnd, xa or unavailable (watch: also\n"
    "subscribe, subscribed, unsubscribe, unsubscribed). The deadline\n"
    "(--timeout) ends wait with status 75; a signal ends set and watch with 0.\n";

static int run_set(void *tool, struct session *s);
static int run_list(void *tool, struct session *s);
static int run_wait(void *tool, struct session *s);
static int run_watch(void *tool, struct session *s);
static int run_probe(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"set", NULL, 0, 0,
     "be online until --for, a signal or, with\n"
     "--stdin, the end of stdin; then unavailable",
     "show status priority for stdin keepalive reconnect", run_set},
    {"list", NULL, 0, 0,
     "who is online (the default):\n"
     "JID/RESOURCE<TAB>SHOW<TAB>PRIORITY<TAB>STATUS",
     "wait all retry", run_list},
    {"wait", "JID", 1, 1, "until JID is available (bare: any resource)",
     "online offline keepalive reconnect", run_wait},
    {"watch", "[JID]", 0, 1, "print presence changes as they come",
     "count keepalive reconnect", run_watch},
    {"probe", "JID", 1, 1, "ask the server for a contact's presence",
     "wait retry", run_probe},
    {0},
};

static void init(void *tool);
static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

/* Presences by JID: what each resource said last. */
struct entry {
    char *jid;
    xmpp_stanza_t *st;
};
struct table {
    struct entry *v;
    size_t n;
};

struct presence_cmd {
    struct session_opts *o;
    const struct tool_sub *sub;
    const char *show, *status;
    long priority, count;
    double for_s, wait_s;
    bool has_for, use_stdin, all, online, offline; /* the options given */
    const char *target; /* wait, probe, watch: the contact */
    struct session *s;
    char *me;   /* our full JID, whose echo we skip */
    char *said; /* set: the status we sent last */
    struct roster r;
    struct table avail; /* available resources, by full JID */
    struct table gone;  /* the last unavailable, by bare JID */
    bool heard;         /* wait, probe: the target said something */
    bool synced;        /* wait: the initial presences are in */
    bool done;          /* wait: the condition holds */
    bool explained;     /* a deadline was reported in its own words */
    long printed;
    int bad_lines;
    /* Called for each presence after the tables are updated. */
    void (*on_change)(struct presence_cmd *c, xmpp_stanza_t *st);
};

const struct tool tool_presence = {
    .name = "presence",
    .summary = "Set, list, wait for and watch presence",
    .opts = opts,
    .subs = subs,
    .default_sub = "list",
    .notes = notes,
    .flags = TOOL_LISTENER,
    .size = sizeof(struct presence_cmd),
    .init = init,
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static void init(void *tool)
{
    struct presence_cmd *c = tool;
    c->priority = -1;
    c->wait_s = 2;
}

static int option(void *tool, int key, const char *arg)
{
    struct presence_cmd *c = tool;
    switch (key) {
    case O_SHOW:
        if (!presence_show_valid(arg))
            return fail(XE_USAGE, "--show %s: use away, chat, dnd or xa", arg);
        c->show = arg;
        break;
    case O_STATUS: c->status = arg; break;
    case O_PRIORITY:
        if (opts_int(arg, -128, 127, &c->priority) < 0)
            return fail(XE_USAGE, "--priority %s: give -128..127", arg);
        break;
    case O_FOR:
        if (opts_seconds(arg, &c->for_s) < 0)
            return fail(XE_USAGE, "--for %s: give seconds", arg);
        c->has_for = true;
        break;
    case O_WAIT:
        if (opts_seconds(arg, &c->wait_s) < 0)
            return fail(XE_USAGE, "--wait %s: give seconds", arg);
        break;
    case 'n':
        if (opts_int(arg, 1, OPTS_COUNT_MAX, &c->count) < 0)
            return fail(XE_USAGE, "--count %s: give a positive number", arg);
        break;
    case O_STDIN: c->use_stdin = true; break;
    case O_ALL: c->all = true; break;
    case O_ONLINE: c->online = true; break;
    case O_OFFLINE: c->offline = true; break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* ---- the presence tables ---- */

static struct entry *table_find(struct table *t, const char *jid)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].jid, jid))
            return &t->v[i];
    return NULL;
}

/* Keep a copy of st under jid, replacing what was there. */
static void table_put(struct table *t, const char *jid, xmpp_stanza_t *st)
{
    struct entry *e = table_find(t, jid);
    if (!e) {
        struct entry *v = realloc(t->v, (t->n + 1) * sizeof *v);
        char *key = strdup(jid);
        if (!v || !key) {
            free(key);
            if (v)
                t->v = v;
            return;
        }
        t->v = v;
        e = &t->v[t->n++];
        e->jid = key;
        e->st = NULL;
    }
    if (e->st)
        xmpp_stanza_release(e->st);
    e->st = xmpp_stanza_copy(st);
}

/* Drop every entry that jid covers (a bare JID: all its resources). */
static void table_drop(struct table *t, const char *jid)
{
    for (size_t i = 0; i < t->n;) {
        if (!jid_matches(t->v[i].jid, jid)) {
            i++;
            continue;
        }
        free(t->v[i].jid);
        xmpp_stanza_release(t->v[i].st);
        t->v[i] = t->v[--t->n];
    }
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].jid);
        xmpp_stanza_release(t->v[i].st);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

/* The first available resource that jid covers, or NULL. */
static struct entry *table_match(struct table *t, const char *jid)
{
    for (size_t i = 0; i < t->n; i++)
        if (jid_matches(t->v[i].jid, jid))
            return &t->v[i];
    return NULL;
}

static char *bare_of(const char *jid)
{
    return strndup(jid, jid_bare_len(jid));
}

/* Does this presence speak for the target? A bare unavailable speaks
 * for every resource (RFC 6121 §4.3.2: the answer to a probe). */
static bool about_target(struct presence_cmd *c, const char *from)
{
    if (jid_matches(from, c->target))
        return true;
    size_t n = jid_bare_len(c->target);
    return !strchr(from, '/') && strlen(from) == n &&
           !strncasecmp(from, c->target, n);
}

static int on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct presence_cmd *c = ud;
    (void)conn;
    const char *from = xmpp_stanza_get_from(st);
    const char *type = xmpp_stanza_get_type(st);
    if (!from || !stanza_from_ok(st) || (c->me && !strcmp(from, c->me)))
        return 1;
    if (!type) {
        table_put(&c->avail, from, st);
    } else if (!strcmp(type, "unavailable")) {
        char *bare = bare_of(from);
        table_drop(&c->avail, from);
        if (bare)
            table_put(&c->gone, bare, st);
        free(bare);
    }
    if (c->target && about_target(c, from) &&
        (!type || !strcmp(type, "unavailable")))
        c->heard = true;
    if (c->on_change)
        c->on_change(c, st);
    return 1;
}

/* ---- helpers ---- */

/* Our own presence: initial, or an update; the status is remembered
 * for a new session after a reconnect. */
static void send_own(struct presence_cmd *c, const char *status)
{
    if (status != c->said) {
        free(c->said);
        c->said = status ? strdup(status) : NULL;
    }
    xmpp_stanza_t *p =
        presence_build(c->s->ctx, NULL, NULL, c->show, status, c->priority);
    session_send(c->s, p);
    xmpp_stanza_release(p);
}

/* Initial presence, then session_confirm(): RFC 6120 §10.1 in-order
 * processing means that once the server has confirmed our presence (an
 * XEP-0198 ack or a ping's answer) it has sent us every presence it had
 * at hand (our other resources, local contacts' answers to its probes).
 * Remote contacts answer later. */
static int go_online(struct presence_cmd *c)
{
    xmpp_handler_add(c->s->conn, on_presence, NULL, "presence", NULL, c);
    send_own(c, NULL);
    return session_confirm(c->s);
}

/* Run the loop until ms have passed or *done; 0, or how it ended. */
static int run_for(struct presence_cmd *c, long long ms, const bool *done)
{
    long long until = now_ms() + ms;
    while (!(done && *done)) {
        long long left = until - now_ms();
        if (left <= 0)
            return 0;
        int st = session_step(c->s, (unsigned long)(left < 1000 ? left : 1000));
        if (st != SESSION_RUNNING)
            return st;
    }
    return 0;
}

static bool is_own_account(struct presence_cmd *c, const char *jid)
{
    size_t n = jid_bare_len(c->me), m = jid_bare_len(jid);
    return n == m && !strncasecmp(c->me, jid, n);
}

static int print_flush(struct presence_cmd *c, xmpp_stanza_t *st)
{
    presence_print(stdout, c->o->format, st);
    c->printed++;
    return out_flush(stdout);
}

/* ---- set ---- */

/* A line from stdin becomes the status; an empty one clears it. */
static void status_line(struct presence_cmd *c, char *line, size_t len,
                        unsigned long no)
{
    size_t at;
    const char *why;
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    if ((why = utf8_check(line, len, &at))) {
        fail(XE_DATA, "stdin line %lu: %s at byte %zu; skipped", no, why, at);
        c->bad_lines++;
        return;
    }
    send_own(c, len ? line : NULL);
}

#define LINE_MAX_BYTES 65536

struct lines {
    char buf[LINE_MAX_BYTES];
    size_t have;
    unsigned long no;
    bool skipping; /* inside a line over the limit */
};

/* Take what stdin has; returns false at its end. */
static bool pump_stdin(struct presence_cmd *c, struct lines *l)
{
    ssize_t n =
        input_available(0, l->buf + l->have, sizeof l->buf - 1 - l->have);
    if (n < 0)
        return true;
    if (n == 0) {
        if (l->have && !l->skipping) {
            l->buf[l->have] = '\0';
            status_line(c, l->buf, l->have, ++l->no);
        }
        return false;
    }
    l->have += (size_t)n;
    char *p = l->buf, *end = l->buf + l->have, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        *nl = '\0';
        l->no++;
        if (!l->skipping)
            status_line(c, p, (size_t)(nl - p), l->no);
        l->skipping = false;
        p = nl + 1;
    }
    l->have = (size_t)(end - p);
    memmove(l->buf, p, l->have);
    if (l->have == sizeof l->buf - 1) {
        fail(XE_DATA, "stdin line %lu: longer than %d bytes; skipped",
             l->no + 1, LINE_MAX_BYTES - 1);
        c->bad_lines++;
        l->skipping = true;
        l->have = 0;
    }
    return true;
}

/* Online until --for, the end of stdin (--stdin), a signal or the
 * deadline; each is a normal end. session_close() says unavailable. */
static int run_set(void *tool, struct session *s)
{
    struct presence_cmd *c = tool;
    send_own(c, c->status);
    long long until = c->has_for ? now_ms() + (long long)(c->for_s * 1000) : 0;
    struct lines *l = c->use_stdin ? calloc(1, sizeof *l) : NULL;
    if (c->use_stdin && !l)
        return fail_oom("stdin");
    int rc = 0;
    for (;;) {
        if (l && !pump_stdin(c, l))
            break;
        long long step = l ? 100 : 1000;
        if (until && until - now_ms() < step)
            step = until - now_ms();
        if (until && step <= 0)
            break;
        int st = session_step(s, (unsigned long)step);
        if (st != SESSION_RUNNING) {
            rc = st >= 128 || st == XE_TIMEOUT ? 0 : st;
            break;
        }
    }
    free(l);
    if (!rc && c->bad_lines)
        rc = fail(XE_DATA, "%d stdin line(s) were not used", c->bad_lines);
    return rc;
}

/* ---- list ---- */

static int by_entry_jid(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return strcmp(x->jid, y->jid);
}

/* jid has no resource online: show it by its last unavailable presence
 * (gone), else by one made up. */
static void put_unavailable(struct presence_cmd *c, struct table *out,
                            const char *jid, struct entry *gone)
{
    xmpp_stanza_t *p =
        gone ? xmpp_stanza_copy(gone->st)
             : presence_build(c->s->ctx, "unavailable", NULL, NULL, NULL, 0);
    xmpp_stanza_set_from(p, jid);
    table_put(out, jid, p);
    xmpp_stanza_release(p);
}

/* --all: the contacts we are subscribed to with no resource online. */
static void add_unavailable(struct presence_cmd *c, struct table *out)
{
    for (size_t i = 0; i < c->r.n; i++) {
        const struct roster_item *it = &c->r.items[i];
        if (roster_item_sees(it) && !table_match(&c->avail, it->jid))
            put_unavailable(c, out, it->jid, table_find(&c->gone, it->jid));
    }
}

static int run_list(void *tool, struct session *s)
{
    struct presence_cmd *c = tool;
    int rc = c->all ? roster_fetch(s, &c->r) : 0;
    long long start = now_ms();
    if (rc || (rc = go_online(c)))
        return rc;
    rc = run_for(c, start + (long long)(c->wait_s * 1000) - now_ms(), NULL);
    if (rc && rc != XE_TIMEOUT && rc < 128)
        return rc;
    struct table out = {0};
    for (size_t i = 0; i < c->avail.n; i++)
        table_put(&out, c->avail.v[i].jid, c->avail.v[i].st);
    if (c->all)
        add_unavailable(c, &out);
    if (out.n)
        qsort(out.v, out.n, sizeof *out.v, by_entry_jid);
    for (size_t i = 0; i < out.n; i++)
        presence_print(stdout, c->o->format, out.v[i].st);
    table_free(&out);
    return 0;
}

/* ---- wait ---- */

/* Can we learn the target's presence at all? Our own account's other
 * resources always; a contact only with a subscription (§3). */
static bool observable(struct presence_cmd *c)
{
    return is_own_account(c, c->target) ||
           roster_item_sees(roster_find(&c->r, c->target));
}

static void check_wait(struct presence_cmd *c)
{
    if (!c->synced || c->done)
        return;
    struct entry *e = table_match(&c->avail, c->target);
    if (!c->offline) {
        if (e) {
            print_flush(c, e->st);
            c->done = true;
        }
        return;
    }
    /* Offline: no resource, and the server has told us (a contact's
     * probe answer may come after the confirmation from a remote server). */
    if (e || (!c->heard && !is_own_account(c, c->target) && observable(c)))
        return;
    char *bare = bare_of(c->target);
    struct table out = {0};
    put_unavailable(c, &out, c->target,
                    bare ? table_find(&c->gone, bare) : NULL);
    if (out.n)
        print_flush(c, out.v[0].st);
    table_free(&out);
    free(bare);
    c->done = true;
}

static void on_wait_change(struct presence_cmd *c, xmpp_stanza_t *st)
{
    (void)st;
    check_wait(c);
}

static void warn_unobservable(struct presence_cmd *c)
{
    if (observable(c))
        return;
    const struct roster_item *it = roster_find(&c->r, c->target);
    warnx("%s: not subscribed to its presence (subscription: %s); "
          "waiting until it approves",
          c->target, it ? it->subscription : "none");
}

static int run_wait(void *tool, struct session *s)
{
    struct presence_cmd *c = tool;
    int rc = is_own_account(c, c->target) ? 0 : roster_fetch(s, &c->r);
    if (!rc) {
        warn_unobservable(c);
        c->on_change = on_wait_change;
        rc = go_online(c);
    }
    if (!rc) {
        c->synced = true;
        check_wait(c);
        rc = session_wait(s, &c->done);
    }
    const char *what = c->offline ? "went offline" : "came online";
    if (rc == XE_TIMEOUT || rc >= 128)
        c->explained = true;
    if (rc == XE_TIMEOUT)
        return fail(XE_TIMEOUT, "%s never %s before the deadline (--timeout)",
                    c->target, what);
    if (rc >= 128)
        return fail(XE_TIMEOUT, "interrupted before %s %s", c->target, what);
    return rc;
}

/* ---- watch ---- */

static void on_watch_change(struct presence_cmd *c, xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    if ((type && !strcmp(type, "error")) ||
        (c->target && !jid_matches(xmpp_stanza_get_from(st), c->target)))
        return;
    if (print_flush(c, st) < 0)
        session_stop(c->s, XE_OK); /* the reader went away */
    else if (c->count && c->printed >= c->count)
        session_stop(c->s, XE_OK);
}

static int run_watch(void *tool, struct session *s)
{
    struct presence_cmd *c = tool;
    c->on_change = on_watch_change;
    xmpp_handler_add(s->conn, on_presence, NULL, "presence", NULL, c);
    send_own(c, NULL);
    int rc = session_wait(s, NULL);
    if (rc >= 128 || (rc == XE_TIMEOUT && !c->count))
        return 0;
    if (rc == XE_TIMEOUT) {
        c->explained = true;
        return fail(XE_TIMEOUT, "deadline reached after %ld of %ld presences",
                    c->printed, c->count);
    }
    return rc;
}

/* ---- probe ---- */

static void on_probe_error(struct presence_cmd *c, xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    if (type && !strcmp(type, "error") &&
        about_target(c, xmpp_stanza_get_from(st))) {
        report_stanza_error(c->target, st);
        session_stop(c->s, XE_STANZA);
    }
}

/* RFC 6121 §4.3: the contact's server answers a probe only when we are
 * subscribed; Prosody answers anyone else with 'unsubscribed', which
 * would cancel a request of ours still pending. So check first. */
static int probe_allowed(struct presence_cmd *c, const char *bare)
{
    if (is_own_account(c, bare))
        return fail(XE_USAGE,
                    "probe: %s is our own account; 'xmpp presence "
                    "list' shows its other resources",
                    bare);
    int rc = roster_fetch(c->s, &c->r);
    if (rc)
        return rc;
    const struct roster_item *it = roster_find(&c->r, bare);
    if (!roster_item_sees(it))
        return fail(XE_STANZA,
                    "%s: not subscribed to its presence "
                    "(subscription: %s); ask with 'xmpp roster subscribe %s'",
                    bare, it ? it->subscription : "none", bare);
    return 0;
}

/* The target's available resources, else its unavailable answer. */
static void print_probed(struct presence_cmd *c, const char *bare)
{
    struct table out = {0};
    for (size_t i = 0; i < c->avail.n; i++)
        if (jid_matches(c->avail.v[i].jid, c->target))
            table_put(&out, c->avail.v[i].jid, c->avail.v[i].st);
    if (out.n)
        qsort(out.v, out.n, sizeof *out.v, by_entry_jid);
    else
        put_unavailable(c, &out, c->target, table_find(&c->gone, bare));
    for (size_t i = 0; i < out.n; i++)
        presence_print(stdout, c->o->format, out.v[i].st);
    table_free(&out);
}

/* No initial presence: the answer comes to our full JID all the same. */
static int run_probe(void *tool, struct session *s)
{
    struct presence_cmd *c = tool;
    char *bare = bare_of(c->target);
    if (!bare)
        return fail_oom(NULL);
    int rc = probe_allowed(c, bare);
    if (rc) {
        free(bare);
        return rc;
    }
    c->on_change = on_probe_error;
    xmpp_handler_add(s->conn, on_presence, NULL, "presence", NULL, c);
    xmpp_stanza_t *p = presence_build(s->ctx, "probe", bare, NULL, NULL, 0);
    session_send(s, p);
    xmpp_stanza_release(p);
    long long start = now_ms();
    if (!(rc = session_confirm(s)) && !c->heard)
        rc = run_for(c, start + (long long)(c->wait_s * 1000) - now_ms(),
                     &c->heard);
    if (!rc && !c->heard) {
        c->explained = true;
        rc = fail(XE_TIMEOUT,
                  "%s: no answer to the probe within %g s "
                  "(--wait)",
                  c->target, c->wait_s);
    }
    if (!rc)
        print_probed(c, bare);
    free(bare);
    return rc;
}

/* ---- the job ---- */

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct presence_cmd *c = tool;
    if (c->online && c->offline)
        return fail(XE_USAGE, "choose one of --online and --offline");
    const char *why;
    size_t at;
    if (a->argc && (why = jid_check(a->argv[0])))
        return fail(XE_DATA, "%s: invalid JID: %s", a->argv[0], why);
    if (c->status && (why = utf8_check(c->status, strlen(c->status), &at)))
        return fail(XE_DATA, "--status: %s at byte %zu", why, at);
    if (c->use_stdin && input_stdin_check())
        return XE_USAGE;
    c->target = a->argc ? a->argv[0] : NULL;
    c->sub = a->sub;
    c->o = o;
    /* list and probe end by themselves; like any one-shot tool they get
     * a deadline unless -t gives one. */
    if (o->timeout < 0 && (a->sub->run == run_list || a->sub->run == run_probe))
        o->timeout = 30 + c->wait_s;
    return 0;
}

/* Our full JID now: a new session may have another resource. */
static int learn_me(struct presence_cmd *c)
{
    const char *bound = session_bound_jid(c->s);
    char *me = strdup(bound ? bound : c->s->creds.jid);
    if (!me)
        return fail_oom(NULL);
    free(c->me);
    c->me = me;
    return 0;
}

/* After a reconnect that could not resume the session (--reconnect,
 * --retry): what we knew of the others is stale, and the server tells
 * it again once we are available again. A probe is sent again by the
 * session if the server had not confirmed it. */
static int renew(struct session *s, void *ud)
{
    struct presence_cmd *c = ud;
    int rc = learn_me(c);
    if (rc || c->sub->run == run_probe)
        return rc;
    table_free(&c->avail);
    table_free(&c->gone);
    if (c->sub->run != run_wait) {
        send_own(c, c->said);
        return 0;
    }
    c->synced = false;
    send_own(c, NULL);
    if ((rc = session_confirm(s)))
        return rc;
    c->synced = true;
    check_wait(c);
    return 0;
}

static int run(void *tool, struct session *s)
{
    struct presence_cmd *c = tool;
    c->s = s;
    s->renew = renew;
    s->renew_ud = c;
    int rc = learn_me(c);
    if (rc)
        return rc;
    session_answer_iqs(s);
    rc = c->sub->run(c, s);
    if (rc == XE_TIMEOUT && !c->explained)
        fail(XE_TIMEOUT,
             "%s: no answer from the server before the "
             "deadline (--timeout)",
             c->sub->name);
    fflush(stdout);
    /* session_close() runs the loop once more: nothing may land in the
     * tables once they are freed (their stanzas are the context's). */
    xmpp_handler_delete(s->conn, on_presence);
    table_free(&c->avail);
    table_free(&c->gone);
    roster_free(&c->r);
    return rc;
}

static void release(void *tool)
{
    struct presence_cmd *c = tool;
    free(c->me);
    free(c->said);
}

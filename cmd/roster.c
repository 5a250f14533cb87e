/* xmpp roster: the contact list and presence subscriptions (RFC 6121
 * §2, §3): list, change, subscribe and approve, export and import. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/jsonl.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/net/session.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/presence.h"
#include "common/xmpp/roster.h"
#include "common/xmpp/stanza.h"

enum {
    OPT_NAME = 1000,
    OPT_NO_GROUPS,
    OPT_ALL_PENDING,
    OPT_SUBSCRIBE,
    OPT_PRUNE
};

static const struct tool_opt opts[] = {
    {.help = "Options:"},
    {"name", OPT_NAME, "NAME", "the contact's name ('' for none)"},
    {"group", 'g', "GROUP", "a group; repeat for more", OPT_REPEAT},
    {"no-groups", OPT_NO_GROUPS, NULL,
     "set: remove the contact from every group"},
    {"all-pending", OPT_ALL_PENDING, NULL,
     "approve: every request waiting on the server"},
    {"subscribe", OPT_SUBSCRIBE, NULL,
     "import: also ask contacts the file shows as\n"
     "'to' or 'both' when we no longer see them"},
    {"prune", OPT_PRUNE, NULL, "import: remove contacts the file lacks"},
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

struct roster_cmd;
static int run_list(void *tool, struct session *s);
static int run_pending(void *tool, struct session *s);
static int run_export(void *tool, struct session *s);
static int run_add(void *tool, struct session *s);
static int run_set(void *tool, struct session *s);
static int run_remove(void *tool, struct session *s);
static int run_subscribe(void *tool, struct session *s);
static int run_approve(void *tool, struct session *s);
static int run_deny(void *tool, struct session *s);
static int run_unsubscribe(void *tool, struct session *s);
static int run_import(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"list", "", 0, 0,
     "the roster (the default):\n"
     "JID<TAB>SUBSCRIPTION<TAB>NAME<TAB>GROUPS,\n"
     "\"+ask\" after SUBSCRIPTION while our request\n"
     "is pending; --json: one object per contact;\n"
     "--xml: the server's answer",
     "retry", run_list},
    {"pending", "", 0, 0, "who asks to see our presence, one JID a line",
     "retry", run_pending},
    {"export", "", 0, 0, "the whole roster as JSON Lines", "retry", run_export},
    {"add", "JID...", 1, -1,
     "add contacts, or add the groups and name to\nones already there",
     "name group retry", run_add},
    {"set", "JID", 1, 1, "replace a contact's name and/or groups",
     "name group no-groups retry", run_set},
    {"remove", "JID...", 1, -1, "remove contacts (and the subscriptions)",
     "retry", run_remove},
    {"subscribe", "JID...", 1, -1, "add contacts and ask to see their presence",
     "name group retry", run_subscribe},
    {"approve", "JID...", 0, -1, "let them see our presence",
     "all-pending retry", run_approve},
    {"deny", "JID...", 1, -1, "refuse a request, or revoke an approval",
     "retry", run_deny},
    {"unsubscribe", "JID...", 1, -1, "stop seeing their presence", "retry",
     run_unsubscribe},
    {"import", "[FILE]", 0, 1,
     "apply an export (else stdin); prints\nACTION<TAB>JID for each change",
     "subscribe prune retry", run_import},
    {0},
};

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

/* Which of the tool's options a command takes. */
enum {
    A_NAME = 1,
    A_GROUP = 2,
    A_NO_GROUPS = 4,
    A_ALL_PENDING = 8,
    A_SUBSCRIBE = 16,
    A_PRUNE = 32
};

struct roster_cmd {
    struct session_opts *o;
    const char *name;    /* --name; "" removes it */
    const char **groups; /* --group, in order given */
    int ngroups;
    unsigned given; /* A_* of the options given */
    char **args;    /* operands after the command */
    int nargs;
    const struct tool_sub *sub;
    struct session *s;
    struct roster r;
    bool bounced; /* a presence of ours came back as an error */
    /* pending: the subscription requests the server delivered. */
    xmpp_stanza_t **requests;
    size_t nrequests;
    /* import: the file's contacts, and whether they want 'to'. */
    struct roster_item *want;
    bool *want_to;
    size_t nwant;
};

static int option(void *tool, int key, const char *arg)
{
    struct roster_cmd *rc = tool;
    switch (key) {
    case OPT_NAME:
        rc->name = arg;
        rc->given |= A_NAME;
        break;
    case 'g':
        if (!*arg)
            return fail(XE_USAGE, "--group: a group needs a name");
        if (!(rc->ngroups % 16)) {
            const char **g =
                realloc(rc->groups, (size_t)(rc->ngroups + 16) * sizeof *g);
            if (!g)
                return fail_oom(NULL);
            rc->groups = g;
        }
        rc->groups[rc->ngroups++] = arg;
        rc->given |= A_GROUP;
        break;
    case OPT_NO_GROUPS: rc->given |= A_NO_GROUPS; break;
    case OPT_ALL_PENDING: rc->given |= A_ALL_PENDING; break;
    case OPT_SUBSCRIBE: rc->given |= A_SUBSCRIBE; break;
    case OPT_PRUNE: rc->given |= A_PRUNE; break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* ---- helpers ---- */

/* Run fn on every JID operand. A stanza error is reported and the rest
 * still tried; anything worse (the session gone) stops at once. */
static int each_jid(struct roster_cmd *c,
                    int (*fn)(struct roster_cmd *c, const char *jid))
{
    int status = 0;
    for (int i = 0; i < c->nargs; i++) {
        int rc = fn(c, c->args[i]);
        if (rc && rc != XE_STANZA)
            return rc;
        if (rc)
            status = rc;
    }
    return status;
}

/* The item as it should be after add/subscribe: what is there, plus the
 * given groups and name; *differs when that differs from now. Returns 0
 * or XE_OSERR (said); *out is to be freed either way. */
static int merged(struct roster_cmd *c, const char *jid,
                  struct roster_item *out, bool *differs)
{
    const struct roster_item *have = roster_find(&c->r, jid);
    struct roster_item none = {.jid = (char *)jid};
    int rc = roster_item_copy(out, have ? have : &none);
    if (!rc && (c->given & A_NAME))
        rc = roster_item_set_name(out, c->name);
    for (int i = 0; !rc && i < c->ngroups; i++)
        rc = roster_item_add_group(out, c->groups[i]);
    *differs = !have || !roster_item_same(have, out);
    return rc;
}

static int on_presence_error(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct roster_cmd *c = ud;
    (void)conn;
    const char *from = xmpp_stanza_get_from(st);
    report_stanza_error(from ? from : "presence", st);
    c->bounced = true;
    return 1;
}

/* A subscription presence (RFC 6121 §3): subscribe, subscribed,
 * unsubscribe or unsubscribed. */
static void send_subscription(struct roster_cmd *c, const char *type,
                              const char *jid)
{
    xmpp_stanza_t *p = presence_build(c->s->ctx, type, jid, NULL, NULL, 0);
    session_send(c->s, p);
    xmpp_stanza_release(p);
}

/* Presence has no reply: session_confirm() proves the server handled
 * ours, and an error it bounced at once has arrived by then. */
static int confirm_presences(struct roster_cmd *c)
{
    int rc = session_confirm(c->s);
    return rc ? rc : c->bounced ? XE_STANZA : 0;
}

static int by_from(const void *a, const void *b)
{
    xmpp_stanza_t *const *x = a, *const *y = b;
    return strcmp(xmpp_stanza_get_from(*x), xmpp_stanza_get_from(*y));
}

static int on_request(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct roster_cmd *c = ud;
    (void)conn;
    const char *from = xmpp_stanza_get_from(st);
    if (!from || !stanza_from_ok(st) || strchr(from, '/'))
        return 1;
    for (size_t i = 0; i < c->nrequests; i++)
        if (!strcmp(xmpp_stanza_get_from(c->requests[i]), from))
            return 1;
    xmpp_stanza_t **n = realloc(c->requests, (c->nrequests + 1) * sizeof *n);
    if (!n)
        return 1;
    c->requests = n;
    c->requests[c->nrequests++] = xmpp_stanza_copy(st);
    return 1;
}

/* RFC 6121 §3.1.3: the server hands pending subscription requests to a
 * resource when it sends initial presence, and RFC 6120 §10.1 in-order
 * handling means they are all here once the server confirms that
 * presence.
 * Priority -1 (§4.7.2.3) keeps messages for the bare JID, and offline
 * storage, away from this short session. */
static int collect_requests(struct roster_cmd *c)
{
    xmpp_handler_add(c->s->conn, on_request, NULL, "presence", "subscribe", c);
    xmpp_stanza_t *p = presence_build(c->s->ctx, NULL, NULL, NULL, NULL, -1);
    session_send(c->s, p);
    xmpp_stanza_release(p);
    int rc = session_confirm(c->s);
    xmpp_handler_delete(c->s->conn, on_request);
    if (c->nrequests)
        qsort(c->requests, c->nrequests, sizeof *c->requests, by_from);
    return rc;
}

static void print_request(struct roster_cmd *c, xmpp_stanza_t *st)
{
    const char *from = xmpp_stanza_get_from(st);
    if (c->o->format == OUT_XML) {
        out_xml(stdout, st);
        putchar('\n');
    } else if (c->o->format == OUT_JSON) {
        char *status = stanza_child_text(st, "status");
        json_t *j = json_object();
        out_json_set(j, "kind", "request");
        out_json_set(j, "jid", from);
        out_json_set(j, "status", status);
        out_json(stdout, j);
        if (status)
            xmpp_free(c->s->ctx, status);
    } else {
        out_text(stdout, from);
        putchar('\n');
    }
}

/* One change that import or --all-pending made: ACTION<TAB>JID. */
static void print_change(struct roster_cmd *c, const char *action,
                         const char *jid)
{
    if (c->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "change");
        out_json_set(j, "action", action);
        out_json_set(j, "jid", jid);
        out_json(stdout, j);
    } else {
        printf("%s\t", action);
        out_text(stdout, jid);
        putchar('\n');
    }
}

/* ---- the commands ---- */

static int run_list(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    int rc = roster_fetch(c->s, &c->r);
    if (rc)
        return rc;
    if (c->o->format == OUT_XML) {
        out_xml(stdout, c->r.result);
        putchar('\n');
        return 0;
    }
    for (size_t i = 0; i < c->r.n; i++)
        roster_item_print(stdout, c->o->format, &c->r.items[i]);
    return 0;
}

static int run_export(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    c->o->format = OUT_JSON;
    return run_list(c, s);
}

static int run_pending(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    int rc = collect_requests(c);
    for (size_t i = 0; !rc && i < c->nrequests; i++)
        print_request(c, c->requests[i]);
    return rc;
}

static int add_one(struct roster_cmd *c, const char *jid)
{
    struct roster_item it;
    bool differs;
    int rc = merged(c, jid, &it, &differs);
    if (!rc && differs)
        rc = roster_set(c->s, &it);
    roster_item_free(&it);
    return rc;
}

static int run_add(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    int rc = roster_fetch(c->s, &c->r);
    return rc ? rc : each_jid(c, add_one);
}

static int run_set(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    int rc = roster_fetch(c->s, &c->r);
    if (rc)
        return rc;
    const char *jid = c->args[0];
    const struct roster_item *have = roster_find(&c->r, jid);
    if (!have)
        return fail(XE_STANZA,
                    "%s: not in the roster (item-not-found); "
                    "add it with 'xmpp roster add'",
                    jid);
    struct roster_item it, bare = {.jid = (char *)jid};
    /* --group or --no-groups replaces the groups; else they stay. */
    rc = roster_item_copy(&it,
                          (c->given & (A_GROUP | A_NO_GROUPS)) ? &bare : have);
    if (!rc)
        rc = roster_item_set_name(&it,
                                  (c->given & A_NAME) ? c->name : have->name);
    for (int i = 0; !rc && i < c->ngroups; i++)
        rc = roster_item_add_group(&it, c->groups[i]);
    if (!rc && !roster_item_same(have, &it))
        rc = roster_set(c->s, &it);
    roster_item_free(&it);
    return rc;
}

static int remove_one(struct roster_cmd *c, const char *jid)
{
    return roster_remove(c->s, jid);
}

static int run_remove(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    return each_jid(c, remove_one);
}

/* RFC 6121 §3.1.1: add (with the name and groups given) and ask. Once
 * we see the contact's presence, asking again would change nothing. */
static int subscribe_one(struct roster_cmd *c, const char *jid)
{
    struct roster_item it;
    bool differs;
    int rc = merged(c, jid, &it, &differs);
    if (!rc && differs && (c->given & (A_NAME | A_GROUP)))
        rc = roster_set(c->s, &it);
    roster_item_free(&it);
    if (!rc && !roster_item_sees(roster_find(&c->r, jid)))
        send_subscription(c, "subscribe", jid);
    return rc;
}

static int run_subscribe(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    int rc = roster_fetch(c->s, &c->r);
    if (rc)
        return rc;
    int status = each_jid(c, subscribe_one);
    if (status && status != XE_STANZA)
        return status;
    rc = confirm_presences(c);
    return rc ? rc : status;
}

/* approve, deny, unsubscribe: one presence each (RFC 6121 §3.1.4 with
 * pre-approval §3.4 when no request waits, §3.2, §3.3). */
static int send_each(struct roster_cmd *c, const char *type)
{
    for (int i = 0; i < c->nargs; i++)
        send_subscription(c, type, c->args[i]);
    return confirm_presences(c);
}

static int run_approve(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    if (!(c->given & A_ALL_PENDING))
        return send_each(c, "subscribed");
    int rc = collect_requests(c);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->nrequests; i++)
        send_subscription(c, "subscribed",
                          xmpp_stanza_get_from(c->requests[i]));
    if ((rc = confirm_presences(c)))
        return rc;
    for (size_t i = 0; i < c->nrequests; i++)
        print_change(c, "approved", xmpp_stanza_get_from(c->requests[i]));
    return 0;
}

static int run_deny(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    return send_each(c, "unsubscribed");
}

static int run_unsubscribe(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    return send_each(c, "unsubscribe");
}

/* ---- import ---- */

static int read_groups(json_t *obj, const char *where, struct roster_item *it)
{
    json_t *groups = json_object_get(obj, "groups");
    if (!groups || json_is_null(groups))
        return 0;
    if (!json_is_array(groups))
        return fail(XE_DATA, "%s: \"groups\" is not an array", where);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *s = json_string_value(g);
        size_t at;
        if (!s || !*s)
            return fail(XE_DATA, "%s: group %zu is not a non-empty string",
                        where, i + 1);
        if (utf8_check(s, json_string_length(g), &at))
            return fail(XE_DATA,
                        "%s: group %zu: a character XML forbids "
                        "at byte %zu",
                        where, i + 1, at);
        int rc = roster_item_add_group(it, s);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_contact(json_t *obj, const char *where, void *ud)
{
    struct roster_cmd *c = ud;
    const char *jid, *name, *sub, *why;
    int rc;
    if ((rc = jsonl_string(obj, "jid", true, where, &jid)) ||
        (rc = jsonl_string(obj, "name", false, where, &name)) ||
        (rc = jsonl_string(obj, "subscription", false, where, &sub)))
        return rc;
    if ((why = jid_check(jid)))
        return fail(XE_DATA, "%s: %s: invalid JID: %s", where, jid, why);
    if (strchr(jid, '/'))
        return fail(XE_DATA, "%s: %s: a contact is a bare JID", where, jid);
    for (size_t i = 0; i < c->nwant; i++)
        if (!strcmp(c->want[i].jid, jid))
            return fail(XE_DATA, "%s: %s is in the file twice", where, jid);
    struct roster_item *w = realloc(c->want, (c->nwant + 1) * sizeof *w);
    bool *t = realloc(c->want_to, (c->nwant + 1) * sizeof *t);
    if (w)
        c->want = w;
    if (t)
        c->want_to = t;
    if (!w || !t)
        return fail_oom(where);
    struct roster_item none = {.jid = (char *)jid};
    rc = roster_item_copy(&c->want[c->nwant], &none);
    c->want_to[c->nwant] = sub && (!strcmp(sub, "to") || !strcmp(sub, "both"));
    c->nwant++; /* freed with the rest, whatever comes next */
    if (!rc)
        rc = roster_item_set_name(&c->want[c->nwant - 1], name);
    return rc ? rc : read_groups(obj, where, &c->want[c->nwant - 1]);
}

/* The whole file is read and checked before we connect: a bad line
 * never leaves half an import done. */
static int load_import(struct roster_cmd *c)
{
    const char *file = c->nargs ? c->args[0] : NULL;
    return jsonl_each(file, 16 * INPUT_MAX_DEFAULT, read_contact, c);
}

static bool wanted(struct roster_cmd *c, const char *jid)
{
    for (size_t i = 0; i < c->nwant; i++)
        if (!strcmp(c->want[i].jid, jid))
            return true;
    return false;
}

/* Make one contact look as the file says; print what changed. */
static int import_one(struct roster_cmd *c, size_t i, bool *asked)
{
    const struct roster_item *want = &c->want[i];
    const struct roster_item *have = roster_find(&c->r, want->jid);
    int rc = 0;
    if (!have || !roster_item_same(have, want)) {
        if ((rc = roster_set(c->s, want)))
            return rc;
        print_change(c, have ? "updated" : "added", want->jid);
    }
    if ((c->given & A_SUBSCRIBE) && c->want_to[i] && !roster_item_sees(have) &&
        !(have && have->ask)) {
        send_subscription(c, "subscribe", want->jid);
        print_change(c, "asked", want->jid);
        *asked = true;
    }
    return 0;
}

static int run_import(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    (void)s;
    int rc = roster_fetch(c->s, &c->r), status = 0;
    bool asked = false;
    for (size_t i = 0; !rc && i < c->nwant; i++) {
        rc = import_one(c, i, &asked);
        if (rc == XE_STANZA)
            status = rc, rc = 0;
    }
    for (size_t i = 0; !rc && (c->given & A_PRUNE) && i < c->r.n; i++) {
        if (wanted(c, c->r.items[i].jid))
            continue;
        rc = roster_remove(c->s, c->r.items[i].jid);
        if (!rc)
            print_change(c, "removed", c->r.items[i].jid);
        if (rc == XE_STANZA)
            status = rc, rc = 0;
    }
    if (!rc && asked)
        rc = confirm_presences(c);
    return rc ? rc : status;
}

/* Everything about the command line that can be wrong, before we
 * connect. */
static int check_args(struct roster_cmd *c, const struct tool_sub *cmd)
{
    bool all = c->given & A_ALL_PENDING;
    if (all && c->nargs)
        return fail(XE_USAGE, "approve: give JIDs or --all-pending, not both");
    if (cmd->run == run_approve && !all && !c->nargs)
        return fail(XE_USAGE, "approve: which contact? usage: xmpp roster "
                              "approve JID... | --all-pending");
    if ((c->given & A_NAME) && c->nargs > 1)
        return fail(XE_USAGE, "--name: give one JID with a name");
    if (!strcmp(cmd->name, "set") &&
        !(c->given & (A_NAME | A_GROUP | A_NO_GROUPS)))
        return fail(XE_USAGE, "set: nothing to change; give --name, "
                              "--group or --no-groups");
    if ((c->given & A_NO_GROUPS) && c->ngroups)
        return fail(XE_USAGE, "--no-groups and --group contradict");
    return 0;
}

/* Names, groups and JIDs go into stanzas: they must be text XML allows. */
static int check_data(struct roster_cmd *c, const struct tool_sub *cmd)
{
    size_t at;
    const char *why;
    if (c->name && (why = utf8_check(c->name, strlen(c->name), &at)))
        return fail(XE_DATA, "--name: %s at byte %zu", why, at);
    for (int i = 0; i < c->ngroups; i++)
        if ((why = utf8_check(c->groups[i], strlen(c->groups[i]), &at)))
            return fail(XE_DATA, "--group %d: %s at byte %zu", i + 1, why, at);
    bool jids = cmd->operands && !strncmp(cmd->operands, "JID", 3);
    for (int i = 0; jids && i < c->nargs; i++) {
        if ((why = jid_check(c->args[i])))
            return fail(XE_DATA, "%s: invalid JID: %s", c->args[i], why);
        if (strchr(c->args[i], '/'))
            return fail(XE_DATA,
                        "%s: contacts are bare JIDs; drop the "
                        "'/resource'",
                        c->args[i]);
    }
    return 0;
}

static void roster_cmd_free(struct roster_cmd *c)
{
    roster_free(&c->r);
    for (size_t i = 0; i < c->nrequests; i++)
        xmpp_stanza_release(c->requests[i]);
    free(c->requests);
    for (size_t i = 0; i < c->nwant; i++)
        roster_item_free(&c->want[i]);
    free(c->want);
    free(c->want_to);
    memset(&c->r, 0, sizeof c->r);
    c->requests = NULL;
    c->want = NULL;
    c->want_to = NULL;
    c->nrequests = c->nwant = 0;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct roster_cmd *c = tool;
    c->o = o;
    c->sub = a->sub;
    c->args = a->argv;
    c->nargs = a->argc;
    int rc = check_args(c, c->sub);
    if (!rc)
        rc = check_data(c, c->sub);
    if (!rc && c->sub->run == run_import)
        rc = load_import(c);
    return rc;
}

static int run(void *tool, struct session *s)
{
    struct roster_cmd *c = tool;
    c->s = s;
    xmpp_handler_add(s->conn, on_presence_error, NULL, "presence", "error", c);
    session_answer_iqs(s);
    int rc = c->sub->run(c, s);
    if (rc == XE_TIMEOUT)
        fail(XE_TIMEOUT,
             "%s: no answer from the server before the deadline "
             "(--timeout)",
             c->sub->name);
    /* The stanzas are the context's: release them before it goes. */
    roster_cmd_free(c);
    return rc;
}

static void release(void *tool)
{
    struct roster_cmd *c = tool;
    roster_cmd_free(c);
    free(c->groups);
}

const struct tool tool_roster = {
    .name = "roster",
    .summary = "List and change contacts and subscriptions",
    .opts = opts,
    .subs = subs,
    .default_sub = "list",
    .size = sizeof(struct roster_cmd),
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

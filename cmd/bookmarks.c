/* xmpp bookmarks: the account's group chat bookmarks, where clients
 * find the rooms to show and join: PEP native bookmarks (XEP-0402), or
 * private XML storage (XEP-0048 over XEP-0049) on a server without PEP
 * publish options. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/xmpp/form.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/muc.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

#define NS_BOOKMARKS    "urn:xmpp:bookmarks:1"
#define NS_STORAGE      "storage:bookmarks"
#define NS_PRIVATE      "jabber:iq:private"
#define NS_PUBSUB       "http://jabber.org/protocol/pubsub"
#define NS_DISCO_INFO   "http://jabber.org/protocol/disco#info"
#define PUBLISH_OPTIONS "http://jabber.org/protocol/pubsub#publish-options"

enum { OPT_NAME = 1000, OPT_NICK, OPT_AUTOJOIN };

static const struct tool_opt opts[] = {
    {.help = "Options for add:"},
    {"name", OPT_NAME, "NAME", "the bookmark's name"},
    {"nick", OPT_NICK, "NICK", "the nick to join with"},
    {"autojoin", OPT_AUTOJOIN, NULL, "clients join the room when they log in"},
    {0},
};

static int run_list(void *tool, struct session *s);
static int run_add(void *tool, struct session *s);
static int run_remove(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"list", "", 0, 0,
     "the bookmarks (the default):\n"
     "ROOM<TAB>NAME<TAB>NICK<TAB>AUTOJOIN (yes/no);\n"
     "--json: room, name, nick, autojoin (boolean)",
     "", run_list},
    {"add", "ROOM", 1, 1, "bookmark ROOM@SERVICE, or replace its bookmark",
     "name nick autojoin", run_add},
    {"remove", "ROOM", 1, 1, "remove ROOM's bookmark", "", run_remove},
    {0},
};

static const char notes[] =
    "Where the account has PEP with publish options (disco of the account),\n"
    "bookmarks are PEP native bookmarks (XEP-0402); else private XML storage\n"
    "(XEP-0048). -v says which.\n";

struct bookmarks {
    const char *room;
    const char *name, *nick;
    bool autojoin;
    char bare[1024]; /* our account */
};

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);

const struct tool tool_bookmarks = {
    .name = "bookmarks",
    .summary = "List, add and remove group chat bookmarks (XEP-0402)",
    .opts = opts,
    .subs = subs,
    .default_sub = "list",
    .notes = notes,
    .size = sizeof(struct bookmarks),
    .option = option,
    .prepare = prepare,
};

static int option(void *tool, int key, const char *arg)
{
    struct bookmarks *b = tool;
    size_t at;
    switch (key) {
    case OPT_NAME:
        if (utf8_check(arg, strlen(arg), &at))
            return fail(XE_DATA, "--name: invalid UTF-8 or forbidden "
                                 "characters");
        b->name = arg;
        break;
    case OPT_NICK:
        if (muc_check_nick(arg))
            return XE_DATA;
        b->nick = arg;
        break;
    case OPT_AUTOJOIN: b->autojoin = true; break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct bookmarks *b = tool;
    const char *why;
    if (o->component)
        return fail(XE_USAGE, "a component has no bookmarks: log in as an "
                              "account (--jid)");
    if (!a->argc)
        return 0;
    b->room = a->argv[0];
    if ((why = jid_check(b->room)))
        return fail(XE_DATA, "%s: invalid JID: %s", b->room, why);
    if (strchr(b->room, '/'))
        return fail(XE_DATA, "%s: give the room's bare JID (ROOM@SERVICE)",
                    b->room);
    return 0;
}

/* ---- which store ---- */

static bool has_feature(xmpp_stanza_t *info, const char *var)
{
    for (xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(info, "feature"); f;
         f = next_named(f, "feature")) {
        const char *v = xmpp_stanza_get_attribute(f, "var");
        if (v && !strcmp(v, var))
            return true;
    }
    return false;
}

static bool is_pep(xmpp_stanza_t *info)
{
    for (xmpp_stanza_t *i = xmpp_stanza_get_child_by_name(info, "identity"); i;
         i = next_named(i, "identity")) {
        const char *c = xmpp_stanza_get_attribute(i, "category");
        const char *t = xmpp_stanza_get_attribute(i, "type");
        if (c && t && !strcmp(c, "pubsub") && !strcmp(t, "pep"))
            return true;
    }
    return false;
}

/* XEP-0402 §4 needs PEP (XEP-0163) with publish options (XEP-0060
 * §7.1.5), both announced by the account's disco#info (XEP-0223 §4);
 * without them bookmarks live in private XML storage. Sets *pep. */
static int pick_store(struct bookmarks *b, struct session *s, bool *pep)
{
    const char *me = s->creds.jid;
    snprintf(b->bare, sizeof b->bare, "%.*s", (int)jid_bare_len(me), me);
    xmpp_stanza_t *reply;
    int rc = query_ask(
        s, query_new(s, "get", b->bare, "query", NS_DISCO_INFO, NULL), &reply);
    if (rc)
        return rc;
    xmpp_stanza_t *info =
        xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_DISCO_INFO);
    *pep = info && is_pep(info) && has_feature(info, PUBLISH_OPTIONS);
    xmpp_stanza_release(reply);
    if (s->opt->verbose)
        trace("bookmarks: %s", *pep ? "PEP native bookmarks (XEP-0402)"
                                    : "private XML storage (XEP-0048)");
    return 0;
}

/* ---- printing ---- */

static bool true_attr(xmpp_stanza_t *el, const char *name)
{
    const char *v = xmpp_stanza_get_attribute(el, name);
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* One bookmark: a XEP-0402 <conference/> (room from its item's id) or
 * a XEP-0048 one (room in its 'jid'). */
static void print_bookmark(const char *room, xmpp_stanza_t *conf,
                           enum output_format fmt)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(conf);
    const char *name = xmpp_stanza_get_attribute(conf, "name");
    bool autojoin = true_attr(conf, "autojoin");
    char *nick = stanza_child_text(conf, "nick");
    if (fmt == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "room", room);
        out_json_set(j, "name", name);
        out_json_set(j, "nick", nick);
        json_object_set_new(j, "autojoin", json_boolean(autojoin));
        out_json(stdout, j);
    } else {
        const char *f[] = {room, name, nick, autojoin ? "yes" : "no"};
        print_fields(stdout, 4, f);
    }
    xmpp_free(ctx, nick);
}

static void print_pep(xmpp_stanza_t *items, enum output_format fmt)
{
    for (xmpp_stanza_t *i = xmpp_stanza_get_child_by_name(items, "item"); i;
         i = next_named(i, "item")) {
        const char *room = xmpp_stanza_get_attribute(i, "id");
        xmpp_stanza_t *c =
            xmpp_stanza_get_child_by_name_and_ns(i, "conference", NS_BOOKMARKS);
        if (room && c)
            print_bookmark(room, c, fmt);
    }
}

static void print_storage(xmpp_stanza_t *storage, enum output_format fmt)
{
    for (xmpp_stanza_t *c =
             xmpp_stanza_get_child_by_name(storage, "conference");
         c; c = next_named(c, "conference")) {
        const char *room = xmpp_stanza_get_attribute(c, "jid");
        if (room)
            print_bookmark(room, c, fmt);
    }
}

/* ---- XEP-0402 ---- */

static xmpp_stanza_t *pubsub_iq(struct session *s, struct bookmarks *b,
                                const char *type, xmpp_stanza_t **ps)
{
    return query_new(s, type, b->bare, "pubsub", NS_PUBSUB, ps);
}

/* Send iq (taken over) and wait for its answer, which says no more
 * than that it was done. Exit status as query_ask(). */
static int ask_done(struct session *s, xmpp_stanza_t *iq)
{
    xmpp_stanza_t *reply;
    int rc = query_ask(s, iq, &reply);
    if (!rc)
        xmpp_stanza_release(reply);
    return rc;
}

/* Returned by ask() for item-not-found, which callers treat apart. */
#define NOT_FOUND (-2)

/* Send iq (taken over) to our account and wait: 0 with *reply the
 * result (the caller releases it), NOT_FOUND unreported, or else the
 * status reported as query_ask() reports it. */
static int ask(struct bookmarks *b, struct session *s, xmpp_stanza_t *iq,
               xmpp_stanza_t **reply)
{
    int rc = session_iq(s, iq, reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA &&
        !strcmp(stanza_error_condition(*reply), "item-not-found"))
        rc = NOT_FOUND;
    else if (rc == XE_STANZA)
        report_stanza_error(b->bare, *reply);
    else if (rc == XE_TIMEOUT)
        fail(rc, "%s: no answer by the deadline (--timeout)", b->bare);
    if (rc && *reply) {
        xmpp_stanza_release(*reply);
        *reply = NULL;
    }
    return rc;
}

/* XEP-0402 §3.1: no node yet is no bookmarks (XEP-0060 §6.5.9.11). */
static int pep_list(struct bookmarks *b, struct session *s)
{
    xmpp_stanza_t *ps, *reply;
    xmpp_stanza_t *iq = pubsub_iq(s, b, "get", &ps);
    xmpp_stanza_set_attribute(stanza_add_el(ps, "items", NULL), "node",
                              NS_BOOKMARKS);
    int rc = ask(b, s, iq, &reply);
    if (rc)
        return rc == NOT_FOUND ? 0 : rc;
    xmpp_stanza_t *p =
        xmpp_stanza_get_child_by_name_and_ns(reply, "pubsub", NS_PUBSUB);
    xmpp_stanza_t *items = p ? xmpp_stanza_get_child_by_name(p, "items") : NULL;
    if (items && s->opt->format == OUT_XML)
        print_element(stdout, p, stream_ns(s), OUT_XML);
    else if (items)
        print_pep(items, s->opt->format);
    xmpp_stanza_release(reply);
    return 0;
}

/* The conference element of either form, filled from the options. */
static xmpp_stanza_t *conference(struct bookmarks *b, xmpp_stanza_t *parent,
                                 const char *ns)
{
    xmpp_stanza_t *c = stanza_add_el(parent, "conference", ns);
    if (b->name)
        xmpp_stanza_set_attribute(c, "name", b->name);
    xmpp_stanza_set_attribute(c, "autojoin", b->autojoin ? "true" : "false");
    if (b->nick)
        stanza_add_text_child(c, "nick", b->nick);
    return c;
}

/* XEP-0402 §3.2: the item's id is the room; the node private
 * (whitelist) and holding every bookmark (max_items max). */
static int pep_add(struct bookmarks *b, struct session *s)
{
    xmpp_stanza_t *ps;
    xmpp_stanza_t *iq = pubsub_iq(s, b, "set", &ps);
    xmpp_stanza_t *pub = stanza_add_el(ps, "publish", NULL);
    xmpp_stanza_set_attribute(pub, "node", NS_BOOKMARKS);
    xmpp_stanza_t *item = stanza_add_el(pub, "item", NULL);
    xmpp_stanza_set_id(item, b->room);
    conference(b, item, NS_BOOKMARKS);
    xmpp_stanza_t *x = form_submit_new(s->ctx, PUBLISH_OPTIONS);
    xmpp_stanza_add_child_ex(stanza_add_el(ps, "publish-options", NULL), x, 0);
    form_add_value(x, "pubsub#persist_items", "true");
    form_add_value(x, "pubsub#max_items", "max");
    form_add_value(x, "pubsub#send_last_published_item", "never");
    form_add_value(x, "pubsub#access_model", "whitelist");
    return ask_done(s, iq);
}

/* XEP-0402 §3.3: retract the room's item, telling our other clients. */
static int pep_remove(struct bookmarks *b, struct session *s)
{
    xmpp_stanza_t *ps;
    xmpp_stanza_t *iq = pubsub_iq(s, b, "set", &ps);
    xmpp_stanza_t *r = stanza_add_el(ps, "retract", NULL);
    xmpp_stanza_set_attribute(r, "node", NS_BOOKMARKS);
    xmpp_stanza_set_attribute(r, "notify", "true");
    xmpp_stanza_set_id(stanza_add_el(r, "item", NULL), b->room);
    xmpp_stanza_t *reply;
    int rc = ask(b, s, iq, &reply);
    if (rc == NOT_FOUND)
        return fail(XE_STANZA, "%s: no such bookmark", b->room);
    if (!rc)
        xmpp_stanza_release(reply);
    return rc;
}

/* ---- XEP-0048 in private XML storage (XEP-0049) ---- */

/* The stored <storage/> (a new empty one when there is none), for the
 * caller to release. */
static int storage_get(struct session *s, xmpp_stanza_t **storage)
{
    xmpp_stanza_t *q, *reply;
    xmpp_stanza_t *iq = query_new(s, "get", NULL, "query", NS_PRIVATE, &q);
    stanza_add_el(q, "storage", NS_STORAGE);
    int rc = query_ask(s, iq, &reply);
    if (rc)
        return rc;
    q = xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_PRIVATE);
    xmpp_stanza_t *st =
        q ? xmpp_stanza_get_child_by_name_and_ns(q, "storage", NS_STORAGE)
          : NULL;
    *storage = st ? xmpp_stanza_copy(st)
                  : stanza_new_el(s->ctx, "storage", NS_STORAGE);
    xmpp_stanza_release(reply);
    return *storage ? 0 : fail_oom(NULL);
}

/* XEP-0049 §2.1: the whole <storage/> replaces what was stored. */
static int storage_set(struct session *s, xmpp_stanza_t *storage)
{
    xmpp_stanza_t *q;
    xmpp_stanza_t *iq = query_new(s, "set", NULL, "query", NS_PRIVATE, &q);
    xmpp_stanza_add_child(q, storage);
    return ask_done(s, iq);
}

static bool is_room(xmpp_stanza_t *c, const char *room)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *jid = xmpp_stanza_get_attribute(c, "jid");
    return name && !strcmp(name, "conference") && jid &&
           jid_matches(jid, room) && jid_matches(room, jid);
}

/* A new <storage/> with everything of old but the room's <conference/>
 * (libstrophe has no call to take a child out); *had says whether it
 * was there. NULL when out of memory. */
static xmpp_stanza_t *storage_without(struct session *s, xmpp_stanza_t *old,
                                      const char *room, bool *had)
{
    xmpp_stanza_t *n = stanza_new_el(s->ctx, "storage", NS_STORAGE);
    *had = false;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(old); n && c;
         c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_tag(c) && is_room(c, room)) {
            *had = true;
            continue;
        }
        xmpp_stanza_t *copy = xmpp_stanza_copy(c);
        if (!copy) {
            xmpp_stanza_release(n);
            return NULL;
        }
        xmpp_stanza_add_child_ex(n, copy, 0);
    }
    return n;
}

static int storage_list(struct session *s)
{
    xmpp_stanza_t *storage;
    int rc = storage_get(s, &storage);
    if (rc)
        return rc;
    if (s->opt->format == OUT_XML)
        print_element(stdout, storage, stream_ns(s), OUT_XML);
    else
        print_storage(storage, s->opt->format);
    xmpp_stanza_release(storage);
    return 0;
}

/* Read, change, write back: other kinds of bookmark (<url/>) and
 * other rooms stay as they are. */
static int storage_change(struct bookmarks *b, struct session *s, bool add)
{
    xmpp_stanza_t *old, *storage;
    bool had;
    int rc = storage_get(s, &old);
    if (rc)
        return rc;
    storage = storage_without(s, old, b->room, &had);
    xmpp_stanza_release(old);
    if (!storage)
        return fail_oom(NULL);
    if (!add && !had) {
        xmpp_stanza_release(storage);
        return fail(XE_STANZA, "%s: no such bookmark", b->room);
    }
    if (add)
        xmpp_stanza_set_attribute(conference(b, storage, NULL), "jid", b->room);
    rc = storage_set(s, storage);
    xmpp_stanza_release(storage);
    return rc;
}

/* ---- the subcommands ---- */

static int run_list(void *tool, struct session *s)
{
    bool pep;
    int rc = pick_store(tool, s, &pep);
    if (rc)
        return rc;
    return pep ? pep_list(tool, s) : storage_list(s);
}

static int run_add(void *tool, struct session *s)
{
    bool pep;
    int rc = pick_store(tool, s, &pep);
    if (rc)
        return rc;
    return pep ? pep_add(tool, s) : storage_change(tool, s, true);
}

static int run_remove(void *tool, struct session *s)
{
    bool pep;
    int rc = pick_store(tool, s, &pep);
    if (rc)
        return rc;
    return pep ? pep_remove(tool, s) : storage_change(tool, s, false);
}

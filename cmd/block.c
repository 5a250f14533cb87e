/* xmpp block: the account's block list (XEP-0191 blocking command):
 * the server drops what blocked JIDs send us and what we send them. */
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

#define NS_BLOCKING "urn:xmpp:blocking"

static int run_list(void *tool, struct session *s);
static int run_add(void *tool, struct session *s);
static int run_remove(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"list", "", 0, 0,
     "the blocked JIDs, one a line (the default);\n"
     "--json: {\"jid\": ...} each; --xml: the list",
     "", run_list},
    {"add", "JID...", 1, -1,
     "block JIDs (a bare JID or a domain blocks\n"
     "every JID under it)",
     "", run_add},
    {"remove", "JID...", 1, -1, "unblock JIDs", "", run_remove},
    {0},
};

struct block {
    char **jids;
    int njids;
};

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);

const struct tool tool_block = {
    .name = "block",
    .summary = "List, block and unblock JIDs (XEP-0191)",
    .subs = subs,
    .default_sub = "list",
    .size = sizeof(struct block),
    .prepare = prepare,
};

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct block *b = tool;
    const char *why;
    b->jids = a->argv;
    b->njids = a->argc;
    for (int i = 0; i < a->argc; i++)
        if ((why = jid_check(a->argv[i])))
            return fail(XE_DATA, "%s: invalid JID: %s", a->argv[i], why);
    if (o->component)
        return fail(XE_USAGE, "a component has no block list: log in as an "
                              "account (--jid)");
    return 0;
}

static void print_list(const struct answer *a, void *ud)
{
    (void)ud;
    for (xmpp_stanza_t *i = xmpp_stanza_get_child_by_name(a->el, "item"); i;
         i = next_named(i, "item")) {
        const char *jid = xmpp_stanza_get_attribute(i, "jid");
        if (!jid)
            continue;
        if (a->fmt == OUT_JSON) {
            json_t *j = json_object();
            out_json_set(j, "jid", jid);
            out_json(stdout, j);
        } else {
            print_fields(stdout, 1, &jid);
        }
    }
}

/* XEP-0191 §3.1: the list is the account's; the server answers. */
static int run_list(void *tool, struct session *s)
{
    (void)tool;
    struct query q = {.type = "get",
                      .to_self = true,
                      .name = "blocklist",
                      .ns = NS_BLOCKING,
                      .print = print_list};
    return query_once(s, &q);
}

/* §3.2, §3.3: one <block/> or <unblock/> with every JID, so that the
 * server takes all of them or none. */
static int change(struct block *b, struct session *s, const char *what)
{
    xmpp_stanza_t *el = stanza_new_el(s->ctx, what, NS_BLOCKING);
    for (int i = 0; i < b->njids; i++) {
        xmpp_stanza_t *item = stanza_add_el(el, "item", NULL);
        xmpp_stanza_set_attribute(item, "jid", b->jids[i]);
    }
    struct query q = {.type = "set", .to_self = true, .payload = el};
    return query_once(s, &q);
}

static int run_add(void *tool, struct session *s)
{
    return change(tool, s, "block");
}

static int run_remove(void *tool, struct session *s)
{
    return change(tool, s, "unblock");
}

/* xmpp disco: service discovery (XEP-0030): what an entity is and can
 * do (info), or what it offers (items). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/net/session.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

#define NS_INFO  "http://jabber.org/protocol/disco#info"
#define NS_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DATA  "jabber:x:data"

enum { OPT_NODE = 1000 };

static const struct tool_opt opts[] = {
    {.help = "Discovery:"},
    {"node", OPT_NODE, "NODE", "ask about this node of the entity"},
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static const char notes[] =
    "JID defaults to your server. Output for info: one line per identity\n"
    "(identity TAB CATEGORY TAB TYPE TAB NAME), feature (feature TAB VAR)\n"
    "and extended-info field value (form TAB FORM_TYPE TAB VAR TAB VALUE);\n"
    "for items: JID TAB NODE TAB NAME. --json: info as one object\n"
    "(jid, node, identities, features, forms), items one object each.\n";

static int run_info(void *tool, struct session *s);
static int run_items(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"info", "[JID]", 0, 1, "what the entity is and can do (the default)",
     "node retry", run_info},
    {"items", "[JID]", 0, 1, "what the entity offers", "node retry", run_items},
    {0},
};

static int option(void *tool, int key, const char *arg);

struct disco {
    struct query_jid q; /* first: query_jid_prepare fills it */
    const char *node;
    bool items;
};

const struct tool tool_disco = {
    .name = "disco",
    .summary = "Discover an entity's features or items (XEP-0030)",
    .opts = opts,
    .subs = subs,
    .default_sub = "info",
    .notes = notes,
    .flags = TOOL_SUB_IMPLIED,
    .size = sizeof(struct disco),
    .option = option,
    .prepare = query_jid_prepare,
};

static int option(void *tool, int key, const char *arg)
{
    struct disco *d = tool;
    switch (key) {
    case OPT_NODE: d->node = arg; break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* ---- info ---- */

static bool is_data_form(xmpp_stanza_t *x)
{
    const char *ns = xmpp_stanza_get_ns(x);
    return ns && !strcmp(ns, NS_DATA);
}

/* XEP-0128: the FORM_TYPE of an extended-info form. */
static char *form_type(xmpp_stanza_t *x)
{
    for (xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(x, "field"); f;
         f = next_named(f, "field")) {
        const char *var = xmpp_stanza_get_attribute(f, "var");
        if (var && !strcmp(var, "FORM_TYPE"))
            return stanza_child_text(f, "value");
    }
    return NULL;
}

static void text_form(xmpp_stanza_t *x)
{
    char *type = form_type(x);
    for (xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(x, "field"); f;
         f = next_named(f, "field")) {
        const char *var = xmpp_stanza_get_attribute(f, "var");
        if (!var || !strcmp(var, "FORM_TYPE"))
            continue;
        for (xmpp_stanza_t *v = xmpp_stanza_get_child_by_name(f, "value"); v;
             v = next_named(v, "value")) {
            char *val = xmpp_stanza_get_text(v);
            const char *fields[] = {"form", type, var, val};
            print_fields(stdout, 4, fields);
            xmpp_free(xmpp_stanza_get_context(x), val);
        }
    }
    xmpp_free(xmpp_stanza_get_context(x), type);
}

static void print_info_text(xmpp_stanza_t *q)
{
    for (xmpp_stanza_t *i = xmpp_stanza_get_child_by_name(q, "identity"); i;
         i = next_named(i, "identity")) {
        const char *fields[] = {"identity",
                                xmpp_stanza_get_attribute(i, "category"),
                                xmpp_stanza_get_attribute(i, "type"),
                                xmpp_stanza_get_attribute(i, "name")};
        print_fields(stdout, 4, fields);
    }
    for (xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(q, "feature"); f;
         f = next_named(f, "feature")) {
        const char *fields[] = {"feature", xmpp_stanza_get_attribute(f, "var")};
        print_fields(stdout, 2, fields);
    }
    for (xmpp_stanza_t *x = xmpp_stanza_get_child_by_name(q, "x"); x;
         x = next_named(x, "x"))
        if (is_data_form(x))
            text_form(x);
}

static json_t *form_json(xmpp_stanza_t *x)
{
    json_t *o = json_object(), *fields = json_object();
    char *type = form_type(x);
    json_object_set_new(o, "FORM_TYPE", out_json_str(type));
    xmpp_free(xmpp_stanza_get_context(x), type);
    for (xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(x, "field"); f;
         f = next_named(f, "field")) {
        const char *var = xmpp_stanza_get_attribute(f, "var");
        if (!var || !strcmp(var, "FORM_TYPE"))
            continue;
        json_t *vals = json_array();
        for (xmpp_stanza_t *v = xmpp_stanza_get_child_by_name(f, "value"); v;
             v = next_named(v, "value")) {
            char *val = xmpp_stanza_get_text(v);
            json_array_append_new(vals, json_string(val ? val : ""));
            xmpp_free(xmpp_stanza_get_context(x), val);
        }
        json_object_set_new(fields, var, vals);
    }
    json_object_set_new(o, "fields", fields);
    return o;
}

static void print_info_json(xmpp_stanza_t *q, const char *jid, const char *node)
{
    json_t *o = json_object(), *ids = json_array(), *feats = json_array(),
           *forms = json_array();
    out_json_set(o, "kind", "info");
    out_json_set(o, "jid", jid);
    out_json_set(o, "node", node);
    for (xmpp_stanza_t *i = xmpp_stanza_get_child_by_name(q, "identity"); i;
         i = next_named(i, "identity")) {
        json_t *id = json_object();
        out_json_set(id, "category", xmpp_stanza_get_attribute(i, "category"));
        out_json_set(id, "type", xmpp_stanza_get_attribute(i, "type"));
        out_json_set(id, "name", xmpp_stanza_get_attribute(i, "name"));
        out_json_set(id, "lang", xmpp_stanza_get_attribute(i, "lang"));
        json_array_append_new(ids, id);
    }
    for (xmpp_stanza_t *f = xmpp_stanza_get_child_by_name(q, "feature"); f;
         f = next_named(f, "feature"))
        json_array_append_new(
            feats, out_json_str(xmpp_stanza_get_attribute(f, "var")));
    for (xmpp_stanza_t *x = xmpp_stanza_get_child_by_name(q, "x"); x;
         x = next_named(x, "x"))
        if (is_data_form(x))
            json_array_append_new(forms, form_json(x));
    json_object_set_new(o, "identities", ids);
    json_object_set_new(o, "features", feats);
    json_object_set_new(o, "forms", forms);
    out_json(stdout, o);
}

/* ---- items ---- */

static void print_items(xmpp_stanza_t *q, enum output_format fmt)
{
    for (xmpp_stanza_t *i = xmpp_stanza_get_child_by_name(q, "item"); i;
         i = next_named(i, "item")) {
        const char *jid = xmpp_stanza_get_attribute(i, "jid");
        const char *node = xmpp_stanza_get_attribute(i, "node");
        const char *name = xmpp_stanza_get_attribute(i, "name");
        if (fmt == OUT_JSON) {
            json_t *o = json_object();
            out_json_set(o, "kind", "item");
            out_json_set(o, "jid", jid);
            out_json_set(o, "node", node);
            out_json_set(o, "name", name);
            out_json(stdout, o);
        } else {
            const char *fields[] = {jid, node, name};
            print_fields(stdout, 3, fields);
        }
    }
}

static void print_answer(const struct answer *a, void *ud)
{
    struct disco *d = ud;
    if (d->items)
        print_items(a->el, a->fmt);
    else if (a->fmt == OUT_JSON)
        print_info_json(a->el, a->from, d->node);
    else
        print_info_text(a->el);
}

static int ask(struct disco *d, struct session *s, const char *ns)
{
    struct query q = {.type = "get",
                      .to = d->q.jid,
                      .name = "query",
                      .ns = ns,
                      .node = d->node,
                      .print = print_answer,
                      .ud = d};
    return query_once(s, &q);
}

static int run_info(void *tool, struct session *s)
{
    return ask(tool, s, NS_INFO);
}

static int run_items(void *tool, struct session *s)
{
    struct disco *d = tool;
    d->items = true;
    return ask(d, s, NS_ITEMS);
}

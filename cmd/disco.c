/* xmpp disco: service discovery (XEP-0030): what an entity is and can
 * do (info), or what it offers (items).
 *
 * usage: xmpp disco [options] [info|items] [JID]
 */
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

static const char help[] =
    "Discovery:\n"
    "      --node NODE          ask about this node of the entity\n"
    "JID defaults to your server. Output for info: one line per identity\n"
    "(identity TAB CATEGORY TAB TYPE TAB NAME), feature (feature TAB VAR)\n"
    "and extended-info field value (form TAB FORM_TYPE TAB VAR TAB VALUE);\n"
    "for items: JID TAB NODE TAB NAME. --json: info as one object\n"
    "(jid, node, identities, features, forms), items one object each.\n";

enum { OPT_NODE = 1000 };

static const struct option options[] = {
    {"node", required_argument, NULL, OPT_NODE},
    {NULL, 0, NULL, 0},
};

static int cmd_disco(int argc, char **argv);

const struct tool tool_disco = {
    .name = "disco",
    .run = cmd_disco,
    .summary = "Discover an entity's features or items (XEP-0030)",
    .synopsis = "[options] [--node NODE] [info|items] [JID]",
    .help = help,
    .options = options,
};

struct disco {
    struct session_opts o;
    const char *node;
    bool items;
};

static int on_opt(int c, const char *arg, void *ud)
{
    struct disco *d = ud;
    switch (c) {
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

static int cmd_disco(int argc, char **argv)
{
    struct disco d = {0};
    int first, rc = opts_parse(argc, argv, &d.o, on_opt, &d, &first);
    if (rc != OPTS_CONTINUE)
        return rc;
    if (first < argc &&
        (!strcmp(argv[first], "info") || !strcmp(argv[first], "items")))
        d.items = !strcmp(argv[first++], "items");
    const char *jid;
    if ((rc = query_jid_operand(&d.o, argc, argv, first, &jid)))
        return rc;
    struct query q = {.type = "get",
                      .to = jid,
                      .name = "query",
                      .ns = d.items ? NS_ITEMS : NS_INFO,
                      .node = d.node,
                      .print = print_answer,
                      .ud = &d};
    return query_run(&d.o, &q);
}

/* xmpp pubsub: publish-subscribe (XEP-0060) on a service, or on the
 * account's own PEP service (XEP-0163) when no --service is given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/io/xmlin.h"
#include "common/io/xmljson.h"
#include "common/net/session.h"
#include "common/xmpp/caps.h"
#include "common/xmpp/form.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

#define NS_PUBSUB       "http://jabber.org/protocol/pubsub"
#define NS_PUBSUB_OWNER NS_PUBSUB "#owner"
#define NS_PUBSUB_EVENT NS_PUBSUB "#event"

enum { O_SERVICE = 1000, O_ID, O_MAX, O_NOTIFY, O_JSON_IN, O_FIELD, O_FORM };

static const struct tool_opt opts[] = {
    {.help = "Options:"},
    {"service", O_SERVICE, "JID",
     "the pubsub service (default: our account's\n"
     "PEP; another account's PEP is its bare JID)"},
    {"id", O_ID, "ID", "publish: the item's id; items: only this item"},
    {"max", O_MAX, "N", "items: at most the N newest"},
    {"notify", O_NOTIFY, NULL, "retract: notify the subscribers"},
    {"json-in", O_JSON_IN, NULL,
     "publish: the payload is JSON (see xmpp-iq(1))"},
    {"field", O_FIELD, "VAR=VALUE",
     "create: node configuration; publish: publish\n"
     "options (e.g. pubsub#access_model=open)",
     OPT_REPEAT},
    {"form", O_FORM, "FILE", "the same from a JSON object file"},
    {"count", 'n', "N", "listen: stop after N notifications"},
    {.help = "Connection faults:"},
    OPTS_KEEPALIVE_ENTRY,
    OPTS_RECONNECT_ENTRY,
    OPTS_RETRY_ENTRY,
    {0},
};

static int do_nodes(void *tool, struct session *s);
static int do_create(void *tool, struct session *s);
static int do_delete(void *tool, struct session *s);
static int do_publish(void *tool, struct session *s);
static int do_items(void *tool, struct session *s);
static int do_retract(void *tool, struct session *s);
static int do_subscribe(void *tool, struct session *s);
static int do_unsubscribe(void *tool, struct session *s);
static int do_listen(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"nodes", NULL, 0, 0, "the service's nodes: NODE<TAB>NAME", "service retry",
     do_nodes},
    {"create", "[NODE]", 0, 1,
     "create NODE (none: the service names it) and\n"
     "print its name",
     "service field form retry", do_create},
    {"delete", "NODE", 1, 1, "delete NODE and its items", "service retry",
     do_delete},
    {"publish", "NODE [PAYLOAD]", 1, 2,
     "publish one XML element (else read from\n"
     "stdin) as an item; print the item's id",
     "service id json-in field form retry", do_publish},
    {"items", "NODE", 1, 1,
     "the node's items: ID<TAB>PAYLOAD as one line\n"
     "of XML",
     "service id max retry", do_items},
    {"retract", "NODE ID", 2, 2, "remove an item", "service notify retry",
     do_retract},
    {"subscribe", "NODE", 1, 1,
     "subscribe our bare JID; print the state\n"
     "(subscribed, pending, unconfigured)",
     "service retry", do_subscribe},
    {"unsubscribe", "NODE", 1, 1, "end our subscription", "service retry",
     do_unsubscribe},
    {"listen", "[NODE...]", 0, -1,
     "print notifications (of these nodes) until\n"
     "--count, the deadline or a signal:\n"
     "FROM<TAB>NODE<TAB>EVENT<TAB>ID<TAB>PAYLOAD,\n"
     "EVENT item, retract, delete or purge",
     "service count keepalive reconnect", do_listen},
    {0},
};

static const char notes[] =
    "Subcommands act on the nodes of --service, else of our own PEP service.\n"
    "--json: objects (service, node, id, payload in the xmpp-iq(1) mapping,\n"
    "...); --xml: the answers' or notifications' XML.\n";

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

struct pubsub {
    struct session_opts *o;
    const struct tool_sub *sub;
    const char *service; /* NULL: our PEP */
    const char *id;
    long max, count;
    bool notify, json_in;
    struct form_input fields;
    char **args; /* operands after the subcommand */
    int nargs;
    xmpp_ctx_t *pctx; /* where the payload was parsed */
    xmpp_stanza_t *payload;
    struct session *s;
    char **features; /* listen: NODE+notify for PEP */
    long got;
};

const struct tool tool_pubsub = {
    .name = "pubsub",
    .summary = "Publish and subscribe (XEP-0060, PEP)",
    .opts = opts,
    .subs = subs,
    .notes = notes,
    .size = sizeof(struct pubsub),
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static int option(void *tool, int key, const char *arg)
{
    struct pubsub *p = tool;
    int rc = 0;
    switch (key) {
    case O_SERVICE: p->service = arg; break;
    case O_ID: p->id = arg; break;
    case O_NOTIFY: p->notify = true; break;
    case O_JSON_IN: p->json_in = true; break;
    case O_FIELD: rc = form_input_arg(&p->fields, arg); break;
    case O_FORM: rc = form_input_file(&p->fields, arg); break;
    case O_MAX:
        if (opts_int(arg, 1, 1000000, &p->max) < 0)
            return fail(XE_USAGE, "--max %s: give a positive number", arg);
        break;
    case 'n':
        if (opts_int(arg, 1, OPTS_COUNT_MAX, &p->count) < 0)
            return fail(XE_USAGE, "--count %s: give a positive number", arg);
        break;
    default: return XE_USAGE;
    }
    return rc ? rc : OPTS_CONTINUE;
}

/* ---- asking the service ---- */

/* Whom we ask, for messages: the service, or our account for PEP. */
static const char *service_name(struct pubsub *p)
{
    return p->service ? p->service : p->s->creds.jid;
}

/* <iq type=TYPE to=SERVICE><pubsub xmlns=NS><VERB node=NODE/></pubsub>;
 * *el is the inner element, its parent the last one added to the IQ.
 * Without --service there is no 'to': the server answers for our
 * account's PEP service. */
static xmpp_stanza_t *pubsub_iq(struct pubsub *p, const char *type,
                                const char *ns, const char *verb,
                                const char *node, xmpp_stanza_t **el)
{
    xmpp_stanza_t *ps;
    xmpp_stanza_t *iq = query_new(p->s, type, p->service, "pubsub", ns, &ps);
    *el = stanza_add_el(ps, verb, NULL);
    if (node)
        xmpp_stanza_set_attribute(*el, "node", node);
    return iq;
}

/* Add <name/> next to the verb, in the IQ's <pubsub/>. */
static xmpp_stanza_t *add_sibling(xmpp_stanza_t *iq, const char *name)
{
    xmpp_stanza_t *ps = xmpp_stanza_get_children(iq);
    return stanza_add_el(ps, name, NULL);
}

/* Send it; a refusal is "SERVICE node NODE: cannot WHAT: type/cond". */
static int ask(struct pubsub *p, xmpp_stanza_t *iq, const char *what,
               const char *node, xmpp_stanza_t **reply)
{
    char buf[2200];
    snprintf(buf, sizeof buf, "%s%s%s: cannot %s", service_name(p),
             node ? " node " : "", node ? node : "", what);
    int rc = session_iq(p->s, iq, reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA) {
        report_stanza_error(buf, *reply);
        xmpp_stanza_release(*reply);
        *reply = NULL;
    } else if (rc == XE_TIMEOUT) {
        fail(rc, "%s: no answer by the deadline (--timeout)", service_name(p));
    }
    return rc;
}

/* The child `name` of the answer's <pubsub xmlns=ns/>, or NULL. */
static xmpp_stanza_t *answer_el(xmpp_stanza_t *reply, const char *ns,
                                const char *name)
{
    xmpp_stanza_t *ps =
        reply ? xmpp_stanza_get_child_by_name_and_ns(reply, "pubsub", ns)
              : NULL;
    return ps ? xmpp_stanza_get_child_by_name(ps, name) : NULL;
}

static void print_xml_answer(struct pubsub *p, xmpp_stanza_t *reply)
{
    print_element(stdout, reply, stream_ns(p->s), OUT_XML);
}

/* One result line: the text, or {"kind", "service", "node"[, KEY:
 * text]}. */
static void print_result(struct pubsub *p, const char *kind, const char *node,
                         const char *key, const char *text)
{
    if (p->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", kind);
        out_json_set(j, "service", service_name(p));
        out_json_set(j, "node", node);
        if (key)
            out_json_set(j, key, text);
        out_json(stdout, j);
    } else {
        out_text(stdout, text);
        putchar('\n');
    }
}

/* ---- the subcommands ---- */

/* §8.1: create, with the node configuration inline (§8.1.3). */
static int do_create(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    const char *node = p->nargs ? p->args[0] : NULL;
    xmpp_stanza_t *create, *reply;
    xmpp_stanza_t *iq = pubsub_iq(p, "set", NS_PUBSUB, "create", node, &create);
    if (!form_input_empty(&p->fields)) {
        xmpp_stanza_t *conf = add_sibling(iq, "configure");
        xmpp_stanza_add_child_ex(
            conf, form_from_input(s->ctx, NS_PUBSUB "#node_config", &p->fields),
            0);
    }
    int rc = ask(p, iq, "create the node", node, &reply);
    if (rc)
        return rc;
    /* §8.1.2: the service names an instant node in its answer. */
    xmpp_stanza_t *c = answer_el(reply, NS_PUBSUB, "create");
    const char *name = c ? xmpp_stanza_get_attribute(c, "node") : NULL;
    if (p->o->format == OUT_XML)
        print_xml_answer(p, reply);
    else
        print_result(p, "node", name ? name : node, NULL, name ? name : node);
    xmpp_stanza_release(reply);
    return 0;
}

/* §8.4 delete, and the other requests that answer with nothing to
 * print: retract (§7.2), unsubscribe (§6.2). */
static int simple(struct pubsub *p, const char *ns, const char *verb,
                  const char *what,
                  xmpp_stanza_t *(*fill)(struct pubsub *, xmpp_stanza_t *))
{
    const char *node = p->args[0];
    xmpp_stanza_t *el, *reply;
    xmpp_stanza_t *iq = pubsub_iq(p, "set", ns, verb, node, &el);
    if (fill)
        fill(p, el);
    int rc = ask(p, iq, what, node, &reply);
    if (!rc && p->o->format == OUT_XML)
        print_xml_answer(p, reply);
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

static int do_delete(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    (void)s;
    return simple(p, NS_PUBSUB_OWNER, "delete", "delete the node", NULL);
}

static xmpp_stanza_t *retract_item(struct pubsub *p, xmpp_stanza_t *el)
{
    if (p->notify)
        xmpp_stanza_set_attribute(el, "notify", "true");
    xmpp_stanza_t *item = stanza_add_el(el, "item", NULL);
    xmpp_stanza_set_attribute(item, "id", p->args[1]);
    return el;
}

static int do_retract(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    (void)s;
    return simple(p, NS_PUBSUB, "retract", "retract the item", retract_item);
}

/* Our bare JID, which subscriptions are for (§6.1.1). */
static const char *bare_me(struct pubsub *p)
{
    static char bare[2100];
    const char *me = p->s->creds.jid;
    snprintf(bare, sizeof bare, "%.*s", (int)jid_bare_len(me), me);
    return bare;
}

static xmpp_stanza_t *with_jid(struct pubsub *p, xmpp_stanza_t *el)
{
    xmpp_stanza_set_attribute(el, "jid", bare_me(p));
    return el;
}

static int do_unsubscribe(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    (void)s;
    return simple(p, NS_PUBSUB, "unsubscribe", "unsubscribe", with_jid);
}

/* §6.1: the answer says subscribed, pending or unconfigured. */
static int do_subscribe(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    (void)s;
    const char *node = p->args[0];
    xmpp_stanza_t *el, *reply;
    xmpp_stanza_t *iq = pubsub_iq(p, "set", NS_PUBSUB, "subscribe", node, &el);
    with_jid(p, el);
    int rc = ask(p, iq, "subscribe", node, &reply);
    if (rc)
        return rc;
    xmpp_stanza_t *sub = answer_el(reply, NS_PUBSUB, "subscription");
    const char *state =
        sub ? xmpp_stanza_get_attribute(sub, "subscription") : NULL;
    if (p->o->format == OUT_XML) {
        print_xml_answer(p, reply);
    } else if (p->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "subscription");
        out_json_set(j, "service", service_name(p));
        out_json_set(j, "node", node);
        out_json_set(j, "jid", bare_me(p));
        out_json_set(j, "subscription", state ? state : "subscribed");
        out_json_set(j, "subid",
                     sub ? xmpp_stanza_get_attribute(sub, "subid") : NULL);
        out_json(stdout, j);
    } else {
        out_text(stdout, state ? state : "subscribed");
        putchar('\n');
    }
    xmpp_stanza_release(reply);
    return 0;
}

/* §7.1: one item; its id comes back when the service chose it. */
static int do_publish(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    const char *node = p->args[0];
    xmpp_stanza_t *pub, *reply;
    xmpp_stanza_t *iq = pubsub_iq(p, "set", NS_PUBSUB, "publish", node, &pub);
    xmpp_stanza_t *item = stanza_add_el(pub, "item", NULL);
    if (p->id)
        xmpp_stanza_set_attribute(item, "id", p->id);
    xmpp_stanza_add_child_ex(item, p->payload, 0);
    p->payload = NULL;
    if (!form_input_empty(&p->fields)) { /* §7.1.5 publish options */
        xmpp_stanza_t *po = add_sibling(iq, "publish-options");
        xmpp_stanza_add_child_ex(
            po,
            form_from_input(s->ctx, NS_PUBSUB "#publish-options", &p->fields),
            0);
    }
    int rc = ask(p, iq, "publish", node, &reply);
    if (rc)
        return rc;
    xmpp_stanza_t *got = answer_el(reply, NS_PUBSUB, "publish");
    got = got ? xmpp_stanza_get_child_by_name(got, "item") : NULL;
    const char *id = got ? xmpp_stanza_get_attribute(got, "id") : NULL;
    if (p->o->format == OUT_XML)
        print_xml_answer(p, reply);
    else if (id || p->id)
        print_result(p, "item", node, "id", id ? id : p->id);
    xmpp_stanza_release(reply);
    return 0;
}

/* The first element child: an item's payload (§7.1.1: one). */
static xmpp_stanza_t *first_element(xmpp_stanza_t *st)
{
    xmpp_stanza_t *c = st ? xmpp_stanza_get_children(st) : NULL;
    while (c && !xmpp_stanza_is_tag(c))
        c = xmpp_stanza_get_next(c);
    return c;
}

/* The payload as one line of XML in a string (free() it): its own
 * namespace declared, the ones it inherits left out. */
static char *payload_xml(xmpp_stanza_t *payload, const char *ns)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    out_xml_in(f, payload, ns);
    fclose(f);
    return buf;
}

/* One item or event as a record. JSON keys: from (events), service
 * (items), node, event, id, publisher, payload, delay. */
struct record {
    const char *from, *service, *node, *event, *id, *publisher, *delay;
    xmpp_stanza_t *payload;
};

static void print_record(struct pubsub *p, const struct record *r)
{
    if (p->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", r->from ? "event" : "item");
        out_json_set(j, "from", r->from);
        out_json_set(j, "service", r->service);
        out_json_set(j, "node", r->node);
        out_json_set(j, "event", r->event);
        out_json_set(j, "id", r->id);
        out_json_set(j, "publisher", r->publisher);
        if (r->payload)
            json_object_set_new(j, "payload",
                                xmljson_from_stanza(r->payload, NS_PUBSUB));
        out_json_set(j, "delay", r->delay);
        out_json(stdout, j);
        return;
    }
    char *xml = r->payload ? payload_xml(r->payload, NS_PUBSUB) : NULL;
    if (r->from) {
        out_text(stdout, r->from);
        putchar('\t');
        out_text(stdout, r->node);
        putchar('\t');
        out_text(stdout, r->event);
        putchar('\t');
    }
    out_text(stdout, r->id);
    putchar('\t');
    out_text(stdout, xml);
    putchar('\n');
    free(xml);
}

/* §6.5: the items of a node, the newest --max, or the one --id. */
static int do_items(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    (void)s;
    const char *node = p->args[0];
    xmpp_stanza_t *el, *reply;
    xmpp_stanza_t *iq = pubsub_iq(p, "get", NS_PUBSUB, "items", node, &el);
    char num[24];
    if (p->max) {
        snprintf(num, sizeof num, "%ld", p->max);
        xmpp_stanza_set_attribute(el, "max_items", num);
    }
    if (p->id)
        xmpp_stanza_set_attribute(stanza_add_el(el, "item", NULL), "id", p->id);
    int rc = ask(p, iq, "get the items", node, &reply);
    if (rc)
        return rc;
    xmpp_stanza_t *items = answer_el(reply, NS_PUBSUB, "items");
    if (p->o->format == OUT_XML)
        print_xml_answer(p, reply);
    for (xmpp_stanza_t *it = items ? xmpp_stanza_get_children(items) : NULL;
         it && p->o->format != OUT_XML; it = xmpp_stanza_get_next(it)) {
        if (!xmpp_stanza_is_tag(it) || strcmp(xmpp_stanza_get_name(it), "item"))
            continue;
        struct record r = {
            .service = p->o->format == OUT_JSON ? service_name(p) : NULL,
            .node = node,
            .id = xmpp_stanza_get_attribute(it, "id"),
            .publisher = xmpp_stanza_get_attribute(it, "publisher"),
            .payload = first_element(it),
        };
        print_record(p, &r);
    }
    xmpp_stanza_release(reply);
    return 0;
}

/* §5.2 (XEP-0030 items): the nodes the service has. */
static int do_nodes(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    const char *to = p->service ? p->service : bare_me(p);
    xmpp_stanza_t *iq = query_new(
        s, "get", to, "query", "http://jabber.org/protocol/disco#items", NULL);
    xmpp_stanza_t *reply;
    int rc = ask(p, iq, "list the nodes", NULL, &reply);
    if (rc)
        return rc;
    if (p->o->format == OUT_XML)
        print_xml_answer(p, reply);
    xmpp_stanza_t *q = first_element(reply);
    for (xmpp_stanza_t *it = q ? xmpp_stanza_get_children(q) : NULL;
         it && p->o->format != OUT_XML; it = xmpp_stanza_get_next(it)) {
        if (!xmpp_stanza_is_tag(it) || strcmp(xmpp_stanza_get_name(it), "item"))
            continue;
        const char *node = xmpp_stanza_get_attribute(it, "node");
        const char *name = xmpp_stanza_get_attribute(it, "name");
        if (!node)
            continue;
        if (p->o->format == OUT_JSON) {
            json_t *j = json_object();
            out_json_set(j, "kind", "node");
            out_json_set(j, "service", to);
            out_json_set(j, "node", node);
            out_json_set(j, "name", name);
            out_json(stdout, j);
        } else {
            const char *f[] = {node, name};
            print_fields(stdout, 2, f);
        }
    }
    xmpp_stanza_release(reply);
    return 0;
}

/* ---- listen ---- */

static bool wanted_node(struct pubsub *p, const char *node)
{
    if (!p->nargs)
        return true;
    for (int i = 0; i < p->nargs; i++)
        if (node && !strcmp(node, p->args[i]))
            return true;
    return false;
}

/* Print one event; stop at --count. */
static void event(struct pubsub *p, struct record *r)
{
    if (p->s->status != SESSION_RUNNING)
        return;
    if (p->o->format != OUT_XML)
        print_record(p, r);
    if (out_flush(stdout) < 0)
        session_stop(p->s, XE_OK); /* the reader went away */
    else if (p->count && ++p->got >= p->count)
        session_stop(p->s, XE_OK);
}

/* The events of one <items/>: published items and retractions. */
static void items_events(struct pubsub *p, struct record *r,
                         xmpp_stanza_t *items)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(items); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_is_tag(c) ? xmpp_stanza_get_name(c) : "";
        if (strcmp(name, "item") && strcmp(name, "retract"))
            continue;
        r->event = strcmp(name, "item") ? "retract" : "item";
        r->id = xmpp_stanza_get_attribute(c, "id");
        r->publisher = xmpp_stanza_get_attribute(c, "publisher");
        r->payload = first_element(c);
        event(p, r);
    }
}

/* §7.1.2.1, §7.2.2.1, §8.4.2, §8.5.2: <message><event/></message>. */
static int on_event(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct pubsub *p = ud;
    (void)conn;
    xmpp_stanza_t *ev =
        xmpp_stanza_get_child_by_name_and_ns(st, "event", NS_PUBSUB_EVENT);
    const char *from = xmpp_stanza_get_from(st);
    if (!ev || !from || !stanza_from_ok(st) ||
        (p->service && !jid_matches(from, p->service)))
        return 1;
    bool printed_xml = false;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(ev); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_is_tag(c) ? xmpp_stanza_get_name(c) : "";
        const char *node = xmpp_stanza_get_attribute(c, "node");
        if (!wanted_node(p, node))
            continue;
        if (p->o->format == OUT_XML && !printed_xml) {
            print_element(stdout, st, stream_ns(p->s), OUT_XML);
            printed_xml = true;
        }
        struct record r = {
            .from = from, .node = node, .delay = stanza_delay_stamp(st)};
        if (!strcmp(name, "items")) {
            items_events(p, &r, c);
        } else if (!strcmp(name, "delete") || !strcmp(name, "purge")) {
            r.event = name;
            event(p, &r);
        }
    }
    return 1;
}

/* XEP-0163 §4: PEP sends a contact's (and our own) notifications where
 * the presence's capabilities list "NODE+notify"; not wanted from a
 * --service. */
static int notify_features(struct pubsub *p)
{
    int n = p->service ? 0 : p->nargs;
    p->features = calloc((size_t)n + 1, sizeof *p->features);
    if (!p->features)
        return fail_oom(NULL);
    for (int i = 0; i < n; i++)
        if (asprintf(&p->features[i], "%s+notify", p->args[i]) < 0) {
            p->features[i] = NULL; /* the list ends here: freed as one */
            return fail_oom(NULL);
        }
    return 0;
}

/* Available presence: notifications to our bare JID reach us. Again
 * for a new session after a reconnect (--reconnect). */
static int announce(struct session *s, void *ud)
{
    struct pubsub *p = ud;
    xmpp_stanza_t *pres = xmpp_presence_new(s->ctx);
    xmpp_stanza_add_child_ex(
        pres, caps_element(s->ctx, (const char *const *)p->features), 0);
    session_send(s, pres);
    xmpp_stanza_release(pres);
    return 0;
}

static int do_listen(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    int rc = notify_features(p);
    if (rc)
        return rc;
    s->features = (const char *const *)p->features;
    xmpp_handler_add(s->conn, on_event, NULL, "message", NULL, p);
    s->renew = announce;
    s->renew_ud = p;
    announce(s, p);
    rc = session_wait(s, NULL);
    if (rc >= 128) /* a signal is how a listener is meant to stop */
        return 0;
    if (rc == XE_TIMEOUT && p->count)
        return fail(XE_TIMEOUT,
                    "deadline reached after %ld of %ld "
                    "notifications",
                    p->got, p->count);
    return rc == XE_TIMEOUT ? 0 : rc;
}

/* ---- the job ---- */

/* The payload of publish, checked before we connect (xmlin.h). */
static int read_payload(struct pubsub *p)
{
    const char *arg = p->nargs > 1 ? p->args[1] : NULL;
    const char *what = arg ? "payload" : "stdin";
    char *buf;
    size_t len;
    int rc = arg ? ((buf = strdup(arg)) ? 0 : fail_oom(what))
                 : input_read(NULL, INPUT_MAX_DEFAULT, &buf, &len);
    if (rc)
        return rc;
    if (arg)
        len = strlen(buf);
    if (!(p->pctx = xmpp_ctx_new(NULL, NULL)))
        rc = fail_oom(NULL);
    else if (p->json_in)
        rc = xmljson_parse(p->pctx, what, buf, len, &p->payload);
    else
        rc = xmlin_parse_one(p->pctx, what, buf, len, &p->payload);
    free(buf);
    return rc;
}

static int check_operands(struct pubsub *p, const struct tool_sub *sub)
{
    for (int i = 0; i < p->nargs; i++) {
        if (sub->run == do_publish && i == 1)
            break; /* the payload, parsed later */
        size_t at;
        const char *a = p->args[i];
        if (!*a || utf8_check(a, strlen(a), &at))
            return fail(XE_DATA, "'%s': not a node name%s", a,
                        i == 1 ? " or item id" : "");
    }
    if (p->id && utf8_check(p->id, strlen(p->id), &(size_t){0}))
        return fail(XE_DATA, "--id: invalid UTF-8 or forbidden characters");
    const char *why = p->service ? jid_check(p->service) : NULL;
    if (why)
        return fail(XE_DATA, "--service %s: invalid JID: %s", p->service, why);
    return 0;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct pubsub *p = tool;
    p->o = o;
    p->sub = a->sub;
    p->args = a->argv;
    p->nargs = a->argc;
    if (o->component && !p->service)
        return fail(XE_USAGE, "a component has no PEP service: give "
                              "--service");
    int rc = check_operands(p, a->sub);
    if (!rc && a->sub->run == do_publish)
        rc = read_payload(p);
    /* A listener runs until stopped, unless -t says otherwise. */
    if (a->sub->run == do_listen && !o->timeout_given)
        o->timeout = -1;
    return rc;
}

static int run(void *tool, struct session *s)
{
    struct pubsub *p = tool;
    p->s = s;
    session_answer_iqs(s);
    int rc = p->sub->run(p, s);
    fflush(stdout);
    return rc;
}

static void release(void *tool)
{
    struct pubsub *p = tool;
    if (p->payload)
        xmpp_stanza_release(p->payload);
    if (p->pctx)
        xmpp_ctx_free(p->pctx);
    for (int i = 0; p->features && i < p->nargs; i++)
        free(p->features[i]);
    free(p->features);
    form_input_free(&p->fields);
}

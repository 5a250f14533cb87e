/* xmpp vcard: read an entity's vCard, or publish your own (XEP-0054). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/xmlin.h"
#include "common/io/xmljson.h"
#include "common/xmpp/query.h"

#define NS_VCARD "vcard-temp"

static const char notes[] =
    "get (the default) prints JID's vCard, else your own: a line per field,\n"
    "PATH TAB VALUE (N.GIVEN, EMAIL.USERID; empty flags like EMAIL.HOME);\n"
    "--json: one object, {\"FN\": \"...\", \"N\": {\"GIVEN\": \"...\"}},\n"
    "arrays for repeated fields, \"\" for empty ones.\n"
    "set publishes FILE (default stdin): that JSON, or the <vCard\n"
    "xmlns='vcard-temp'> element as XML. It replaces the whole vCard.\n";

static int run_get(void *tool, struct session *s);
static int run_set(void *tool, struct session *s);

static const struct tool_opt opts[] = {
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static const struct tool_sub subs[] = {
    {"get", "[JID]", 0, 1, "show JID's vCard, else your own", "retry", run_get},
    {"set", "[FILE]", 0, 1, "publish FILE (default stdin) as your vCard",
     "retry", run_set},
    {0},
};

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static void release(void *tool);

struct vcard {
    struct query_jid q;     /* get: first, query_jid_prepare fills it */
    xmpp_ctx_t *ctx;        /* set: the vCard's, made before the session's */
    xmpp_stanza_t *payload; /* set: until run_set hands it to the query */
};

const struct tool tool_vcard = {
    .name = "vcard",
    .summary = "Show or set a vCard (XEP-0054)",
    .opts = opts,
    .subs = subs,
    .default_sub = "get",
    .notes = notes,
    .flags = TOOL_SUB_IMPLIED,
    .size = sizeof(struct vcard),
    .prepare = prepare,
    .release = release,
};

static bool has_elements(xmpp_stanza_t *el)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c;
         c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c))
            return true;
    return false;
}

/* ---- get ---- */

static void print_text(xmpp_stanza_t *el, char *path, size_t len, size_t cap)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c;
         c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c))
            continue;
        int n = snprintf(path + len, cap - len, "%s%s", len ? "." : "",
                         xmpp_stanza_get_name(c));
        size_t at = n > 0 && (size_t)n < cap - len ? len + (size_t)n : len;
        if (has_elements(c)) {
            print_text(c, path, at, cap);
        } else {
            char *text = xmpp_stanza_get_text(c);
            const char *fields[] = {path, text ? text : ""};
            print_fields(stdout, 2, fields);
            xmpp_free(xmpp_stanza_get_context(c), text);
        }
        path[len] = '\0';
    }
}

/* The friendly form: element name -> text, or object, or an array when
 * the name repeats (EMAIL, TEL). */
static json_t *to_json(xmpp_stanza_t *el)
{
    if (!has_elements(el)) {
        char *text = xmpp_stanza_get_text(el);
        json_t *s = json_string(text ? text : "");
        xmpp_free(xmpp_stanza_get_context(el), text);
        return s;
    }
    json_t *o = json_object();
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c;
         c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c))
            continue;
        const char *name = xmpp_stanza_get_name(c);
        json_t *v = to_json(c), *was = json_object_get(o, name);
        if (!was) {
            json_object_set_new(o, name, v);
        } else if (json_is_array(was)) {
            json_array_append_new(was, v);
        } else {
            json_t *a = json_array();
            json_array_append(a, was);
            json_array_append_new(a, v);
            json_object_set_new(o, name, a);
        }
    }
    return o;
}

static void print_answer(const struct answer *a, void *ud)
{
    (void)ud;
    if (a->fmt == OUT_JSON) {
        json_t *j = has_elements(a->el) ? to_json(a->el) : json_object();
        out_json(stdout, j);
        return;
    }
    char path[1024] = "";
    print_text(a->el, path, 0, sizeof path);
}

static int run_get(void *tool, struct session *s)
{
    struct vcard *v = tool;
    /* XEP-0054 §3.1: one's own vCard is asked for without 'to'. */
    struct query q = {.type = "get",
                      .to = v->q.jid,
                      .to_self = true,
                      .name = "vCard",
                      .ns = NS_VCARD,
                      .print = print_answer};
    return query_once(s, &q);
}

/* ---- set ---- */

/* Where a JSON error is, for messages: "FILE: .EMAIL[1].USERID". */
static int bad_value(const char *what, const char *path, const char *why)
{
    return fail(XE_DATA, "%s: %s: %s", what, *path ? path : ".", why);
}

static int friendly_children(const char *what, json_t *obj, char *path,
                             size_t len, json_t *children);

/* One field of the friendly form as xmljson elements (appended). */
static int friendly_field(const char *what, const char *name, json_t *v,
                          char *path, size_t len, json_t *children)
{
    json_t *el = json_pack("{s:s}", "name", name);
    int rc = 0;
    if (json_is_string(v))
        json_object_set(el, "text", v);
    else if (json_is_true(v))
        ; /* a flag: <HOME/> */
    else if (json_is_object(v)) {
        json_t *kids = json_array();
        json_object_set_new(el, "children", kids);
        rc = friendly_children(what, v, path, len, kids);
    } else
        rc = bad_value(what, path, "must be a string, an object or true");
    if (!rc)
        json_array_append(children, el);
    json_decref(el);
    return rc;
}

static int friendly_children(const char *what, json_t *obj, char *path,
                             size_t len, json_t *children)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        int rc = 0;
        snprintf(path + len, 512 - len, ".%s", name);
        size_t at = strlen(path);
        if (!json_is_array(v)) {
            rc = friendly_field(what, name, v, path, at, children);
        } else {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                snprintf(path + at, 512 - at, "[%zu]", i);
                if ((rc = friendly_field(what, name, item, path, strlen(path),
                                         children)))
                    break;
            }
        }
        path[len] = '\0';
        if (rc)
            return rc;
    }
    return 0;
}

/* The JSON file: the friendly form, or an element in the xmljson form
 * ({"name": "vCard", ...}). */
static int from_json(xmpp_ctx_t *ctx, const char *what, const char *buf,
                     size_t len, xmpp_stanza_t **out)
{
    json_t *j = xmljson_load(what, buf, len);
    if (!j)
        return XE_DATA;
    int rc = 0;
    json_t *el = j;
    if (!json_is_object(j)) {
        rc = bad_value(what, "", "must be an object of vCard fields");
    } else if (!json_is_string(json_object_get(j, "name"))) {
        char path[512] = "";
        el = json_pack("{s:s, s:s, s:[]}", "name", "vCard", "ns", NS_VCARD,
                       "children");
        rc = friendly_children(what, j, path, 0,
                               json_object_get(el, "children"));
    }
    if (!rc)
        rc = xmljson_to_stanza(ctx, what, el, out);
    if (el != j)
        json_decref(el);
    json_decref(j);
    return rc;
}

static int read_vcard(xmpp_ctx_t *ctx, const char *file, xmpp_stanza_t **out)
{
    char *buf;
    size_t len;
    const char *what = file && strcmp(file, "-") ? file : "stdin";
    int rc = input_read(file, INPUT_MAX_DEFAULT, &buf, &len);
    if (rc)
        return rc;
    size_t lead = strspn(buf, " \t\r\n");
    if (buf[lead] == '<')
        rc = xmlin_parse_one(ctx, what, buf, len, out);
    else if (buf[lead] == '{')
        rc = from_json(ctx, what, buf, len, out);
    else
        rc = fail(XE_DATA, "%s: neither a <vCard> element nor a JSON object",
                  what);
    free(buf);
    if (rc)
        return rc;
    const char *ns = xmpp_stanza_get_ns(*out);
    if (strcmp(xmpp_stanza_get_name(*out), "vCard") ||
        (ns && strcmp(ns, NS_VCARD))) {
        xmpp_stanza_release(*out);
        *out = NULL;
        return fail(XE_DATA,
                    "%s: expected a <vCard xmlns='vcard-temp'> "
                    "element",
                    what);
    }
    if (!ns)
        xmpp_stanza_set_ns(*out, NS_VCARD);
    return 0;
}

static int run_set(void *tool, struct session *s)
{
    struct vcard *v = tool;
    struct query q = {.type = "set", .to_self = true, .payload = v->payload};
    v->payload = NULL; /* query_once releases it */
    return query_once(s, &q);
}

/* set: the vCard is read and checked before connecting, in a context of
 * our own, as the session's comes later. */
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct vcard *v = tool;
    if (strcmp(a->sub->name, "set"))
        return query_jid_prepare(tool, o, a);
    if (!(v->ctx = xmpp_ctx_new(NULL, NULL)))
        return fail_oom(NULL);
    return read_vcard(v->ctx, a->argc ? a->argv[0] : NULL, &v->payload);
}

static void release(void *tool)
{
    struct vcard *v = tool;
    if (v->payload)
        xmpp_stanza_release(v->payload);
    if (v->ctx)
        xmpp_ctx_free(v->ctx);
}

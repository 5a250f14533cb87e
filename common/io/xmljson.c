#include "common/io/xmljson.h"

#include <expat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/io/utf8.h"

static bool same_ns(const char *a, const char *b)
{
    if (!a || !b)
        return !a && !b;
    return !strcmp(a, b);
}

/* The namespace an element is in: its xmlns, else the one around it. */
static const char *effective_ns(xmpp_stanza_t *st, const char *around)
{
    const char *own = xmpp_stanza_get_ns(st);
    if (!own)
        return around;
    return *own ? own : NULL;
}

/* ---- stanza -> JSON ---- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Attributes sorted by name, so that output is stable. */
static json_t *attrs_json(xmpp_stanza_t *st)
{
    int n = xmpp_stanza_get_attribute_count(st);
    if (n <= 0)
        return NULL;
    const char **kv = calloc((size_t)n * 2, sizeof *kv);
    if (!kv)
        return NULL;
    xmpp_stanza_get_attributes(st, kv, n * 2);
    qsort(kv, (size_t)n, 2 * sizeof *kv, by_name);
    json_t *o = json_object();
    for (int i = 0; o && i < 2 * n; i += 2)
        if (strcmp(kv[i], "xmlns"))
            json_object_set_new(o, kv[i], json_string(kv[i + 1]));
    free(kv);
    if (o && !json_object_size(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static bool only_text(xmpp_stanza_t *st)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c))
        if (!xmpp_stanza_is_text(c))
            return false;
    return true;
}

static bool blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

static json_t *children_json(xmpp_stanza_t *st, const char *ns)
{
    json_t *a = json_array();
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); a && c;
         c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_text(c)) {
            const char *t = xmpp_stanza_get_text_ptr(c);
            if (t && !blank(t))
                json_array_append_new(a, json_string(t));
        } else {
            json_array_append_new(a, xmljson_from_stanza(c, ns));
        }
    }
    return a;
}

json_t *xmljson_from_stanza(xmpp_stanza_t *st, const char *ns)
{
    if (xmpp_stanza_is_text(st))
        return json_string(xmpp_stanza_get_text_ptr(st));
    json_t *o = json_object();
    if (!o)
        return NULL;
    const char *eff = effective_ns(st, ns);
    json_object_set_new(o, "name", json_string(xmpp_stanza_get_name(st)));
    if (!same_ns(eff, ns))
        json_object_set_new(o, "ns", json_string(eff ? eff : ""));
    json_t *attrs = attrs_json(st);
    if (attrs)
        json_object_set_new(o, "attrs", attrs);
    if (!xmpp_stanza_get_children(st))
        return o;
    if (only_text(st)) {
        char *text = xmpp_stanza_get_text(st);
        if (text)
            json_object_set_new(o, "text", json_string(text));
        xmpp_free(xmpp_stanza_get_context(st), text);
    } else {
        json_object_set_new(o, "children", children_json(st, eff));
    }
    return o;
}

int xmljson_write(FILE *f, xmpp_stanza_t *st, const char *ns)
{
    return out_json(f, xmljson_from_stanza(st, ns));
}

/* ---- JSON -> stanza ---- */

/* Where in the input we are, for messages: ".children[2].attrs.id". */
struct where {
    const char *what;
    char path[256];
    size_t len;
};

/* The attributes of the enclosing elements, for prefix declarations. */
struct scope {
    json_t *attrs;
    const struct scope *up;
};

static size_t path_push(struct where *w, const char *fmt, const char *key,
                        size_t index)
{
    size_t was = w->len;
    int n =
        key ? snprintf(w->path + w->len, sizeof w->path - w->len, fmt, key)
            : snprintf(w->path + w->len, sizeof w->path - w->len, fmt, index);
    if (n > 0)
        w->len += (size_t)n;
    if (w->len >= sizeof w->path)
        w->len = sizeof w->path - 1;
    return was;
}

static void path_pop(struct where *w, size_t was)
{
    w->len = was;
    w->path[was] = '\0';
}

static int bad(const struct where *w, const char *why)
{
    return fail(XE_DATA, "%s: %s: %s", w->what, w->len ? w->path : ".", why);
}

/* XML Name characters (§2.3); non-ASCII ones are left to expat_name. */
static bool name_char(unsigned char c, bool first)
{
    if (c >= 0x80 || c == '_' || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

/* Which non-ASCII characters a name may hold depends on the XML
 * edition; the servers (and libstrophe) parse with expat, whose tables
 * are the 4th edition's. A name expat refuses would be a stream error
 * after earlier stanzas went out, so expat decides. */
static bool expat_name(const char *s, size_t n)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (!p)
        return false;
    bool ok = n < INT_MAX && XML_Parse(p, "<", 1, 0) == XML_STATUS_OK &&
              XML_Parse(p, s, (int)n, 0) == XML_STATUS_OK &&
              XML_Parse(p, "/>", 2, 1) == XML_STATUS_OK;
    XML_ParserFree(p);
    return ok;
}

static bool ncname(const char *s, size_t n)
{
    size_t at;
    bool ascii = true;
    if (!n || utf8_check(s, n, &at))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!name_char((unsigned char)s[i], i == 0))
            return false;
        ascii = ascii && (unsigned char)s[i] < 0x80;
    }
    return ascii || expat_name(s, n);
}

static int check_text(const struct where *w, const char *s, size_t n)
{
    size_t at;
    const char *why = utf8_check(s, n, &at);
    if (!why)
        return 0;
    char msg[96];
    snprintf(msg, sizeof msg, "%s at byte %zu", why, at);
    return bad(w, msg);
}

/* Namespaces in XML §3: these two are bound once and for all; an
 * xmlns="..." or xmlns:p="..." naming them is an error to expat. */
static bool reserved_ns(json_t *v)
{
    const char *s = json_string_value(v);
    return s && (!strcmp(s, "http://www.w3.org/XML/1998/namespace") ||
                 !strcmp(s, "http://www.w3.org/2000/xmlns/"));
}

static bool declared(const struct scope *sc, const char *prefix, size_t n)
{
    char key[128];
    if (n + 7 > sizeof key)
        return false;
    snprintf(key, sizeof key, "xmlns:%.*s", (int)n, prefix);
    for (; sc; sc = sc->up)
        if (sc->attrs && json_object_get(sc->attrs, key))
            return true;
    return false;
}

/* "name", "xml:lang", "xmlns:p", or "p:name" with p declared. */
static int check_attr_name(const struct where *w, const char *name,
                           const struct scope *sc)
{
    const char *colon = strchr(name, ':');
    if (!strcmp(name, "xmlns"))
        return bad(w, "give the namespace as \"ns\", not an xmlns "
                      "attribute");
    if (!colon)
        return ncname(name, strlen(name)) ? 0 : bad(w, "not an XML name");
    size_t plen = (size_t)(colon - name);
    if (!ncname(name, plen) || !ncname(colon + 1, strlen(colon + 1)))
        return bad(w, "not an XML name");
    if ((plen == 3 && !strncmp(name, "xml", 3)) ||
        (plen == 5 && !strncmp(name, "xmlns", 5)) || declared(sc, name, plen))
        return 0;
    return bad(w, "prefix not declared: add an xmlns:PREFIX attribute");
}

static int build_attrs(struct where *w, json_t *attrs, const struct scope *sc,
                       xmpp_stanza_t *st)
{
    if (!json_is_object(attrs))
        return bad(w, "must be an object of strings");
    const char *k;
    json_t *v;
    json_object_foreach(attrs, k, v)
    {
        size_t was = path_push(w, ".%s", k, 0);
        int rc = check_attr_name(w, k, sc);
        if (!rc && !json_is_string(v))
            rc = bad(w, "must be a string");
        if (!rc)
            rc = check_text(w, json_string_value(v), json_string_length(v));
        if (!rc && !strncmp(k, "xmlns:", 6) && !json_string_length(v))
            rc = bad(w, "a prefix cannot be bound to an empty namespace");
        if (!rc && !strncmp(k, "xmlns:", 6) && reserved_ns(v))
            rc = bad(w, "the xml and xmlns namespaces cannot be bound");
        path_pop(w, was);
        if (rc)
            return rc;
        xmpp_stanza_set_attribute(st, k, json_string_value(v));
    }
    return 0;
}

static void add_text(xmpp_stanza_t *st, json_t *s)
{
    if (!json_string_length(s))
        return;
    xmpp_stanza_t *t = xmpp_stanza_new(xmpp_stanza_get_context(st));
    xmpp_stanza_set_text_with_size(t, json_string_value(s),
                                   json_string_length(s));
    xmpp_stanza_add_child_ex(st, t, 0);
}

static int build(xmpp_ctx_t *ctx, struct where *w, json_t *j,
                 const struct scope *up, xmpp_stanza_t **out);

static int build_children(xmpp_ctx_t *ctx, struct where *w, json_t *a,
                          const struct scope *sc, xmpp_stanza_t *st)
{
    if (!json_is_array(a))
        return bad(w, "must be an array of elements and strings");
    size_t i;
    json_t *c;
    json_array_foreach(a, i, c)
    {
        size_t was = path_push(w, "[%zu]", NULL, i);
        int rc = 0;
        xmpp_stanza_t *child = NULL;
        if (json_is_string(c)) {
            if (!(rc = check_text(w, json_string_value(c),
                                  json_string_length(c))))
                add_text(st, c);
        } else if (!(rc = build(ctx, w, c, sc, &child))) {
            xmpp_stanza_add_child_ex(st, child, 0);
        }
        path_pop(w, was);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *const known_keys[] = {"name", "ns",       "attrs",
                                         "text", "children", NULL};

static int check_keys(struct where *w, json_t *j)
{
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        int i = 0;
        while (known_keys[i] && strcmp(known_keys[i], k))
            i++;
        if (!known_keys[i]) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "unknown key \"%.60s\" (an element has "
                     "name, ns, attrs, text and children)",
                     k);
            return bad(w, msg);
        }
    }
    return 0;
}

/* Check the element's own members before building anything. */
static int check_element(struct where *w, json_t *j)
{
    if (!json_is_object(j))
        return bad(w, "must be an element object");
    int rc = check_keys(w, j);
    if (rc)
        return rc;
    json_t *name = json_object_get(j, "name");
    json_t *ns = json_object_get(j, "ns");
    json_t *text = json_object_get(j, "text");
    size_t was = path_push(w, ".%s", "name", 0);
    if (!name)
        rc = bad(w, "missing: every element needs a name");
    else if (!json_is_string(name) ||
             !ncname(json_string_value(name), json_string_length(name)))
        rc = bad(w, "must be an XML name without a prefix (use \"ns\")");
    path_pop(w, was);
    if (!rc && ns) {
        was = path_push(w, ".%s", "ns", 0);
        rc = json_is_string(ns)
                 ? check_text(w, json_string_value(ns), json_string_length(ns))
                 : bad(w, "must be a string");
        if (!rc && reserved_ns(ns))
            rc = bad(w, "an element cannot be in the xml or xmlns namespace");
        path_pop(w, was);
    }
    if (!rc && text) {
        was = path_push(w, ".%s", "text", 0);
        rc = json_is_string(text) ? check_text(w, json_string_value(text),
                                               json_string_length(text))
                                  : bad(w, "must be a string");
        path_pop(w, was);
    }
    return rc;
}

static int build(xmpp_ctx_t *ctx, struct where *w, json_t *j,
                 const struct scope *up, xmpp_stanza_t **out)
{
    *out = NULL;
    int rc = check_element(w, j);
    if (rc)
        return rc;
    json_t *ns = json_object_get(j, "ns");
    json_t *attrs = json_object_get(j, "attrs");
    json_t *text = json_object_get(j, "text");
    json_t *children = json_object_get(j, "children");
    struct scope sc = {.attrs = json_is_object(attrs) ? attrs : NULL, .up = up};
    xmpp_stanza_t *st = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(st, json_string_value(json_object_get(j, "name")));
    if (ns)
        xmpp_stanza_set_ns(st, json_string_value(ns));
    if (attrs) {
        size_t was = path_push(w, ".%s", "attrs", 0);
        rc = build_attrs(w, attrs, &sc, st);
        path_pop(w, was);
    }
    if (!rc && text)
        add_text(st, text);
    if (!rc && children) {
        size_t was = path_push(w, ".%s", "children", 0);
        rc = build_children(ctx, w, children, &sc, st);
        path_pop(w, was);
    }
    if (rc) {
        xmpp_stanza_release(st);
        return rc;
    }
    *out = st;
    return 0;
}

int xmljson_to_stanza(xmpp_ctx_t *ctx, const char *what, json_t *j,
                      xmpp_stanza_t **out)
{
    struct where w = {.what = what};
    return build(ctx, &w, j, NULL, out);
}

json_t *xmljson_load(const char *what, const char *buf, size_t len)
{
    json_error_t err;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail(XE_DATA, "%s: line %d, column %d: %s", what, err.line, err.column,
             err.text);
    return j;
}

int xmljson_parse(xmpp_ctx_t *ctx, const char *what, const char *buf,
                  size_t len, xmpp_stanza_t **out)
{
    *out = NULL;
    json_t *j = xmljson_load(what, buf, len);
    if (!j)
        return XE_DATA;
    int rc = xmljson_to_stanza(ctx, what, j, out);
    json_decref(j);
    return rc;
}

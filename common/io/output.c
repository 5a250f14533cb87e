#include "common/io/output.h"

#include <float.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/utf8.h"
#include "common/io/xmljson.h"

#define XML_NS "http://www.w3.org/XML/1998/namespace"

void out_text(FILE *f, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '\\': fputs("\\\\", f); break;
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        default: putc(*s, f);
        }
    }
}

void print_fields(FILE *f, int n, const char *const *fields)
{
    for (int i = 0; i < n; i++) {
        if (i)
            putc('\t', f);
        out_text(f, fields[i]);
    }
    putc('\n', f);
}

/* Compact; non-ASCII as it is (RFC 8259 §8.1: JSON text is UTF-8) and
 * '/' unescaped; reals to DBL_DIG digits, so that a decimal such as
 * ping's 12.345 comes out as written, not as 12.345000000000001. */
int out_json(FILE *f, json_t *obj)
{
    if (!obj)
        return -1;
    int rc = json_dumpf(obj, f, JSON_COMPACT | JSON_REAL_PRECISION(DBL_DIG));
    json_decref(obj);
    return putc('\n', f) == EOF ? -1 : rc;
}

json_t *out_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    /* jansson refuses what is not UTF-8: repair it rather than lose it. */
    char *fixed = utf8_repair(s, strlen(s), NULL);
    j = fixed ? json_string(fixed) : NULL;
    free(fixed);
    return j;
}

void out_json_set(json_t *obj, const char *key, const char *val)
{
    if (val)
        json_object_set_new(obj, key, out_json_str(val));
}

/* XML escaping for text (attr = 0) or attribute values (attr = 1). */
static void xml_escaped(FILE *f, const char *s, int attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\r': fputs("&#13;", f); break;
        case '"': fputs(attr ? "&quot;" : "\"", f); break;
        case '\t': fputs(attr ? "&#9;" : "\t", f); break;
        default: putc(*s, f);
        }
    }
}

/* Attributes come out of the library's hash in no order; print them
 * in a stable one: namespace declarations first, then by name. */
static int attr_order(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int dx = !strncmp(x, "xmlns", 5), dy = !strncmp(y, "xmlns", 5);
    return dx != dy ? dy - dx : strcmp(x, y);
}

/* The attributes of st after its name, in attr_order. Returns 0, or -1
 * when out of memory for a list of many. */
static int write_attributes(FILE *f, xmpp_stanza_t *st, const char *ns,
                            bool xml_ns)
{
    int n = xmpp_stanza_get_attribute_count(st);
    if (n <= 0)
        return 0;
    /* On the heap past a few: their number is the sender's choice. */
    const char *few[32], **attrs = few;
    if (2 * (size_t)n > sizeof few / sizeof *few &&
        !(attrs = malloc(2 * (size_t)n * sizeof *attrs)))
        return -1;
    xmpp_stanza_get_attributes(st, attrs, 2 * n);
    qsort(attrs, (size_t)n, 2 * sizeof *attrs, attr_order);
    for (int i = 0; i < 2 * n; i += 2) {
        if (!strcmp(attrs[i], "xmlns") &&
            (xml_ns || (ns && !strcmp(attrs[i + 1], ns))))
            continue;
        /* libstrophe's parser keeps the local name of a namespaced
         * attribute only: "lang" is xml:lang (RFC 6120 §8.1.5), the
         * one such attribute stanzas carry; unless the element has
         * an xml:lang as well (ours keep the prefix), when it can
         * only be a plain lang. */
        const char *name = attrs[i];
        bool xml_lang =
            !strcmp(name, "lang") && !xmpp_stanza_get_attribute(st, "xml:lang");
        fprintf(f, " %s=\"", xml_lang ? "xml:lang" : name);
        xml_escaped(f, attrs[i + 1], 1);
        putc('"', f);
    }
    if (attrs != few)
        free(attrs);
    return 0;
}

/* An element in the xml namespace (<xml:x/> from the server) can only
 * be written with the prefix: xmlns="...XML/1998/namespace" is not
 * well-formed. The default namespace stays as it was. */
static bool in_xml_ns(xmpp_stanza_t *st)
{
    const char *own = xmpp_stanza_get_ns(st);
    return own && !strcmp(own, XML_NS);
}

/* Text, or an element's start tag (ns: the namespace in force around
 * it), or the whole of an empty element. Returns 1 when the element's
 * children and end tag are to follow, with *inner the namespace in
 * force within it; 0 when st is written; -1 when out of memory. */
static int write_open(FILE *f, xmpp_stanza_t *st, const char *ns,
                      const char **inner)
{
    if (xmpp_stanza_is_text(st)) {
        const char *t = xmpp_stanza_get_text_ptr(st);
        if (t)
            xml_escaped(f, t, 0);
        return 0;
    }
    bool xml_ns = in_xml_ns(st);
    const char *own = xml_ns ? NULL : xmpp_stanza_get_ns(st);
    fprintf(f, xml_ns ? "<xml:%s" : "<%s", xmpp_stanza_get_name(st));
    if (write_attributes(f, st, ns, xml_ns) < 0)
        return -1;
    if (!xmpp_stanza_get_children(st)) {
        fputs("/>", f);
        return 0;
    }
    putc('>', f);
    *inner = own ? own : ns;
    return 1;
}

static void write_close(FILE *f, xmpp_stanza_t *st)
{
    fprintf(f, in_xml_ns(st) ? "</xml:%s>" : "</%s>", xmpp_stanza_get_name(st));
}

/* An xmlns equal to the one in force is left out: the parser repeats it
 * on every child element. The tree is walked with a stack of our own,
 * not by recursion: a server can nest elements as deep as its stanza
 * size allows, and libstrophe's parser builds them all. */
int out_xml_in(FILE *f, xmpp_stanza_t *st, const char *ns)
{
    struct open {
        xmpp_stanza_t *el;
        const char *ns; /* in force within it */
    } few[32], *stack = few;
    size_t depth = 0, cap = sizeof few / sizeof *few;
    int rc = 0;
    for (xmpp_stanza_t *el = st;;) {
        const char *inner = NULL;
        int open = write_open(f, el, depth ? stack[depth - 1].ns : ns, &inner);
        if (open > 0 && depth == cap) { /* the few are full: to the heap */
            struct open *more = malloc(2 * cap * sizeof *more);
            if (more)
                memcpy(more, stack, depth * sizeof *stack);
            if (stack != few)
                free(stack);
            stack = more;
            cap *= 2;
        }
        if (open < 0 || !stack) {
            rc = -1;
            break;
        }
        if (open > 0) {
            stack[depth++] = (struct open){el, inner};
            el = xmpp_stanza_get_children(el);
            continue;
        }
        /* el is written: on to its next sibling, closing the elements
         * whose last child it was. */
        while (depth && !xmpp_stanza_get_next(el)) {
            el = stack[--depth].el;
            write_close(f, el);
        }
        if (!depth)
            break;
        el = xmpp_stanza_get_next(el);
    }
    if (stack != few)
        free(stack);
    return rc;
}

int out_xml(FILE *f, xmpp_stanza_t *st)
{
    return out_xml_in(f, st, NULL);
}

int print_element(FILE *f, xmpp_stanza_t *el, const char *ns,
                  enum output_format fmt)
{
    if (fmt == OUT_JSON)
        return xmljson_write(f, el, ns);
    int rc = out_xml_in(f, el, ns);
    return putc('\n', f) == EOF ? -1 : rc;
}

int out_flush(FILE *f)
{
    return (fflush(f) == 0 && !ferror(f)) ? 0 : -1;
}

#include "common/io/output.h"

#include <float.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/escape.h"
#include "common/io/utf8.h"
#include "common/io/xmljson.h"

#define XML_NS "http://www.w3.org/XML/1998/namespace"

void out_text(FILE *f, const char *s)
{
    if (s)
        escape_text(f, s, strlen(s));
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

/* XML escaping for text (attr = 0) or attribute values (attr = 1).
 * What utf8_is_control() names goes out as a character reference: the
 * same XML to a parser, nothing a terminal acts on (DEL, C1 and
 * bidirectional controls are legal XML characters). */
static void xml_escaped(FILE *f, const char *s, int attr)
{
    for (; *s; s++) {
        unsigned long cp;
        size_t n;
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\r': fputs("&#13;", f); break;
        case '"': fputs(attr ? "&quot;" : "\"", f); break;
        case '\t': fputs(attr ? "&#9;" : "\t", f); break;
        default:
            n = utf8_decode(s, 4, &cp);
            if (n && cp >= 0x7F && utf8_is_control(cp)) {
                fprintf(f, "&#x%lx;", cp);
                s += n - 1;
            } else {
                putc(*s, f);
            }
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

/* An xmlns equal to the one in force is left out: the parser repeats it
 * on every child element. */
void out_xml_in(FILE *f, xmpp_stanza_t *st, const char *ns)
{
    if (xmpp_stanza_is_text(st)) {
        const char *t = xmpp_stanza_get_text_ptr(st);
        if (t)
            xml_escaped(f, t, 0);
        return;
    }
    const char *name = xmpp_stanza_get_name(st);
    const char *own = xmpp_stanza_get_ns(st);
    /* An element in the xml namespace (<xml:x/> from the server) can
     * only be written with the prefix: xmlns="...XML/1998/namespace"
     * is not well-formed. The default namespace stays as it was. */
    bool xml_ns = own && !strcmp(own, XML_NS);
    if (xml_ns)
        own = NULL;
    fprintf(f, xml_ns ? "<xml:%s" : "<%s", name);
    int n = xmpp_stanza_get_attribute_count(st);
    if (n > 0) {
        const char *attrs[2 * n];
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
            bool xml_lang = !strcmp(name, "lang") &&
                            !xmpp_stanza_get_attribute(st, "xml:lang");
            fprintf(f, " %s=\"", xml_lang ? "xml:lang" : name);
            xml_escaped(f, attrs[i + 1], 1);
            putc('"', f);
        }
    }
    xmpp_stanza_t *c = xmpp_stanza_get_children(st);
    if (!c) {
        fputs("/>", f);
        return;
    }
    putc('>', f);
    for (; c; c = xmpp_stanza_get_next(c))
        out_xml_in(f, c, own ? own : ns);
    fprintf(f, xml_ns ? "</xml:%s>" : "</%s>", name);
}

void out_xml(FILE *f, xmpp_stanza_t *st)
{
    out_xml_in(f, st, NULL);
}

int print_element(FILE *f, xmpp_stanza_t *el, const char *ns,
                  enum output_format fmt)
{
    if (fmt == OUT_JSON)
        return xmljson_write(f, el, ns);
    out_xml_in(f, el, ns);
    return putc('\n', f) == EOF ? -1 : 0;
}

int out_flush(FILE *f)
{
    return (fflush(f) == 0 && !ferror(f)) ? 0 : -1;
}

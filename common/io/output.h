/* Writers for the three output forms: text lines, JSON Lines, XML. */
#ifndef XMPP_OUTPUT_H
#define XMPP_OUTPUT_H

#include <stdio.h>
#include <strophe.h>

#include "common/cli/options.h"

/* A text field with \ TAB LF CR written as \\ \t \n \r, so that one
 * record is always one line. NULL writes nothing. */
void out_text(FILE *f, const char *s);

/* Print n fields separated by tabs, each escaped (out_text; NULL is
 * empty), then a newline: one text record. */
void print_fields(FILE *f, int n, const char *const *fields);

/* A JSON string literal, quotes included (NULL writes null). Bytes
 * that are not UTF-8 become U+FFFD, so the line is always valid JSON. */
void out_json_string(FILE *f, const char *s);

/* One JSON object on one line, built a member at a time. */
struct json_obj {
    FILE *f;
    int members;
};
void json_begin(struct json_obj *j, FILE *f);
void json_str(struct json_obj *j, const char *key,
              const char *val); /* NULL: skipped */
void json_int(struct json_obj *j, const char *key, long long val);
void json_raw(struct json_obj *j, const char *key,
              const char *raw);    /* raw JSON value */
void json_end(struct json_obj *j); /* closes, newline */

/* The stanza as XML on one line: newlines in text and attributes are
 * written as character references. */
void out_xml(FILE *f, xmpp_stanza_t *st);

/* The same, for an element printed on its own that sits within namespace
 * ns (NULL: none): an xmlns equal to ns is left out. */
void out_xml_in(FILE *f, xmpp_stanza_t *st, const char *ns);

/* Print an element as one line of XML (xmlns left out where it repeats
 * ns, the namespace around it) or, with OUT_JSON, of JSON (xmljson.h).
 * Returns 0, or -1 on a write error. */
int print_element(FILE *f, xmpp_stanza_t *el, const char *ns,
                  enum output_format fmt);

/* Flush f; on a write error (a closed pipe) return -1. */
int out_flush(FILE *f);

#endif

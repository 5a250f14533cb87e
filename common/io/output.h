/* Writers for the three output forms: text lines, JSON Lines, XML. */
#ifndef XMPP_OUTPUT_H
#define XMPP_OUTPUT_H

#include <jansson.h>
#include <stdio.h>
#include <strophe.h>

#include "common/cli/options.h"

/* A text field with \ TAB LF CR written as \\ \t \n \r, so that one
 * record is always one line. NULL writes nothing. */
void out_text(FILE *f, const char *s);

/* Print n fields separated by tabs, each escaped (out_text; NULL is
 * empty), then a newline: one text record. */
void print_fields(FILE *f, int n, const char *const *fields);

/* One JSON Lines record: obj (jansson) compact on one line, then a
 * newline. Takes obj over; NULL (out of memory) prints nothing. Returns
 * 0, or -1 on a write error. */
int out_json(FILE *f, json_t *obj);

/* s as a JSON string, bytes that are not UTF-8 replaced by U+FFFD, so
 * that any input makes valid JSON; NULL makes JSON null. */
json_t *out_json_str(const char *s);

/* Add the member key (UTF-8) to obj with the string val (as
 * out_json_str); a NULL val adds nothing. */
void out_json_set(json_t *obj, const char *key, const char *val);

/* The stanza as XML on one line: newlines in text and attributes are
 * written as character references. Nesting of any depth is written
 * without recursion. Returns 0, or -1 when out of memory (the line is
 * then cut short). */
int out_xml(FILE *f, xmpp_stanza_t *st);

/* The same, for an element printed on its own that sits within namespace
 * ns (NULL: none): an xmlns equal to ns is left out. */
int out_xml_in(FILE *f, xmpp_stanza_t *st, const char *ns);

/* Print an element as one line of XML (xmlns left out where it repeats
 * ns, the namespace around it) or, with OUT_JSON, of JSON (xmljson.h).
 * Returns 0, or -1 on a write error. */
int print_element(FILE *f, xmpp_stanza_t *el, const char *ns,
                  enum output_format fmt);

/* Flush f; on a write error (a closed pipe) return -1. */
int out_flush(FILE *f);

#endif

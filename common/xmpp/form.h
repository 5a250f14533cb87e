/* Data forms (XEP-0004) for command, muc and pubsub: print the forms a
 * service sends, and answer them from what the user gave on the command
 * line (--field VAR=VALUE, repeated for more values) or in a JSON file
 * ({"VAR": "value" | ["v1", "v2"] | true | 3 | null}).
 *
 * Text output, one record per line, fields separated by TAB (escaped
 * as by out_text):
 *   title         TEXT
 *   instructions  TEXT
 *   field         VAR  TYPE  VALUE  LABEL     one line per value (one
 *                                             with VALUE empty if none);
 *                                             LABEL ends in " (required)"
 *                                             for a required field
 *   option        VAR  VALUE  LABEL           a list field's choices
 *   item          N  VAR  VALUE               table rows (<reported/>)
 * Hidden fields are left out of text; JSON has everything:
 *   {"type", "title", "instructions", "fields": [{"var", "type", "label",
 *    "desc", "required", "values": [...], "options": [{"value",
 *    "label"}]}], "reported": [{"var", "type", "label"}],
 *   "items": [{"VAR": [values]}]}
 */
#ifndef XMPP_FORM_H
#define XMPP_FORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <strophe.h>

#define NS_DATA "jabber:x:data"

/* One field's values as the user gave them. */
struct form_value {
    char *var;
    char **v;
    size_t n;
    bool from_file; /* the first --field for var replaces these */
    bool used;      /* a form took it */
};

struct form_input {
    struct form_value *f;
    size_t n;
};

/* Add --field VAR=VALUE. Returns 0, XE_USAGE (no '=', empty VAR) or
 * XE_DATA (invalid UTF-8, forbidden characters), the message printed. */
int form_input_arg(struct form_input *in, const char *arg);

/* Add the fields of a JSON object file ("-": stdin); --field given for
 * the same VAR wins. Returns 0, XE_NOINPUT or XE_DATA, printed. */
int form_input_file(struct form_input *in, const char *path);

/* Give var this value unless the user gave it one. */
int form_input_default(struct form_input *in, const char *var,
                       const char *value);

bool form_input_empty(const struct form_input *in);

void form_input_free(struct form_input *in);

/* The first data form among parent's children, or NULL. */
xmpp_stanza_t *form_find(xmpp_stanza_t *parent);

/* The answer to `form` (<x type='form'/>): a new <x type='submit'/> with
 * every field of the form, holding the user's values where given and
 * the form's defaults elsewhere. Values are checked against the field
 * types: booleans (true/false/1/0/yes/no/on/off), JIDs, a list's
 * options, one value for a single-valued field (text-multi values are
 * split at newlines). `what` starts each message. Returns 0 with *out,
 * else XE_DATA (a value does not fit), XE_USAGE (a required field has
 * no value; with strict, a --field the form does not have), printed. */
int form_fill(xmpp_stanza_t *form, struct form_input *in, bool strict,
              const char *what, xmpp_stanza_t **out);

/* Does the form have a field called var? */
bool form_has_field(xmpp_stanza_t *form, const char *var);

/* The fields given, unused by every form so far, as "a, b" into buf;
 * NULL when all were used. */
const char *form_input_unused(const struct form_input *in, char *buf, size_t n);

/* A submit form built from the input alone, with a FORM_TYPE field
 * (XEP-0068) when form_type is not NULL: for requests that carry
 * options without asking for a form first (XEP-0060 §8.1.3). */
xmpp_stanza_t *form_from_input(xmpp_ctx_t *ctx, const char *form_type,
                               struct form_input *in);

/* A new empty submit form (<x type='submit'/>), with a hidden FORM_TYPE
 * field when form_type is not NULL; the caller owns it. */
xmpp_stanza_t *form_submit_new(xmpp_ctx_t *ctx, const char *form_type);

/* Append <field var=VAR><value>VALUE</value></field> to the form x. */
void form_add_value(xmpp_stanza_t *x, const char *var, const char *value);

/* Print a form as text lines (see above). */
void form_print_text(FILE *f, xmpp_stanza_t *x);

/* The form as a new JSON object (see above); NULL when out of memory. */
json_t *form_json(xmpp_stanza_t *x);

#endif

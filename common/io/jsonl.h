/* JSON Lines input (one JSON object per line) with jansson: read whole,
 * bounded, and checked before anything is sent. */
#ifndef XMPP_JSONL_H
#define XMPP_JSONL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Called for each object; where names it ("FILE line N") for messages.
 * Returns 0 to go on, else an exit status (the message printed). */
typedef int (*jsonl_fn)(json_t *obj, const char *where, void *ud);

/* Read path ("-" or NULL: stdin), at most max bytes, and call fn for
 * each object in order; blank lines are skipped. Returns 0, XE_NOINPUT,
 * XE_DATA (a line that is not one JSON object, message printed) or the
 * first non-zero result of fn. */
int jsonl_each(const char *path, size_t max, jsonl_fn fn, void *ud);

/* The string member key of obj into *out (NULL when absent or null).
 * Returns XE_DATA (message printed) when it is required and missing,
 * not a string, or holds a character XML forbids. */
int jsonl_string(json_t *obj, const char *key, bool required, const char *where,
                 const char **out);

#endif

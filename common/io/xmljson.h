/* The JSON form of an XML element, both ways: what `iq --json`,
 * `shell --json` and `shell --json-in` read and write, documented in
 * xmpp-iq(1). An element is an object:
 *
 *   {"name": "query",                    local name, required
 *    "ns": "jabber:iq:roster",           namespace, see below
 *    "attrs": {"ver": "1"},              attributes, string values
 *    "text": "hello",                    text content
 *    "children": [{...}, "text", ...]}   child elements and text, in order
 *
 * - "ns" is given where the namespace changes, like xmlns in XML: an
 *   element without it is in its parent's namespace; "" means none. A
 *   stanza (message, presence, iq) is in the stream's namespace
 *   (jabber:client, or jabber:component:accept for a component), which
 *   is left out on output.
 * - Output uses "text" for an element holding only text and "children"
 *   when it holds elements (mixed text then appears as strings in
 *   order; whitespace-only text between elements is dropped); empty
 *   elements have neither. Input accepts both: text first, then
 *   children.
 * - Attribute names may carry a prefix (xml:lang, or P:name with an
 *   xmlns:P attribute on the element or an ancestor); "xmlns" itself is
 *   given as "ns". Unknown keys, non-string values, invalid names and
 *   characters XML forbids are errors (XE_DATA), with the path
 *   (.children[0].attrs.type) in the message.
 *
 * Stanzas are allocated in the ctx given; see xmlin.h for using a ctx
 * of your own before connecting.
 */
#ifndef XMPP_XMLJSON_H
#define XMPP_XMLJSON_H

#include <jansson.h>
#include <stdio.h>
#include <strophe.h>

/* The stream's namespace for a client or a component (XEP-0114). */
#define NS_CLIENT    "jabber:client"
#define NS_COMPONENT "jabber:component:accept"

/* st as a new JSON object; `ns` is the namespace in effect around it
 * (NS_CLIENT for a stanza or an IQ's payload; NULL: none), left out of
 * its "ns" when equal. NULL when out of memory. */
json_t *xmljson_from_stanza(xmpp_stanza_t *st, const char *ns);

/* Write st as one line of JSON and a newline. Returns 0, or -1 on a
 * write error. */
int xmljson_write(FILE *f, xmpp_stanza_t *st, const char *ns);

/* Build a stanza from the JSON object j. `what` names the input in
 * messages ("stdin line 3"). Returns 0 with *out a new stanza, or
 * XE_DATA (message printed, *out NULL). */
int xmljson_to_stanza(xmpp_ctx_t *ctx, const char *what, json_t *j,
                      xmpp_stanza_t **out);

/* Parse buf[0..len) as JSON (duplicate keys refused). Returns the
 * value, or NULL with "WHAT: line L, column C: REASON" printed. */
json_t *xmljson_load(const char *what, const char *buf, size_t len);

/* Parse buf[0..len) as one JSON object and build its stanza. Errors in
 * the JSON itself are printed with line and column. Returns 0 or
 * XE_DATA, as xmljson_to_stanza. */
int xmljson_parse(xmpp_ctx_t *ctx, const char *what, const char *buf,
                  size_t len, xmpp_stanza_t **out);

#endif

/* User-supplied XML -> libstrophe stanzas, checked with expat before
 * anything is sent: a malformed payload must never reach the server,
 * where it would be a stream error after earlier stanzas went out.
 *
 * What the stanzas look like:
 *  - Namespaces are kept. An element whose namespace differs from its
 *    parent's carries it as xmlns="..." (xmlns="" for none under a
 *    namespaced parent); a prefixed element (<p:x xmlns:p="u"/>) becomes
 *    <x xmlns="u"/>, as libstrophe's own parser does. Prefixed
 *    attributes keep their prefix and get an xmlns:P declaration on
 *    their element; xml:lang stays xml:lang.
 *  - Whitespace-only text next to elements (indentation) is dropped; an
 *    element holding only text keeps it verbatim. Comments and
 *    processing instructions are dropped.
 *  - DTDs are refused (RFC 6120 §11.1); expat checks the rest: UTF-8,
 *    XML 1.0 characters, entities, well-formedness, bound prefixes.
 *
 * Stanzas are allocated in the ctx given, which must outlive them. To
 * check input before connecting, use a ctx of your own,
 * xmpp_ctx_new(NULL, NULL): with the default allocator such stanzas can
 * be sent on any connection (xmpp_send serializes them); release them
 * before freeing that ctx.
 *
 * Errors are printed as "WHAT: line L, column C: REASON" (lines and
 * columns from 1) and returned as XE_DATA.
 */
#ifndef XMPP_XMLIN_H
#define XMPP_XMLIN_H

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

/* Parse buf[0..len) as exactly one element: an XML declaration,
 * comments and whitespace around it are allowed, anything else is an
 * error. `what` names the input in messages ("payload", a file name).
 * Returns 0 with *out a new stanza the caller releases, or XE_DATA
 * (message printed, *out NULL). */
int xmlin_parse_one(xmpp_ctx_t *ctx, const char *what, const char *buf,
                    size_t len, xmpp_stanza_t **out);

/* ---- incremental: a sequence of top-level elements (xmpp shell) ---- */

struct xmlin;

/* Called with each complete, well-formed top-level element; the callee
 * owns st and releases it. */
typedef void (*xmlin_fn)(xmpp_stanza_t *st, void *ud);

/* A parser for a stream of elements fed in chunks of any size: one or
 * many per line, or one spread over many lines. `max` caps one element
 * in bytes. `tops` lists the element names allowed at the top level
 * (NULL-terminated; NULL: any), e.g. message, presence, iq. After an
 * error, input is skipped to the next line whose first non-blank text
 * opens one of them, so a malformed element is dropped whole, with
 * whatever follows it on its line, and is never passed on in part. A
 * leading XML declaration is allowed. Returns NULL when out of memory. */
struct xmlin *xmlin_new(xmpp_ctx_t *ctx, const char *what, size_t max,
                        const char *const *tops, xmlin_fn fn, void *ud);

/* Feed the next len bytes; with final, the input ends here (an element
 * still open is an error). Each error is printed ("WHAT: line L, column
 * C: REASON; skipped"). Returns the number of errors in this call. */
int xmlin_feed(struct xmlin *x, const char *buf, size_t len, bool final);

/* Was an error for want of memory (XE_OSERR rather than bad input)? */
bool xmlin_out_of_memory(const struct xmlin *x);

void xmlin_free(struct xmlin *x);

#endif

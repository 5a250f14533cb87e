/* Small stanza builders and readers that libstrophe has no one call for. */
#ifndef XMPP_STANZA_H
#define XMPP_STANZA_H

#include <strophe.h>

/* <name>text</name>, new; the caller owns the reference. */
xmpp_stanza_t *stanza_text_child(xmpp_ctx_t *ctx, const char *name,
                                 const char *text);

/* Append <name>text</name> to parent. */
void stanza_add_text_child(xmpp_stanza_t *parent, const char *name,
                           const char *text);

/* The text of parent's first child called name, malloc'd by the
 * library (xmpp_free it); NULL when there is no such child. */
char *stanza_child_text(xmpp_stanza_t *parent, const char *name);

/* The next sibling element of c named `name`, or NULL. Children by
 * name: for (c = xmpp_stanza_get_child_by_name(st, n); c;
 * c = next_named(c, n)). */
xmpp_stanza_t *next_named(xmpp_stanza_t *c, const char *name);

/* XEP-0203: when the stanza was first sent (a stored message, a
 * presence set earlier); NULL when it carries no <delay/>. */
const char *stanza_delay_stamp(xmpp_stanza_t *st);

/* The name of the defined condition in a stanza's <error/>
 * (RFC 6120 §8.3.3), or "" when it has none. */
const char *stanza_error_condition(xmpp_stanza_t *st);

/* A new empty <name xmlns=ns/> (ns NULL: none); the caller owns it. */
xmpp_stanza_t *stanza_new_el(xmpp_ctx_t *ctx, const char *name, const char *ns);

/* Append a new empty <name xmlns=ns/> to parent and return it (owned
 * by parent). */
xmpp_stanza_t *stanza_add_el(xmpp_stanza_t *parent, const char *name,
                             const char *ns);

#endif

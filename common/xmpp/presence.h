/* Presence (RFC 6121 §4): building our own, and reading a contact's as
 * one record (JID, show, priority, status) that every tool prints the
 * same way: a text line, a JSON object or the stanza. */
#ifndef XMPP_PRESENCE_H
#define XMPP_PRESENCE_H

#include <stdbool.h>
#include <stdio.h>
#include <strophe.h>

#include "common/cli/options.h"

/* Is show one of the values a client may send (§4.7.2.1)? */
bool presence_show_valid(const char *show);

/* A new <presence/>: type NULL for available, to NULL for a broadcast,
 * show and status NULL for none. A priority of 0 is the default and is
 * not written (§4.7.2.3). The caller owns the stanza. */
xmpp_stanza_t *presence_build(xmpp_ctx_t *ctx, const char *type, const char *to,
                              const char *show, const char *status,
                              long priority);

/* What a received presence says, in one word: "available", "away",
 * "chat", "dnd", "xa", "unavailable", or its other type ("subscribe",
 * "subscribed", "unsubscribe", "unsubscribed", "probe", "error"). */
const char *presence_state(xmpp_stanza_t *st);

/* Available presence: no type at all (§4.7.1). */
bool presence_is_available(xmpp_stanza_t *st);

/* Its priority; 0 when absent or malformed (§4.7.2.3). */
long presence_priority(xmpp_stanza_t *st);

/* One record. Text: JID<TAB>SHOW<TAB>PRIORITY<TAB>STATUS, the priority
 * empty unless available. JSON: jid, show, priority (when available),
 * status, delay. XML: the stanza on one line. */
void presence_print(FILE *f, enum output_format fmt, xmpp_stanza_t *st);

#endif

/* A received message as the tools that show messages print it (recv,
 * history): one line of text, one JSON object, or the stanza as XML. */
#ifndef XMPP_MESSAGE_H
#define XMPP_MESSAGE_H

#include <stdio.h>
#include <strophe.h>

#include "common/cli/options.h"

/* Print st, of the given type (RFC 6121 §5.2.2: "normal" when it has
 * none) and body (NULL: none), to stdout in the format fmt:
 *   text  FROM<TAB>TYPE [delay: STAMP] [subject: SUBJECT]<TAB>BODY, each
 *         escaped (out_text), the brackets only when the message has it;
 *   JSON  kind "message", from, to, type, id, thread, subject, body,
 *         delay (XEP-0203);
 *   XML   the stanza on one line.
 * For an end-to-end encrypted message c says how it went (NULL: not
 * one): the text has [OMEMO message not decrypted: WHY] for a body
 * that could not be read, JSON adds encrypted, trust, decrypt_error. */
struct message_crypt {
    const char *scheme; /* "omemo" (0.3), "omemo2" */
    const char *why;    /* not decrypted: the reason; NULL: decrypted */
    const char *trust;  /* the sender device's trust, when decrypted */
};
void message_print(xmpp_stanza_t *st, const char *type, const char *body,
                   enum output_format fmt, const struct message_crypt *c);

#endif

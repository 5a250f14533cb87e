/* What this client says it can do: the disco#info answer (XEP-0030)
 * and the entity capabilities hash in presence (XEP-0115), which a
 * server's PEP service reads to learn which notifications we want
 * (XEP-0163 §4, "NODE+notify" features). */
#ifndef XMPP_CAPS_H
#define XMPP_CAPS_H

#include <strophe.h>

/* The features we always have: disco#info, caps, ping. */
extern const char *const caps_base_features[];

/* A new <c xmlns='http://jabber.org/protocol/caps' hash='sha-1'
 * node=... ver=.../> for our identity and these features (NULL-
 * terminated; the base features are added). */
xmpp_stanza_t *caps_element(xmpp_ctx_t *ctx, const char *const *features);

/* The result answering the disco#info query `iq` with our identity and
 * features (base ones added), the query's node echoed. */
xmpp_stanza_t *caps_disco_result(xmpp_ctx_t *ctx, xmpp_stanza_t *iq,
                                 const char *const *features);

#endif

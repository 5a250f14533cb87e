/* XEP-0420 (Stanza Content Encryption) envelopes, what OMEMO 2 encrypts
 * instead of the bare text (XEP-0384 v0.8 §4.4): the body, random
 * padding, and affixes naming sender and recipient, which the receiver
 * checks so that a message cannot be replayed to someone else or
 * claimed by another sender. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/io/datetime.h"
#include "common/omemo/omemo_priv.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/stanza.h"

#define NS_SCE "urn:xmpp:sce:1"

/* XEP-0420 §3.1: <rpad/> hides the text's length; 0 to 200 random
 * characters, as python-omemo and Conversations pick them. */
static void add_rpad(xmpp_ctx_t *ctx, xmpp_stanza_t *env)
{
    uint8_t r[151];
    if (omemo_random(r, sizeof r))
        return;
    char *t = xmpp_base64_encode(ctx, r + 1, sizeof r - 1);
    if (!t)
        return;
    t[r[0] % 201] = '\0'; /* the 200 base64 characters, cut */
    stanza_add_text_child(env, "rpad", t);
    xmpp_free(ctx, t);
}

static void add_affix(xmpp_stanza_t *env, const char *name, const char *attr,
                      const char *value)
{
    xmpp_stanza_set_attribute(stanza_add_el(env, name, NULL), attr, value);
}

char *sce_wrap(xmpp_ctx_t *ctx, const char *text, const char *to,
               const char *from)
{
    xmpp_stanza_t *env = stanza_new_el(ctx, "envelope", NS_SCE);
    xmpp_stanza_t *content = stanza_add_el(env, "content", NULL);
    xmpp_stanza_t *body = stanza_text_child(ctx, "body", text);
    xmpp_stanza_set_ns(body, "jabber:client");
    xmpp_stanza_add_child_ex(content, body, 0);
    add_rpad(ctx, env);
    add_affix(env, "to", "jid", to);
    add_affix(env, "from", "jid", from);
    char stamp[32];
    add_affix(env, "time", "stamp",
              datetime_format(datetime_now(), stamp, sizeof stamp));
    char *buf = NULL, *out = NULL;
    size_t len = 0;
    if (!xmpp_stanza_to_text(env, &buf, &len) && (out = malloc(len + 1))) {
        memcpy(out, buf, len);
        out[len] = '\0';
    }
    if (buf)
        xmpp_free(ctx, buf);
    xmpp_stanza_release(env);
    return out;
}

/* Does affix NAME name bare JID want (a resource, if any, ignored;
 * case too, as omemo_bare does)? */
static bool affix_is(xmpp_stanza_t *env, const char *name, const char *want)
{
    xmpp_stanza_t *a = xmpp_stanza_get_child_by_name(env, name);
    const char *jid = a ? xmpp_stanza_get_attribute(a, "jid") : NULL;
    size_t n = jid ? jid_bare_len(jid) : 0;
    return jid && want && n == strlen(want) && !strncasecmp(jid, want, n);
}

const char *sce_open(xmpp_ctx_t *ctx, const char *xml, size_t len,
                     const char *to, const char *from, char **text)
{
    *text = NULL;
    if (memchr(xml, '\0', len))
        return "the envelope is not XML";
    char *s = strndup(xml, len);
    xmpp_stanza_t *env = s ? xmpp_stanza_new_from_string(ctx, s) : NULL;
    free(s);
    const char *why = NULL;
    const char *name = env ? xmpp_stanza_get_name(env) : NULL;
    const char *ns = env ? xmpp_stanza_get_ns(env) : NULL;
    xmpp_stanza_t *content =
        env ? xmpp_stanza_get_child_by_name(env, "content") : NULL;
    xmpp_stanza_t *body =
        content ? xmpp_stanza_get_child_by_name(content, "body") : NULL;
    if (!env || !name || strcmp(name, "envelope") || !ns || strcmp(ns, NS_SCE))
        why = "the payload is no XEP-0420 envelope";
    else if (!affix_is(env, "from", from))
        why = "the envelope's sender is not the message's (from affix)";
    else if (!affix_is(env, "to", to))
        why = "the envelope is addressed to someone else (to affix)";
    else if (!body)
        why = "the envelope has no body";
    else if (!(s = xmpp_stanza_get_text(body)))
        *text = strdup("");
    else {
        *text = strdup(s);
        xmpp_free(ctx, s);
    }
    if (!why && !*text)
        why = "out of memory";
    if (env)
        xmpp_stanza_release(env);
    return why;
}

#include "common/xmpp/caps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmpp/stanza.h"

#define NS_CAPS       "http://jabber.org/protocol/caps"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
/* XEP-0115 §4: a URI naming the software. */
#define CAPS_NODE "https://xmpp.invalid/cli"

const char *const caps_base_features[] = {
    NS_CAPS,
    NS_DISCO_INFO,
    "urn:xmpp:ping",
    NULL,
};

/* One identity (XEP-0030 §3.1): an automated client. */
static const char *const identity[] = {"client", "bot", "xmpp"};

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Base and extra features, sorted and without repeats; free() it. */
static const char **all_features(const char *const *extra, size_t *n)
{
    size_t cap = 0;
    while (caps_base_features[cap])
        cap++;
    for (size_t i = 0; extra && extra[i]; i++)
        cap++;
    const char **v = malloc((cap + 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; caps_base_features[i]; i++)
        v[k++] = caps_base_features[i];
    for (size_t i = 0; extra && extra[i]; i++)
        v[k++] = extra[i];
    qsort(v, k, sizeof *v, by_string);
    size_t out = 0;
    for (size_t i = 0; i < k; i++)
        if (!out || strcmp(v[out - 1], v[i]))
            v[out++] = v[i];
    *n = out;
    return v;
}

/* XEP-0115 §5.1: base64(sha-1("category/type//name<" "feature<"...)). */
static char *ver_string(xmpp_ctx_t *ctx, const char *const *extra)
{
    size_t n;
    const char **f = all_features(extra, &n);
    xmpp_sha1_t *sha = f ? xmpp_sha1_new(ctx) : NULL;
    char *ver = NULL;
    if (sha) {
        char id[256];
        snprintf(id, sizeof id, "%s/%s//%s<", identity[0], identity[1],
                 identity[2]);
        xmpp_sha1_update(sha, (const unsigned char *)id, strlen(id));
        for (size_t i = 0; i < n; i++) {
            xmpp_sha1_update(sha, (const unsigned char *)f[i], strlen(f[i]));
            xmpp_sha1_update(sha, (const unsigned char *)"<", 1);
        }
        xmpp_sha1_final(sha);
        unsigned char digest[20];
        xmpp_sha1_to_digest(sha, digest);
        ver = xmpp_base64_encode(ctx, digest, sizeof digest);
        xmpp_sha1_free(sha);
    }
    free(f);
    return ver;
}

xmpp_stanza_t *caps_element(xmpp_ctx_t *ctx, const char *const *features)
{
    xmpp_stanza_t *c = stanza_new_el(ctx, "c", NS_CAPS);
    char *ver = ver_string(ctx, features);
    xmpp_stanza_set_attribute(c, "hash", "sha-1");
    xmpp_stanza_set_attribute(c, "node", CAPS_NODE);
    xmpp_stanza_set_attribute(c, "ver", ver ? ver : "");
    xmpp_free(ctx, ver);
    return c;
}

xmpp_stanza_t *caps_disco_result(xmpp_ctx_t *ctx, xmpp_stanza_t *iq,
                                 const char *const *features)
{
    xmpp_stanza_t *reply = xmpp_iq_new(ctx, "result", xmpp_stanza_get_id(iq));
    const char *from = xmpp_stanza_get_from(iq);
    if (from)
        xmpp_stanza_set_to(reply, from);
    xmpp_stanza_t *ask =
        xmpp_stanza_get_child_by_name_and_ns(iq, "query", NS_DISCO_INFO);
    xmpp_stanza_t *q = stanza_add_el(reply, "query", NS_DISCO_INFO);
    const char *node = ask ? xmpp_stanza_get_attribute(ask, "node") : NULL;
    if (node)
        xmpp_stanza_set_attribute(q, "node", node);
    xmpp_stanza_t *id = stanza_add_el(q, "identity", NULL);
    xmpp_stanza_set_attribute(id, "category", identity[0]);
    xmpp_stanza_set_attribute(id, "type", identity[1]);
    xmpp_stanza_set_attribute(id, "name", identity[2]);
    size_t n;
    const char **f = all_features(features, &n);
    for (size_t i = 0; f && i < n; i++) {
        xmpp_stanza_t *el = stanza_add_el(q, "feature", NULL);
        xmpp_stanza_set_attribute(el, "var", f[i]);
    }
    free(f);
    return reply;
}

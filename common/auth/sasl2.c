/* SASL2, Bind2, FAST and HT stanzas; see sasl2.h. */
#include "common/auth/sasl2.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/exitcode.h"
#include "common/io/datetime.h"
#include "common/io/utf8.h"

/* The longest JID (RFC 7622 §3.1: three parts of 1023 bytes, two
 * separators) and the longest XEP-0198 resumption id we keep. */
#define JID_MAX   3071
#define SM_ID_MAX 1024

__attribute__((format(printf, 4, 5))) static int
refuse(char *err, size_t n, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return status;
}

/* UTF-8, at most max bytes, no control characters (nothing that acts
 * on a terminal, no line breaks). */
static bool clean(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n <= max && utf8_is_clean(s, n);
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The text of el without surrounding XML whitespace, malloc'd ("" when
 * it has none); NULL when out of memory. */
static char *text_of(xmpp_stanza_t *el)
{
    char *t = xmpp_stanza_get_text(el);
    const char *s = t ? t : "";
    size_t n = strlen(s);
    while (n && xml_space(s[n - 1]))
        n--;
    while (n && xml_space(*s))
        s++, n--;
    char *out = strndup(s, n);
    if (t)
        xmpp_free(xmpp_stanza_get_context(el), t);
    return out;
}

/* Is el the element name in namespace ns? */
static bool is(xmpp_stanza_t *el, const char *name, const char *ns)
{
    const char *n = xmpp_stanza_get_name(el), *x = xmpp_stanza_get_ns(el);
    return xmpp_stanza_is_tag(el) && n && x && !strcmp(n, name) &&
           !strcmp(x, ns);
}

/* The first child of el that is name in ns, or NULL. */
static xmpp_stanza_t *child(xmpp_stanza_t *el, const char *name, const char *ns)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c;
         c = xmpp_stanza_get_next(c))
        if (is(c, name, ns))
            return c;
    return NULL;
}

/* ---- stream features ---- */

bool sasl2_listed(const struct sasl2_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], name))
            return true;
    return false;
}

static void list_free(struct sasl2_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void sasl2_features_free(struct sasl2_features *f)
{
    list_free(&f->mechs);
    list_free(&f->cb_types);
    list_free(&f->mechs2);
    list_free(&f->bind_features);
    list_free(&f->fast_mechs);
}

/* Add s (taken over) to l under the bounds; what names the list in
 * errors. */
static int list_add(struct sasl2_features *f, struct sasl2_list *l, char *s,
                    size_t max, const char *what)
{
    int rc = 0;
    if (!s)
        return refuse(f->error, sizeof f->error, XE_OSERR, "out of memory");
    if (!*s || !clean(s, max))
        rc = refuse(f->error, sizeof f->error, XE_PROTOCOL,
                    "the server's %s has an empty entry, one longer than "
                    "%zu bytes or one with a control character",
                    what, max);
    else if (l->n >= SASL2_MAX_ITEMS)
        rc = refuse(f->error, sizeof f->error, XE_PROTOCOL,
                    "the server's %s has more than %d entries", what,
                    SASL2_MAX_ITEMS);
    char **v = rc ? NULL : realloc(l->v, (l->n + 1) * sizeof *v);
    if (!rc && !v)
        rc = refuse(f->error, sizeof f->error, XE_OSERR, "out of memory");
    if (rc) {
        free(s);
        return rc;
    }
    l->v = v;
    l->v[l->n++] = s;
    return 0;
}

/* Each <name xmlns=ns>TEXT</name> child of el into l. */
static int texts(struct sasl2_features *f, xmpp_stanza_t *el, const char *name,
                 const char *ns, struct sasl2_list *l, const char *what)
{
    int rc = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c && !rc;
         c = xmpp_stanza_get_next(c))
        if (is(c, name, ns))
            rc = list_add(f, l, text_of(c), SASL2_MAX_NAME, what);
    return rc;
}

/* Each <name xmlns=ns attr='VALUE'/> child of el into l. */
static int attrs(struct sasl2_features *f, xmpp_stanza_t *el, const char *name,
                 const char *ns, const char *attr, size_t max,
                 struct sasl2_list *l, const char *what)
{
    int rc = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c && !rc;
         c = xmpp_stanza_get_next(c)) {
        if (!is(c, name, ns))
            continue;
        const char *v = xmpp_stanza_get_attribute(c, attr);
        rc = list_add(f, l, strdup(v ? v : ""), max, what);
    }
    return rc;
}

/* A second copy of a feature: which one counts is anyone's guess, and
 * an attacker's best tool against XEP-0474's hash. */
static int twice(struct sasl2_features *f, bool seen, const char *what)
{
    if (!seen)
        return 0;
    return refuse(f->error, sizeof f->error, XE_PROTOCOL,
                  "the server's features hold %s twice", what);
}

/* XEP-0388 §2.1 <inline/>: XEP-0386 §2.2 <bind/>, XEP-0484 §3.1
 * <fast/>, XEP-0198 <sm/>. */
static int sasl2_inline(struct sasl2_features *f, xmpp_stanza_t *in)
{
    xmpp_stanza_t *bind = child(in, "bind", XMLNS_BIND2);
    xmpp_stanza_t *fast = child(in, "fast", XMLNS_FAST);
    int rc = 0;
    f->sm = child(in, "sm", XMLNS_SM3) != NULL;
    if (bind) {
        f->bind2 = true;
        xmpp_stanza_t *bin = child(bind, "inline", XMLNS_BIND2);
        if (bin)
            rc = attrs(f, bin, "feature", XMLNS_BIND2, "var", SASL2_MAX_VAR,
                       &f->bind_features, "Bind2 inline features");
    }
    if (fast && !rc) {
        const char *z = xmpp_stanza_get_attribute(fast, "tls-0rtt");
        f->fast = true;
        f->fast_0rtt = z && (!strcmp(z, "true") || !strcmp(z, "1"));
        rc = texts(f, fast, "mechanism", XMLNS_FAST, &f->fast_mechs,
                   "FAST mechanism list");
    }
    return rc;
}

static int feature(struct sasl2_features *f, xmpp_stanza_t *c)
{
    int rc = 0;
    if (is(c, "mechanisms", XMLNS_SASL)) {
        if (!(rc = twice(f, f->sasl1, "<mechanisms/>")))
            rc = texts(f, c, "mechanism", XMLNS_SASL, &f->mechs,
                       "SASL mechanism list");
        f->sasl1 = true;
    } else if (is(c, "sasl-channel-binding", XMLNS_SASL_CB)) {
        if (!(rc = twice(f, f->cb_advertised, "<sasl-channel-binding/>")))
            rc = attrs(f, c, "channel-binding", XMLNS_SASL_CB, "type",
                       SASL2_MAX_NAME, &f->cb_types, "channel-binding types");
        f->cb_advertised = true;
    } else if (is(c, "authentication", XMLNS_SASL2)) {
        if (!(rc = twice(f, f->sasl2, "<authentication/>")))
            rc = texts(f, c, "mechanism", XMLNS_SASL2, &f->mechs2,
                       "SASL2 mechanism list");
        f->sasl2 = true;
        xmpp_stanza_t *in = child(c, "inline", XMLNS_SASL2);
        if (!rc && in)
            rc = sasl2_inline(f, in);
    }
    return rc;
}

int sasl2_features_parse(xmpp_stanza_t *features, struct sasl2_features *f)
{
    memset(f, 0, sizeof *f);
    int rc = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(features); c && !rc;
         c = xmpp_stanza_get_next(c))
        rc = feature(f, c);
    if (rc) {
        char keep[sizeof f->error];
        memcpy(keep, f->error, sizeof keep);
        sasl2_features_free(f);
        memset(f, 0, sizeof *f);
        memcpy(f->error, keep, sizeof keep);
    }
    return rc;
}

void sasl2_features_offer(const struct sasl2_features *f, bool use_sasl2,
                          struct mech_offer *o)
{
    const struct sasl2_list *m = use_sasl2 && f->sasl2 ? &f->mechs2 : &f->mechs;
    o->mechs = (const char *const *)m->v;
    o->nmechs = m->n;
    o->cb_types = f->cb_advertised ? (const char *const *)f->cb_types.v : NULL;
    o->ncb = f->cb_types.n;
    o->sasl2 = use_sasl2 && f->sasl2;
    /* cb_types NULL means "not advertised"; an advertised empty list
     * must stay non-NULL (mech.h). */
    static const char *const none[1];
    if (f->cb_advertised && !o->cb_types)
        o->cb_types = none;
}

/* ---- <authenticate/> and <response/> ---- */

/* A new element name in ns (NULL: inherited), added to parent (which
 * then holds it) unless parent is NULL. */
static xmpp_stanza_t *element(xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
                              const char *name, const char *ns, bool *oom)
{
    xmpp_stanza_t *el = xmpp_stanza_new(ctx);
    if (!el || xmpp_stanza_set_name(el, name) ||
        (ns && xmpp_stanza_set_ns(el, ns)) ||
        (parent && xmpp_stanza_add_child(parent, el))) {
        *oom = true;
        if (el)
            xmpp_stanza_release(el);
        return NULL;
    }
    if (parent)
        xmpp_stanza_release(el); /* parent's reference remains */
    return el;
}

/* A text node under parent. */
static void text_node(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *text,
                      bool *oom)
{
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);
    if (!t || xmpp_stanza_set_text(t, text) || xmpp_stanza_add_child(parent, t))
        *oom = true;
    if (t)
        xmpp_stanza_release(t);
}

/* <name>text</name> under parent. */
static void text_element(xmpp_ctx_t *ctx, xmpp_stanza_t *parent,
                         const char *name, const char *text, bool *oom)
{
    xmpp_stanza_t *el = element(ctx, parent, name, NULL, oom);
    if (el)
        text_node(ctx, el, text, oom);
}

static void attr(xmpp_stanza_t *el, const char *name, const char *value,
                 bool *oom)
{
    if (el && xmpp_stanza_set_attribute(el, name, value))
        *oom = true;
}

/* data in base64, "=" for empty (RFC 6120 §6.4.2), malloc'd. */
static char *b64(xmpp_ctx_t *ctx, const unsigned char *data, size_t len)
{
    if (!len)
        return strdup("=");
    char *x = xmpp_base64_encode(ctx, data, len);
    char *out = x ? strdup(x) : NULL;
    if (x)
        xmpp_free(ctx, x);
    return out;
}

/* XEP-0388 §2.2.1 user agent. */
static void user_agent(xmpp_ctx_t *ctx, xmpp_stanza_t *auth,
                       const struct sasl2_auth *a, bool *oom)
{
    if (!a->agent_id && !a->software && !a->device)
        return;
    xmpp_stanza_t *ua = element(ctx, auth, "user-agent", NULL, oom);
    if (a->agent_id)
        attr(ua, "id", a->agent_id, oom);
    if (ua && a->software)
        text_element(ctx, ua, "software", a->software, oom);
    if (ua && a->device)
        text_element(ctx, ua, "device", a->device, oom);
}

/* XEP-0386 §2.3 <bind/>, with XEP-0198 <enable/> inline. */
static void bind2(xmpp_ctx_t *ctx, xmpp_stanza_t *auth,
                  const struct sasl2_auth *a, bool *oom)
{
    xmpp_stanza_t *bind = element(ctx, auth, "bind", XMLNS_BIND2, oom);
    if (!bind)
        return;
    text_element(ctx, bind, "tag", a->bind_tag, oom);
    if (a->sm_enable) {
        xmpp_stanza_t *en = element(ctx, bind, "enable", XMLNS_SM3, oom);
        if (a->sm_resume)
            attr(en, "resume", "true", oom);
    }
}

/* XEP-0484 §3.2 and §3.3. */
static void fast(xmpp_ctx_t *ctx, xmpp_stanza_t *auth,
                 const struct sasl2_auth *a, bool *oom)
{
    if (a->request_token) {
        xmpp_stanza_t *rt =
            element(ctx, auth, "request-token", XMLNS_FAST, oom);
        attr(rt, "mechanism", a->request_token, oom);
    }
    if (a->fast) {
        xmpp_stanza_t *f = element(ctx, auth, "fast", XMLNS_FAST, oom);
        if (a->invalidate)
            attr(f, "invalidate", "true", oom);
    }
}

/* What the caller gave: every string clean, nothing contradictory. */
static int auth_usable(struct sasl2_auth *a)
{
    const char *strs[] = {a->agent_id, a->software, a->device, a->bind_tag,
                          a->request_token};
    if (!a->mech || !*a->mech || !clean(a->mech, SASL2_MAX_NAME))
        return refuse(a->error, sizeof a->error, XE_USAGE,
                      "no usable SASL2 mechanism name given");
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strs[i] && (!*strs[i] || !clean(strs[i], 1024)))
            return refuse(a->error, sizeof a->error, XE_USAGE,
                          "an empty SASL2 field or one with a control "
                          "character: \"%s\"",
                          strs[i]);
    if ((a->sm_enable || a->sm_resume) && !a->bind_tag)
        return refuse(a->error, sizeof a->error, XE_USAGE,
                      "Stream Management inline needs Bind2 (a tag)");
    if (a->invalidate && !a->fast)
        return refuse(a->error, sizeof a->error, XE_USAGE,
                      "only a FAST login can invalidate its token");
    if (a->initial_len > SASL2_MAX_DATA / 4 * 3)
        return refuse(a->error, sizeof a->error, XE_USAGE,
                      "the initial response is too long");
    return 0;
}

int sasl2_authenticate(xmpp_ctx_t *ctx, struct sasl2_auth *a,
                       xmpp_stanza_t **out)
{
    *out = NULL;
    int rc = auth_usable(a);
    if (rc)
        return rc;
    bool oom = false;
    xmpp_stanza_t *auth = element(ctx, NULL, "authenticate", XMLNS_SASL2, &oom);
    attr(auth, "mechanism", a->mech, &oom);
    if (auth && a->initial) {
        char *ir = b64(ctx, a->initial, a->initial_len);
        if (ir)
            text_element(ctx, auth, "initial-response", ir, &oom);
        else
            oom = true;
        free(ir);
    }
    if (auth) {
        user_agent(ctx, auth, a, &oom);
        if (a->bind_tag)
            bind2(ctx, auth, a, &oom);
        fast(ctx, auth, a, &oom);
    }
    if (oom) {
        if (auth)
            xmpp_stanza_release(auth);
        return refuse(a->error, sizeof a->error, XE_OSERR, "out of memory");
    }
    *out = auth;
    return 0;
}

xmpp_stanza_t *sasl2_response(xmpp_ctx_t *ctx, bool sasl2,
                              const unsigned char *data, size_t len)
{
    bool oom = false;
    xmpp_stanza_t *r =
        element(ctx, NULL, "response", sasl2 ? XMLNS_SASL2 : XMLNS_SASL, &oom);
    char *text = r ? b64(ctx, data, len) : NULL;
    if (text)
        text_node(ctx, r, text, &oom);
    else
        oom = true;
    free(text);
    if (oom && r) {
        xmpp_stanza_release(r);
        r = NULL;
    }
    return r;
}

/* ---- the server's answers ---- */

void sasl2_answer_free(struct sasl2_answer *a)
{
    free(a->data);
    free(a->jid);
    free(a->sm.id);
    if (a->token)
        OPENSSL_cleanse(a->token, strlen(a->token));
    free(a->token);
    memset(a, 0, sizeof *a);
}

static int answer_oom(struct sasl2_answer *a)
{
    return refuse(a->error, sizeof a->error, XE_OSERR, "out of memory");
}

/* The base64 payload of el (RFC 6120 §6.4.2: "=" is empty, nothing is
 * no data) into a->data. */
static int payload(struct sasl2_answer *a, xmpp_stanza_t *el, const char *what)
{
    char *t = text_of(el);
    if (!t)
        return answer_oom(a);
    size_t n = strlen(t);
    int rc = 0;
    if (n > SASL2_MAX_DATA)
        rc = refuse(a->error, sizeof a->error, XE_PROTOCOL,
                    "the server's %s is longer than %d bytes", what,
                    SASL2_MAX_DATA);
    else if (!strcmp(t, "=") || !n)
        a->data = calloc(1, 1);
    else {
        unsigned char *bin = NULL;
        size_t len = 0;
        xmpp_ctx_t *ctx = xmpp_stanza_get_context(el);
        xmpp_base64_decode_bin(ctx, t, n, &bin, &len);
        if (!bin)
            rc = refuse(a->error, sizeof a->error, XE_PROTOCOL,
                        "the server's %s is not base64", what);
        else if ((a->data = malloc(len + 1))) {
            memcpy(a->data, bin, len);
            a->data[len] = '\0';
            a->len = len;
        }
        if (bin)
            xmpp_free(ctx, bin);
    }
    free(t);
    if (!rc && !a->data)
        return answer_oom(a);
    return rc;
}

/* A string attribute of el, checked, malloc'd into *out (NULL when
 * absent). */
static int attr_copy(struct sasl2_answer *a, xmpp_stanza_t *el,
                     const char *name, size_t max, char **out, const char *what)
{
    const char *v = xmpp_stanza_get_attribute(el, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!*v || !clean(v, max))
        return refuse(a->error, sizeof a->error, XE_PROTOCOL,
                      "the server's %s is empty, longer than %zu bytes or "
                      "holds a control character",
                      what, max);
    return (*out = strdup(v)) ? 0 : answer_oom(a);
}

static bool truth(const char *v)
{
    return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* The name of the first child element of el in ns (an error
 * condition), if it is a plausible one, into buf. */
static void condition(xmpp_stanza_t *el, const char *ns, char *buf, size_t n)
{
    buf[0] = '\0';
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (!xmpp_stanza_is_tag(c) || !name || !strcmp(name, "text") ||
            !is(c, name, ns))
            continue;
        if (strlen(name) < n &&
            strspn(name, "abcdefghijklmnopqrstuvwxyz-") == strlen(name))
            snprintf(buf, n, "%s", name);
        return;
    }
}

/* XEP-0386 §2.4 <bound/>, with XEP-0198's answer to an inline enable. */
static int bound(struct sasl2_answer *a, xmpp_stanza_t *b)
{
    xmpp_stanza_t *en = child(b, "enabled", XMLNS_SM3);
    xmpp_stanza_t *fl = child(b, "failed", XMLNS_SM3);
    a->bound = true;
    if (en) {
        const char *max = xmpp_stanza_get_attribute(en, "max");
        a->sm.enabled = true;
        a->sm.resume = truth(xmpp_stanza_get_attribute(en, "resume"));
        if (max && strspn(max, "0123456789") == strlen(max) && *max &&
            strlen(max) < 10)
            a->sm.max = strtoul(max, NULL, 10);
        return attr_copy(a, en, "id", SM_ID_MAX, &a->sm.id,
                         "Stream Management id");
    }
    if (fl) {
        a->sm.failed = true;
        condition(fl, "urn:ietf:params:xml:ns:xmpp-stanzas", a->sm.condition,
                  sizeof a->sm.condition);
    }
    return 0;
}

/* XEP-0484 §3.4 <token/>. */
static int token(struct sasl2_answer *a, xmpp_stanza_t *t)
{
    const char *exp = xmpp_stanza_get_attribute(t, "expiry");
    double when = 0;
    int rc = attr_copy(a, t, "token", SASL2_MAX_TOKEN, &a->token, "FAST token");
    if (!rc && !a->token)
        rc = refuse(a->error, sizeof a->error, XE_PROTOCOL,
                    "the server's FAST <token/> holds no token");
    /* XEP-0082 DateTime: a time with its zone (without one,
     * datetime_parse would read local time). */
    const char *time = exp ? strchr(exp, 'T') : NULL;
    if (!rc && exp &&
        (!time || !strpbrk(time, "Z+-") || datetime_parse(exp, &when) < 0 ||
         when < 0 || when > 1e15))
        rc = refuse(a->error, sizeof a->error, XE_PROTOCOL,
                    "the server's FAST token expiry is not a XEP-0082 time");
    a->token_expiry = (long long)when;
    return rc;
}

/* XEP-0388 §2.5 <success/>. */
static int success2(struct sasl2_answer *a, xmpp_stanza_t *st)
{
    xmpp_stanza_t *ad = child(st, "additional-data", XMLNS_SASL2);
    xmpp_stanza_t *id = child(st, "authorization-identifier", XMLNS_SASL2);
    xmpp_stanza_t *b = child(st, "bound", XMLNS_BIND2);
    xmpp_stanza_t *t = child(st, "token", XMLNS_FAST);
    int rc = ad ? payload(a, ad, "additional data") : 0;
    if (!rc && id) {
        if (!(a->jid = text_of(id)))
            return answer_oom(a);
        if (!*a->jid || !clean(a->jid, JID_MAX))
            rc = refuse(a->error, sizeof a->error, XE_PROTOCOL,
                        "the server's authorization identifier is empty, "
                        "too long or holds a control character");
    }
    if (!rc && b)
        rc = bound(a, b);
    if (!rc && t)
        rc = token(a, t);
    return rc;
}

/* The <text/> of a failure, as sent, cut at a character boundary. */
static void failure_text(struct sasl2_answer *a, xmpp_stanza_t *st)
{
    xmpp_stanza_t *t = NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c && !t;
         c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c) && xmpp_stanza_get_name(c) &&
            !strcmp(xmpp_stanza_get_name(c), "text"))
            t = c;
    char *s = t ? text_of(t) : NULL;
    if (!s)
        return;
    size_t n = strlen(s);
    if (n >= sizeof a->text) {
        n = sizeof a->text - 1;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(a->text, s, n);
    a->text[n] = '\0';
    free(s);
}

/* RFC 6120 §6.5, XEP-0388 §2.6: the refusal, in the server's words. */
static int failure(struct sasl2_answer *a, xmpp_stanza_t *st)
{
    condition(st, XMLNS_SASL, a->condition, sizeof a->condition);
    failure_text(a, st);
    const char *cond = a->condition[0] ? a->condition : "no reason given";
    if (a->text[0])
        return refuse(a->error, sizeof a->error, XE_AUTH,
                      "the server refused the login: %s (%s)", cond, a->text);
    return refuse(a->error, sizeof a->error, XE_AUTH,
                  "the server refused the login: %s", cond);
}

/* XEP-0388 §2.4 <continue/>: the server wants tasks (a second factor, a
 * password change) done first. We do none. */
static int continue2(struct sasl2_answer *a, xmpp_stanza_t *st)
{
    char tasks[160] = "";
    size_t used = 0;
    xmpp_stanza_t *ts = child(st, "tasks", XMLNS_SASL2);
    for (xmpp_stanza_t *c = ts ? xmpp_stanza_get_children(ts) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        char *t = is(c, "task", XMLNS_SASL2) ? text_of(c) : NULL;
        if (t && *t && clean(t, SASL2_MAX_NAME) && used < sizeof tasks) {
            int k = snprintf(tasks + used, sizeof tasks - used, "%s%s",
                             used ? ", " : "", t);
            used += k > 0 ? (size_t)k : 0;
        }
        free(t);
    }
    return refuse(a->error, sizeof a->error, XE_AUTH,
                  "the server asks for further login steps (%s) that xmpp "
                  "does not do; log in once with a client that does",
                  used ? tasks : "none named");
}

int sasl2_answer_parse(xmpp_stanza_t *st, struct sasl2_answer *a)
{
    memset(a, 0, sizeof *a);
    const char *name = xmpp_stanza_get_name(st);
    const char *ns = xmpp_stanza_get_ns(st);
    a->sasl2 = ns && !strcmp(ns, XMLNS_SASL2);
    if (!name || !ns || (!a->sasl2 && strcmp(ns, XMLNS_SASL)))
        return refuse(a->error, sizeof a->error, XE_PROTOCOL,
                      "the server answered the login with something that is "
                      "not SASL");
    int rc;
    if (!strcmp(name, "challenge")) {
        a->kind = SASL2_CHALLENGE;
        rc = payload(a, st, "challenge");
    } else if (!strcmp(name, "success")) {
        a->kind = SASL2_SUCCESS;
        rc = a->sasl2 ? success2(a, st) : 0;
        /* RFC 6120 §6.4.6: SASL's success carries the data as text. */
        if (!a->sasl2 && xmpp_stanza_get_children(st))
            rc = payload(a, st, "success data");
    } else if (!strcmp(name, "failure")) {
        a->kind = SASL2_FAILURE;
        return failure(a, st);
    } else if (!strcmp(name, "continue") && a->sasl2) {
        a->kind = SASL2_CONTINUE;
        return continue2(a, st);
    } else {
        return refuse(a->error, sizeof a->error, XE_PROTOCOL,
                      "the server answered the login with an unknown SASL "
                      "element");
    }
    if (rc) {
        char keep[sizeof a->error];
        enum sasl2_kind kind = a->kind;
        memcpy(keep, a->error, sizeof keep);
        sasl2_answer_free(a);
        a->kind = kind;
        a->sasl2 = !strcmp(ns, XMLNS_SASL2);
        memcpy(a->error, keep, sizeof keep);
    }
    return rc;
}

/* ---- HT-SHA-256-* ---- */

/* draft-schmaus-kitten-sasl-ht §3.1: the channel-binding part of the
 * name and its RFC 5056 type. UNIQ is named but never done. */
static const struct {
    const char *mech, *cb;
} hts[] = {
    {"HT-SHA-256-EXPR", "tls-exporter"},
    {"HT-SHA-256-ENDP", "tls-server-end-point"},
    {"HT-SHA-256-NONE", NULL},
};
#define NHT (sizeof hts / sizeof hts[0])

static bool ours_has(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && !strcmp(v[i], name))
            return true;
    return false;
}

const char *ht_choose(const struct sasl2_list *offered,
                      const char *const *our_cb, size_t nour)
{
    for (size_t i = 0; i < NHT; i++)
        if (sasl2_listed(offered, hts[i].mech) &&
            (!hts[i].cb || ours_has(our_cb, nour, hts[i].cb)))
            return hts[i].mech;
    return NULL;
}

bool ht_cb_type(const char *mech, const char **type)
{
    for (size_t i = 0; i < NHT; i++)
        if (mech && !strcmp(mech, hts[i].mech)) {
            *type = hts[i].cb;
            return true;
        }
    *type = NULL;
    return false;
}

/* HMAC-SHA-256(token, label || cb) into out (32 bytes). */
static bool ht_hmac(const char *token, const char *label,
                    const unsigned char *cb, size_t cb_len,
                    unsigned char out[32])
{
    size_t k = strlen(label);
    unsigned char *msg = malloc(k + cb_len + 1);
    unsigned int n = 0;
    if (!msg)
        return false;
    memcpy(msg, label, k);
    if (cb_len)
        memcpy(msg + k, cb, cb_len);
    bool ok = HMAC(EVP_sha256(), token, (int)strlen(token), msg, k + cb_len,
                   out, &n) &&
              n == 32;
    free(msg);
    return ok;
}

int ht_start(struct ht *h, const char *mech, const char *authcid,
             const char *token, const unsigned char *cb, size_t cb_len,
             unsigned char **out, size_t *len)
{
    memset(h, 0, sizeof *h);
    *out = NULL;
    *len = 0;
    const char *type;
    if (!ht_cb_type(mech, &type))
        return refuse(h->error, sizeof h->error, XE_USAGE,
                      "%s is not an HT mechanism we do", mech ? mech : "NULL");
    for (size_t i = 0; i < NHT; i++)
        if (!strcmp(mech, hts[i].mech))
            h->mech = hts[i].mech;
    if (type && (!cb || !cb_len))
        return refuse(h->error, sizeof h->error, XE_USAGE,
                      "%s needs %s channel-binding data", mech, type);
    if (!type)
        cb_len = 0;
    if (!authcid || !*authcid || !clean(authcid, 1023))
        return refuse(h->error, sizeof h->error, XE_USAGE,
                      "the user name is empty or holds a control character");
    if (!token || !*token || strlen(token) > SASL2_MAX_TOKEN)
        return refuse(h->error, sizeof h->error, XE_USAGE,
                      "the FAST token is empty or too long");
    size_t u = strlen(authcid);
    unsigned char *msg = malloc(u + 1 + 32);
    if (!msg)
        return refuse(h->error, sizeof h->error, XE_OSERR, "out of memory");
    memcpy(msg, authcid, u + 1);
    if (!ht_hmac(token, "Initiator", cb, cb_len, msg + u + 1) ||
        !ht_hmac(token, "Responder", cb, cb_len, h->responder)) {
        free(msg);
        return refuse(h->error, sizeof h->error, XE_OSERR,
                      "HMAC-SHA-256 failed");
    }
    *out = msg;
    *len = u + 1 + 32;
    return 0;
}

int ht_verify(struct ht *h, const unsigned char *data, size_t len)
{
    if (!data)
        return refuse(h->error, sizeof h->error, XE_AUTH,
                      "the server's %s success carries no proof: it may not "
                      "know the token",
                      h->mech ? h->mech : "HT");
    if (len != sizeof h->responder ||
        CRYPTO_memcmp(data, h->responder, sizeof h->responder))
        return refuse(h->error, sizeof h->error, XE_AUTH,
                      "the server's %s proof is wrong: it does not know the "
                      "token, or the connection is intercepted",
                      h->mech ? h->mech : "HT");
    return 0;
}

void ht_free(struct ht *h)
{
    OPENSSL_cleanse(h->responder, sizeof h->responder);
}

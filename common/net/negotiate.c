/* A client's stream negotiation (RFC 6120 §5-§7), ours over libstrophe's
 * raw connection: the library keeps the socket, TLS, the parser and the
 * stanzas; we decide what is sent when, so that
 *  - nothing waits that need not (XEP-0305): the stream header goes out
 *    with <starttls/>, the header after TLS with the SASL initial
 *    response, the restart with the bind request, and the tool's first
 *    stanzas right behind it. What the server offered last time (kept in
 *    the state directory, auth/state.h) says what to send before its
 *    features arrive; the features that do arrive are still checked,
 *    and a guess that was wrong costs a round trip, nothing else;
 *  - authentication cannot be downgraded: SCRAM with channel binding
 *    where offered, strict checks of the server's messages
 *    (auth/scram.h), a pin per account (auth/mech.h), PLAIN only when
 *    allowed and never guessed;
 *  - every refusal says what happened, never "wrong password" for what
 *    is not one. */
#include "common/net/session_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/auth/mech.h"
#include "common/auth/scram.h"
#include "common/auth/state.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_CB "urn:xmpp:sasl-cb:0"
#define BIND_ID "_xmpp_bind1" /* "_xmpp_": not counted (delivery.c) */

enum { MAX_MECHS = 32, MAX_NAME = 64, CB_MAX = 64 };

/* What a server offers before authentication, as far as we use it. */
struct offer {
    char *mechs[MAX_MECHS];
    size_t nmechs;
    char *cb[MAX_MECHS]; /* XEP-0440 types */
    size_t ncb;
    bool cb_seen; /* <sasl-channel-binding/> was there */
};

enum step {
    N_STARTTLS, /* header and <starttls/> sent */
    N_AUTH,     /* TLS up, header sent (and maybe <auth/>) */
    N_SASL,     /* <auth/> sent after the features */
    N_RESTART,  /* authenticated, header sent */
    N_RESUME,   /* <resume/> sent */
    N_BOUND,    /* the session is up */
};

struct negotiation {
    enum step step;
    bool handlers;   /* added to the connection, once */
    bool tls;        /* the stream is encrypted */
    bool pin_loaded; /* pin read (once a process) */
    char *pin;       /* the account's pin, or NULL */
    struct offer seen;     /* the features of this stream */
    bool seen_valid;       /* they came */
    struct offer memory;   /* what was offered last time */
    bool memory_valid;     /* there was a last time */
    bool memory_sm;        /* SM after authentication, last time */
    const char *mech;      /* the mechanism of the <auth/> sent */
    bool guessed;          /* sent before the features came */
    /* A guess the features proved wrong: its exchange is ended (its
     * <failure/>, or our <abort/> to its challenge), then `then` goes. */
    bool abandon;
    struct mech_choice then;
    bool scram_live;
    struct scram scram;
    char *user; /* the JID's localpart */
    char *bare; /* the bare JID, for the state files */
};

/* ---- bookkeeping ---- */

static void offer_clear(struct offer *o)
{
    for (size_t i = 0; i < o->nmechs; i++)
        free(o->mechs[i]);
    for (size_t i = 0; i < o->ncb; i++)
        free(o->cb[i]);
    memset(o, 0, sizeof *o);
}

static struct negotiation *nego(struct session *s)
{
    struct session_state *p = s->priv;
    if (!p->nego)
        p->nego = calloc(1, sizeof *p->nego);
    return p->nego;
}

void negotiate_free(struct session *s)
{
    struct negotiation *n = s->priv->nego;
    if (!n)
        return;
    offer_clear(&n->seen);
    offer_clear(&n->memory);
    if (n->scram_live)
        scram_free(&n->scram);
    free(n->pin);
    free(n->user);
    free(n->bare);
    free(n);
    s->priv->nego = NULL;
}

/* A name from the server we keep: short and printable ASCII. */
static bool fair_name(const char *v)
{
    size_t len = v ? strlen(v) : 0;
    if (!len || len > MAX_NAME)
        return false;
    for (; *v; v++)
        if (*v <= 0x20 || *v >= 0x7F)
            return false;
    return true;
}

static void add_name(char **list, size_t *n, const char *v)
{
    if (*n < MAX_MECHS && fair_name(v) && (list[*n] = strdup(v)))
        (*n)++;
}

/* The text of each child element, into list. */
static void children_text(xmpp_stanza_t *parent, char **list, size_t *n)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(parent); c;
         c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c))
            continue;
        char *t = xmpp_stanza_get_text(c);
        add_name(list, n, t);
        free(t);
    }
}

/* RFC 6120 §6.3.3 mechanisms and XEP-0440 types from <features/>. */
static void read_offer(xmpp_stanza_t *features, struct offer *o)
{
    offer_clear(o);
    xmpp_stanza_t *m =
        xmpp_stanza_get_child_by_name_and_ns(features, "mechanisms", NS_SASL);
    if (m)
        children_text(m, o->mechs, &o->nmechs);
    xmpp_stanza_t *cb = xmpp_stanza_get_child_by_name_and_ns(
        features, "sasl-channel-binding", NS_CB);
    if (!cb)
        return;
    o->cb_seen = true;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(cb); c;
         c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c))
            add_name(o->cb, &o->ncb, xmpp_stanza_get_attribute(c, "type"));
}

/* ---- what the server offered last time (state file JID.offer) ---- */

static void words_into(const char *line, char **list, size_t *n)
{
    char *copy = strdup(line), *save = NULL;
    for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w;
         w = strtok_r(NULL, " ", &save))
        add_name(list, n, w);
    free(copy);
}

static void memory_load(struct negotiation *n)
{
    char *text = NULL;
    if (state_text_load(n->bare, "offer", &text) || !text)
        return;
    offer_clear(&n->memory);
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(l, "mechanisms ", 11))
            words_into(l + 11, n->memory.mechs, &n->memory.nmechs);
        else if (!strncmp(l, "channel-binding", 15)) {
            n->memory.cb_seen = true;
            words_into(l + 15, n->memory.cb, &n->memory.ncb);
        } else if (!strcmp(l, "sm yes"))
            n->memory_sm = true;
    }
    n->memory_valid = n->memory.nmechs > 0;
    free(text);
}

static void append_words(FILE *f, char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %s", list[i]);
}

/* Remember what was offered, when it is not what we remembered. */
static void memory_store(struct negotiation *n, bool sm)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    fputs("mechanisms", f);
    append_words(f, n->seen.mechs, n->seen.nmechs);
    if (n->seen.cb_seen) {
        fputs("\nchannel-binding", f);
        append_words(f, n->seen.cb, n->seen.ncb);
    }
    fprintf(f, "\nsm %s\n", sm ? "yes" : "no");
    if (fclose(f)) {
        free(text);
        return;
    }
    char *old = NULL;
    if (state_text_load(n->bare, "offer", &old) || !old || strcmp(old, text))
        state_text_store(n->bare, "offer", text);
    free(old);
    free(text);
}

/* ---- failing ---- */

/* End the attempt with status and this one line (no "wrong password"
 * unless it is one): classify_failure says it when the connection is
 * down. */
static void refuse(struct session *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct session *s, int status, const char *fmt, ...)
{
    struct session_state *p = s->priv;
    if (!p->why_said) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, sizeof p->why, fmt, ap);
        va_end(ap);
        p->auth_hint = status;
        p->why_said = true;
    }
    xmpp_disconnect(s->conn);
}

/* ---- sending ---- */

static void open_stream(struct session *s)
{
    struct negotiation *n = s->priv->nego;
    const char *at = strchr(n->bare, '@');
    char *domain = (char *)(at ? at + 1 : n->bare);
    /* RFC 6120 §4.7.1: 'from' once the stream is encrypted (ejabberd
     * offers SASL2 only then). */
    char *attrs[] = {"to",      domain,      "version",
                     "1.0",     "xmlns",     "jabber:client",
                     "xmlns:stream", "http://etherx.jabber.org/streams",
                     "from",    n->bare};
    xmpp_conn_open_stream(s->conn, attrs, n->tls ? 10 : 8);
}

static void send_sasl(struct session *s, const char *name, const char *mech,
                      const unsigned char *data, size_t len)
{
    char *b64 = len ? xmpp_base64_encode(s->ctx, data, len) : NULL;
    if (len && !b64)
        return refuse(s, XE_OSERR, "out of memory");
    if (mech)
        xmpp_send_raw_string(s->conn, "<%s xmlns='%s' mechanism='%s'>%s</%s>",
                             name, NS_SASL, mech, b64 ? b64 : "=", name);
    else
        xmpp_send_raw_string(s->conn, "<%s xmlns='%s'>%s</%s>", name, NS_SASL,
                             b64 ? b64 : "", name);
    if (b64) {
        memset(b64, 0, strlen(b64));
        xmpp_free(s->ctx, b64);
    }
}

/* RFC 4616: PLAIN's message is authzid NUL authcid NUL password. */
static void send_plain(struct session *s)
{
    struct negotiation *n = s->priv->nego;
    const char *pw = s->creds.password;
    size_t ul = strlen(n->user), pl = strlen(pw);
    unsigned char *msg = malloc(ul + pl + 2);
    if (!msg)
        return refuse(s, XE_OSERR, "out of memory");
    msg[0] = '\0';
    memcpy(msg + 1, n->user, ul);
    msg[ul + 1] = '\0';
    memcpy(msg + ul + 2, pw, pl);
    send_sasl(s, "auth", "PLAIN", msg, ul + pl + 2);
    memset(msg, 0, ul + pl + 2);
    free(msg);
}

/* Send the <auth/> of choice c: 0, or the status (refused). */
static int send_auth(struct session *s, const struct mech_choice *c)
{
    struct negotiation *n = s->priv->nego;
    s->priv->stage = AT_SASL;
    n->mech = c->mech;
    if (n->scram_live) /* a guess's, abandoned */
        scram_free(&n->scram);
    n->scram_live = false;
    if (!strcmp(c->mech, "PLAIN")) {
        send_plain(s);
        return 0;
    }
    unsigned char cb[CB_MAX];
    size_t cblen = 0;
    if (c->cb_flag == 'p' && tls_binding(c->cb_type, cb, &cblen)) {
        refuse(s, XE_PROTOCOL, "cannot compute the %s channel binding",
               c->cb_type);
        return XE_PROTOCOL;
    }
    struct scram_params prm = {.mech = c->mech,
                               .user = n->user,
                               .cb_flag = c->cb_flag,
                               .cb_type = c->cb_type,
                               .cb_data = cblen ? cb : NULL,
                               .cb_len = cblen};
    char *first = NULL;
    n->scram_live = true;
    int rc = scram_client_first(&n->scram, &prm, &first);
    if (rc) {
        refuse(s, rc, "%s", n->scram.error);
        return rc;
    }
    send_sasl(s, "auth", c->mech, (unsigned char *)first, strlen(first));
    free(first);
    return 0;
}

/* Fill mech.h's offer from o. */
static void mech_offer_of(struct session *s, const struct offer *o,
                          struct mech_offer *mo, const char **ours)
{
    struct negotiation *n = s->priv->nego;
    *mo = (struct mech_offer){
        .mechs = (const char *const *)o->mechs,
        .nmechs = o->nmechs,
        .cb_types = o->cb_seen ? (const char *const *)o->cb : NULL,
        .ncb = o->ncb,
        .our_cb = ours,
        .nour = tls_binding_types(ours, 2),
        .tls = n->tls,
        .allow_plain = s->creds.allow_plain,
        .pin = n->pin,
    };
}

/* XEP-0305: after TLS, send the <auth/> that last time's offer calls
 * for without waiting for this one's. SCRAM only: its first message
 * holds no secret, and the features are checked before the proof goes. */
static void guess_auth(struct session *s)
{
    struct negotiation *n = s->priv->nego;
    if (!n->memory_valid)
        return;
    const char *ours[2];
    struct mech_offer mo;
    struct mech_choice c;
    mech_offer_of(s, &n->memory, &mo, ours);
    if (mech_choose(&mo, &c) || mech_rank(c.mech) < 2 ||
        strncmp(c.mech, "SCRAM-", 6))
        return;
    if (!send_auth(s, &c))
        n->guessed = true;
}

/* ---- the steps ---- */

/* libstrophe also hands a handler the stanzas with a child in its
 * namespace (<features/> holds <starttls/>, <mechanisms/>): is st
 * itself in ns? */
static bool own(xmpp_stanza_t *st, const char *ns)
{
    const char *n = xmpp_stanza_get_ns(st);
    return n && !strcmp(n, ns);
}

static bool offered(const struct offer *o, const char *mech)
{
    for (size_t i = 0; i < o->nmechs; i++)
        if (!strcmp(o->mechs[i], mech))
            return true;
    return false;
}

/* The features after TLS: choose, or check the guess. */
static void on_auth_features(struct session *s, xmpp_stanza_t *features)
{
    struct negotiation *n = s->priv->nego;
    read_offer(features, &n->seen);
    n->seen_valid = true;
    const char *ours[2];
    struct mech_offer mo;
    struct mech_choice c;
    mech_offer_of(s, &n->seen, &mo, ours);
    int rc = mech_choose(&mo, &c);
    if (rc)
        return refuse(s, rc, "%s", c.error);
    memory_store(n, n->memory_sm);
    if (n->guessed && offered(&n->seen, n->mech) &&
        mech_rank(n->mech) >= mech_rank(n->pin))
        return; /* the guess stands: the answer is on its way */
    n->step = N_SASL;
    if (n->guessed) { /* its answer is on its way: end that first */
        n->guessed = false;
        n->abandon = true;
        n->then = c;
        return;
    }
    send_auth(s, &c);
}

static void send_bind(struct session *s)
{
    const char *slash = strchr(s->creds.jid, '/');
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "set", BIND_ID);
    xmpp_stanza_t *bind = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(bind, "bind");
    xmpp_stanza_set_ns(bind, NS_BIND);
    if (slash && slash[1]) {
        xmpp_stanza_t *r = xmpp_stanza_new(s->ctx);
        xmpp_stanza_t *t = xmpp_stanza_new(s->ctx);
        xmpp_stanza_set_name(r, "resource");
        xmpp_stanza_set_text(t, slash + 1);
        xmpp_stanza_add_child_ex(r, t, 0);
        xmpp_stanza_add_child_ex(bind, r, 0);
    }
    xmpp_stanza_add_child_ex(iq, bind, 0);
    xmpp_send(s->conn, iq);
    xmpp_stanza_release(iq);
    s->priv->stage = AT_BIND;
}

/* The session is up: bound (or about to be, pipelined) or resumed. */
static void up(struct session *s)
{
    s->priv->nego->step = N_BOUND;
    session_ready(s);
}

/* XEP-0198 §5: take the lost session up again, else bind anew. */
static bool try_resume(struct session *s)
{
    struct session_state *p = s->priv;
    if (!*p->sm_id)
        return false;
    xmpp_send_raw_string(s->conn,
                         "<resume xmlns='urn:xmpp:sm:3' h='%lu' "
                         "previd='%s'/>",
                         p->in & 0xFFFFFFFFUL, p->sm_id);
    p->nego->step = N_RESUME;
    return true;
}

/* After SASL success: restart the stream, and (when the server's
 * features after it are known from last time) bind and declare the
 * session up at once, so the tool's stanzas follow in the same flight.
 * A bind that fails then still ends the session (on_bind). */
static void authenticated(struct session *s)
{
    struct session_state *p = s->priv;
    struct negotiation *n = p->nego;
    if (n->mech && mech_pin_raises(n->pin, n->mech) &&
        !pin_store(n->bare, n->mech)) {
        free(n->pin);
        n->pin = strdup(n->mech);
    }
    n->step = N_RESTART;
    open_stream(s);
    if (try_resume(s) || !n->memory_valid)
        return;
    send_bind(s);
    p->sm = n->memory_sm ? SM_OFFERED : SM_OFF;
    up(s);
}

/* The features after authentication. */
static void on_session_features(struct session *s, xmpp_stanza_t *features)
{
    struct session_state *p = s->priv;
    struct negotiation *n = p->nego;
    bool sm = xmpp_stanza_get_child_by_name_and_ns(features, "sm",
                                                   XMPP_NS_SM) != NULL;
    if (sm != n->memory_sm || !n->memory_valid) {
        n->memory_sm = sm;
        if (n->seen_valid)
            memory_store(n, sm);
    }
    if (n->step != N_RESTART) /* bound already, pipelined */
        return;
    if (!xmpp_stanza_get_child_by_name_and_ns(features, "bind", NS_BIND))
        return refuse(s, XE_PROTOCOL,
                      "the server offers no resource binding after "
                      "authentication");
    send_bind(s);
    p->sm = sm ? SM_OFFERED : SM_OFF;
    /* up when the bind result comes (on_bind) */
}

static int on_features(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    struct negotiation *n = s->priv->nego;
    (void)conn;
    if (s->status != SESSION_RUNNING || !own(st, XMPP_NS_STREAMS))
        return 1;
    switch (n->step) {
    case N_STARTTLS:
        if (!xmpp_stanza_get_child_by_name_and_ns(st, "starttls", NS_TLS))
            refuse(s, XE_AUTH,
                   "the server offers no TLS; refusing to log in without it");
        break;
    case N_AUTH:
    case N_SASL:
        if (!n->seen_valid)
            on_auth_features(s, st);
        break;
    default: on_session_features(s, st); break;
    }
    return 1;
}

/* The handshake failed: a rejected certificate was said already
 * (session.c on_certfail, 77); else OpenSSL's reason, 69. */
static void tls_failed(struct session *s, const char *hint)
{
    struct session_state *p = s->priv;
    if (p->auth_hint != XE_AUTH) {
        p->auth_hint = XE_UNAVAILABLE;
        snprintf(p->why, sizeof p->why, "TLS handshake failed (%s)%s",
                 *p->tls_reason ? p->tls_reason : "no reason given", hint);
    }
    xmpp_disconnect(s->conn);
}

static int on_tls(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    struct session_state *p = s->priv;
    struct negotiation *n = p->nego;
    (void)conn;
    if (n->step != N_STARTTLS || !own(st, NS_TLS))
        return 1;
    if (strcmp(xmpp_stanza_get_name(st), "proceed")) {
        refuse(s, XE_PROTOCOL, "the server refused STARTTLS");
        return 1;
    }
    p->stage = AT_TLS;
    if (tls_start_caught(s)) {
        tls_failed(s, "");
        return 1;
    }
    p->stage = AT_STREAM;
    n->tls = true;
    n->step = N_AUTH;
    open_stream(s);
    guess_auth(s);
    return 1;
}

/* The SASL data of st, base64-decoded, NUL-terminated; "=" is empty
 * (RFC 6120 §6.4.2). NULL with *bad when it is not base64. */
static char *sasl_data(struct session *s, xmpp_stanza_t *st, size_t *len,
                       bool *bad)
{
    char *text = xmpp_stanza_get_text(st);
    unsigned char *raw = NULL;
    *len = 0;
    *bad = false;
    if (!text || !*text || !strcmp(text, "=")) {
        xmpp_free(s->ctx, text);
        return calloc(1, 1);
    }
    xmpp_base64_decode_bin(s->ctx, text, strlen(text), &raw, len);
    xmpp_free(s->ctx, text);
    if (!raw) {
        *bad = true;
        return NULL;
    }
    char *out = malloc(*len + 1);
    if (out) {
        memcpy(out, raw, *len);
        out[*len] = '\0';
    }
    xmpp_free(s->ctx, raw);
    return out;
}

/* RFC 6120 §6.5: the condition of a SASL <failure/>, and its text. */
static void sasl_failure(struct session *s, xmpp_stanza_t *st)
{
    struct session_state *p = s->priv;
    xmpp_stanza_t *c = xmpp_stanza_get_children(st);
    while (c && (!xmpp_stanza_is_tag(c) ||
                 !strcmp(xmpp_stanza_get_name(c), "text")))
        c = xmpp_stanza_get_next(c);
    const char *cond = c ? xmpp_stanza_get_name(c) : "undefined-condition";
    xmpp_stanza_t *t = xmpp_stanza_get_child_by_name(st, "text");
    char *text = t ? xmpp_stanza_get_text(t) : NULL;
    if (!strcmp(cond, "not-authorized")) {
        p->auth_hint = XE_AUTH; /* the classic message: a wrong password */
        snprintf(p->why, sizeof p->why, "SASL failure: not-authorized");
        xmpp_disconnect(s->conn);
    } else {
        refuse(s, strcmp(cond, "temporary-auth-failure") ? XE_AUTH
                                                          : XE_UNAVAILABLE,
               "the server refused the login (%s%s%s)", cond,
               text ? ": " : "", text ? text : "");
    }
    xmpp_free(s->ctx, text);
}

static void on_challenge(struct session *s, const char *data, size_t len)
{
    struct negotiation *n = s->priv->nego;
    if (!n->scram_live || n->scram.step != 1)
        return refuse(s, XE_PROTOCOL, "the server sent an unexpected SASL "
                                      "challenge");
    int rc = scram_server_first(&n->scram, data, len);
    if (rc)
        return refuse(s, rc, "%s", n->scram.error);
    /* XEP-0474: h= names what the server offered; check it against
     * what we saw, before the proof goes out. */
    if (n->scram.ssdp &&
        (rc = scram_ssdp_check(&n->scram, (const char *const *)n->seen.mechs,
                               n->seen.nmechs,
                               n->seen.cb_seen
                                   ? (const char *const *)n->seen.cb
                                   : NULL,
                               n->seen.ncb)))
        return refuse(s, rc, "%s", n->scram.error);
    char *final = NULL;
    rc = scram_client_final(&n->scram, s->creds.password, NULL, &final);
    if (rc)
        return refuse(s, rc, "%s", n->scram.error);
    send_sasl(s, "response", NULL, (unsigned char *)final, strlen(final));
    memset(final, 0, strlen(final));
    free(final);
}

static void on_success(struct session *s, const char *data, size_t len)
{
    struct negotiation *n = s->priv->nego;
    if (n->scram_live) {
        int rc = n->scram.step == 3
                     ? scram_server_final(&n->scram, data, len)
                     : XE_AUTH;
        if (rc && n->scram.step != 3)
            snprintf(n->scram.error, sizeof n->scram.error,
                     "the server declared success before our proof");
        if (rc)
            return refuse(s, rc, "%s", n->scram.error);
        scram_free(&n->scram);
        n->scram_live = false;
    }
    authenticated(s);
}

static int on_sasl(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    struct negotiation *n = s->priv->nego;
    (void)conn;
    if (s->status != SESSION_RUNNING || !own(st, NS_SASL) ||
        (n->step != N_AUTH && n->step != N_SASL))
        return 1;
    const char *name = xmpp_stanza_get_name(st);
    if (n->abandon) { /* RFC 6120 §6.4.4: a wrong guess's exchange */
        if (!strcmp(name, "challenge"))
            xmpp_send_raw_string(s->conn, "<abort xmlns='%s'/>", NS_SASL);
        else if (!strcmp(name, "failure")) {
            n->abandon = false;
            send_auth(s, &n->then);
        } else
            refuse(s, XE_PROTOCOL, "the server answered an abandoned "
                                   "SASL exchange with %s", name);
        return 1;
    }
    if (!strcmp(name, "failure")) {
        sasl_failure(s, st);
        return 1;
    }
    size_t len;
    bool bad;
    char *data = sasl_data(s, st, &len, &bad);
    if (bad)
        refuse(s, XE_PROTOCOL, "the server's SASL %s is not base64", name);
    else if (!data)
        refuse(s, XE_OSERR, "out of memory");
    else if (!strcmp(name, "challenge"))
        on_challenge(s, data, len);
    else if (!strcmp(name, "success"))
        on_success(s, data, len);
    if (data) {
        memset(data, 0, len);
        free(data);
    }
    return 1;
}

static int on_bind(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    struct session_state *p = s->priv;
    (void)conn;
    const char *type = xmpp_stanza_get_type(st);
    xmpp_stanza_t *b = xmpp_stanza_get_child_by_name_and_ns(st, "bind",
                                                            NS_BIND);
    xmpp_stanza_t *j = b ? xmpp_stanza_get_child_by_name(b, "jid") : NULL;
    char *jid = j ? xmpp_stanza_get_text(j) : NULL;
    if (type && !strcmp(type, "result") && jid && !jid_check(jid)) {
        snprintf(p->bound_jid, sizeof p->bound_jid, "%s", jid);
        xmpp_free(s->ctx, jid);
        if (p->nego->step != N_BOUND)
            up(s);
        return 0;
    }
    xmpp_free(s->ctx, jid);
    char why[200];
    stanza_error_text(st, why, sizeof why);
    if (!p->ready) {
        refuse(s, XE_PROTOCOL, "the server refused to bind a resource: %s",
               why);
        return 0;
    }
    s->status = report(s, XE_PROTOCOL,
                       "the server refused to bind a resource: %s", why);
    xmpp_disconnect(s->conn);
    return 0;
}

bool negotiate_sm(struct session *s, xmpp_stanza_t *st)
{
    struct session_state *p = s->priv;
    struct negotiation *n = p->nego;
    const char *name = xmpp_stanza_get_name(st);
    if (!n || n->step != N_RESUME)
        return false;
    if (!strcmp(name, "resumed")) {
        const char *h = xmpp_stanza_get_attribute(st, "h");
        unsigned long v = h ? strtoul(h, NULL, 10) : 0;
        s->resumed = true;
        if (v > s->confirmed && v <= s->out)
            s->confirmed = v;
        s->unsure += s->out - s->confirmed;
        s->confirmed = s->out;
        p->sm = SM_ON;
        up(s);
        return true;
    }
    if (!strcmp(name, "failed")) {
        *p->sm_id = '\0';
        send_bind(s);
        p->sm = n->memory_sm ? SM_OFFERED : SM_OFF;
        n->step = N_RESTART; /* up when bound */
        return true;
    }
    return false;
}

static int on_stream_error(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session_state *p = ((struct session *)ud)->priv;
    (void)conn;
    if (!own(st, XMPP_NS_STREAMS))
        return 1;
    if (p->stream_error)
        xmpp_stanza_release(p->stream_error);
    p->stream_error = xmpp_stanza_clone(st);
    return 1;
}

void watch_stream_errors(struct session *s)
{
    xmpp_handler_add(s->conn, on_stream_error, XMPP_NS_STREAMS, "error", NULL,
                     s);
}

static int set_up(struct session *s)
{
    struct negotiation *n = nego(s);
    if (!n)
        return XE_OSERR;
    if (!n->bare) {
        const char *jid = s->creds.jid, *at = strchr(jid, '@');
        n->bare = strndup(jid, jid_bare_len(jid));
        n->user = strndup(jid, at ? (size_t)(at - jid) : 0);
        if (!n->bare || !n->user)
            return XE_OSERR;
    }
    if (!n->pin_loaded) {
        n->pin_loaded = true;
        if (s->opt->reset_pin) {
            pin_delete(n->bare);
            fast_delete(n->bare);
        } else if (pin_load(n->bare, &n->pin))
            return XE_OSERR;
        memory_load(n);
    }
    if (!n->handlers) {
        n->handlers = true;
        xmpp_handler_add(s->conn, on_features, XMPP_NS_STREAMS, "features",
                         NULL, s);
        xmpp_handler_add(s->conn, on_tls, NS_TLS, NULL, NULL, s);
        xmpp_handler_add(s->conn, on_sasl, NS_SASL, NULL, NULL, s);
        watch_stream_errors(s);
        watch_sm(s);
    }
    xmpp_id_handler_delete(s->conn, on_bind, BIND_ID);
    xmpp_id_handler_add(s->conn, on_bind, BIND_ID, s);
    offer_clear(&n->seen);
    n->seen_valid = n->tls = n->guessed = n->abandon = false;
    n->mech = NULL;
    return 0;
}

void negotiate_start(struct session *s)
{
    struct session_state *p = s->priv;
    tls_forget();
    if (set_up(s)) {
        p->auth_hint = XE_OSERR;
        snprintf(p->why, sizeof p->why, "out of memory");
        p->why_said = true;
        xmpp_disconnect(s->conn);
        return;
    }
    struct negotiation *n = p->nego;
    p->stage = AT_STREAM;
    /* XEP-0368: --direct-tls, or an _xmpps-client target (srv.c). */
    if (xmpp_conn_get_flags(s->conn) & XMPP_CONN_FLAG_LEGACY_SSL) {
        p->stage = AT_TLS;
        if (tls_start_caught(s)) {
            tls_failed(s, "; is it a direct TLS port?");
            return;
        }
        p->stage = AT_STREAM;
        n->tls = true;
        n->step = N_AUTH;
        open_stream(s);
        guess_auth(s);
        return;
    }
    n->step = N_STARTTLS;
    open_stream(s);
    /* XEP-0305 §2.2: every server offers STARTTLS; the features are
     * checked when they come. */
    xmpp_send_raw_string(s->conn, "<starttls xmlns='%s'/>", NS_TLS);
}

const char *session_bound_jid(struct session *s)
{
    /* A pipelined bind's result may still be on its way. */
    while (!*s->priv->bound_jid && s->priv->ready && !s->creds.component &&
           session_step(s, 100) == SESSION_RUNNING)
        ;
    return *s->priv->bound_jid ? s->priv->bound_jid : NULL;
}

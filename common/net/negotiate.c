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
 *  - a login costs as few round trips as the server allows: SASL2 with
 *    Bind2 and inline Stream Management where offered (no stream
 *    restart), and a FAST token (XEP-0484) once the server gave one, so
 *    the password is hashed only when the token is refused;
 *  - every refusal says what happened, never "wrong password" for what
 *    is not one. */
#include "common/net/session_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/auth/mech.h"
#include "common/auth/sasl2.h"
#include "common/auth/scram.h"
#include "common/auth/state.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"

#define NS_TLS  "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_CB   "urn:xmpp:sasl-cb:0"
#define BIND_ID "_xmpp_bind1" /* "_xmpp_": not counted (delivery.c) */

enum { MAX_MECHS = 32, MAX_NAME = 64, CB_MAX = 64 };

/* A list of names from the server (bounded by auth/sasl2.c). */
struct names {
    char *v[MAX_MECHS];
    size_t n;
};

/* What a server offers before authentication, as far as we use it. */
struct offer {
    struct names mechs;  /* RFC 6120 §6.3.3 */
    struct names mechs2; /* XEP-0388 <authentication/> */
    struct names cb;     /* XEP-0440 types */
    bool cb_seen;        /* <sasl-channel-binding/> was there */
    struct names fast;   /* XEP-0484 HT mechanisms */
    bool sasl2, bind2, bind2_sm;
};

/* How to log in: over SASL2 or RFC 6120 SASL, with the password (the
 * mechanism of choice c) or the FAST token (mechanism ht). */
struct plan {
    bool sasl2;
    bool token;
    const char *ht; /* static: ht_choose */
    struct mech_choice c;
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
    bool handlers;       /* added to the connection, once */
    bool tls;            /* the stream is encrypted */
    bool pin_loaded;     /* pin read (once a process) */
    char *pin;           /* the account's pin, or NULL */
    struct offer seen;   /* the features of this stream */
    bool seen_valid;     /* they came */
    struct offer memory; /* what was offered last time */
    bool memory_valid;   /* there was a last time */
    bool memory_sm;      /* SM after authentication, last time */
    struct plan sent;    /* the login under way */
    const char *mech;    /* its mechanism (a password one: for the pin) */
    const char *asked;   /* the HT mechanism we asked a token for */
    bool guessed;        /* sent before the features came */
    /* A guess the features proved wrong: its exchange is ended (its
     * <failure/>, or our <abort/> to its challenge), then `then` goes. */
    bool abandon;
    struct plan then;
    bool scram_live;
    struct scram scram;
    bool ht_live;
    struct ht ht;
    struct fast_token token; /* the account's, when usable */
    bool token_failed;       /* refused once: the password from now on */
    bool no_sasl2;           /* a SASL1 exchange was abandoned on this stream:
                                servers take no SASL2 after it (ejabberd) */
    char *agent;             /* XEP-0388 user-agent id */
    char *user;              /* the JID's localpart */
    char *bare;              /* the bare JID, for the state files */
};

/* ---- bookkeeping ---- */

static void names_clear(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

static void offer_clear(struct offer *o)
{
    names_clear(&o->mechs);
    names_clear(&o->mechs2);
    names_clear(&o->cb);
    names_clear(&o->fast);
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
    if (n->ht_live)
        ht_free(&n->ht);
    fast_token_free(&n->token);
    free(n->agent);
    free(n->pin);
    free(n->user);
    free(n->bare);
    free(n);
    s->priv->nego = NULL;
}

/* A name we keep: short and printable ASCII (the state file and the
 * features both pass through here). */
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

static void add_name(struct names *l, const char *v)
{
    if (l->n < MAX_MECHS && fair_name(v) && (l->v[l->n] = strdup(v)))
        l->n++;
}

static void names_of(struct names *l, const struct sasl2_list *from)
{
    for (size_t i = 0; i < from->n; i++)
        add_name(l, from->v[i]);
}

static bool listed(const struct names *l, const char *name)
{
    for (size_t i = 0; name && i < l->n; i++)
        if (!strcmp(l->v[i], name))
            return true;
    return false;
}

/* The <features/> after TLS (auth/sasl2.h reads and bounds them): 0,
 * or XE_PROTOCOL with the reason in why. */
static int read_offer(xmpp_stanza_t *features, struct offer *o, char *why,
                      size_t n)
{
    struct sasl2_features f;
    offer_clear(o);
    int rc = sasl2_features_parse(features, &f);
    if (rc) {
        snprintf(why, n, "%s", f.error);
        return rc;
    }
    names_of(&o->mechs, &f.mechs);
    names_of(&o->mechs2, &f.mechs2);
    names_of(&o->cb, &f.cb_types);
    names_of(&o->fast, &f.fast_mechs);
    o->cb_seen = f.cb_advertised;
    o->sasl2 = f.sasl2;
    o->bind2 = f.bind2;
    o->bind2_sm = sasl2_listed(&f.bind_features, XMPP_NS_SM);
    sasl2_features_free(&f);
    return 0;
}

/* ---- what the server offered last time (state file JID.offer) ---- */

static void words_into(const char *line, struct names *l)
{
    char *copy = strdup(line), *save = NULL;
    for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; w;
         w = strtok_r(NULL, " ", &save))
        add_name(l, w);
    free(copy);
}

/* "key words..." lines; "key" alone for an empty list. */
static const char *value_of(const char *line, const char *key)
{
    size_t k = strlen(key);
    if (strncmp(line, key, k) || (line[k] != ' ' && line[k] != '\0'))
        return NULL;
    return line + k;
}

static void memory_load(struct negotiation *n)
{
    char *text = NULL;
    if (state_text_load(n->bare, "offer", &text) || !text)
        return;
    struct offer *m = &n->memory;
    offer_clear(m);
    const char *v;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        if ((v = value_of(l, "mechanisms")))
            words_into(v, &m->mechs);
        else if ((v = value_of(l, "sasl2"))) {
            m->sasl2 = true;
            words_into(v, &m->mechs2);
        } else if ((v = value_of(l, "channel-binding"))) {
            m->cb_seen = true;
            words_into(v, &m->cb);
        } else if ((v = value_of(l, "fast")))
            words_into(v, &m->fast);
        else if (!strcmp(l, "bind2"))
            m->bind2 = true;
        else if (!strcmp(l, "bind2 sm"))
            m->bind2 = m->bind2_sm = true;
        else if (!strcmp(l, "sm yes"))
            n->memory_sm = true;
    }
    n->memory_valid = m->mechs.n > 0 || m->mechs2.n > 0;
    free(text);
}

static void put_names(FILE *f, const char *key, const struct names *l)
{
    fputs(key, f);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, " %s", l->v[i]);
    fputc('\n', f);
}

/* Remember what was offered, when it is not what we remembered. */
static void memory_store(struct negotiation *n, bool sm)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return;
    const struct offer *o = &n->seen;
    put_names(f, "mechanisms", &o->mechs);
    if (o->sasl2)
        put_names(f, "sasl2", &o->mechs2);
    if (o->cb_seen)
        put_names(f, "channel-binding", &o->cb);
    if (o->fast.n)
        put_names(f, "fast", &o->fast);
    if (o->bind2)
        fputs(o->bind2_sm ? "bind2 sm\n" : "bind2\n", f);
    fprintf(f, "sm %s\n", sm ? "yes" : "no");
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
    char *attrs[] = {"to",           domain,
                     "version",      "1.0",
                     "xmlns",        "jabber:client",
                     "xmlns:stream", "http://etherx.jabber.org/streams",
                     "from",         n->bare};
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

/* The SASL exchange of the login under way is over: forget it. */
static void exchange_free(struct negotiation *n)
{
    if (n->scram_live)
        scram_free(&n->scram);
    if (n->ht_live)
        ht_free(&n->ht);
    n->scram_live = n->ht_live = false;
}

/* RFC 4616: PLAIN's message is authzid NUL authcid NUL password. */
static unsigned char *plain_message(struct session *s, size_t *len)
{
    struct negotiation *n = s->priv->nego;
    const char *pw = s->creds.password;
    size_t ul = strlen(n->user), pl = strlen(pw);
    unsigned char *msg = malloc(ul + pl + 2);
    if (!msg)
        return NULL;
    msg[0] = '\0';
    memcpy(msg + 1, n->user, ul);
    msg[ul + 1] = '\0';
    memcpy(msg + ul + 2, pw, pl);
    *len = ul + pl + 2;
    return msg;
}

/* The channel-binding data of type into cb: 0, or refused. */
static int binding(struct session *s, const char *type, unsigned char *cb,
                   size_t *len)
{
    *len = 0;
    if (!type || !tls_binding(type, cb, len))
        return 0;
    refuse(s, XE_PROTOCOL, "cannot compute the %s channel binding", type);
    return XE_PROTOCOL;
}

/* The initial response of the login plan pl, malloc'd into *out: for
 * the token, HT's; for the password, PLAIN's or SCRAM's first message.
 * 0, or the status (refused). */
static int initial_response(struct session *s, const struct plan *pl,
                            unsigned char **out, size_t *len)
{
    struct negotiation *n = s->priv->nego;
    unsigned char cb[CB_MAX];
    size_t cblen;
    int rc;
    exchange_free(n);
    if (pl->token) {
        const char *type = NULL;
        ht_cb_type(pl->ht, &type);
        if ((rc = binding(s, type, cb, &cblen)))
            return rc;
        n->ht_live = true;
        rc = ht_start(&n->ht, pl->ht, n->user, n->token.token, cb, cblen, out,
                      len);
        if (rc)
            refuse(s, rc, "%s", n->ht.error);
        return rc;
    }
    /* RFC 6120 §6.4.2, XEP-0178 §4: an empty authzid ("="), so that
     * the server takes the identity from the certificate. */
    if (!strcmp(pl->c.mech, "EXTERNAL")) {
        *len = 0;
        if (!(*out = malloc(1)))
            refuse(s, XE_OSERR, "out of memory");
        return *out ? 0 : XE_OSERR;
    }
    if (!strcmp(pl->c.mech, "PLAIN")) {
        *out = plain_message(s, len);
        if (!*out)
            refuse(s, XE_OSERR, "out of memory");
        return *out ? 0 : XE_OSERR;
    }
    if ((rc = binding(s, pl->c.cb_flag == 'p' ? pl->c.cb_type : NULL, cb,
                      &cblen)))
        return rc;
    struct scram_params prm = {.mech = pl->c.mech,
                               .user = n->user,
                               .cb_flag = pl->c.cb_flag,
                               .cb_type = pl->c.cb_type,
                               .cb_data = cblen ? cb : NULL,
                               .cb_len = cblen};
    char *first = NULL;
    n->scram_live = true;
    rc = scram_client_first(&n->scram, &prm, &first);
    if (rc)
        refuse(s, rc, "%s", n->scram.error);
    *out = (unsigned char *)first;
    *len = first ? strlen(first) : 0;
    return rc;
}

/* XEP-0388 §2.2 <authenticate/> for plan pl, with Bind2 (XEP-0386) and
 * Stream Management enabled inline where offered, and a FAST token
 * asked for on a password login (XEP-0484 §3.2). */
static void send_authenticate(struct session *s, const struct plan *pl,
                              const unsigned char *initial, size_t len,
                              const struct offer *o)
{
    struct negotiation *n = s->priv->nego;
    const char *ours[2];
    size_t nour = tls_binding_types(ours, 2);
    struct sasl2_list fast = {(char **)o->fast.v, o->fast.n};
    /* XEP-0386 §2.3: the server makes the resource from the tag and the
     * user-agent id, which is stable (FAST tokens are tied to it): two
     * runs at once would take each other's session over (conflict).
     * So each run's tag is its own. */
    char tag[32];
    unsigned char r[4];
    if (RAND_bytes(r, sizeof r) != 1)
        memset(r, 0, sizeof r);
    snprintf(tag, sizeof tag, "xmpp-%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    n->asked = NULL;
    /* A token stands in for the password, not for the certificate. */
    if (!pl->token && !s->opt->reset_token && o->fast.n &&
        strcmp(pl->c.mech, "EXTERNAL"))
        n->asked = ht_choose(&fast, ours, nour);
    struct sasl2_auth a = {
        .mech = pl->token ? pl->ht : pl->c.mech,
        .initial = initial,
        .initial_len = len,
        .agent_id = n->agent,
        .software = "xmpp",
        .bind_tag = tag,
        .sm_enable = o->bind2_sm,
        .sm_resume = o->bind2_sm && s->opt->reconnect,
        .request_token = n->asked,
        .fast = pl->token,
        .invalidate = pl->token && s->opt->reset_token,
    };
    xmpp_stanza_t *st = NULL;
    int rc = sasl2_authenticate(s->ctx, &a, &st);
    if (rc)
        return refuse(s, rc, "%s", a.error);
    xmpp_send(s->conn, st);
    xmpp_stanza_release(st);
}

/* Start the login of plan pl, o being the offer it was made from. */
static void send_login(struct session *s, const struct plan *pl,
                       const struct offer *o)
{
    struct negotiation *n = s->priv->nego;
    unsigned char *initial = NULL;
    size_t len = 0;
    s->priv->stage = AT_SASL;
    n->sent = *pl;
    n->mech = pl->token ? NULL : pl->c.mech;
    if (initial_response(s, pl, &initial, &len))
        return;
    if (pl->sasl2)
        send_authenticate(s, pl, initial, len, o);
    else
        send_sasl(s, "auth", pl->c.mech, initial, len);
    if (initial) {
        memset(initial, 0, len);
        free(initial);
    }
}

/* Fill mech.h's offer from o (its SASL2 list with sasl2). */
static void mech_offer_of(struct session *s, const struct offer *o, bool sasl2,
                          struct mech_offer *mo, const char **ours)
{
    struct negotiation *n = s->priv->nego;
    const struct names *m = sasl2 ? &o->mechs2 : &o->mechs;
    *mo = (struct mech_offer){
        .mechs = (const char *const *)m->v,
        .nmechs = m->n,
        .cb_types = o->cb_seen ? (const char *const *)o->cb.v : NULL,
        .ncb = o->cb.n,
        .our_cb = ours,
        .nour = tls_binding_types(ours, 2),
        .tls = n->tls,
        .sasl2 = sasl2,
        .allow_plain = s->creds.allow_plain,
        .client_cert = s->creds.cert_file != NULL,
        .pin = n->pin,
    };
}

/* How to log in given offer o: SASL2 when it comes with Bind2 (not to
 * bind a resource of our choosing, --resource, nor to resume a session,
 * which RFC 6120 SASL does: XEP-0198 §5); the FAST token when we have
 * one and it is offered. The password mechanism is chosen (and the pin
 * checked, auth/mech.h) either way: a stripped offer is refused even
 * when the token would have done. 0, or XE_AUTH with pl->c.error. */
static int plan_for(struct session *s, const struct offer *o, struct plan *pl)
{
    struct negotiation *n = s->priv->nego;
    const char *ours[2];
    struct mech_offer mo;
    const char *slash = strchr(s->creds.jid, '/');
    memset(pl, 0, sizeof *pl);
    pl->sasl2 = o->sasl2 && o->bind2 && o->mechs2.n && !slash &&
                !*s->priv->sm_id && !n->no_sasl2;
    mech_offer_of(s, o, pl->sasl2, &mo, ours);
    int rc = mech_choose(&mo, &pl->c);
    if (!rc && s->creds.cert_file && strcmp(pl->c.mech, "EXTERNAL") &&
        !s->creds.password) {
        snprintf(pl->c.error, sizeof pl->c.error,
                 "the server does not offer SASL EXTERNAL for the client "
                 "certificate; have it verify client certificates "
                 "(XEP-0178), or give a password too");
        return XE_AUTH;
    }
    if (rc || !pl->sasl2 || !n->token.token || n->token_failed ||
        !strcmp(pl->c.mech, "EXTERNAL"))
        return rc;
    struct sasl2_list fast = {(char **)o->fast.v, o->fast.n};
    pl->ht = ht_choose(&fast, ours, mo.nour);
    pl->token = pl->ht != NULL;
    return 0;
}

/* XEP-0305: after TLS, send the login that last time's offer calls for
 * without waiting for this one's. Not PLAIN: the password would go
 * before the features are checked; SCRAM's first message holds no
 * secret, and the FAST token is bound to this TLS session where the
 * server offers a binding (and the certificate was verified). Nothing
 * with a client certificate: EXTERNAL, or the password where it is not
 * offered, is chosen from this offer. */
static void guess_auth(struct session *s)
{
    struct negotiation *n = s->priv->nego;
    struct plan pl;
    if (!n->memory_valid || s->creds.cert_file ||
        plan_for(s, &n->memory, &pl) ||
        (!pl.token && strncmp(pl.c.mech, "SCRAM-", 6)))
        return;
    send_login(s, &pl, &n->memory);
    n->guessed = s->priv->why_said ? false : true;
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

/* Does the guess sent still stand with the offer that came? A SASL1
 * guess stands where SASL2 is offered too (the next login uses it). */
static bool guess_stands(struct negotiation *n, const struct plan *now)
{
    const struct plan *g = &n->sent;
    if (g->token)
        return now->token && listed(&n->seen.fast, g->ht);
    if (g->sasl2 && !now->sasl2)
        return false;
    return listed(g->sasl2 ? &n->seen.mechs2 : &n->seen.mechs, g->c.mech) &&
           mech_rank(g->c.mech) >= mech_rank(n->pin);
}

/* The features after TLS: choose, or check the guess. */
static void on_auth_features(struct session *s, xmpp_stanza_t *features)
{
    struct negotiation *n = s->priv->nego;
    char why[300];
    if (read_offer(features, &n->seen, why, sizeof why))
        return refuse(s, XE_PROTOCOL, "%s", why);
    n->seen_valid = true;
    struct plan pl;
    int rc = plan_for(s, &n->seen, &pl);
    if (rc)
        return refuse(s, rc, "%s", pl.c.error);
    memory_store(n, n->memory_sm);
    n->step = N_SASL;
    if (n->guessed && guess_stands(n, &pl))
        return;       /* the guess stands: the answer is on its way */
    if (n->guessed) { /* its answer is on its way: end that first */
        n->guessed = false;
        n->abandon = true;
        if (!n->sent.sasl2 && pl.sasl2) { /* stay with RFC 6120 SASL */
            n->no_sasl2 = true;
            if ((rc = plan_for(s, &n->seen, &pl)))
                return refuse(s, rc, "%s", pl.c.error);
        }
        n->then = pl;
        return;
    }
    send_login(s, &pl, &n->seen);
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
    if (s->status != SESSION_RUNNING || s->priv->why_said ||
        !own(st, XMPP_NS_STREAMS))
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

bool sm_id_fair(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (!n || n >= sizeof((struct session_state *)0)->sm_id)
        return false;
    for (; *id; id++)
        if (*id <= 0x20 || *id >= 0x7F || strchr("'\"<>&", *id))
            return false;
    return true;
}

/* XEP-0484 §3.4: keep the token the server gave (for the mechanism we
 * asked it for, or the one it rotates). */
static void keep_token(struct session *s, const struct sasl2_answer *a)
{
    struct negotiation *n = s->priv->nego;
    const char *mech = n->sent.token ? n->sent.ht : n->asked;
    if (!a->token || !mech)
        return;
    struct fast_token t = {
        .mech = (char *)mech, .token = a->token, .expiry = a->token_expiry};
    fast_store(n->bare, &t);
}

/* A password login worked: raise the pin (auth/mech.h). */
static void raise_pin(struct negotiation *n)
{
    if (n->mech && mech_pin_raises(n->pin, n->mech) &&
        !pin_store(n->bare, n->mech)) {
        free(n->pin);
        n->pin = strdup(n->mech);
    }
}

/* XEP-0388 success: bound (XEP-0386) with no stream restart, Stream
 * Management enabled inline where asked. */
static void authenticated2(struct session *s, const struct sasl2_answer *a)
{
    struct session_state *p = s->priv;
    if (a->jid && !jid_check(a->jid))
        snprintf(p->bound_jid, sizeof p->bound_jid, "%s", a->jid);
    p->sm = a->sm.enabled ? SM_ON : SM_OFF;
    *p->sm_id = '\0';
    if (a->sm.enabled && a->sm.resume && sm_id_fair(a->sm.id))
        snprintf(p->sm_id, sizeof p->sm_id, "%s", a->sm.id);
    up(s);
}

/* The mechanism's last word: the server proves it knows the secret. */
static int verify_success(struct negotiation *n, const struct sasl2_answer *a,
                          char *why, size_t len)
{
    int rc = 0;
    if (n->ht_live && (rc = ht_verify(&n->ht, a->data, a->len)))
        snprintf(why, len, "%s", n->ht.error);
    else if (n->scram_live && n->scram.step != 3) {
        rc = XE_AUTH;
        snprintf(why, len, "the server declared success before our proof");
    } else if (n->scram_live &&
               (rc = scram_server_final(&n->scram, (char *)a->data, a->len)))
        snprintf(why, len, "%s", n->scram.error);
    return rc;
}

static void on_success(struct session *s, const struct sasl2_answer *a)
{
    struct negotiation *n = s->priv->nego;
    char why[300];
    int rc = verify_success(n, a, why, sizeof why);
    exchange_free(n);
    if (rc)
        return refuse(s, rc, "%s", why);
    keep_token(s, a);
    if (n->sent.token && s->opt->reset_token)
        fast_delete(n->bare); /* invalidated with this login */
    raise_pin(n);
    if (n->sent.sasl2)
        authenticated2(s, a);
    else
        authenticated(s);
}

static void on_challenge(struct session *s, const struct sasl2_answer *a)
{
    struct negotiation *n = s->priv->nego;
    const struct names *m = n->sent.sasl2 ? &n->seen.mechs2 : &n->seen.mechs;
    if (!n->scram_live || n->scram.step != 1)
        return refuse(s, XE_PROTOCOL,
                      "the server sent an unexpected SASL "
                      "challenge");
    int rc = scram_server_first(&n->scram, (char *)a->data, a->len);
    if (rc)
        return refuse(s, rc, "%s", n->scram.error);
    /* XEP-0474: h= names what the server offered; check it against
     * what we saw, before the proof goes out. */
    if (n->scram.ssdp &&
        (rc = scram_ssdp_check(
             &n->scram, (const char *const *)m->v, m->n,
             n->seen.cb_seen ? (const char *const *)n->seen.cb.v : NULL,
             n->seen.cb.n)))
        return refuse(s, rc, "%s", n->scram.error);
    char *final = NULL;
    rc = scram_client_final(&n->scram, s->creds.password, NULL, &final);
    if (rc)
        return refuse(s, rc, "%s", n->scram.error);
    xmpp_stanza_t *r = sasl2_response(s->ctx, n->sent.sasl2,
                                      (unsigned char *) final, strlen(final));
    memset(final, 0, strlen(final));
    free(final);
    if (!r)
        return refuse(s, XE_OSERR, "out of memory");
    xmpp_send(s->conn, r);
    xmpp_stanza_release(r);
}

/* RFC 6120 §6.5, XEP-0388 §2.5: the login was refused. A FAST token is
 * given up once (XEP-0484 §3.3), and the password tried. */
static void on_failure(struct session *s, const struct sasl2_answer *a)
{
    struct session_state *p = s->priv;
    struct negotiation *n = p->nego;
    exchange_free(n);
    bool binding = strstr(a->text, "channel binding") ||
                   strstr(a->text, "Channel binding");
    if (binding) /* the token or the password would fail the same way */
        return refuse(s, XE_AUTH,
                      "the server refused our channel binding (%s): something "
                      "between us terminates TLS (a proxy, or an attack)",
                      a->text);
    if (n->sent.token && !n->token_failed && n->seen_valid) {
        if (s->opt->verbose)
            trace("FAST: the token was refused (%s); logging in with the "
                  "password",
                  *a->condition ? a->condition : "no reason");
        fast_delete(n->bare);
        fast_token_free(&n->token);
        n->token_failed = true;
        struct plan pl;
        int rc = plan_for(s, &n->seen, &pl);
        if (rc)
            return refuse(s, rc, "%s", pl.c.error);
        return send_login(s, &pl, &n->seen);
    }
    if (!n->sent.token && n->sent.c.mech && !strcmp(n->sent.c.mech, "EXTERNAL"))
        return refuse(s, XE_AUTH,
                      "the server refused the client certificate %s for %s: "
                      "%s%s%s%s",
                      s->creds.cert_file, n->bare,
                      *a->condition ? a->condition : "no reason given",
                      *a->text ? " (" : "", a->text, *a->text ? ")" : "");
    if (!strcmp(a->condition, "not-authorized")) {
        p->auth_hint = XE_AUTH; /* the classic message: a wrong password */
        snprintf(p->why, sizeof p->why, "SASL failure: not-authorized");
        xmpp_disconnect(s->conn);
        return;
    }
    refuse(s,
           strcmp(a->condition, "temporary-auth-failure") ? XE_AUTH
                                                          : XE_UNAVAILABLE,
           "%s", a->error);
}

/* RFC 6120 §6.4.4: a wrong guess's exchange, ended before the right
 * login starts. */
static void abandon_answer(struct session *s, xmpp_stanza_t *st)
{
    struct negotiation *n = s->priv->nego;
    const char *name = xmpp_stanza_get_name(st);
    if (!strcmp(name, "challenge"))
        xmpp_send_raw_string(s->conn, "<abort xmlns='%s'/>",
                             xmpp_stanza_get_ns(st));
    else if (!strcmp(name, "failure")) {
        n->abandon = false;
        exchange_free(n);
        send_login(s, &n->then, &n->seen);
    } else
        refuse(s, XE_PROTOCOL,
               "the server answered an abandoned SASL exchange with %s", name);
}

/* An answer of RFC 6120 SASL or of SASL2 (ns), each handled once: a
 * SASL2 <failure/> holds a condition in SASL's namespace. */
static int answer(struct session *s, xmpp_stanza_t *st, const char *ns)
{
    struct negotiation *n = s->priv->nego;
    if (s->status != SESSION_RUNNING || s->priv->why_said || !own(st, ns) ||
        (n->step != N_AUTH && n->step != N_SASL))
        return 1;
    if (n->abandon) {
        abandon_answer(s, st);
        return 1;
    }
    struct sasl2_answer a;
    int rc = sasl2_answer_parse(st, &a);
    if (a.kind == SASL2_CHALLENGE && !rc)
        on_challenge(s, &a);
    else if (a.kind == SASL2_SUCCESS && !rc)
        on_success(s, &a);
    else if (a.kind == SASL2_FAILURE)
        on_failure(s, &a);
    else
        refuse(s, rc ? rc : XE_PROTOCOL, "%s", a.error);
    if (a.data)
        memset(a.data, 0, a.len);
    if (a.token)
        memset(a.token, 0, strlen(a.token));
    sasl2_answer_free(&a);
    return 1;
}

static int on_sasl(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)conn;
    return answer(ud, st, NS_SASL);
}

/* The library takes a handler function once: SASL2's is another. */
static int on_sasl2(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)conn;
    return answer(ud, st, XMLNS_SASL2);
}

static int on_bind(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    struct session_state *p = s->priv;
    (void)conn;
    const char *type = xmpp_stanza_get_type(st);
    xmpp_stanza_t *b =
        xmpp_stanza_get_child_by_name_and_ns(st, "bind", NS_BIND);
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
        /* RFC 7622 §3.3: the localpart compares case-mapped; the server
         * looks the SCRAM user name up as given (ejabberd's SASL2). */
        for (char *c = n->user; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    }
    if (!n->pin_loaded) {
        n->pin_loaded = true;
        /* A user-agent id and FAST token of this run's own (state.h). */
        bool slot = state_claim_slot(n->bare) >= 0;
        if (s->opt->reset_pin) {
            pin_delete(n->bare);
            fast_delete(n->bare);
        } else if (pin_load(n->bare, &n->pin) ||
                   (slot && fast_load(n->bare, &n->token)))
            return XE_OSERR;
        /* An expired token is no token (XEP-0484 §3.4). */
        if (n->token.token && n->token.expiry && n->token.expiry < time(NULL))
            fast_token_free(&n->token);
        if (slot && agent_load(n->bare, &n->agent))
            return XE_OSERR;
        memory_load(n);
    }
    if (!n->handlers) {
        n->handlers = true;
        xmpp_handler_add(s->conn, on_features, XMPP_NS_STREAMS, "features",
                         NULL, s);
        xmpp_handler_add(s->conn, on_tls, NS_TLS, NULL, NULL, s);
        xmpp_handler_add(s->conn, on_sasl, NS_SASL, NULL, NULL, s);
        xmpp_handler_add(s->conn, on_sasl2, XMLNS_SASL2, NULL, NULL, s);
        watch_stream_errors(s);
        watch_sm(s);
    }
    xmpp_id_handler_delete(s->conn, on_bind, BIND_ID);
    xmpp_id_handler_add(s->conn, on_bind, BIND_ID, s);
    offer_clear(&n->seen);
    n->seen_valid = n->tls = n->guessed = n->abandon = n->no_sasl2 = false;
    n->mech = n->asked = NULL;
    exchange_free(n);
    s->priv->sm = SM_OFF;
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

#include "common/net/session.h"

#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/caps.h"
#include "common/xmpp/jid.h"

static volatile sig_atomic_t got_signal;

/* The library's certificate-failure callback carries no userdata; this is
 * the one session of the process, for it alone. */
static struct session *current_session;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* No SA_RESTART: the signal must interrupt the library's select(). */
static void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the XML console (-v), with secrets redacted ---- */

/* Elements whose text is a credential: SASL (RFC 6120 §6.4), the
 * component handshake (XEP-0114 §3) and a room password (XEP-0045
 * §7.2.6). */
static const char *const secret_tags[] = {
    "auth", "response", "challenge", "success", "handshake", "password", NULL};

/* If p opens a secret-bearing element, the length of its name. */
static size_t secret_tag(const char *p)
{
    for (int i = 0; secret_tags[i]; i++) {
        size_t n = strlen(secret_tags[i]);
        if (!strncmp(p + 1, secret_tags[i], n) &&
            (p[n + 1] == ' ' || p[n + 1] == '>'))
            return n;
    }
    return 0;
}

static void print_redacted(const char *msg, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    const char *p = msg;
    while (*p) {
        size_t n;
        if (*p == '<' && (n = secret_tag(p))) {
            const char *gt = strchr(p, '>');
            if (!gt)
                break;
            fwrite(p, 1, (size_t)(gt - p + 1), stderr);
            p = gt + 1;
            if (gt[-1] == '/')
                continue;
            const char *close = strstr(p, "</");
            if (close > p)
                fputs("[redacted]", stderr);
            p = close ? close : p + strlen(p);
            continue;
        }
        if (slen && !strncmp(p, secret, slen)) {
            fputs("[redacted]", stderr);
            p += slen;
            continue;
        }
        putc(*p++, stderr);
    }
    putc('\n', stderr);
}

/* XEP-0114 §3: the handshake hashes the id of the server's stream
 * header, which the library shows only in its log. */
static void keep_stream_id(struct session *s, const char *msg)
{
    const char *id = strstr(msg, " id=\"");
    if (!id)
        return;
    id += 5;
    size_t n = strcspn(id, "\"");
    if (n < sizeof s->stream_id)
        snprintf(s->stream_id, sizeof s->stream_id, "%.*s", (int)n, id);
}

/* What the library logs is also our only view of why an attempt failed
 * before the session was up (its connection handler gets no reason for
 * a SASL failure), so every message is read, and shown with -v. */
static void on_log(void *ud, xmpp_log_level_t level, const char *area,
                   const char *msg)
{
    struct session *s = ud;
    int hint = 0;
    if (strstr(msg, "auth failed") || strstr(msg, "authentication failed") ||
        strstr(msg, "Cannot authenticate"))
        hint = XE_AUTH;
    else if (strstr(msg, "TLS is not supported"))
        hint = XE_AUTH;
    else if (strstr(msg, "Handshake failed") && !s->auth_hint)
        hint = XE_PROTOCOL;
    else if (!strncmp(msg, "connection failed, error ", 25))
        s->sock_error = atoi(msg + 25); /* the handler is told 0 */
    else if (!strcmp(area, "tls") && !strncmp(msg, "error:", 6))
        snprintf(s->tls_reason, sizeof s->tls_reason, "%s", msg);
    else if (!strncmp(msg, "Couldn't start TLS", 18) && !s->auth_hint &&
             !s->ready && !strstr(s->tls_reason, "unexpected eof")) {
        /* The handler only gets SSL_ERROR_SSL (1), which strerror()
         * would call "Operation not permitted": give OpenSSL's reason.
         * (A peer that just hung up is left to classify_failure.) */
        s->auth_hint = XE_UNAVAILABLE;
        snprintf(s->why, sizeof s->why, "TLS handshake failed (%s)%s",
                 *s->tls_reason ? s->tls_reason : "no reason given",
                 s->creds.direct_tls ? "; is it a direct TLS port?" : "");
    } else if (!strcmp(msg, "connection successful"))
        s->stage = AT_STREAM;
    else if (!strncmp(msg, "SENT: <auth ", 12))
        s->stage = AT_SASL;
    else if (strstr(msg, "auth successful"))
        s->stage = AT_BIND;
    else if (strstr(msg, "Session resumed successfully"))
        s->resumed = true;
    else if (!s->ready && s->creds.component &&
             !strncmp(msg, "RECV: <stream:stream", 20))
        keep_stream_id(s, msg);
    else if (!s->ready && !strncmp(msg, "RECV: <features", 15))
        /* The library keeps stream features to itself, and its own
         * XEP-0198 support does not say what was acked; we run Stream
         * Management ourselves when the server offers it. */
        s->sm =
            strstr(msg, "<sm xmlns=\"urn:xmpp:sm:3\"") ? SM_OFFERED : SM_OFF;
    if (hint && !s->ready) {
        s->auth_hint = hint;
        snprintf(s->why, sizeof s->why, "%s", msg);
    }
    if (!strncmp(msg, "RECV: ", 6))
        s->received++;
    int v = s->opt->verbose;
    int console = !strncmp(msg, "SENT: ", 6) || !strncmp(msg, "RECV: ", 6);
    if (v >= 2 || (v == 1 && console) || (v == 1 && level >= XMPP_LEVEL_WARN)) {
        if (!console)
            fprintf(stderr, "[%s] ", area);
        print_redacted(msg, s->creds.password);
    }
}

/* ---- trust store ---- */

static int has_hash_links(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)))
        found = strlen(e->d_name) == 10 && e->d_name[8] == '.' &&
                e->d_name[9] == '0';
    closedir(d);
    return found;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The library calls SSL_CTX_set_default_verify_paths(), which parses the
 * whole CA bundle file up front: most of a one-shot send's CPU. The
 * hashed certificate directory holds the same system roots and is read
 * lazily, one issuer at a time, so point the default *file* elsewhere
 * when it is only the system bundle. Verification stays on: the
 * directory (and --ca-file) still decide. */
static void trim_trust_store(const struct creds *c, bool insecure)
{
    const char *file_env = X509_get_default_cert_file_env();
    const char *dir_env = X509_get_default_cert_dir_env();
    const char *file = getenv(file_env);
    const char *dir = getenv(dir_env);
    if (!file)
        file = X509_get_default_cert_file();
    if (!dir)
        dir = X509_get_default_cert_dir();
    if (insecure || c->ca_file) {
        setenv(file_env, c->ca_file ? c->ca_file : "/nonexistent", 1);
        return;
    }
    if (same_file(file, X509_get_default_cert_file()) && has_hash_links(dir))
        setenv(file_env, "/nonexistent", 1);
}

/* ---- delivery accounting and Stream Management (XEP-0198) ---- */

static void send_ack_request(struct session *s);

/* XEP-0198 §4: h counts the stanzas we handled. A stanza that arrives
 * after the tool has stopped was not handled: left unacked, the server
 * keeps it (offline storage) rather than losing it. */
static int on_any_stanza(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *name = xmpp_stanza_get_name(st);
    const char *id = xmpp_stanza_get_id(st);
    /* The library's own bind reply (id "_xmpp_bind1") is the stanza
     * that starts the session; it comes before <enable/>. */
    if (id && !strncmp(id, "_xmpp_", 6))
        return 1;
    if (s->status == SESSION_RUNNING && name &&
        (!strcmp(name, "message") || !strcmp(name, "presence") ||
         !strcmp(name, "iq")))
        s->in++;
    return 1;
}

static void send_ack(struct session *s)
{
    char a[64];
    snprintf(a, sizeof a, "<a xmlns='urn:xmpp:sm:3' h='%lu'/>",
             s->in & 0xFFFFFFFFUL);
    xmpp_send_raw_string(s->conn, "%s", a);
}

static int on_sm(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *name = xmpp_stanza_get_name(st);
    if (!strcmp(name, "r")) {
        send_ack(s);
    } else if (!strcmp(name, "a")) {
        const char *h = xmpp_stanza_get_attribute(st, "h");
        unsigned long v = h ? strtoul(h, NULL, 10) : 0;
        if (v > s->confirmed && v <= s->out)
            s->confirmed = v;
    } else if (!strcmp(name, "enabled") || !strcmp(name, "failed")) {
        s->sm = !strcmp(name, "enabled") ? SM_ON : SM_OFF;
    }
    return 1;
}

/* Called once the session is up, before the tool sends anything: the
 * ordinals of what it sends then equal XEP-0198's count. */
static void start_accounting(struct session *s)
{
    s->out = s->confirmed = s->in = 0;
    if (!s->handlers_added)
        xmpp_handler_add(s->conn, on_any_stanza, NULL, NULL, NULL, s);
    /* With opt->reconnect the library runs XEP-0198 itself, to resume. */
    if (s->sm != SM_OFFERED || s->creds.component || s->opt->reconnect) {
        s->sm = SM_OFF;
        s->handlers_added = true;
        return;
    }
    if (!s->handlers_added)
        xmpp_handler_add(s->conn, on_sm, XMPP_NS_SM, NULL, NULL, s);
    s->handlers_added = true;
    xmpp_send_raw_string(s->conn, "<enable xmlns='urn:xmpp:sm:3'/>");
    s->sm = SM_ASKED;
}

unsigned long session_send(struct session *s, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st);
    /* XEP-0114 §3: a component addresses its stanzas itself. */
    if (s->creds.component && !xmpp_stanza_get_from(st))
        xmpp_stanza_set_from(st, s->creds.jid);
    if (!strcmp(name, "presence") && !xmpp_stanza_get_type(st) &&
        !xmpp_stanza_get_to(st))
        s->presence_sent = true;
    xmpp_send(s->conn, st);
    return ++s->out;
}

/* The ordinal a confirming ping was sent with travels in its id. */
#define CONFIRM_ID "xmpp-confirm-"

static int on_confirm_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud);

/* Whom a component asks to confirm: XEP-0114 §3 wants a 'to' on every
 * stanza (ejabberd closes the stream with improper-addressing without
 * one), and a ping to the component's own domain would come back to
 * the tool as a request. So: the domain it hangs off, the server's own
 * (component.example.org -> example.org), or itself when it has none. */
static const char *component_server(struct session *s)
{
    const char *jid = s->creds.jid, *at = strchr(jid, '@');
    const char *d = at ? at + 1 : jid;
    size_t n = jid_bare_len(d);
    const char *dot = memchr(d, '.', n);
    if (dot && dot + 1 < d + n) {
        n -= (size_t)(dot + 1 - d);
        d = dot + 1;
    }
    snprintf(s->confirm_to, sizeof s->confirm_to, "%.*s", (int)n, d);
    return s->confirm_to;
}

static void send_confirm_ping(struct session *s)
{
    char id[48];
    snprintf(id, sizeof id, CONFIRM_ID "%lu", s->out + 1);
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", id);
    if (s->creds.component)
        xmpp_stanza_set_to(iq, component_server(s));
    xmpp_stanza_t *ping = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(ping, "ping");
    xmpp_stanza_set_ns(ping, "urn:xmpp:ping");
    xmpp_stanza_add_child_ex(iq, ping, 0);
    xmpp_id_handler_add(s->conn, on_confirm_reply, id, s);
    session_send(s, iq);
    xmpp_stanza_release(iq);
}

static void send_ack_request(struct session *s)
{
    if (s->sm == SM_ON)
        xmpp_send_raw_string(s->conn, "<r xmlns='urn:xmpp:sm:3'/>");
    else
        send_confirm_ping(s);
}

void session_request_ack(struct session *s)
{
    if (s->confirmed >= s->out)
        return;
    /* <r/> before <enabled/> is not allowed, and waiting for <enabled/>
     * to send one costs a round trip: a ping sent now is answered as
     * soon (a one-shot send then takes 11 round trips, not 12). */
    if (s->sm == SM_ASKED)
        send_confirm_ping(s);
    else
        send_ack_request(s);
}

/* ---- connection ---- */

/* The handshake is a chain of small writes that each wait for an
 * answer. With Nagle's algorithm on either side, a small write that
 * follows another one not yet acknowledged is held until the ACK comes,
 * and the peer delays its ACK by up to 40 ms: our stream header after
 * the TLS Finished, our ping after the message, the server's features
 * after its TLS session tickets (Prosody keeps Nagle on by default).
 * Such stalls were 85% of a one-shot send's wall time (bench/run). So
 * our writes go out at once, and we acknowledge at once: TCP_QUICKACK
 * is not sticky (the kernel falls back to delayed ACKs), so it is set
 * again before each wait. */
static void quickack(const struct session *s)
{
    int one = 1;
    if (s->sock > 0)
        setsockopt(s->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

static int on_socket(xmpp_conn_t *conn, void *sock)
{
    int one = 1, fd = *(int *)sock;
    (void)conn;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (current_session) {
        current_session->sock = fd;
        quickack(current_session);
    }
    return 0;
}

static int on_certfail(const xmpp_tlscert_t *cert, const char *const err)
{
    struct session *s = current_session;
    (void)cert;
    if (s) {
        s->auth_hint = XE_AUTH;
        snprintf(s->why, sizeof s->why,
                 "TLS certificate rejected (%s); trust it with --ca-file "
                 "FILE",
                 err);
    }
    return 0;
}

/* The port dialled when the host is given (--server, config). */
static unsigned short server_port(const struct creds *c)
{
    if (c->port)
        return c->port;
    return c->component ? 5347 : c->direct_tls ? 5223 : 5222;
}

/* "host:port" as dialled, or the JID's domain when SRV decides. */
static void describe_server(struct session *s, char *buf, size_t n)
{
    const struct creds *c = &s->creds;
    if (c->host)
        snprintf(buf, n, "%s:%u", c->host, (unsigned)server_port(c));
    else {
        const char *at = strchr(c->jid, '@');
        const char *domain = at ? at + 1 : c->jid;
        snprintf(buf, n, "%.*s (SRV)", (int)jid_bare_len(domain), domain);
    }
}

/* Say why the connection failed: printed at once, or, while
 * reconnecting, kept in s->why for the retry message. */
__attribute__((format(printf, 3, 4))) static int
report(struct session *s, int status, const char *fmt, ...)
{
    char msg[sizeof s->why];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(s->why, msg, sizeof msg);
    bool quiet = s->reconnecting ||
                 (s->ready && (s->opt->reconnect || s->opt->tells_loss));
    if (quiet && !s->reconnecting)
        s->loss_untold = true; /* session_close says it if nobody does */
    return quiet ? status : fail(status, "%s", msg);
}

static int classify_failure(struct session *s, int error,
                            xmpp_stream_error_t *se)
{
    if (se) {
        const char *cond =
            se->stanza
                ? xmpp_stanza_get_name(xmpp_stanza_get_children(se->stanza))
                : NULL;
        int st = se->type == XMPP_SE_NOT_AUTHORIZED ? XE_AUTH : XE_PROTOCOL;
        return report(s, st, "server closed the stream: %s%s%s",
                      cond ? cond : "stream error", se->text ? ": " : "",
                      se->text ? se->text : "");
    }
    if (s->auth_hint == XE_AUTH && strstr(s->why, "certificate"))
        return report(s, XE_AUTH, "%s", s->why);
    if (s->auth_hint == XE_AUTH && strstr(s->why, "TLS is not supported"))
        return report(s, XE_AUTH,
                      "the server offers no TLS; refusing to log in "
                      "without it");
    if (s->auth_hint == XE_AUTH)
        return report(s, XE_AUTH, "authentication failed for %s: check the %s",
                      s->creds.jid,
                      s->creds.component ? "secret (--secret-file)"
                                         : "password");
    char where[300];
    describe_server(s, where, sizeof where);
    if (s->auth_hint == XE_UNAVAILABLE)
        return report(s, XE_UNAVAILABLE, "cannot connect to %s: %s", where,
                      s->why);
    if (s->auth_hint)
        return report(s, s->auth_hint, "%s", s->why);
    static const char *const stages[] = {
        [AT_STREAM] = "while opening the stream",
        [AT_SASL] = "during authentication",
        [AT_BIND] = "while binding the resource",
    };
    if (s->stage != AT_CONNECTING)
        return report(s, XE_CONNLOST,
                      "%s closed the connection %s; try "
                      "again, or check the server's log",
                      where, stages[s->stage]);
    if (!error)
        error = s->sock_error;
    if (error)
        return report(s, XE_UNAVAILABLE, "cannot connect to %s: %s", where,
                      strerror(error));
    return report(s, XE_UNAVAILABLE,
                  "cannot connect to %s: connection closed "
                  "before the session was established",
                  where);
}

/* The library reports a socket errno or, for TLS, an SSL error code in
 * the same int; only the socket errors say something true. */
static const char *lost_reason(int error)
{
    switch (error) {
    case ECONNRESET:
    case EPIPE:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN: return strerror(error);
    default: return "closed by the server or the network";
    }
}

/* ---- external components (XEP-0114) ----
 * libstrophe 0.12.2's xmpp_connect_component() crashes on the first
 * stanza after the handshake (its Stream Management state is only
 * allocated for clients), so a component is a raw connection on which
 * we open the stream and shake hands ourselves. */

static void session_ready(struct session *s)
{
    s->ready = true;
    start_accounting(s);
}

static int on_handshake(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    (void)conn, (void)st;
    session_ready(ud);
    return 0;
}

/* The library handles stream errors only on streams it negotiated. */
static int on_stream_error(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    xmpp_stanza_t *c = xmpp_stanza_get_children(st);
    while (c &&
           (xmpp_stanza_is_text(c) || !strcmp(xmpp_stanza_get_name(c), "text")))
        c = xmpp_stanza_get_next(c);
    const char *cond = c ? xmpp_stanza_get_name(c) : "undefined-condition";
    if (s->ready) {
        snprintf(s->why, sizeof s->why, "%s", cond);
        return 1;
    }
    s->auth_hint = !strcmp(cond, "not-authorized") ? XE_AUTH : XE_PROTOCOL;
    snprintf(s->why, sizeof s->why, "server closed the stream: %s%s", cond,
             !strcmp(cond, "host-unknown")
                 ? " (is the component configured on the server?)"
                 : "");
    return 1;
}

/* --component may name an address within the component's domain
 * (alerts@component.example.org): the stream is for the domain, the
 * stanzas come from the address. */
static void component_open(struct session *s)
{
    const char *jid = s->creds.jid, *at = strchr(jid, '@');
    const char *d = at ? at + 1 : jid;
    char domain[1024];
    snprintf(domain, sizeof domain, "%.*s", (int)jid_bare_len(d), d);
    char *attrs[] = {"to",           domain,
                     "xmlns",        "jabber:component:accept",
                     "xmlns:stream", "http://etherx.jabber.org/streams"};
    xmpp_conn_open_stream(s->conn, attrs, 6);
}

/* XEP-0114 §3: <handshake/> holds hex SHA-1(stream id + secret). */
static void component_handshake(struct session *s)
{
    xmpp_handler_add(s->conn, on_stream_error,
                     "http://etherx.jabber.org/streams", "error", NULL, s);
    if (!*s->stream_id) {
        s->auth_hint = XE_PROTOCOL;
        snprintf(s->why, sizeof s->why, "the server's stream has no id");
        xmpp_disconnect(s->conn);
        return;
    }
    char *text = NULL;
    if (asprintf(&text, "%s%s", s->stream_id, s->creds.password) < 0)
        return session_stop(s, fail(XE_UNAVAILABLE, "out of memory"));
    char *digest = xmpp_sha1(s->ctx, (unsigned char *)text, strlen(text));
    memset(text, 0, strlen(text));
    free(text);
    if (!digest)
        return session_stop(s, fail(XE_UNAVAILABLE, "out of memory"));
    xmpp_handler_add(s->conn, on_handshake, NULL, "handshake", NULL, s);
    xmpp_send_raw_string(s->conn, "<handshake>%s</handshake>", digest);
    xmpp_free(s->ctx, digest);
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                    xmpp_stream_error_t *se, void *ud)
{
    struct session *s = ud;
    (void)conn;
    if (ev == XMPP_CONN_RAW_CONNECT) {
        component_open(s);
        return;
    }
    if (ev == XMPP_CONN_CONNECT) {
        if (s->creds.component)
            component_handshake(s);
        else
            session_ready(s);
        return;
    }
    if (s->status != SESSION_RUNNING)
        return;
    if (s->closing)
        s->status = XE_OK;
    else if (!s->ready)
        s->status = classify_failure(s, error, se);
    else if (se)
        s->status = report(s, XE_CONNLOST, "connection lost: stream error%s%s",
                           se->text ? ": " : "", se->text ? se->text : "");
    else
        s->status =
            report(s, XE_CONNLOST, "connection lost: %s", lost_reason(error));
}

/* Set up the connection object once: a reconnect reuses it, and the
 * library does not free a setting that is made twice. */
static void configure_conn(struct session *s)
{
    struct creds *c = &s->creds;
    xmpp_conn_set_jid(s->conn, c->jid);
    xmpp_conn_set_pass(s->conn, c->password);
    xmpp_conn_set_sockopt_callback(s->conn, on_socket);
    if (c->component)
        return;
    long flags = XMPP_CONN_FLAG_MANDATORY_TLS;
    if (!s->opt->reconnect)
        flags |=
            XMPP_CONN_FLAG_DISABLE_SM; /* we run it: see start_accounting */
    if (c->direct_tls)
        flags |= XMPP_CONN_FLAG_LEGACY_SSL;
    if (s->opt->insecure)
        flags |= XMPP_CONN_FLAG_TRUST_TLS;
    xmpp_conn_set_flags(s->conn, flags);
    if (c->ca_file)
        xmpp_conn_set_cafile(s->conn, c->ca_file);
    xmpp_conn_set_certfail_handler(s->conn, on_certfail);
}

static int start_connect(struct session *s)
{
    struct creds *c = &s->creds;
    if (c->component) /* plain TCP: XEP-0114 has no TLS */
        return xmpp_connect_raw(s->conn, c->host, server_port(c), on_conn, s);
    return xmpp_connect_client(s->conn, c->host,
                               c->host ? server_port(c) : c->port, on_conn, s);
}

/* Wait until the session is up or has failed; returns 0 or the status. */
static int await_ready(struct session *s)
{
    if (start_connect(s) != XMPP_EOK && s->status == SESSION_RUNNING)
        s->status = classify_failure(s, 0, NULL);
    while (!s->ready && session_step(s, 1000) == SESSION_RUNNING)
        ;
    return s->ready ? 0 : s->status;
}

int session_open(struct session *s, const struct session_opts *o)
{
    memset(s, 0, sizeof *s);
    s->opt = o;
    s->status = SESSION_RUNNING;
    if (o->timeout > 0)
        s->deadline = now_ms() + (long long)(o->timeout * 1000);
    int rc = creds_resolve(o, &s->creds);
    if (rc)
        return s->status = rc;
    if (s->creds.ca_file && access(s->creds.ca_file, R_OK) != 0)
        return s->status = fail(XE_NOINPUT, "--ca-file %s: %s",
                                s->creds.ca_file, strerror(errno));
    trim_trust_store(&s->creds, o->insecure);
    catch_signals();
    current_session = s;
    xmpp_initialize();
    s->log = (xmpp_log_t){.handler = on_log, .userdata = s};
    s->ctx = xmpp_ctx_new(NULL, &s->log);
    s->conn = s->ctx ? xmpp_conn_new(s->ctx) : NULL;
    if (!s->conn)
        return s->status = fail(XE_UNAVAILABLE, "out of memory");
    configure_conn(s);
    if (!await_ready(s))
        return 0;
    if (s->status == XE_TIMEOUT) {
        char where[300];
        describe_server(s, where, sizeof where);
        fail(XE_TIMEOUT, "timed out connecting to %s (--timeout)", where);
    }
    return s->status;
}

/* Sleep ms, cut short by a signal (128+N) or the deadline (XE_TIMEOUT). */
static int pause_ms(struct session *s, long long ms)
{
    long long until = now_ms() + ms;
    while (now_ms() < until) {
        if (got_signal)
            return 128 + got_signal;
        if (s->deadline && now_ms() >= s->deadline)
            return XE_TIMEOUT;
        poll(NULL, 0, 100); /* a signal interrupts it: no SA_RESTART */
    }
    return 0;
}

/* Can a TCP connection to the configured host be made now? 0, or an
 * errno. libstrophe 0.12 forgets the Stream Management state it needs
 * for resumption after one failed attempt (the previous id and bound
 * JID are replaced by those of the attempt that never had a session),
 * so a reconnect first finds out whether the server answers at all.
 * With SRV the library picks the host, and this cannot be checked. */
static int reachable(struct session *s)
{
    const struct creds *c = &s->creds;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)server_port(c));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    if (getaddrinfo(c->host, port, &hints, &res))
        return EHOSTUNREACH;
    int err = ECONNREFUSED;
    for (ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0)
            continue;
        err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
            err = errno;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        socklen_t len = sizeof err;
        long long wait = 5000;
        if (s->deadline && s->deadline - now_ms() < wait)
            wait = s->deadline > now_ms() ? s->deadline - now_ms() : 0;
        if (!err && poll(&p, 1, (int)wait) != 1)
            err = ETIMEDOUT;
        else if (!err)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        close(fd);
        if (!err)
            break;
    }
    freeaddrinfo(res);
    return err;
}

int session_reconnect(struct session *s)
{
    srandom((unsigned)(now_ms() ^ getpid()));
    for (int attempt = 0;; attempt++) {
        double delay = attempt < 6 ? (double)(1 << attempt) : 60;
        delay *= 0.75 + 0.5 * ((double)random() / RAND_MAX);
        warnx("%s; reconnecting in %.1f s", s->why, delay);
        s->loss_untold = false;
        int rc = pause_ms(s, (long long)(delay * 1000));
        if (rc == XE_TIMEOUT)
            return s->status = fail(XE_TIMEOUT, "deadline reached while "
                                                "reconnecting");
        if (rc)
            return s->status = rc;
        s->status = SESSION_RUNNING;
        s->ready = s->resumed = false;
        s->auth_hint = s->sock_error = 0;
        s->stage = AT_CONNECTING;
        int err = s->creds.host ? reachable(s) : 0;
        if (err) {
            char where[160];
            describe_server(s, where, sizeof where);
            snprintf(s->why, sizeof s->why, "cannot connect to %s: %s", where,
                     strerror(err));
            continue;
        }
        s->reconnecting = true;
        rc = await_ready(s);
        s->reconnecting = false;
        if (!rc) {
            warnx("reconnected%s", s->resumed ? "; session resumed" : "");
            return 0;
        }
        if (rc == XE_AUTH)
            return fail(rc, "%s", s->why);
        if (rc == XE_TIMEOUT)
            return fail(rc, "deadline reached while reconnecting");
        if (rc >= 128)
            return rc;
    }
}

int session_step(struct session *s, unsigned long ms)
{
    if (s->status != SESSION_RUNNING)
        return s->status;
    if (s->deadline) {
        long long left = s->deadline - now_ms();
        if (left <= 0)
            return s->status = XE_TIMEOUT;
        if ((long long)ms > left)
            ms = (unsigned long)left;
    }
    quickack(s);
    unsigned long seen = s->received;
    xmpp_run_once(s->ctx, ms);
    /* libstrophe 0.12 feeds its parser at most 4 KiB per run, then waits
     * in select() although OpenSSL may already hold the rest of a larger
     * TLS record: stanzas that came in full would wait for more bytes
     * or for the timeout. While runs bring stanzas, run again without
     * waiting (bounded, so that the tool gets its turn). */
    for (int i = 0; i < 64 && s->received != seen && !got_signal &&
                    s->status == SESSION_RUNNING;
         i++) {
        seen = s->received;
        xmpp_run_once(s->ctx, 0);
    }
    if (got_signal && s->status == SESSION_RUNNING)
        s->status = 128 + got_signal;
    return s->status;
}

int session_wait(struct session *s, const bool *done)
{
    while (!(done && *done))
        if (session_step(s, 1000) != SESSION_RUNNING)
            return s->status;
    return 0;
}

int session_clear_signal(struct session *s)
{
    int sig = s->status - 128;
    got_signal = 0;
    s->status = SESSION_RUNNING;
    return sig;
}

void session_stop(struct session *s, int status)
{
    if (s->status == SESSION_RUNNING)
        s->status = status;
}

char *session_id(struct session *s)
{
    return xmpp_uuid_gen(s->ctx);
}

/* ---- IQ round trips ---- */

struct iq_wait {
    struct session *s;
    const char *to;        /* whom we asked; NULL: our own server */
    unsigned long ordinal; /* of the request */
    xmpp_stanza_t *reply;
    bool done;
};

/* RFC 6120 §8.1.2.1: a reply to an IQ sent without 'to' comes from our
 * server, our bare JID, or without 'from'. Anything else with the same
 * id is a forgery and is ignored. */
static int right_sender(struct session *s, const char *to, const char *from)
{
    const char *me = s->creds.jid;
    /* Our own bare JID is answered by our server, which may leave the
     * 'from' out (§8.1.2.1), as for no 'to' at all. */
    if (!to || (!strchr(to, '/') && jid_matches(me, to))) {
        const char *at = strchr(me, '@');
        const char *domain = at ? at + 1 : me;
        size_t dlen = jid_bare_len(domain);
        return !from || jid_matches(me, from) ||
               (strlen(from) == dlen && !strncasecmp(from, domain, dlen));
    }
    return from && jid_matches(from, to) &&
           (strchr(to, '/') || !strchr(from, '/'));
}

int session_reply_from(struct session *s, const char *to, const char *from)
{
    return right_sender(s, to, from);
}

/* Any answer to our IQ, even an error, shows that the server processed
 * it and, in order, everything we sent before it. */
static void confirmed_up_to(struct session *s, unsigned long ordinal)
{
    if (ordinal > s->confirmed)
        s->confirmed = ordinal;
}

static int is_reply(xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    return type && (!strcmp(type, "result") || !strcmp(type, "error"));
}

static int on_confirm_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *to = s->creds.component ? s->confirm_to : NULL;
    if (!is_reply(st) || !right_sender(s, to, xmpp_stanza_get_from(st)))
        return 1;
    const char *id = xmpp_stanza_get_id(st);
    confirmed_up_to(s, strtoul(id + strlen(CONFIRM_ID), NULL, 10));
    return 0;
}

static int on_iq_reply(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct iq_wait *w = ud;
    (void)conn;
    if (!is_reply(st) || !right_sender(w->s, w->to, xmpp_stanza_get_from(st)))
        return 1;
    confirmed_up_to(w->s, w->ordinal);
    w->reply = xmpp_stanza_copy(st);
    w->done = true;
    return 0;
}

int session_iq(struct session *s, xmpp_stanza_t *iq, xmpp_stanza_t **reply)
{
    *reply = NULL;
    if (!xmpp_stanza_get_id(iq)) {
        char *id = session_id(s);
        xmpp_stanza_set_id(iq, id);
        xmpp_free(s->ctx, id);
    }
    struct iq_wait w = {.s = s, .to = xmpp_stanza_get_to(iq)};
    xmpp_id_handler_add(s->conn, on_iq_reply, xmpp_stanza_get_id(iq), &w);
    w.ordinal = session_send(s, iq);
    int rc = session_wait(s, &w.done);
    if (!w.done) {
        xmpp_id_handler_delete(s->conn, on_iq_reply, xmpp_stanza_get_id(iq));
        return rc;
    }
    *reply = w.reply;
    return strcmp(xmpp_stanza_get_type(w.reply), "error") ? 0 : XE_STANZA;
}

/* RFC 6121 §2.1.6: after a roster get the server pushes each change as
 * an IQ set, which the client acknowledges with an empty result. Only
 * our own account (or no 'from') may push; anything else is a spoof. */
static bool is_roster_push(struct session *s, xmpp_stanza_t *st,
                           const char *type)
{
    if (strcmp(type, "set") ||
        !xmpp_stanza_get_child_by_name_and_ns(st, "query", "jabber:iq:roster"))
        return false;
    const char *from = xmpp_stanza_get_from(st);
    size_t n = jid_bare_len(s->creds.jid);
    return !from || (strlen(from) == n && !strncasecmp(from, s->creds.jid, n));
}

static int on_iq_request(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct session *s = ud;
    (void)conn;
    const char *type = xmpp_stanza_get_type(st);
    const char *id = xmpp_stanza_get_id(st);
    if (!type || !id || (strcmp(type, "get") && strcmp(type, "set")))
        return 1;
    if (s->features && !strcmp(type, "get") &&
        xmpp_stanza_get_child_by_name_and_ns(
            st, "query", "http://jabber.org/protocol/disco#info")) {
        xmpp_stanza_t *info = caps_disco_result(s->ctx, st, s->features);
        session_send(s, info);
        xmpp_stanza_release(info);
        return 1;
    }
    xmpp_stanza_t *reply = xmpp_iq_new(s->ctx, "result", id);
    const char *from = xmpp_stanza_get_from(st);
    if (from)
        xmpp_stanza_set_to(reply, from);
    if (!xmpp_stanza_get_child_by_name_and_ns(st, "ping", "urn:xmpp:ping") &&
        !is_roster_push(s, st, type)) {
        xmpp_stanza_set_type(reply, "error");
        xmpp_stanza_t *err = xmpp_stanza_new(s->ctx);
        xmpp_stanza_t *cond = xmpp_stanza_new(s->ctx);
        xmpp_stanza_set_name(err, "error");
        xmpp_stanza_set_type(err, "cancel");
        xmpp_stanza_set_name(cond, "service-unavailable");
        xmpp_stanza_set_ns(cond, "urn:ietf:params:xml:ns:xmpp-stanzas");
        xmpp_stanza_add_child_ex(err, cond, 0);
        xmpp_stanza_add_child_ex(reply, err, 0);
    }
    session_send(s, reply);
    xmpp_stanza_release(reply);
    return 1;
}

void session_answer_iqs(struct session *s)
{
    xmpp_handler_add(s->conn, on_iq_request, NULL, "iq", NULL, s);
}

int session_confirm(struct session *s)
{
    unsigned long target = s->out; /* not the confirming ping itself */
    session_request_ack(s);
    while (s->confirmed < target)
        if (session_step(s, 1000) != SESSION_RUNNING)
            return s->confirmed >= target ? 0 : s->status;
    return 0;
}

const char *stanza_error_text(xmpp_stanza_t *st, char *buf, size_t n)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error");
    const char *type = err ? xmpp_stanza_get_type(err) : NULL;
    const char *cond = NULL;
    char *text = NULL;
    for (xmpp_stanza_t *c = err ? xmpp_stanza_get_children(err) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (!name || xmpp_stanza_is_text(c))
            continue;
        if (!strcmp(name, "text"))
            text = xmpp_stanza_get_text(c);
        else if (!cond)
            cond = name;
    }
    snprintf(buf, n, "%s/%s%s%s%s", type ? type : "cancel",
             cond ? cond : "undefined-condition", text ? " (" : "",
             text ? text : "", text ? ")" : "");
    if (text)
        xmpp_free(xmpp_stanza_get_context(st), text);
    return buf;
}

int report_stanza_error(const char *what, xmpp_stanza_t *reply)
{
    char buf[512];
    return fail(XE_STANZA, "%s: %s", what,
                stanza_error_text(reply, buf, sizeof buf));
}

const char *session_tell_loss(struct session *s)
{
    s->loss_untold = false;
    return s->why;
}

int session_close(struct session *s, int status)
{
    /* A loss the tool meant to report but did not reach: one line. */
    if (s->loss_untold && status == XE_CONNLOST)
        fail(status, "%s", s->why);
    s->loss_untold = false;
    /* Before the session is up there is nothing to say goodbye to, and
     * running the loop would let libstrophe go on with the handshake
     * (it leaks its SCRAM state when the stream then ends mid-auth). */
    if (s->conn && s->ready && xmpp_conn_is_connected(s->conn)) {
        if (s->sm == SM_ON)
            send_ack(s); /* what we did not handle stays with the server */
        if (s->presence_sent) {
            xmpp_stanza_t *p = xmpp_presence_new(s->ctx);
            xmpp_stanza_set_type(p, "unavailable");
            xmpp_send(s->conn, p);
            xmpp_stanza_release(p);
        }
        s->closing = true;
        if (s->status == SESSION_RUNNING || s->status >= 128)
            s->status = SESSION_RUNNING;
        xmpp_disconnect(s->conn);
        /* Bounded: a server that does not answer </stream> is left. */
        long long until = now_ms() + 2000;
        while (!xmpp_conn_is_disconnected(s->conn) && now_ms() < until) {
            quickack(s);
            xmpp_run_once(s->ctx, 50);
        }
    }
    if (s->conn)
        xmpp_conn_release(s->conn);
    if (s->ctx) {
        xmpp_ctx_free(s->ctx);
        xmpp_shutdown();
    }
    creds_free(&s->creds);
    current_session = NULL;
    s->conn = NULL;
    s->ctx = NULL;
    return status;
}

/* The library's log: read for what went wrong before the session was up
 * (the connection handler is not told), and shown as the XML console
 * with -v, credentials redacted. */
#include "common/net/session_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* Elements whose text is a credential: SASL (RFC 6120 §6.4) and SASL2
 * (XEP-0388 §2), the component handshake (XEP-0114 §3) and a room
 * password (XEP-0045 §7.2.6). A success's text (RFC 6120) is the
 * server's proof, no secret; SASL2's holds more worth seeing (Bind2,
 * Stream Management) beside its additional data and FAST token, which
 * are redacted. */
static const char *const secret_tags[] = {
    "auth",     "response",         "challenge",       "handshake",
    "password", "initial-response", "additional-data", NULL};

/* XEP-0484 §3.4: <token xmlns='urn:xmpp:fast:0' token='SECRET' .../>:
 * write up to p's token attribute's value, [redacted] for it; returns
 * where to go on, or NULL when p is not such a tag. */
static const char *fast_token(FILE *f, const char *p)
{
    if (strncmp(p, "<token ", 7))
        return NULL;
    const char *gt = strchr(p, '>');
    const char *at = strstr(p, " token=");
    if (!gt || !at || at > gt || (at[7] != '"' && at[7] != '\''))
        return NULL;
    const char *end = strchr(at + 8, at[7]);
    if (!end || end > gt)
        return NULL;
    fwrite(p, 1, (size_t)(at + 8 - p), f);
    fputs("[redacted]", f);
    return end;
}

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

/* The password itself is also replaced wherever it appears, unless it is
 * shorter than this: a password of one to three characters would turn
 * every occurrence of them into [redacted], and the elements that carry
 * it are redacted whole anyway. */
enum { REDACT_MIN = 4 };

static void write_redacted(FILE *f, const char *msg, const char *secret)
{
    size_t slen = secret ? strlen(secret) : 0;
    if (slen < REDACT_MIN)
        slen = 0;
    const char *p = msg;
    while (*p) {
        size_t n;
        const char *next;
        if (*p == '<' && (next = fast_token(f, p))) {
            p = next;
            continue;
        }
        if (*p == '<' && (n = secret_tag(p))) {
            const char *gt = strchr(p, '>');
            if (!gt)
                break;
            fwrite(p, 1, (size_t)(gt - p + 1), f);
            p = gt + 1;
            if (gt[-1] == '/')
                continue;
            const char *close = strstr(p, "</");
            if (close > p)
                fputs("[redacted]", f);
            p = close ? close : p + strlen(p);
            continue;
        }
        if (slen && !strncmp(p, secret, slen)) {
            fputs("[redacted]", f);
            p += slen;
            continue;
        }
        putc(*p++, f);
    }
}

/* One line of the console: what the server sent is escaped like any
 * stderr line (die.h). */
static void print_redacted(const char *area, const char *msg,
                           const char *secret)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f)
        return;
    if (area)
        fprintf(f, "[%s] ", area);
    write_redacted(f, msg, secret);
    if (fclose(f) == 0)
        trace("%s", line);
    free(line);
}

/* XEP-0114 §3: the handshake hashes the id of the server's stream
 * header, which the library shows only in its log. */
static void keep_stream_id(struct session *s, const char *msg)
{
    struct session_state *p = s->priv;
    const char *id = strstr(msg, " id=\"");
    if (!id)
        return;
    id += 5;
    size_t n = strcspn(id, "\"");
    if (n < sizeof p->stream_id)
        snprintf(p->stream_id, sizeof p->stream_id, "%.*s", (int)n, id);
}

/* What the library logs is also our only view of why an attempt failed
 * before the session was up (its connection handler gets no reason for
 * a SASL failure), so every message is read, and shown with -v. */
void on_log(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
    struct session *s = ud;
    struct session_state *p = s->priv;
    int hint = 0;
    if (strstr(msg, "auth failed") || strstr(msg, "authentication failed") ||
        strstr(msg, "Cannot authenticate"))
        hint = XE_AUTH;
    else if (strstr(msg, "TLS is not supported"))
        hint = XE_AUTH;
    else if (strstr(msg, "Handshake failed") && !p->auth_hint)
        hint = XE_PROTOCOL;
    else if (!strncmp(msg, "connection failed, error ", 25))
        p->sock_error = atoi(msg + 25); /* the handler is told 0 */
    else if (!strcmp(area, "tls") && !strncmp(msg, "error:", 6))
        snprintf(p->tls_reason, sizeof p->tls_reason, "%s", msg);
    else if (!strncmp(msg, "Couldn't start TLS", 18) && !p->auth_hint &&
             !p->ready && !strstr(p->tls_reason, "unexpected eof")) {
        /* The handler only gets SSL_ERROR_SSL (1), which strerror()
         * would call "Operation not permitted": give OpenSSL's reason.
         * (A peer that just hung up is left to classify_failure.) */
        p->auth_hint = XE_UNAVAILABLE;
        snprintf(p->why, sizeof p->why, "TLS handshake failed (%s)%s",
                 *p->tls_reason ? p->tls_reason : "no reason given",
                 s->creds.direct_tls ? "; is it a direct TLS port?" : "");
    } else if (!strcmp(msg, "connection successful"))
        p->stage = AT_STREAM;
    else if (!strcmp(msg, "proceeding with TLS") ||
             !strcmp(msg, "using legacy SSL connection"))
        p->stage = AT_TLS; /* the library's handshake loop starts */
    else if (p->stage == AT_TLS && !strncmp(msg, "SENT: <?xml", 11))
        p->stage = AT_STREAM; /* it succeeded: the stream is reopened */
    else if (!strncmp(msg, "SENT: <auth ", 12))
        p->stage = AT_SASL;
    else if (strstr(msg, "auth successful"))
        p->stage = AT_BIND;
    else if (!p->ready && s->creds.component &&
             !strncmp(msg, "RECV: <stream:stream", 20))
        keep_stream_id(s, msg);
    if (hint && !p->ready) {
        p->auth_hint = hint;
        snprintf(p->why, sizeof p->why, "%s", msg);
    }
    if (!strncmp(msg, "RECV: ", 6))
        p->received++;
    int v = s->opt->verbose;
    int console = !strncmp(msg, "SENT: ", 6) || !strncmp(msg, "RECV: ", 6);
    if (v >= 2 || (v == 1 && console) || (v == 1 && level >= XMPP_LEVEL_WARN))
        print_redacted(console ? NULL : area, msg, s->creds.password);
}

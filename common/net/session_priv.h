/* What the files of the session (common/net/) share and tools do not
 * see: the session's bookkeeping, and the functions one of its files
 * calls in another. A file a concern: session.c (set-up, connection
 * handler, close), loop.c, watchdog.c, log.c, trust.c, delivery.c,
 * failure.c, component.c, reconnect.c, keepalive.c, iq.c, xmlhook.c,
 * srv.c. */
#ifndef XMPP_SESSION_PRIV_H
#define XMPP_SESSION_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <strophe.h>

#include "common/cli/credentials.h"
#include "common/io/xmlstream.h"
#include "common/net/session.h"
#include "common/net/srv.h"

/* With --retry, a stanza sent and not confirmed yet: kept until it is,
 * to be sent again on the next connection. */
struct unconfirmed {
    unsigned long ordinal; /* see session.confirmed */
    unsigned long wire;    /* its place on this connection; 0: not on it */
    xmpp_stanza_t *st;     /* a copy */
};

/* session.priv: allocated by session_open(), freed by session_close(). */
struct session_state {
    xmpp_log_t log;
    bool ready;         /* authenticated and bound */
    bool closing;       /* we asked for the disconnect */
    bool presence_sent; /* so we owe an unavailable at the end */
    unsigned long in;   /* stanzas received and handled (XEP-0198 h) */
    enum { SM_OFF, SM_OFFERED, SM_ASKED, SM_ON } sm;
    bool handlers_added;    /* accounting handlers, once per connection */
    bool reconnecting;      /* failures are kept in why, not printed */
    bool loss_untold;       /* lost quietly, and not reported yet */
    bool stream_fault;      /* the server's XML was refused (xmlhook.c) */
    int sock;               /* the TCP socket once made (0: none yet) */
    unsigned long received; /* stanzas the library logged as received */
    int sock_error;         /* errno of a failed connect, from the log */
    enum {
        AT_CONNECTING,
        AT_STREAM,
        AT_TLS,
        AT_SASL,
        AT_BIND
    } stage;                     /* from the log */
    int auth_hint;               /* what the library's log said went wrong */
    char why[SESSION_WHY_MAX];   /* its words, or the certificate error */
    char tls_reason[160];        /* OpenSSL's last error, from the log */
    char confirm_to[1024];       /* a component's confirming pings go here */
    char stream_id[128];         /* XEP-0114: the server's, for the handshake */
    xmpp_stanza_t *stream_error; /* a component's (the library keeps a
                                  * client's): for the connection handler */
    unsigned connects;           /* sessions set up so far (reconnects + 1) */
    bool sm_handler_added;       /* our XEP-0198 handler, once */
    /* keepalive.c */
    unsigned long heard; /* `received` when we last looked */
    long long heard_at;  /* when the server last said something */
    long long probed_at; /* when we asked it to; 0: not asked */
    /* reconnect.c */
    bool renewing; /* taking a lost session up again */
    /* negotiate.c */
    struct negotiation *nego;
    bool why_said;        /* why is the whole message, auth_hint its status */
    char bound_jid[3072]; /* as the server bound it */
    char sm_id[256];      /* XEP-0198: the session to resume, "" none */
    /* delivery.c, with --retry */
    unsigned long wire;         /* stanzas sent on this connection */
    struct unconfirmed *unconf; /* in the order sent, by ordinal */
    size_t nunconf, unconf_cap;
    /* srv.c: the SRV targets without --server, and the attempts */
    struct srv_state srv;
};

/* session.c */
/* Acknowledge at once until the next wait (TCP_QUICKACK is not sticky). */
void quickack(const struct session *s);
/* The session is up (bound, or the component's handshake accepted). */
void session_ready(struct session *s);
/* Connect, and wait until the session is up or has failed: 0 or status. */
int await_ready(struct session *s);

/* loop.c */
/* Turn SIGINT and SIGTERM into a status, and ignore SIGPIPE. */
void catch_signals(void);
/* Sleep ms, cut short by a signal (128+N) or the deadline (XE_TIMEOUT). */
int pause_ms(struct session *s, long long ms);
/* Let the library run once, for at most ms (under the watchdog). */
void run_library(struct session *s, unsigned long ms);

/* watchdog.c */
/* How long the library may keep control past the deadline, or after
 * SIGINT/SIGTERM, before the watchdog ends the process itself. */
#define WATCHDOG_GRACE_MS 1000
/* Watch the session from now on (session_open, once connected to
 * nothing yet): the timer follows s->deadline. */
void watchdog_start(struct session *s);
/* Follow s->deadline, which a tool may move: due a grace after it. */
void watchdog_follow(struct session *s);
/* The library has control from enter to leave (what the line says). */
void watchdog_enter(void);
void watchdog_leave(void);
/* From the SIGINT/SIGTERM handler: due a grace from now, if later. */
void watchdog_signal(int sig);
/* The loop took the signal over and goes on: back to the deadline. */
void watchdog_clear_signal(struct session *s);
/* session_close: the status is decided, the goodbye lasts until `until`
 * (now_ms() clock); due half a grace after that. */
void watchdog_closing(long long until, int status);
/* Nothing is watched any more. */
void watchdog_stop(void);

/* log.c */
/* The library's log handler (userdata: the session). */
void on_log(void *ud, xmpp_log_level_t level, const char *area,
            const char *msg);

/* trust.c */
/* Let the hashed directory, not the whole CA bundle, hold the roots. */
void trim_trust_store(const struct creds *c, bool insecure);

/* delivery.c */
/* Count from zero, and ask for Stream Management when it is offered. */
void start_accounting(struct session *s);
/* Handle XEP-0198 answers (once a connection object). */
void watch_sm(struct session *s);
/* XEP-0198 <a/>: tell the server how many stanzas we handled. */
void send_ack(struct session *s);
/* The server processed the stanza of this ordinal, and all before it. */
void confirmed_up_to(struct session *s, unsigned long ordinal);
/* XEP-0199: ping our server (a component: the server it hangs off);
 * the answer confirms everything sent before. */
void send_confirm_ping(struct session *s);
/* With --retry: does the session keep what it sends until confirmed? */
bool keeps_unconfirmed(const struct session *s);
/* With --retry, on a new connection: send again what the last one did
 * not confirm, and ask for confirmation. */
void resend_unconfirmed(struct session *s);
/* Free what is kept. */
void drop_unconfirmed(struct session *s);

/* failure.c */
/* The port dialled when the host is given (--server, config). */
unsigned short server_port(const struct creds *c);
/* "host:port" as dialled, or the JID's domain when SRV decides. */
void describe_server(struct session *s, char *buf, size_t n);
/* Say why the connection failed, or keep it in why; returns status. */
int report(struct session *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Where the set-up stood, for a message: "" while connecting, else
 * " during the TLS handshake" and the like. Async-signal-safe. */
const char *stage_words(int stage);
/* Status and message for a connection that failed before the session;
 * stream_error: the <stream:error/> the server ended it with, if any. */
int classify_failure(struct session *s, int error, xmpp_stanza_t *stream_error);
/* Status and message for a <stream:error/> from the server. */
int report_stream_error(struct session *s, xmpp_stanza_t *err);
/* Words for the error the library gave with a lost connection. */
const char *lost_reason(int error);
/* After a step of the library's loop: when the server's XML was refused
 * (stream_fault), end the stream with the stream error that names the
 * fault, close, and set the status (76). Returns s->status. */
int refuse_stream(struct session *s);

/* keepalive.c */
/* Start counting silence (the session is up). */
void keepalive_start(struct session *s);
/* How long the loop may wait, at most ms, before keepalive_check has
 * something to do. */
unsigned long keepalive_wait(struct session *s, unsigned long ms);
/* After a run of the loop: ask for a sign of life after a silence, or
 * end the session as lost when the last request went unanswered. */
void keepalive_check(struct session *s);

/* reconnect.c */
/* May a lost session be taken up again (--reconnect, --retry)? */
bool may_reconnect(const struct session *s);
/* After a failed first attempt (its failure not said yet), with
 * --retry: try again with backoff. Returns 0 once connected, or the
 * status, the failure said (but the deadline's and a signal's). */
int retry_open(struct session *s, int status);
/* In the loop: a session lost after it was up is taken up again when
 * may_reconnect(). Returns the session's status. */
int reconnect_lost(struct session *s);

/* component.c */
/* XEP-0114: open the stream to the component's domain. */
void component_open(struct session *s);
/* XEP-0114 §3: send the handshake once the stream is open. */
void component_handshake(struct session *s);

/* xmlhook.c */
/* Watch the server's stream for this session: stanzas up to max_bytes
 * (0: the default, which a server's XEP-0478 announcement may raise),
 * and no fault yet. */
void stream_watch(unsigned long max_bytes);
/* The fault found in the server's stream since the last call, with its
 * words in why (n bytes), or XMLSTREAM_OK. */
enum xmlstream_fault stream_fault(char *why, size_t n);

/* negotiate.c */
/* At the TCP connection: TLS, the stream, SASL, bind, or resumption;
 * session_ready() once the session is up. */
void negotiate_start(struct session *s);
/* An XEP-0198 answer during negotiation (<resumed/>, <failed/>):
 * handled (true), or not ours. */
bool negotiate_sm(struct session *s, xmpp_stanza_t *st);
/* Keep the server's <stream:error/> for the connection handler (the
 * library does so only for streams it negotiates). */
void watch_stream_errors(struct session *s);
void negotiate_free(struct session *s);
/* XEP-0198 §5: may this server-chosen session id go back in <resume
 * previd=''/>? Printable ASCII without quotes or markup, bounded. */
bool sm_id_fair(const char *id);

/* tlsbind.c */
/* Start TLS on the connection, keeping the library's SSL object for
 * channel binding: 0, or the library's error. */
int tls_start_caught(struct session *s);
/* The connection's TLS is gone. */
void tls_forget(void);
/* Closing without waiting for the server (session_close): do not wait
 * for its TLS close_notify either. */
void tls_close_quick(void);
/* Does OpenSSL hold decrypted bytes the library has not read yet? */
bool tls_pending(void);
/* The channel-binding types this connection can give (RFC 9266
 * tls-exporter with TLS 1.3, RFC 5929 tls-server-end-point), at most
 * max; and the data of one into out (64 bytes room): 0, or -1. */
size_t tls_binding_types(const char **types, size_t max);
int tls_binding(const char *type, unsigned char *out, size_t *len);

/* iq.c */
/* Is this an IQ result or error (an answer, not a request)? */
int is_reply(xmpp_stanza_t *st);

#endif

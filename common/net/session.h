/* The one place a connection is made: options -> credentials -> connect
 * -> session established -> the tool's job -> clean disconnect, all
 * under one deadline. Tools never parse host/port/password themselves. */
#ifndef XMPP_SESSION_H
#define XMPP_SESSION_H

#include <stdbool.h>
#include <strophe.h>

#include "common/cli/credentials.h"
#include "common/cli/options.h"

/* session.status while the session goes on. */
#define SESSION_RUNNING (-1)

/* Room for the reason session_tell_loss() gives, with its NUL. */
#define SESSION_WHY_MAX 256

struct session_state; /* the bookkeeping tools do not touch */

struct session {
    xmpp_ctx_t *ctx;
    xmpp_conn_t *conn;
    const struct session_opts *opt;
    struct creds creds;
    long long deadline; /* CLOCK_MONOTONIC ms; 0: none */
    int status;         /* SESSION_RUNNING, or how it ended */
    /* Delivery accounting. Every stanza we send gets an ordinal (1, 2,
     * ...); `confirmed` is the highest ordinal the server is known to
     * have processed, from XEP-0198 acks or from any IQ reply (RFC 6120
     * §10.1: a server processes a stream's stanzas in order). */
    unsigned long out;       /* stanzas sent this session */
    unsigned long confirmed; /* of those, processed by the server */
    /* Features to advertise (caps.h), NULL-terminated: when set,
     * session_answer_iqs() answers disco#info with them. */
    const char *const *features;
    bool resumed; /* the last reconnect resumed the session */
    /* Called after a reconnect that did not resume the session (see
     * session_step): announce ourselves again (presence, rooms).
     * Returns 0, or a status that ends the session. */
    int (*renew)(struct session *s, void *ud);
    void *renew_ud;
    /* Stanzas sent on a connection that was lost, not confirmed and not
     * sent again (--reconnect without resumption): the server may or
     * may not have them. */
    unsigned long unsure;
    struct session_state *priv; /* common/net/session_priv.h */
};

/* Resolve credentials and connect; returns 0 once the session is
 * established, else an exit status (the message printed). s must be
 * released with session_close() in either case. */
int session_open(struct session *s, const struct session_opts *o);

/* Run the event loop once for at most ms milliseconds. Returns
 * SESSION_RUNNING, or the status the session ended with: XE_TIMEOUT at
 * the deadline, XE_CONNLOST when the server went away, 128+N on signal
 * N (SIGINT, SIGTERM), or what session_stop() set.
 *
 * Keepalive (creds.keepalive, the tools that stay connected): after
 * that long without a word from the server, ask for one (an XEP-0198
 * <r/>, else an XEP-0199 ping); no answer within as long again, and the
 * connection counts as lost.
 *
 * A session lost after it was up is taken up again, inside this call,
 * with opt->reconnect (for as long as it takes) or creds.retry (for up
 * to that many seconds): with exponential backoff (1 s doubling to
 * 60 s, jittered), saying so on stderr, until connected, the deadline
 * (XE_TIMEOUT), a signal (128+N) or an authentication failure (XE_AUTH).
 * With opt->reconnect the library runs XEP-0198 with resumption, so a
 * session the server kept is resumed (s->resumed) and what was
 * addressed to us meanwhile arrives; with creds.retry, what the server
 * had not confirmed is sent again. A session that is not resumed is
 * announced again by s->renew. */
int session_step(struct session *s, unsigned long ms);

/* Run until *done turns true (returns 0) or the session ends (returns
 * its status). With done NULL, run until the session ends. */
int session_wait(struct session *s, const bool *done);

/* After SIGINT or SIGTERM ended the loop (status 128+N): carry on, to
 * finish cleanly (confirm what was sent). Another signal ends it again.
 * Returns N. */
int session_clear_signal(struct session *s);

/* End the loop with this status. */
void session_stop(struct session *s, int status);

/* Send a stanza (the caller keeps its reference) and return its ordinal
 * (see session.confirmed). Every stanza must go through here, never
 * straight to xmpp_send(), or the accounting is wrong. Available
 * presence is remembered so that session_close() can say goodbye. */
unsigned long session_send(struct session *s, xmpp_stanza_t *st);

/* Ask the server to confirm everything sent so far, without waiting:
 * an XEP-0198 <r/> when Stream Management is on, else an IQ ping whose
 * reply covers what came before it. session.confirmed rises when the
 * answer comes. */
void session_request_ack(struct session *s);

/* Send an IQ and wait for the reply from the entity it was sent to.
 * Gives an id when it has none. Returns 0 with *reply the result,
 * XE_STANZA with *reply the error stanza (unreported), or the session's
 * status with *reply NULL. The caller releases *reply. */
int session_iq(struct session *s, xmpp_stanza_t *iq, xmpp_stanza_t **reply);

/* Send n IQs at once (fresh ids) and wait for every reply: one round
 * trip for all. replies[i] gets each reply (result or error; the
 * caller releases it), NULL for those the session ended before.
 * Returns 0 or the session's status. */
int session_iq_all(struct session *s, xmpp_stanza_t **iqs, size_t n,
                   xmpp_stanza_t **replies);

/* Could a reply to an IQ sent to `to` (NULL: no 'to') come from
 * `from`? RFC 6120 §8.1.2.1; anything else is a forgery. */
int session_reply_from(struct session *s, const char *to, const char *from);

/* Answer the IQ requests addressed to us that the tool does not handle
 * itself, as RFC 6120 §8.2.3 requires: a result to XEP-0199 pings and
 * to roster pushes from our own account (RFC 6121 §2.1.6), our
 * features to disco#info when session.features is set (XEP-0030),
 * service-unavailable to the rest. */
void session_answer_iqs(struct session *s);

/* Make sure the server has processed everything sent so far (see
 * session_request_ack) and wait for it. Returns 0 or the session's
 * status; then out - confirmed stanzas are unconfirmed. After a
 * reconnect it confirms what is sent on the new connection. */
int session_confirm(struct session *s);

/* Describe a stanza error as "type/condition (text)" into buf. */
const char *stanza_error_text(xmpp_stanza_t *st, char *buf, size_t n);

/* Print the stanza error of an IQ reply on stderr: "xmpp TOOL: WHAT:
 * cancel/item-not-found". Returns XE_STANZA. */
int report_stanza_error(const char *what, xmpp_stanza_t *reply);

/* A fresh id for an outgoing stanza, malloc'd by the library. */
char *session_id(struct session *s);

/* Why the session was lost, for a tool that reports it itself
 * (opts tells_loss): from now on it counts as told. */
const char *session_tell_loss(struct session *s);

/* Close cleanly (unavailable presence if we sent presence, then
 * </stream:stream>) and free everything; a loss nobody told is said
 * here. Returns status. */
int session_close(struct session *s, int status);

/* The full JID the server bound for this session (waiting for the
 * bind result when it is still on its way); NULL for a component or a
 * session that ended first. */
const char *session_bound_jid(struct session *s);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

#endif

/* What the tools that ask by IQ share (iq, disco, ping, version, time,
 * vcard): where a question goes, how it is asked and how the answer is
 * printed. The round trip itself is session_iq(). */
#ifndef XMPP_QUERY_H
#define XMPP_QUERY_H

#include <strophe.h>

#include "common/cli/options.h"
#include "common/cli/tool.h"
#include "common/net/session.h"

/* The namespace stanzas are in on this stream: jabber:client, or
 * jabber:component:accept for a component. */
const char *stream_ns(const struct session *s);

/* Check the JID operand of a tool before connecting: valid (else
 * XE_DATA), and given when connecting as a component, which has no
 * server of its own to ask (else XE_USAGE). NULL is fine for a client.
 * Returns 0 or the status, the message printed. */
int query_check_target(const struct session_opts *o, const char *jid);

/* The operands argv[first..argc) of a tool taking [JID]: at most one
 * (else XE_USAGE), checked as query_check_target. Returns 0 with *jid
 * set (NULL: none), or the status, the message printed. */
int query_jid_operand(const struct session_opts *o, int argc, char **argv,
                      int first, const char **jid);

/* The JID a question goes to: jid, else our server's domain (in a
 * static buffer, valid until the next call). */
const char *query_target(const struct session *s, const char *jid);

/* A new <iq type=TYPE to=TO><NAME xmlns=NS/></iq> (to NULL: no 'to');
 * *payload, if asked for, is the child (owned by the IQ). */
xmpp_stanza_t *query_new(struct session *s, const char *type, const char *to,
                         const char *name, const char *ns,
                         xmpp_stanza_t **payload);

/* Send iq and wait for its answer. Returns 0 with *reply the result
 * (the caller releases it), or reports on stderr and returns XE_STANZA
 * ("TO: cancel/item-not-found"), XE_TIMEOUT ("no answer by the
 * deadline") or the session's status. Releases iq. */
int query_ask(struct session *s, xmpp_stanza_t *iq, xmpp_stanza_t **reply);

/* What a tool that asks one question prints: the answer's payload,
 * whom it asked, the stream namespace around the payload, the format. */
struct answer {
    xmpp_stanza_t *el;
    const char *from;
    const char *ns;
    enum output_format fmt;
};

/* One question: <iq type=TYPE to=TO> with `payload` (the caller's,
 * taken over; see xmlin.h for one made before connecting), or else an
 * empty <NAME xmlns=NS node=NODE/>. */
struct query {
    const char *type; /* "get" or "set" */
    const char *to;   /* NULL: our server, or no 'to' with to_self */
    bool to_self;     /* no 'to': the server answers for the account */
    xmpp_stanza_t *payload;
    const char *name, *ns, *node;
    /* Called with the answer's first child element, if any; with --xml
     * it is printed as XML instead. */
    void (*print)(const struct answer *a, void *ud);
    void *ud;
};

/* The whole job of such a tool, on an open session: ask, print. Exit
 * status as query_ask. */
int query_once(struct session *s, struct query *q);

/* A tool whose one operand is [JID] (version, time): its state starts
 * with this, and query_jid_prepare is its prepare. */
struct query_jid {
    const char *jid; /* NULL: our server */
};
int query_jid_prepare(void *tool, struct session_opts *o,
                      const struct tool_args *a);

#endif

#include "common/xmpp/muc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/credentials.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/options.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/stanza.h"

/* How many other nicks to try when ours is taken: NICK-2 ... NICK-5. */
#define NICK_RETRIES 4

int muc_check_nick(const char *nick)
{
    char jid[1100];
    if (strlen(nick) > 1023)
        return fail(XE_DATA, "--nick: longer than 1023 bytes");
    snprintf(jid, sizeof jid, "r@s/%s", nick);
    const char *why = jid_check(jid);
    if (why)
        return fail(XE_DATA, "--nick '%s': not a valid nick: %s", nick, why);
    return 0;
}

int muc_add(struct muc *m, const char *room)
{
    const char *why = jid_check(room);
    if (!why && !strchr(room, '@'))
        why = "no room name before '@' (give ROOM@SERVICE)";
    if (!why && strchr(room, '/'))
        why = "a room JID has no resource; give the nick with --nick";
    if (why)
        return fail(XE_DATA, "%s: invalid room JID: %s", room, why);
    for (int i = 0; i < m->n; i++)
        if (jid_matches(room, m->room[i].jid) &&
            strlen(room) == strlen(m->room[i].jid))
            return 0;
    /* The copy first: once realloc has moved the rooms, m->room must
     * follow it whatever happens next. */
    char *copy = strdup(room);
    struct muc_room *r =
        copy ? realloc(m->room, (size_t)(m->n + 1) * sizeof *r) : NULL;
    if (!r) {
        free(copy);
        return fail_oom(NULL);
    }
    m->room = r;
    m->room[m->n++] = (struct muc_room){.jid = copy};
    return 0;
}

int muc_read_password(struct muc *m, const char *path)
{
    free(m->password);
    m->password = NULL;
    return read_first_line("room password file", path, &m->password);
}

struct muc_room *muc_room_of(struct muc *m, const char *from)
{
    if (!from)
        return NULL;
    for (int i = 0; i < m->n; i++)
        if (jid_matches(from, m->room[i].jid))
            return &m->room[i];
    return NULL;
}

static const char *resource_of(const char *jid)
{
    const char *slash = jid ? strchr(jid, '/') : NULL;
    return slash ? slash + 1 : NULL;
}

bool muc_is_self(struct muc *m, const char *from)
{
    struct muc_room *r = muc_room_of(m, from);
    const char *res = resource_of(from);
    return r && r->nick && res && !strcmp(res, r->nick);
}

/* Does the muc#user payload carry this status code (§15.6)? */
static bool has_status(xmpp_stanza_t *x, const char *code)
{
    for (xmpp_stanza_t *c = x ? xmpp_stanza_get_children(x) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *v = xmpp_stanza_get_attribute(c, "code");
        if (name && !strcmp(name, "status") && v && !strcmp(v, code))
            return true;
    }
    return false;
}

/* <presence to='room/nick'><x xmlns=muc><history/><password/></x>.
 * §7.2.14: with since alone, all the history since then. */
static void send_join(struct muc *m, struct muc_room *r)
{
    xmpp_ctx_t *ctx = m->s->ctx;
    char to[2100];
    snprintf(to, sizeof to, "%s/%s", r->jid, r->nick);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    xmpp_stanza_set_to(p, to);
    xmpp_stanza_t *x = stanza_add_el(p, "x", NS_MUC);
    xmpp_stanza_t *h = stanza_add_el(x, "history", NULL);
    char num[24];
    snprintf(num, sizeof num, "%ld", m->history);
    if (m->history_set || !m->since)
        xmpp_stanza_set_attribute(h, "maxstanzas", num);
    if (m->since)
        xmpp_stanza_set_attribute(h, "since", m->since);
    if (m->password)
        stanza_add_text_child(x, "password", m->password);
    r->state = MUC_JOINING;
    session_send(m->s, p);
    xmpp_stanza_release(p);
}

/* What a join error means for the user (§7.2.6-§7.2.11). */
static const char *join_hint(const char *cond)
{
    static const char *const hints[][2] = {
        {"not-authorized", "wrong or missing room password "
                           "(--room-password-file)"},
        {"registration-required", "the room is members-only and we are "
                                  "not a member"},
        {"forbidden", "we are banned from the room"},
        {"conflict", "the nick is taken; choose another with --nick"},
        {"service-unavailable", "the room is full"},
        {"item-not-found", "the room does not exist or is locked"},
        {"not-allowed", "the service does not let us create rooms"},
        {"jid-malformed", "the service refused the nick"},
        {NULL, NULL},
    };
    for (int i = 0; hints[i][0]; i++)
        if (!strcmp(cond, hints[i][0]))
            return hints[i][1];
    return NULL;
}

static void join_error(struct muc *m, struct muc_room *r, xmpp_stanza_t *st)
{
    const char *cond = stanza_error_condition(st);
    if (!strcmp(cond, "conflict") && r->conflicts < NICK_RETRIES) {
        /* §7.2.9: the nick is in use by someone else; try the next. */
        char nick[1100];
        r->conflicts++;
        snprintf(nick, sizeof nick, "%s-%d", m->nick, r->conflicts + 1);
        free(r->nick);
        r->nick = strdup(nick);
        if (r->nick) {
            send_join(m, r);
            return;
        }
    }
    char text[256];
    const char *hint = join_hint(cond);
    stanza_error_text(st, text, sizeof text);
    snprintf(r->why, sizeof r->why, "%s%s%s", text, hint ? ": " : "",
             hint ? hint : "");
    r->state = MUC_FAILED;
}

/* Our own presence, unavailable, while we did not ask to leave: the room
 * removed us (§7.2.7 status codes, §10.9 destroy). */
static void removed(struct muc *m, struct muc_room *r, xmpp_stanza_t *x)
{
    static const char *const why[][2] = {
        {"307", "kicked"},
        {"301", "banned"},
        {"321", "removed: affiliation changed"},
        {"322", "removed: the room is now members-only"},
        {"332", "removed: the service is shutting down"},
        {NULL, NULL},
    };
    const char *what = "removed from the room";
    for (int i = 0; why[i][0]; i++)
        if (has_status(x, why[i][0]))
            what = why[i][1];
    xmpp_stanza_t *d = x ? xmpp_stanza_get_child_by_name(x, "destroy") : NULL;
    if (d)
        what = "the room was destroyed";
    xmpp_stanza_t *item = x ? xmpp_stanza_get_child_by_name(x, "item") : NULL;
    xmpp_stanza_t *holder = d ? d : item;
    char *reason = holder ? stanza_child_text(holder, "reason") : NULL;
    r->state = MUC_OUT;
    fail(XE_STANZA, "%s: %s%s%s%s", r->jid, what, reason ? " (" : "",
         reason ? reason : "", reason ? ")" : "");
    xmpp_free(m->s->ctx, reason);
    session_stop(m->s, XE_STANZA);
}

static void self_presence(struct muc *m, struct muc_room *r, xmpp_stanza_t *st,
                          xmpp_stanza_t *x)
{
    const char *type = xmpp_stanza_get_type(st);
    if (type && !strcmp(type, "unavailable")) {
        if (r->state == MUC_IN && !m->leaving)
            removed(m, r, x);
        else if (m->leaving)
            r->state = MUC_OUT;
        return;
    }
    if (r->state != MUC_JOINING)
        return;
    /* §7.2.3: the service may have changed our nick (status 210). */
    const char *nick = resource_of(xmpp_stanza_get_from(st));
    if (nick && strcmp(nick, r->nick)) {
        free(r->nick);
        r->nick = strdup(nick);
    }
    r->created = has_status(x, "201");
    r->state = MUC_IN;
}

static int on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct muc *m = ud;
    (void)conn;
    const char *from = xmpp_stanza_get_from(st);
    struct muc_room *r = muc_room_of(m, from);
    if (!r || !stanza_from_ok(st))
        return 1;
    const char *type = xmpp_stanza_get_type(st);
    if (type && !strcmp(type, "error")) {
        if (r->state == MUC_JOINING)
            join_error(m, r, st);
        return 1;
    }
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
    if (has_status(x, "110") || muc_is_self(m, from))
        self_presence(m, r, st, x);
    else if (m->on_presence && resource_of(from))
        m->on_presence(m, r, st);
    return 1;
}

static void forget_wait(struct muc_room *r)
{
    free(r->wait_id);
    r->wait_id = NULL;
}

/* RFC 6120 §8.3: the room refused a stanza of ours. */
static int on_error_message(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct muc *m = ud;
    (void)conn;
    struct muc_room *r = muc_room_of(m, xmpp_stanza_get_from(st));
    const char *id = xmpp_stanza_get_id(st);
    if (!r || !id || !r->wait_id || strcmp(id, r->wait_id))
        return 1;
    r->refused = true;
    stanza_error_text(st, r->why, sizeof r->why);
    forget_wait(r);
    return 1;
}

/* §7.2.15 subject, and §7.4 the reflection of our own message. */
static int on_groupchat(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct muc *m = ud;
    (void)conn;
    const char *from = xmpp_stanza_get_from(st);
    struct muc_room *r = muc_room_of(m, from);
    if (!r)
        return 1;
    const char *id = xmpp_stanza_get_id(st);
    if (r->wait_id && id && !strcmp(id, r->wait_id) && muc_is_self(m, from))
        forget_wait(r);
    if (xmpp_stanza_get_child_by_name(st, "subject") &&
        !xmpp_stanza_get_child_by_name(st, "body") &&
        !xmpp_stanza_get_child_by_name(st, "thread")) {
        char *text = stanza_child_text(st, "subject");
        free(r->subject);
        r->subject = text && *text ? strdup(text) : NULL;
        xmpp_free(m->s->ctx, text);
        r->has_subject = true;
    }
    return 1;
}

int muc_option(struct muc *m, int key, const char *arg)
{
    int rc;
    switch (key) {
    case MUC_OPT_MUC: return (rc = muc_add(m, arg)) ? rc : OPTS_CONTINUE;
    case MUC_OPT_NICK:
        m->nick = arg;
        return muc_check_nick(arg) ? XE_DATA : OPTS_CONTINUE;
    case MUC_OPT_HISTORY:
        if (opts_int(arg, 0, 1000000, &m->history) < 0)
            return fail(XE_USAGE, "--history %s: give a number of messages",
                        arg);
        m->history_set = true;
        return OPTS_CONTINUE;
    case MUC_OPT_ROOM_PASSWORD_FILE:
        rc = muc_read_password(m, arg);
        return rc ? rc : OPTS_CONTINUE;
    default: return XE_USAGE;
    }
}

int muc_check_options(const struct muc *m)
{
    if (m->n)
        return 0;
    const char *given = m->nick       ? "--nick"
                        : m->password ? "--room-password-file"
                        : m->history  ? "--history"
                                      : NULL;
    return given ? fail(XE_USAGE, "%s goes with --muc ROOM", given) : 0;
}

void muc_watch(struct muc *m, struct session *s)
{
    if (m->s)
        return;
    m->s = s;
    xmpp_handler_add(s->conn, on_presence, NULL, "presence", NULL, m);
    xmpp_handler_add(s->conn, on_error_message, NULL, "message", "error", m);
    xmpp_handler_add(s->conn, on_groupchat, NULL, "message", "groupchat", m);
}

/* The config's nick, else the account's localpart, else (a component)
 * its domain. */
static char *default_nick(struct session *s)
{
    if (s->creds.nick)
        return strdup(s->creds.nick);
    const char *jid = s->creds.jid;
    const char *at = strchr(jid, '@');
    size_t n = at ? (size_t)(at - jid) : jid_bare_len(jid);
    return strndup(jid, n);
}

static bool any_joining(struct muc *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->room[i].state == MUC_JOINING)
            return true;
    return false;
}

/* After the answers: one line per room that refused us. */
static int join_outcome(struct muc *m)
{
    int rc = 0;
    for (int i = 0; i < m->n; i++) {
        struct muc_room *r = &m->room[i];
        if (r->state == MUC_FAILED) {
            rc = fail(XE_STANZA, "%s: cannot join: %s", r->jid, r->why);
        } else if (r->created && !m->may_create) {
            /* Joining made a new (locked) room: a typo, most likely.
             * Undo it rather than talk to nobody. */
            r->state = MUC_OUT;
            muc_destroy(m->s, r->jid, "created by mistake", NULL);
            rc = fail(XE_STANZA,
                      "%s: no such room; create it with "
                      "'xmpp muc create %s'",
                      r->jid, r->jid);
        } else if (r->conflicts && !quiet) {
            warnx("%s: nick '%s' is taken; joined as '%s'", r->jid, m->nick,
                  r->nick);
        }
    }
    return rc;
}

int muc_join(struct muc *m, struct session *s)
{
    muc_watch(m, s);
    char *nick = m->nick ? NULL : default_nick(s);
    if (nick)
        m->nick = nick;
    for (int i = 0; i < m->n; i++) {
        struct muc_room *r = &m->room[i];
        free(r->nick); /* joining again, after a reconnect */
        r->nick = strdup(m->nick);
        r->conflicts = 0;
        r->created = false;
        if (!r->nick) {
            if (nick) {
                m->nick = NULL;
                free(nick);
            }
            return fail_oom(NULL);
        }
        send_join(m, r);
    }
    while (any_joining(m))
        if (session_step(s, 1000) != SESSION_RUNNING)
            break;
    int rc = 0;
    if (!any_joining(m))
        rc = join_outcome(m);
    else if (s->status == XE_TIMEOUT)
        for (int i = 0; i < m->n; i++)
            if (m->room[i].state == MUC_JOINING)
                rc = fail(XE_TIMEOUT,
                          "%s: no answer to our join by the "
                          "deadline; is it a group chat room?",
                          m->room[i].jid);
    if (!rc && s->status != SESSION_RUNNING)
        rc = s->status;
    if (nick) { /* the rooms keep their own copies */
        m->nick = NULL;
        free(nick);
    }
    return rc;
}

void muc_expect(struct muc_room *r, const char *id)
{
    free(r->wait_id);
    r->wait_id = strdup(id);
}

static bool any_waiting(struct muc *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->room[i].wait_id && m->room[i].state == MUC_IN)
            return true;
    return false;
}

static int refusals(struct muc *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->room[i].refused)
            return XE_STANZA;
    return 0;
}

int muc_wait_reflections(struct muc *m)
{
    while (any_waiting(m))
        if (session_step(m->s, 1000) != SESSION_RUNNING)
            break;
    if (any_waiting(m)) {
        if (m->s->status == XE_TIMEOUT)
            for (int i = 0; i < m->n; i++)
                if (m->room[i].wait_id)
                    fail(XE_TIMEOUT,
                         "%s: the room did not pass our message "
                         "on by the deadline",
                         m->room[i].jid);
        return m->s->status;
    }
    return refusals(m);
}

int muc_round_trip(struct muc *m, struct muc_room *r)
{
    xmpp_stanza_t *iq = xmpp_iq_new(m->s->ctx, "get", NULL);
    xmpp_stanza_set_to(iq, r->jid);
    stanza_add_el(iq, "query", "http://jabber.org/protocol/disco#info");
    xmpp_stanza_t *reply;
    int rc = session_iq(m->s, iq, &reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA && !r->refused) {
        r->refused = true;
        stanza_error_text(reply, r->why, sizeof r->why);
    }
    if (reply)
        xmpp_stanza_release(reply);
    if (rc && rc != XE_STANZA)
        return rc;
    return r->refused ? XE_STANZA : 0;
}

/* <iq type=TYPE to=ROOM><query xmlns=muc#owner/></iq>; *query is the
 * payload (owned by the IQ). */
static xmpp_stanza_t *owner_iq(struct session *s, const char *type,
                               const char *room, xmpp_stanza_t **query)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, type, NULL);
    xmpp_stanza_set_to(iq, room);
    *query = stanza_add_el(iq, "query", NS_MUC_OWNER);
    return iq;
}

/* Send an owner IQ; report an error as "ROOM: cannot WHAT: ...". */
static int owner_ask(struct session *s, xmpp_stanza_t *iq, const char *what,
                     xmpp_stanza_t **reply)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s: cannot %s", xmpp_stanza_get_to(iq), what);
    int rc = session_iq(s, iq, reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA) {
        report_stanza_error(buf, *reply);
        xmpp_stanza_release(*reply);
        *reply = NULL;
    } else if (rc == XE_TIMEOUT) {
        fail(rc, "%.*s: no answer by the deadline",
             (int)(strchr(buf, ':') - buf), buf);
    }
    return rc;
}

int muc_config_form(struct session *s, const char *room, xmpp_stanza_t **reply,
                    xmpp_stanza_t **form)
{
    xmpp_stanza_t *q;
    xmpp_stanza_t *iq = owner_iq(s, "get", room, &q);
    *form = NULL;
    int rc = owner_ask(s, iq, "get the configuration form", reply);
    if (rc)
        return rc;
    q = xmpp_stanza_get_child_by_name_and_ns(*reply, "query", NS_MUC_OWNER);
    *form = q ? xmpp_stanza_get_child_by_name_and_ns(q, "x", "jabber:x:data")
              : NULL;
    if (*form)
        return 0;
    xmpp_stanza_release(*reply);
    *reply = NULL;
    return fail(XE_PROTOCOL, "%s: the configuration answer holds no form",
                room);
}

int muc_config_submit(struct session *s, const char *room, xmpp_stanza_t *x)
{
    xmpp_stanza_t *q, *reply;
    xmpp_stanza_t *iq = owner_iq(s, "set", room, &q);
    xmpp_stanza_add_child_ex(q, x, 0);
    int rc = owner_ask(s, iq, "configure the room", &reply);
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

int muc_destroy(struct session *s, const char *room, const char *reason,
                const char *alternate)
{
    xmpp_stanza_t *q, *reply;
    xmpp_stanza_t *iq = owner_iq(s, "set", room, &q);
    xmpp_stanza_t *d = stanza_add_el(q, "destroy", NULL);
    if (alternate)
        xmpp_stanza_set_attribute(d, "jid", alternate);
    if (reason)
        stanza_add_text_child(d, "reason", reason);
    int rc = owner_ask(s, iq, "destroy the room", &reply);
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

void muc_leave(struct muc *m)
{
    /* Also after a signal: the goodbye goes out with session_close(). */
    if (!m->s || !m->s->conn || !xmpp_conn_is_connected(m->s->conn))
        return;
    m->leaving = true;
    for (int i = 0; i < m->n; i++) {
        struct muc_room *r = &m->room[i];
        if (r->state != MUC_IN && r->state != MUC_JOINING)
            continue;
        char to[2100];
        snprintf(to, sizeof to, "%s/%s", r->jid, r->nick);
        xmpp_stanza_t *p = xmpp_presence_new(m->s->ctx);
        xmpp_stanza_set_type(p, "unavailable");
        xmpp_stanza_set_to(p, to);
        session_send(m->s, p);
        xmpp_stanza_release(p);
        r->state = MUC_OUT;
    }
}

void muc_free(struct muc *m)
{
    for (int i = 0; i < m->n; i++) {
        struct muc_room *r = &m->room[i];
        free(r->jid);
        free(r->nick);
        free(r->wait_id);
        free(r->subject);
    }
    free(m->room);
    if (m->password) {
        memset(m->password, 0, strlen(m->password));
        free(m->password);
    }
    memset(m, 0, sizeof *m);
}

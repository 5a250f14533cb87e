/* Group chat rooms (XEP-0045) for send --muc, recv --muc and xmpp muc:
 * join and wait for the room's answer, take another nick when ours is
 * taken, notice being removed, leave. Tools keep their own message
 * handlers; this file follows the rooms' presence and refusals. */
#ifndef XMPP_MUC_H
#define XMPP_MUC_H

#include <stdbool.h>
#include <strophe.h>

#include "common/net/session.h"

#define NS_MUC       "http://jabber.org/protocol/muc"
#define NS_MUC_USER  "http://jabber.org/protocol/muc#user"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"

enum muc_state { MUC_OUT, MUC_JOINING, MUC_IN, MUC_FAILED };

struct muc_room {
    char *jid;  /* room@service */
    char *nick; /* the nick asked for, then the one in use */
    enum muc_state state;
    int conflicts;    /* nick conflicts met while joining */
    bool created;     /* status 201: our join created the room */
    bool has_subject; /* the room sent its subject (§7.2.15) */
    char *subject;    /* ...which may be NULL: none set */
    char *wait_id;    /* our last stanza to the room, until the room
                         reflects or refuses it */
    bool refused;     /* a stanza of ours came back as an error */
    char why[300];    /* why the join or a stanza failed */
};

struct muc;

/* Called for every presence of another occupant, while joining (the
 * room sends the occupants before our own presence, §7.2.3) and after. */
typedef void (*muc_presence_fn)(struct muc *m, struct muc_room *r,
                                xmpp_stanza_t *pres);

struct muc {
    struct session *s;
    struct muc_room *room;
    int n;
    const char *nick;  /* wanted nick; NULL: the account's localpart */
    char *password;    /* the rooms' password, if any */
    long history;      /* messages of history to ask for on joining */
    bool history_set;  /* --history was given */
    const char *since; /* XEP-0082: ask for the history since then */
    bool may_create;   /* else a room our join created is an error */
    bool leaving;
    muc_presence_fn on_presence;
    void *ud;
};

/* Add a room (room@service, no resource) to join; the same room twice
 * counts once. Returns 0, XE_DATA or XE_OSERR, the message printed. */
int muc_add(struct muc *m, const char *room);

/* Check a nick (a resourcepart). Returns 0 or XE_DATA, printed. */
int muc_check_nick(const char *nick);

/* Read the rooms' password from the first line of path. Returns 0 or
 * an exit status, the message printed. */
int muc_read_password(struct muc *m, const char *path);

/* The --muc option group that send and recv share: their tables list
 * the entries (each tool words --muc for what it does with the rooms),
 * their option() hands these keys to muc_option(). */
enum {
    MUC_OPT_MUC = 900,
    MUC_OPT_NICK,
    MUC_OPT_HISTORY,
    MUC_OPT_ROOM_PASSWORD_FILE,
};
#define MUC_OPT_NICK_ENTRY                                                     \
    {                                                                          \
        "nick", MUC_OPT_NICK, "NICK",                                          \
            "nick in the rooms (default: the JID's localpart;\n"               \
            "a taken nick becomes NICK-2 ... NICK-5)"                          \
    }
#define MUC_OPT_HISTORY_ENTRY                                                  \
    {                                                                          \
        "history", MUC_OPT_HISTORY, "N",                                       \
            "ask the rooms for their last N messages\n(default 0)"             \
    }
#define MUC_OPT_ROOM_PASSWORD_FILE_ENTRY                                       \
    {                                                                          \
        "room-password-file", MUC_OPT_ROOM_PASSWORD_FILE, "FILE",              \
            "the rooms' password, from FILE's first line"                      \
    }

/* Apply one of the group's options (key MUC_OPT_*). Returns
 * OPTS_CONTINUE or an exit status, the message printed. */
int muc_option(struct muc *m, int key, const char *arg);

/* The group's other options without --muc are a usage error (XE_USAGE,
 * printed); else 0. */
int muc_check_options(const struct muc *m);

/* Follow the rooms' presence and errors on this session (muc_join does
 * it too); enough to send to a room without joining it. */
void muc_watch(struct muc *m, struct session *s);

/* Join every room at once and wait until each has answered: our own
 * presence (status 110) or an error. A taken nick is retried as
 * NICK-2 ... NICK-5. Returns 0 once in all of them; else XE_STANZA (one
 * line printed per room that refused us) or the session's status. A
 * room that did not exist is destroyed again and refused unless
 * may_create. */
int muc_join(struct muc *m, struct session *s);

/* The room a stanza's from belongs to, or NULL. */
struct muc_room *muc_room_of(struct muc *m, const char *from);

/* Is from our own occupant JID in its room? */
bool muc_is_self(struct muc *m, const char *from);

/* Remember id as the stanza of ours the room has yet to reflect or
 * refuse (only the last one is followed: a room handles an occupant's
 * stanzas in order). */
void muc_expect(struct muc_room *r, const char *id);

/* Wait until every room reflected or refused our last message. Returns
 * 0, XE_STANZA when one was refused (r->why says why; the caller
 * reports it), or the session's status. */
int muc_wait_reflections(struct muc *m);

/* A disco#info round trip to the room: once it is answered, the room
 * has handled everything we sent it before. Returns 0, XE_STANZA when
 * something was refused (r->why), or the session's status. */
int muc_round_trip(struct muc *m, struct muc_room *r);

/* Ask the room for its owner configuration form (§10.1.3, §10.2).
 * Returns 0 with *form the <x/> (the caller releases *reply, which
 * holds it) or an exit status, the message printed. */
int muc_config_form(struct session *s, const char *room, xmpp_stanza_t **reply,
                    xmpp_stanza_t **form);

/* Submit an owner form (<x type='submit'/>, taken over). Returns 0 or an
 * exit status, the message printed. */
int muc_config_submit(struct session *s, const char *room, xmpp_stanza_t *x);

/* Destroy a room as its owner (§10.9), with an optional reason and
 * alternate venue. Returns 0 or an exit status, the message printed. */
int muc_destroy(struct session *s, const char *room, const char *reason,
                const char *alternate);

/* Leave every room we are in; no answer is awaited. */
void muc_leave(struct muc *m);

void muc_free(struct muc *m);

#endif

/* What xmpp remembers about an account between runs, one small file per
 * account and kind under $XDG_STATE_HOME/xmpp/ (else
 * ~/.local/state/xmpp/; XDG Base Directory 0.8: a relative
 * XDG_STATE_HOME is ignored):
 *   JID.pin    the strongest mechanism the account has logged in with
 *              (auth/mech.h): one line, the mechanism name
 *   JID.fast   a XEP-0484 FAST token: lines "mechanism NAME",
 *              "token TOKEN", "expiry SECONDS-SINCE-1970" (0: none given)
 *   JID.offer  what the account's server offered last time (net/
 *              negotiate.c), so that the next login need not wait for it
 *   JID.agent  the XEP-0388 user-agent id: one line, a random UUID
 * JID is the bare JID, ASCII letters lowercased (JIDs compare that way),
 * any byte outside [a-z0-9.@_-] and a leading '.' written as %XX.
 *
 * Files are written 0600 in a directory made 0700, atomically (a
 * temporary file in the same directory, fsync, rename), so a crash or a
 * second process never leaves half a file. A file that is not a regular
 * file, not ours, or readable or writable by group or others is not
 * read: a warning says so and how to fix it, and the load finds nothing
 * (the FAST token is a password-equivalent; a pin others could have
 * written protects nothing). Every message is printed here, once. */
#ifndef XMPP_STATE_H
#define XMPP_STATE_H

/* The directory, malloc'd; NULL when neither variable gives one. */
char *state_dir(void);

/* A whole state file of jid's of this kind into *text (malloc'd), NULL
 * when there is none or it cannot be used (warned); save one, replacing
 * it. As pin_load and pin_store. */
int state_text_load(const char *jid, const char *kind, char **text);
int state_text_store(const char *jid, const char *kind, const char *text);

/* The pin of jid into *mech (malloc'd), NULL when there is none or it
 * cannot be used (warned). Returns 0, or XE_OSERR. */
int pin_load(const char *jid, char **mech);

/* Save mech as the pin of jid; delete it. 0, or XE_CONFIG after a
 * warning (a login that worked should go on when its pin cannot be
 * saved: the caller decides). Deleting what is not there is 0. */
int pin_store(const char *jid, const char *mech);
int pin_delete(const char *jid);

struct fast_token {
    char *mech;       /* "HT-SHA-256-NONE" ... */
    char *token;      /* as the server gave it */
    long long expiry; /* seconds since 1970 (XEP-0082 parsed), 0: none */
};

/* jid's FAST token into *t (fields malloc'd), all NULL/0 when there is
 * none or it cannot be used (warned). 0, or XE_OSERR. */
int fast_load(const char *jid, struct fast_token *t);

/* Save (replacing) or delete jid's FAST token; as pin_store. A token or
 * mechanism with a control character or a line break is refused. */
int fast_store(const char *jid, const struct fast_token *t);
int fast_delete(const char *jid);

void fast_token_free(struct fast_token *t);

/* jid's user-agent id (XEP-0388 §2.2.1: stable per client install, so
 * the server can tell its sessions and tokens apart) into *id,
 * malloc'd: the saved one, else a new random (version 4) UUID, saved.
 * One that cannot be saved is still given (after the warning). 0, or
 * XE_OSERR. */
int agent_load(const char *jid, char **id);

/* XEP-0388 user-agent ids are per client instance: ejabberd ends a
 * session when another logs in with the same id, and two cron jobs run
 * at once. So each run claims one of STATE_SLOTS slots (a lock file
 * JID.lock.K held until it exits), each with its own user-agent id and
 * FAST token (JID.agent, JID.fast for slot 0; JID.agent.K, JID.fast.K).
 * Returns the slot, or -1 when all are taken (or there is no state
 * directory): then no id and no token should be used. */
#define STATE_SLOTS 16
int state_claim_slot(const char *jid);

#endif

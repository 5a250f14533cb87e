/* The roster (RFC 6121 §2) as plain data: fetched once, looked up,
 * compared, printed, and changed one item at a time. */
#ifndef XMPP_ROSTER_H
#define XMPP_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/cli/options.h"
#include "common/net/session.h"

struct roster_item {
    char *jid;          /* bare */
    char *name;         /* NULL: none */
    char *subscription; /* none, to, from, both */
    char *ask;          /* "subscribe": our request is pending; or NULL */
    char **groups;      /* sorted, no duplicates */
    size_t ngroups;
};

struct roster {
    struct roster_item *items; /* sorted by JID */
    size_t n;
    xmpp_stanza_t *result; /* the IQ result as received, for --xml */
};

/* Fetch the roster (§2.2). From then on the server pushes each change;
 * call session_answer_iqs() once so that they are acknowledged
 * (§2.1.6). Returns 0, XE_STANZA (the error reported), XE_OSERR or the
 * session's status. */
int roster_fetch(struct session *s, struct roster *r);

/* The item for bare JID jid, or NULL. */
struct roster_item *roster_find(const struct roster *r, const char *jid);

/* Does the subscription show us the contact's presence (to, both)? */
bool roster_item_sees(const struct roster_item *it);

/* Same name (none and "" alike) and same groups? */
bool roster_item_same(const struct roster_item *a, const struct roster_item *b);

/* Add group g to the item, keeping the list sorted and unique. Returns
 * 0, or XE_OSERR when out of memory (said). */
int roster_item_add_group(struct roster_item *it, const char *g);

/* Set the name (NULL or "": none). Returns 0 or XE_OSERR (said). */
int roster_item_set_name(struct roster_item *it, const char *name);

/* A deep copy of src into *dst. Returns 0 or XE_OSERR (said); *dst is
 * to be freed with roster_item_free() either way. */
int roster_item_copy(struct roster_item *dst, const struct roster_item *src);

void roster_item_free(struct roster_item *it);
void roster_free(struct roster *r);

/* Roster set (§2.3, §2.4) of the item's name and groups; or remove the
 * contact (§2.5), which also cancels subscriptions both ways. Return 0,
 * XE_STANZA (reported as "JID: type/condition") or the session's
 * status. */
int roster_set(struct session *s, const struct roster_item *it);
int roster_remove(struct session *s, const char *jid);

/* One item. Text: JID<TAB>SUBSCRIPTION<TAB>NAME<TAB>GROUPS, "+ask" after
 * the subscription while our request is pending, groups comma-separated
 * with a comma inside a name written as "\,". JSON: jid, subscription,
 * ask, name, groups (an array, maybe empty). */
void roster_item_print(FILE *f, enum output_format fmt,
                       const struct roster_item *it);

#endif

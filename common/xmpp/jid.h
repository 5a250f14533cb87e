/* JIDs (RFC 7622). */
#ifndef XMPP_JID_H
#define XMPP_JID_H

#include <stddef.h>

/* NULL when jid is a valid JID, else the reason ("empty domainpart"). */
const char *jid_check(const char *jid);

/* Does full JID `from` belong to `want`? A bare `want` matches every
 * resource of it; a full one only itself. Domains compare
 * case-insensitively. */
int jid_matches(const char *from, const char *want);

/* Length of the bare part of jid (up to the first '/'). */
size_t jid_bare_len(const char *jid);

#endif

/* Who we log in as and where: flags > environment > config file. */
#ifndef XMPP_CREDENTIALS_H
#define XMPP_CREDENTIALS_H

#include <stdbool.h>

#include "common/cli/options.h"

struct creds {
    char *jid;           /* full JID when a resource was asked for */
    char *password;      /* or the component secret; wiped when freed */
    char *host;          /* NULL: SRV lookup on the JID's domain */
    unsigned short port; /* 0: default */
    bool direct_tls;
    char *ca_file;
    bool component;
    unsigned long max_stanza; /* from --max-stanza or the config; 0: unset */
    bool omemo, trusted_only; /* the config's omemo, trusted_only */
};

/* Fill *c from the options, XMPP_JID/XMPP_PASSWORD/XMPP_ACCOUNT and the
 * config file. Returns 0 or an exit status, the message printed. */
int creds_resolve(const struct session_opts *o, struct creds *c);

void creds_free(struct creds *c);

/* --server HOST[:PORT], [IPv6]:PORT or a bare IPv6 address: *host is
 * malloc'd, *port set only when given. Returns 0 or XE_USAGE, the
 * message printed. */
int server_split(const char *spec, char **host, unsigned short *port);

/* Read the first line of FILE (without its newline) into a malloc'd
 * string. Returns 0 or an exit status, the message printed. */
int read_first_line(const char *what, const char *path, char **out);

#endif

/* Who we log in as and where: options > environment > config file. */
#ifndef XMPP_CREDENTIALS_H
#define XMPP_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cli/options.h"

struct creds {
    char *jid;           /* full JID when a resource was asked for */
    char *password;      /* or the component secret; wiped when freed */
    char *password_from; /* where it came from ("XMPP_PASSWORD"), for
                            messages */
    char *host;          /* NULL: SRV lookup on the JID's domain */
    unsigned short port; /* 0: default */
    bool direct_tls;
    char *ca_file;
    char *cert_file; /* a client certificate (SASL EXTERNAL), with */
    char *key_file;  /* its key; password may then be NULL */
    bool insecure;
    bool allow_plain; /* SASL PLAIN over TLS (auth/mech.h) */
    bool component;
    unsigned long max_stanza; /* 0: unset */
    char *nick;               /* for group chats (config); NULL: unset */
    double keepalive;         /* seconds (0: off), see session_opts */
    double retry;             /* seconds (0: off) */
    bool omemo, trusted_only; /* the config's omemo, trusted_only */
};

/* After the options, before the tool's prepare(): load the config
 * section into o->config (refusing a bad file there, naming the line),
 * apply the config's and the environment's timeout, and reserve stdin
 * for --password-file - / --secret-file -. Returns 0 or an exit status,
 * the message printed. creds_unload() releases it. */
int creds_load(struct session_opts *o);
void creds_unload(struct session_opts *o);

/* Fill *c from the options, the environment (XMPP_JID, XMPP_PASSWORD,
 * XMPP_SERVER, ...: see xmpp(1)) and the config section, asking on the
 * terminal for a password nothing gives. Returns 0 or an exit status,
 * the message naming the option, variable or config line at fault. */
int creds_resolve(const struct session_opts *o, struct creds *c);

void creds_free(struct creds *c);

/* Check HOST[:PORT], [IPv6]:PORT or a bare IPv6 address: returns NULL,
 * with the host at spec + *at, *len bytes long, and *port set when one
 * is given (else 0); or why it is no server address. */
const char *server_check(const char *spec, size_t *at, size_t *len,
                         unsigned short *port);

/* --server HOST[:PORT], [IPv6]:PORT or a bare IPv6 address: *host is
 * malloc'd, *port set only when given. Returns 0 or XE_USAGE, the
 * message printed. */
int server_split(const char *spec, char **host, unsigned short *port);

/* Read the first line of FILE ("-": stdin) without its newline into a
 * malloc'd string; `what` names it in messages ("--password-file").
 * Returns 0 or an exit status, the message printed. */
int read_first_line(const char *what, const char *path, char **out);

#endif

/* The config file: $XDG_CONFIG_HOME/xmpp/config (else
 * ~/.config/xmpp/config), INI with one section per account. */
#ifndef XMPP_CONFIG_H
#define XMPP_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

struct account {
    char *name; /* the section */
    char *jid;
    char *password;
    char *password_cmd;
    char *server;   /* host */
    long port;      /* 0: unset */
    int direct_tls; /* -1: unset */
    char *ca_file;
    char *resource;
    long max_stanza;  /* 0: unset */
    int omemo;        /* send encrypts (--omemo); -1: unset */
    int trusted_only; /* and only for verified devices; -1: unset */
};

/* Load the section `want` into *a. With want NULL: when jid (from the
 * command line or the environment) is given, the section for that
 * account if there is one, else none; without jid, the section named
 * "default", else the first. A missing file leaves *a empty and returns
 * 0. Returns an exit status (XE_CONFIG) with the message printed on
 * failure. Warns when the file holds a password others can read. */
int config_load(const char *want, const char *jid, struct account *a);

/* The same from an open file (path names it in messages, and is
 * stat'ed for the permission warning): the parser alone, for
 * config_load and the fuzz target. */
int config_parse(FILE *f, const char *path, const char *want, const char *jid,
                 struct account *a);

void account_free(struct account *a);

/* The config file's path, malloc'd; NULL when HOME is unset too. */
char *config_path(void);

#endif

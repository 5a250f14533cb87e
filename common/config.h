/* The config file: $XDG_CONFIG_HOME/xmpp/config (else
 * ~/.config/xmpp/config), INI with one section per account. */
#ifndef XMPP_CONFIG_H
#define XMPP_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

struct account {
    char *name;          /* the section */
    char *jid;
    char *password;
    char *password_cmd;
    char *server;        /* host */
    long port;           /* 0: unset */
    int direct_tls;      /* -1: unset */
    char *ca_file;
    char *resource;
};

/* Load the section `want` (NULL: the one named "default", else the
 * first) into *a. A missing file leaves *a empty and returns 0. Returns
 * an exit status (XE_CONFIG) with the message printed on failure. */
int config_load(const char *want, struct account *a);

/* The same from an open file (path names it in messages): the parser
 * alone, for config_load and the fuzz target. On failure *a is empty. */
int config_parse(FILE *f, const char *path, const char *want,
                 struct account *a);

void account_free(struct account *a);

/* The config file's path, malloc'd; NULL when HOME is unset too. */
char *config_path(void);

#endif

/* The config file: $XDG_CONFIG_HOME/xmpp/config (else
 * ~/.config/xmpp/config), INI with one section per account. */
#ifndef XMPP_CONFIG_H
#define XMPP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The keys of a section, for account.line and account_where(). */
enum account_key {
    AK_JID,
    AK_PASSWORD,
    AK_PASSWORD_FILE,
    AK_PASSWORD_CMD,
    AK_SERVER,
    AK_PORT,
    AK_DIRECT_TLS,
    AK_CA_FILE,
    AK_INSECURE,
    AK_RESOURCE,
    AK_COMPONENT,
    AK_SECRET_FILE,
    AK_TIMEOUT,
    AK_MAX_STANZA,
    AK_NICK,
    AK_KEEPALIVE,
    AK_RETRY,
    AK_OMEMO,
    AK_TRUSTED_ONLY,
    AK_ALLOW_PLAIN,
    AK_CERT_FILE,
    AK_KEY_FILE,
    AK_COUNT
};

struct account {
    char *name; /* the section */
    char *path; /* the file it came from, for messages */
    char *jid;
    char *password;
    char *password_file;
    char *password_cmd;
    char *server;   /* host, from "server = HOST[:PORT]" */
    long port;      /* from that or "port"; 0: unset */
    int direct_tls; /* -1: unset */
    char *ca_file;
    int insecure; /* -1: unset */
    char *resource;
    char *component; /* XEP-0114: the section is a component's */
    char *secret_file;
    double timeout;     /* seconds, 0: none; -1: unset */
    long max_stanza;    /* 0: unset */
    char *nick;         /* in group chats */
    double keepalive;   /* seconds, 0: off; -1: unset */
    double retry;       /* seconds, 0: off; -1: unset */
    int omemo;          /* send encrypts (--omemo); -1: unset */
    int trusted_only;   /* and only for verified devices; -1: unset */
    int allow_plain;    /* SASL PLAIN over TLS; -1: unset */
    char *cert_file;    /* a client certificate (SASL EXTERNAL) */
    char *key_file;     /* and its private key */
    int line[AK_COUNT]; /* where each key was set; 0: not set */
};

/* Load the section `want` into *a. With want NULL: when jid (from the
 * command line or the environment) is given, the section for that
 * account (or component) if there is one, else none; without jid, the
 * section named "default", else the first. A missing file leaves *a
 * empty and returns 0. Every section is checked: an unknown key or a
 * bad value anywhere is refused, naming the file and line. Returns an
 * exit status (XE_CONFIG) with the message printed on failure. Warns
 * when the file holds a password others can read. */
int config_load(const char *want, const char *jid, struct account *a);

/* The same from an open file (path names it in messages, and is
 * stat'ed for the permission warning): the parser alone, for
 * config_load and the fuzz target. */
int config_parse(FILE *f, const char *path, const char *want, const char *jid,
                 struct account *a);

/* Is there a section of this name in f? Returns 1, 0, or an exit status
 * (the message printed) when f is not a config file we would read. */
int config_has_section(FILE *f, const char *path, const char *name);

/* Where key k of a was set, for messages: "PATH:LINE: KEY". */
const char *account_where(const struct account *a, enum account_key k,
                          char *buf, size_t n);

/* "true", "yes", "on", "1": 1; "false", "no", "off", "0": 0; else -1. */
int config_bool(const char *v);

/* The value of a key that holds text (a path, a JID, a command), or
 * NULL: unset, or not such a key. */
const char *account_text(const struct account *a, enum account_key k);

/* The key's name as written in the file ("ca_file"). */
const char *account_key_name(enum account_key k);

void account_free(struct account *a);

/* The config file's path, malloc'd; NULL when HOME is unset too. */
char *config_path(void);

#endif

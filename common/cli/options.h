/* Options every tool accepts, parsed from one shared table so that
 * --jid, --timeout, -v, TLS and credentials behave alike everywhere. */
#ifndef XMPP_OPTIONS_H
#define XMPP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cli/tool.h"

enum output_format { OUT_TEXT, OUT_JSON, OUT_XML };

struct account;

struct session_opts {
    const char *jid;
    const char *account;
    const char *password_file;
    const char *password_cmd;
    const char *server; /* HOST[:PORT], skips SRV */
    const char *ca_file;
    const char *cert_file; /* --cert: a client certificate */
    const char *key_file;  /* --key: its private key */
    const char *resource;
    const char *component;   /* XEP-0114: connect as this component domain */
    const char *secret_file; /* the component's shared secret */
    bool direct_tls;
    bool insecure;
    bool allow_plain;   /* --allow-plain */
    bool reset_pin;     /* --reset-pin: forget the pin and FAST token */
    bool reset_token;   /* --reset-token: have the server end the token */
    size_t max_stanza;  /* --max-stanza; 0: not given */
    double timeout;     /* seconds; < 0 means none */
    bool timeout_given; /* -t was on the command line */
    int verbose;
    enum output_format format;
    bool reconnect;         /* --reconnect (OPTS_RECONNECT_ENTRY) */
    bool tells_loss;        /* set by a tool: it reports a lost session
                             * itself, with session_tell_loss() */
    struct account *config; /* the config section in use (creds_load) */
    /* Seconds; < 0: not given (the config file or the default decides,
     * see creds_resolve); 0: off. Only for the tools (and subcommands)
     * whose table takes the option: for the others main() sets 0. */
    double keepalive; /* --keepalive: tools that stay connected */
    double retry;     /* --retry: tools that do a job and exit */
};

/* The options of the session that only some tools take: a tool lists
 * the entries in its own table (and a subcommand names them in its
 * `takes`), so that --help, completion and the subcommand checks show
 * and accept them only where they apply; opts_parse applies them to
 * session_opts itself, the tool's option() never sees them. */
enum {
    OPTS_KEEPALIVE = 800,
    OPTS_RECONNECT,
    OPTS_RETRY,
};
#define OPTS_KEEPALIVE_ENTRY                                                   \
    {                                                                          \
        "keepalive", OPTS_KEEPALIVE, "SECONDS",                                \
            "after SECONDS without a word from the server,\n"                  \
            "ask it for one; no answer within as long: the\n"                  \
            "connection is dead (default 60; 0: off)"                          \
    }
#define OPTS_RECONNECT_ENTRY                                                   \
    {                                                                          \
        "reconnect", OPTS_RECONNECT, NULL,                                     \
            "when the connection drops, reconnect with\n"                      \
            "backoff and resume the session (XEP-0198)"                        \
    }
#define OPTS_RETRY_ENTRY                                                       \
    {                                                                          \
        "retry", OPTS_RETRY, "SECONDS",                                        \
            "when the server cannot be reached or the\n"                       \
            "connection drops, try again for up to SECONDS,\n"                 \
            "sending again only what was not confirmed"                        \
    }

/* The default of --keepalive, in seconds. */
#define OPTS_DEFAULT_KEEPALIVE 60

/* The deadline, in seconds, of a tool that does a job and exits. */
#define OPTS_DEFAULT_TIMEOUT 30

/* Returned by opts_parse when the tool should go on with its job. */
#define OPTS_CONTINUE (-1)

/* Which of the tool's own options were given: bit i for the i-th option
 * of its table (headings not counted). */
typedef unsigned long long opts_given;

/* Does the tool (with sub, that subcommand) take the option of this
 * key? */
bool opts_takes(const struct tool *t, const struct tool_sub *sub, int key);

/* Parse argv against the shared options and the current tool's own
 * (tool->opts, handed to tool->option with `state`). On success sets
 * *first to the index of the first operand, *given to what was given,
 * and returns OPTS_CONTINUE; after --help or --version returns XE_OK;
 * on a usage error prints it and returns XE_USAGE. */
int opts_parse(int argc, char **argv, struct session_opts *o, void *state,
               int *first, opts_given *given);

/* The shared options, in the tool table's form; ends with {0}. */
const struct tool_opt *opts_common(void);

/* Print "usage: xmpp TOOL ..." and the help generated from the tool's
 * table to stdout (or stderr). */
void opts_usage(const struct tool *t, int to_stderr);

/* One usage line's operands for t (with sub, for that subcommand):
 * "[options] JID... [-m TEXT]", into buf. */
void opts_synopsis(const struct tool *t, const struct tool_sub *sub, char *buf,
                   size_t n);

/* An option as a user writes it ("--name", or "-g" for a short-only
 * one), into buf. */
const char *opts_flag(const struct tool_opt *opt, char *buf, size_t n);

/* Is this table entry a heading rather than an option? */
bool opts_is_heading(const struct tool_opt *opt);

/* Parse a non-negative number of seconds ("2", "0.5"). */
int opts_seconds(const char *arg, double *out);

/* Parse --max-size: a number of bytes, 1 to 1 GiB; a usage error is
 * printed. Returns OPTS_CONTINUE or XE_USAGE. */
int opts_size(const char *arg, size_t *out);

/* The smallest --max-stanza (and config max_stanza): a server's stream
 * header and features must fit. */
#define OPTS_MIN_STANZA 1024

/* Parse a number of bytes for the option flag, min to 1 GiB, the same
 * way; the usage error names flag. */
int opts_bytes(const char *flag, const char *arg, long min, size_t *out);

/* The largest count an option takes (--count): the largest value a long
 * holds everywhere, so that the bound means the same on 32-bit systems. */
#define OPTS_COUNT_MAX 2147483647L

/* Parse an integer in [min, max]. */
int opts_int(const char *arg, long min, long max, long *out);

#endif

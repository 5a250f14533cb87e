/* What main() knows of a tool, declared once in the tool's own file:
 * its options and subcommands with their help. Parsing, `--help`, the
 * completion scripts and the man-page checks in tests/ all come from
 * this one declaration (see ARCHITECTURE.md, "Adding a tool"). */
#ifndef XMPP_TOOL_H
#define XMPP_TOOL_H

#include <stdbool.h>
#include <stddef.h>

struct session;
struct session_opts;

enum tool_flags {
    TOOL_LISTENER = 1 << 0,    /* runs until interrupted: no default deadline */
    TOOL_SUB_IMPLIED = 1 << 1, /* an operand that names no subcommand is
                                  the default subcommand's (disco JID) */
    TOOL_OFFLINE = 1 << 2,     /* never connects: run gets no session, and
                                  the config is the tool's business */
};

enum tool_opt_flags {
    OPT_REPEAT = 1 << 0, /* may be given more than once */
};

/* One option. `key` is what the tool's option() callback gets: an ASCII
 * letter or digit is also the short option (-m); long-only options use
 * numbers from 1000 up. An entry with only `help` set is a heading in
 * --help ("Group chat (XEP-0045):"); the table ends with {0}. */
struct tool_opt {
    const char *name;   /* "message"; NULL: short only, or a heading */
    int key;            /* 'm', or 1000 + n */
    const char *arg;    /* its value's placeholder ("TEXT"); NULL: a flag */
    const char *help;   /* one line, or more split by '\n' */
    unsigned flags;     /* OPT_* */
    const char *values; /* the values it takes, space-separated, for
                           completion; NULL: any */
};

/* One subcommand (xmpp roster add JID...). The table ends with {0}. */
struct tool_sub {
    const char *name;
    const char *operands; /* "JID...", "ROOM [TEXT]": for usage lines */
    int min, max;         /* how many operands; max -1: no limit */
    const char *help;     /* one line, or more split by '\n' */
    const char *takes;    /* the tool's own options it takes, by long
                             name, space-separated; NULL: all of them */
    int (*run)(void *tool, struct session *s); /* with the session open */
};

/* The command line after the options, for prepare(). */
struct tool_args {
    const struct tool_sub *sub; /* the subcommand, or NULL */
    int argc;                   /* operands (after the subcommand) */
    char **argv;
};

/* A tool runs in two phases that main() drives: prepare (options are
 * parsed; check operands, read input: everything that can be refused
 * before a connection is made), then run with the session open. main
 * opens and closes the session and checks stdout at the end. */
struct tool {
    const char *name;
    const char *summary;         /* one line for `xmpp --help` */
    const char *operands;        /* after "[options] " in the usage line, for
                                    a tool without subcommands */
    const struct tool_opt *opts; /* its own options; NULL: none */
    const struct tool_sub *subs; /* its subcommands; NULL: none */
    const char *default_sub;     /* when no operand names one; NULL: a
                                    subcommand is required */
    const char *notes;           /* --help text after the options */
    unsigned flags;              /* TOOL_* */
    size_t size;                 /* of the tool's state, zeroed before
                                    any callback; NULL callbacks skip */
    void (*init)(void *tool);    /* defaults, before options */
    int (*option)(void *tool, int key, const char *arg);
    /* Returns 0 to go on, or an exit status (the message printed). */
    int (*prepare)(void *tool, struct session_opts *o,
                   const struct tool_args *a);
    /* NULL with subcommands: the subcommand's run. */
    int (*run)(void *tool, struct session *s);
    void (*release)(void *tool); /* after the session is closed */
};

/* Every tool, in --help order; NULL-terminated. Defined in main.c. */
extern const struct tool *const tools[];

/* The tool being run, set by main() before anything else. */
extern const struct tool *current_tool;

#endif

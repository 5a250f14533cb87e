/* What main() knows of a tool: the single table behind dispatch,
 * `xmpp --help`, `TOOL --help`, completions and the man-page index. */
#ifndef XMPP_TOOL_H
#define XMPP_TOOL_H

#include <getopt.h>

enum tool_flags {
    TOOL_LISTENER = 1 << 0, /* runs until interrupted: no default deadline */
};

struct tool {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;          /* one line for `xmpp --help` */
    const char *synopsis;         /* "[options] JID... [-m TEXT | -f FILE]" */
    const char *help;             /* the tool's own option lines for --help */
    const char *shortopts;        /* the tool's own short options */
    const struct option *options; /* the tool's own long options */
    unsigned flags;
};

/* Every tool, in --help order; NULL-terminated. Defined in main.c. */
extern const struct tool *const tools[];

/* The tool being run, set by main() before calling tool->run. */
extern const struct tool *current_tool;

#endif

/* xmpp: XMPP for shell scripts. One binary, many tools, chosen by the
 * name it was run as (xmpp-send) or by its first argument (xmpp send). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/completion.h"
#include "common/cli/credentials.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/options.h"
#include "common/cli/subcmd.h"
#include "common/cli/tool.h"
#include "common/cli/version.h"
#include "common/io/output.h"
#include "common/net/session.h"

/* Every tool, in --help order: one line each (cmd/NAME.c defines
 * tool_NAME). */
#define TOOLS(X)                                                               \
    X(send)                                                                    \
    X(recv)                                                                    \
    X(roster)                                                                  \
    X(presence)                                                                \
    X(iq)                                                                      \
    X(disco)                                                                   \
    X(ping)                                                                    \
    X(version)                                                                 \
    X(time)                                                                    \
    X(vcard)                                                                   \
    X(shell)                                                                   \
    X(muc)                                                                     \
    X(command)                                                                 \
    X(pubsub)                                                                  \
    X(config)

#define DECLARE(name) extern const struct tool tool_##name;
#define ENTRY(name)   &tool_##name,
TOOLS(DECLARE)
const struct tool *const tools[] = {TOOLS(ENTRY) NULL};

const struct tool *current_tool;

static const struct tool *find_tool(const char *name)
{
    for (int i = 0; tools[i]; i++)
        if (!strcmp(tools[i]->name, name))
            return tools[i];
    return NULL;
}

static int list_tools(FILE *f)
{
    fprintf(f, "usage: xmpp TOOL [options] [args]\n"
               "       xmpp-TOOL [options] [args]\n\nTools:\n");
    for (int i = 0; tools[i]; i++)
        fprintf(f, "  %-10s %s\n", tools[i]->name, tools[i]->summary);
    fprintf(f, "\n'xmpp TOOL --help' shows a tool's options; man xmpp for "
               "exit statuses and the config file.\n"
               "'xmpp --completion bash|zsh' prints a shell completion "
               "script.\n");
    return 0;
}

/* Whatever the tool printed must have reached stdout: a full disk or a
 * closed pipe is an error, not a success. */
static int check_stdout(int rc)
{
    if (out_flush(stdout) < 0 && !rc)
        return fail(XE_IOERR, "stdout: %s", strerror(errno));
    return rc;
}

/* Both phases, with the session open in between (tool.h). */
static int prepare_and_run(const struct tool *t, void *st,
                           struct session_opts *o, int argc, char **argv)
{
    int first;
    opts_given given;
    int rc = opts_parse(argc, argv, o, st, &first, &given);
    if (rc != OPTS_CONTINUE)
        return rc;
    struct tool_args a = {NULL, argc - first, argv + first};
    if (t->subs && (rc = subcmd_pick(t, argc, argv, first, given, &a)))
        return rc;
    /* Where a tool does not take them, neither does its config file. */
    if (!opts_takes(t, a.sub, OPTS_KEEPALIVE))
        o->keepalive = 0;
    if (!opts_takes(t, a.sub, OPTS_RETRY))
        o->retry = 0;
    bool offline = t->flags & TOOL_OFFLINE;
    if (!offline && (rc = creds_load(o)))
        return rc;
    if (t->prepare && (rc = t->prepare(st, o, &a)))
        return rc;
    if (offline)
        return t->run ? t->run(st, NULL) : a.sub->run(st, NULL);
    struct session s;
    if (!(rc = session_open(&s, o)))
        rc = t->run ? t->run(st, &s) : a.sub->run(st, &s);
    /* Out before the goodbye, which the session's watchdog may cut
     * short if the library hangs in it (net/watchdog.c). */
    rc = check_stdout(rc);
    return session_close(&s, rc);
}

static int run(const struct tool *t, int argc, char **argv)
{
    static char name[64];
    snprintf(name, sizeof name, "xmpp %s", t->name);
    progname = name;
    current_tool = t;
    void *st = calloc(1, t->size ? t->size : 1);
    if (!st)
        return fail_oom(NULL);
    if (t->init)
        t->init(st);
    struct session_opts o = {0};
    int rc = prepare_and_run(t, st, &o, argc, argv);
    creds_unload(&o);
    if (t->release)
        t->release(st);
    free(st);
    return check_stdout(rc);
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    const struct tool *t;
    if (!strncmp(base, "xmpp-", 5) && (t = find_tool(base + 5)))
        return run(t, argc, argv);
    if (argc < 2)
        return list_tools(stderr), XE_USAGE;
    if ((t = find_tool(argv[1])))
        return run(t, argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help"))
        return list_tools(stdout);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("xmpp %s\n", XMPP_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "--completion"))
        return completion_print(stdout, argv[2]);
    return fail(XE_USAGE, "'%s' is not a tool; see 'xmpp --help'", argv[1]);
}

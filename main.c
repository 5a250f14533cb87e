/* xmpp: XMPP for shell scripts. One binary, many tools, chosen by the
 * name it was run as (xmpp-send) or by its first argument (xmpp send). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/completion.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/tool.h"
#include "common/cli/version.h"

extern const struct tool tool_send, tool_recv, tool_roster, tool_presence,
    tool_iq, tool_disco, tool_ping, tool_version, tool_time, tool_vcard,
    tool_shell, tool_muc, tool_command, tool_pubsub;

const struct tool *const tools[] = {
    &tool_send,  &tool_recv, &tool_roster,  &tool_presence, &tool_iq,
    &tool_disco, &tool_ping, &tool_version, &tool_time,     &tool_vcard,
    &tool_shell, &tool_muc,  &tool_command, &tool_pubsub,   NULL,
};

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

static int run(const struct tool *t, int argc, char **argv)
{
    static char name[64];
    snprintf(name, sizeof name, "xmpp %s", t->name);
    progname = name;
    current_tool = t;
    return t->run(argc, argv);
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

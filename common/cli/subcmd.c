#include "common/cli/subcmd.h"

#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/tool.h"

const void *subcmd_find(const void *table, size_t size, int argc, char **argv,
                        int first)
{
    const struct tool *t = current_tool;
    if (first >= argc)
        return fail(XE_USAGE, "no subcommand; usage: xmpp %s %s", t->name,
                    t->synopsis),
               NULL;
    const struct subcmd *sc;
    for (const char *p = table;; p += size) {
        sc = (const struct subcmd *)(const void *)p;
        if (!sc->name || !strcmp(sc->name, argv[first]))
            break;
    }
    if (!sc->name)
        return fail(XE_USAGE,
                    "'%s' is not a subcommand; see 'xmpp %s "
                    "--help'",
                    argv[first], t->name),
               NULL;
    int n = argc - first - 1;
    if (n < sc->min || n > sc->max)
        return fail(XE_USAGE, "%s: %s; usage: xmpp %s %s", sc->name,
                    n < sc->min ? "too few arguments" : "too many arguments",
                    t->name, t->synopsis),
               NULL;
    return sc;
}

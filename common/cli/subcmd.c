#include "common/cli/subcmd.h"

#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/suggest.h"

static const struct tool_sub *find(const struct tool *t, const char *name)
{
    for (const struct tool_sub *c = t->subs; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

bool subcmd_takes(const struct tool_sub *sub, const char *name)
{
    if (!sub->takes)
        return true;
    size_t len = strlen(name);
    for (const char *p = sub->takes; (p = strstr(p, name)); p += len)
        if ((p == sub->takes || p[-1] == ' ') && (!p[len] || p[len] == ' '))
            return true;
    return false;
}

/* Every option given must be one the subcommand takes. */
static int check_takes(const struct tool *t, const struct tool_sub *sub,
                       opts_given given)
{
    int i = 0;
    for (const struct tool_opt *o = t->opts; o && (o->name || o->help); o++) {
        if (opts_is_heading(o))
            continue;
        char flag[64];
        if (i < 64 && (given & (1ULL << i)) && o->name &&
            !subcmd_takes(sub, o->name))
            return fail(XE_USAGE,
                        "%s does not go with '%s'; see 'xmpp %s "
                        "--help'",
                        opts_flag(o, flag, sizeof flag), sub->name, t->name);
        i++;
    }
    return 0;
}

/* "'ad' is not a subcommand; did you mean 'add'?" */
static int not_a_sub(const struct tool *t, const char *name)
{
    struct suggest s;
    suggest_init(&s, name);
    for (const struct tool_sub *c = t->subs; c->name; c++)
        suggest_try(&s, c->name);
    if (s.best)
        return fail(XE_USAGE, "'%s' is not a subcommand; did you mean '%s'?",
                    name, s.best);
    return fail(XE_USAGE, "'%s' is not a subcommand; see 'xmpp %s --help'",
                name, t->name);
}

int subcmd_pick(const struct tool *t, int argc, char **argv, int first,
                opts_given given, struct tool_args *a)
{
    const struct tool_sub *sub = first < argc ? find(t, argv[first]) : NULL;
    if (sub)
        first++;
    else if (t->default_sub && (first >= argc || (t->flags & TOOL_SUB_IMPLIED)))
        sub = find(t, t->default_sub);
    else if (first < argc)
        return not_a_sub(t, argv[first]);
    else
        return fail(XE_USAGE, "no subcommand; see 'xmpp %s --help'", t->name);
    int rc = check_takes(t, sub, given);
    if (rc)
        return rc;
    int n = argc - first;
    if (n < sub->min) {
        char syn[512];
        opts_synopsis(t, sub, syn, sizeof syn);
        return fail(XE_USAGE, "%s: too few arguments; usage: xmpp %s %s",
                    sub->name, t->name, syn);
    }
    if (sub->max >= 0 && n > sub->max)
        return fail(XE_USAGE, "%s: unexpected argument '%s'", sub->name,
                    argv[first + sub->max]);
    *a = (struct tool_args){sub, n, argv + first};
    return 0;
}

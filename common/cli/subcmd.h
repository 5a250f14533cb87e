/* Subcommands (xmpp roster add JID..., xmpp muc subject ROOM): every
 * tool that has them declares them in its tool_sub table (tool.h); the
 * lookup, the operand count, and whether the options given go with the
 * subcommand are checked here, with one set of usage errors. */
#ifndef XMPP_SUBCMD_H
#define XMPP_SUBCMD_H

#include "common/cli/options.h"
#include "common/cli/tool.h"

/* The subcommand named by argv[first] (or t->default_sub), its
 * operands into *a. Returns 0, or XE_USAGE with the message printed. */
int subcmd_pick(const struct tool *t, int argc, char **argv, int first,
                opts_given given, struct tool_args *a);

/* Does sub take the tool's option named `name`? */
bool subcmd_takes(const struct tool_sub *sub, const char *name);

#endif

/* Tools whose first operand is a subcommand (xmpp muc subject ROOM,
 * xmpp pubsub items NODE): one table per tool names them and how many
 * operands each takes; the lookup and its usage errors live here. */
#ifndef XMPP_SUBCMD_H
#define XMPP_SUBCMD_H

#include <stddef.h>

/* The first member of each entry of a tool's table; the table ends with
 * a NULL name. */
struct subcmd {
    const char *name;
    int min, max; /* operands after the subcommand */
};

/* Find argv[first] in table, whose entries are `size` bytes each and
 * begin with a struct subcmd, and check the count of operands after
 * it. Returns the entry, or NULL after printing the usage error (exit
 * status XE_USAGE). */
const void *subcmd_find(const void *table, size_t size, int argc, char **argv,
                        int first);

#endif

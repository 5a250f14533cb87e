/* What every unit test program (tests/unit/NAME.c) shares: CHECK, which
 * counts and names a failed check, and the closing summary line that
 * `make unit` and scripts/check read. Included once, by the program. */
#ifndef XMPP_UNIT_CHECK_H
#define XMPP_UNIT_CHECK_H

#include <stdio.h>

#include "common/cli/tool.h"

const struct tool *current_tool; /* main.c's, which is not linked */

static int passed, failed;

/* A check: counted, and a line naming it when it fails. */
#define CHECK(what, cond) check(__LINE__, what, !!(cond))
static void check(int line, const char *what, int ok)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("not ok: line %d: %s\n", line, what);
}

#endif

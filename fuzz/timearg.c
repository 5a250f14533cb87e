/* timearg_parse and timearg_xep82 (common/cli/timearg.c) on arbitrary
 * strings: what a user gives to history --since and --until. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/timearg.h"
#include "fuzz.h"

/* A fixed "now" (2026-11-30T08:00:00Z), so that results repeat. */
#define NOW ((time_t)1796025600)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *arg = fuzz_cstr(data, size);
    if (!arg)
        return 0;
    time_t t;
    if (timearg_parse(arg, NOW, &t) == 0) {
        /* Whatever was accepted is written back as XEP-0082 UTC, which
         * reads back as the same second. */
        char stamp[TIMEARG_XEP82_LEN], again[TIMEARG_XEP82_LEN];
        timearg_xep82(t, stamp, sizeof stamp);
        CHECK(strlen(stamp) == 20 && stamp[10] == 'T' && stamp[19] == 'Z');
        time_t back;
        CHECK(timearg_parse(stamp, NOW, &back) == 0 && back == t);
        timearg_xep82(back, again, sizeof again);
        CHECK(!strcmp(stamp, again));
        /* A time ago is never in the future, nor before 1970. */
        if (strlen(arg) < 5 || arg[4] != '-')
            CHECK(t <= NOW && t >= 0);
    }
    free(arg);
    return 0;
}

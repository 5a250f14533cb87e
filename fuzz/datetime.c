/* The time parsers (common/io/datetime.c): XEP-0082 stamps come from
 * the network in every delayed message recv --since looks at, and
 * --since takes what a user types. */
#include <stdlib.h>
#include <string.h>

#include "common/io/datetime.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    double t, span;
    char buf[64];
    if (datetime_parse(s, &t) == 0) {
        /* A date of four digits, written back, parses to the same
         * second (offsets of up to a day either side). */
        CHECK(t > -62167219200.0 - 86400 && t < 253402300800.0 + 86400);
        double back;
        CHECK(datetime_parse(datetime_format(t, buf, sizeof buf), &back) == 0);
        CHECK(back <= t && t - back < 1);
    }
    if (datetime_span(s, &span) == 0)
        CHECK(span >= 0 && span < 1e12);
    if (datetime_since(s, 1e9, &t) == 0)
        CHECK(strlen(s) > 1);
    free(s);
    return 0;
}

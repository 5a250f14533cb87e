/* The parsers of option values (common/cli/options.c, credentials.c):
 * --server HOST[:PORT] and the numbers of --timeout, --count, --port. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/credentials.h"
#include "common/cli/exitcode.h"
#include "common/cli/options.h"
#include "fuzz.h"

static void server(const char *spec)
{
    char *host = NULL;
    unsigned short port = 0;
    int rc = server_split(spec, &host, &port);
    CHECK(rc == 0 || rc == XE_USAGE);
    if (rc) {
        CHECK(!host);
        return;
    }
    /* The host is a non-empty piece of the spec, and a port was given
     * exactly when it is set. */
    CHECK(host && *host && strstr(spec, host));
    CHECK(!strchr(spec, ']') || !strchr(host, ']'));
    if (port)
        CHECK(port >= 1 && strchr(spec, ':'));
    free(host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    server(s);
    long n = -1;
    if (opts_int(s, -128, 127, &n) == 0)
        CHECK(n >= -128 && n <= 127);
    double d = -1;
    if (opts_seconds(s, &d) == 0)
        CHECK(d >= 0 && d <= 1e7);
    free(s);
    return 0;
}

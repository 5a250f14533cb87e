/* config_parse (common/config.c, over inih) on arbitrary files. An
 * input starting "want=NAME\n" asks for account NAME, as -a NAME does;
 * otherwise the default account is chosen. */
#include <stdlib.h>
#include <string.h>

#include "../common/config.h"
#include "../common/exitcode.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *want = NULL;
    const uint8_t *end = data + size;
    if (size > 5 && memcmp(data, "want=", 5) == 0) {
        const uint8_t *nl = memchr(data, '\n', size);
        if (nl) {
            want = fuzz_cstr(data + 5, (size_t)(nl - data - 5));
            data = nl + 1;
        }
    }
    size_t n = (size_t)(end - data);
    /* fmemopen wants a buffer of at least one byte. */
    char *text = fuzz_cstr(data, n);
    FILE *f = fmemopen(text, n ? n : 1, "r");
    CHECK(f);
    struct account a;
    int rc = config_parse(f, "fuzz", want, &a);
    fclose(f);
    CHECK(rc == 0 || rc == XE_CONFIG);
    if (rc == 0) {
        CHECK(a.port >= 0 && a.port <= 65535);
        CHECK(a.direct_tls >= -1 && a.direct_tls <= 1);
        if (want)
            CHECK(a.name && strcmp(a.name, want) == 0);
        /* Every value came from a line "key = value" of the input. */
        const char *vals[] = {a.jid, a.password, a.password_cmd, a.server,
                              a.ca_file, a.resource};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            CHECK(!vals[i] || memmem(text, n, vals[i], strlen(vals[i])));
    } else {
        CHECK(!a.jid && !a.password && !a.name && a.port == 0);
    }
    account_free(&a);
    free(text);
    free(want);
    return 0;
}

/* config_parse (common/cli/config.c, over inih) on arbitrary files. An
 * input starting "want=NAME\n" asks for account NAME, as -a NAME does,
 * and "jid=JID\n" for the account of that JID, as -j JID does;
 * otherwise the default account is chosen. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/config.h"
#include "common/cli/exitcode.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *want = NULL, *jid = NULL;
    const uint8_t *end = data + size;
    for (int i = 0; i < 2; i++) {
        char **slot = NULL;
        size_t n = (size_t)(end - data);
        if (n > 5 && memcmp(data, "want=", 5) == 0 && !want)
            slot = &want;
        else if (n > 4 && memcmp(data, "jid=", 4) == 0 && !jid)
            slot = &jid;
        const uint8_t *nl = slot ? memchr(data, '\n', n) : NULL;
        if (!nl)
            break;
        const uint8_t *v = data + (slot == &want ? 5 : 4);
        *slot = fuzz_cstr(v, (size_t)(nl - v));
        data = nl + 1;
    }
    size_t n = (size_t)(end - data);
    /* fmemopen wants a buffer of at least one byte. */
    char *text = fuzz_cstr(data, n);
    FILE *f = fmemopen(text, n ? n : 1, "r");
    CHECK(f);
    struct account a;
    int rc = config_parse(f, "fuzz", want, jid, &a);
    fclose(f);
    CHECK(rc == 0 || rc == XE_CONFIG);
    if (rc == 0) {
        CHECK(a.port >= 0 && a.port <= 65535);
        CHECK(a.direct_tls >= -1 && a.direct_tls <= 1);
        if (want)
            CHECK(a.name && strcmp(a.name, want) == 0);
        /* Every value came from a line "key = value" of the input. */
        const char *vals[] = {a.jid,    a.password, a.password_cmd,
                              a.server, a.ca_file,  a.resource};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
            CHECK(!vals[i] || memmem(text, n, vals[i], strlen(vals[i])));
    } else {
        CHECK(!a.jid && !a.password && !a.name && a.port == 0);
    }
    account_free(&a);
    free(text);
    free(want);
    free(jid);
    return 0;
}

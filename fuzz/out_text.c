/* out_text (common/io/output.c): whatever a field holds, one record stays
 * one line, and the escaping can be undone exactly. */
#include <stdlib.h>
#include <string.h>

#include "common/io/output.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct capture c;
    capture_open(&c);
    out_text(c.f, s);
    capture_close(&c);
    CHECK(!memchr(c.buf, '\n', c.len) && !memchr(c.buf, '\t', c.len) &&
          !memchr(c.buf, '\r', c.len));
    /* Undo \\ \t \n \r: the field comes back. */
    char *back = malloc(c.len + 1);
    CHECK(back);
    size_t n = 0;
    for (size_t i = 0; i < c.len; i++) {
        if (c.buf[i] != '\\') {
            back[n++] = c.buf[i];
            continue;
        }
        CHECK(++i < c.len);
        switch (c.buf[i]) {
        case '\\': back[n++] = '\\'; break;
        case 't': back[n++] = '\t'; break;
        case 'n': back[n++] = '\n'; break;
        case 'r': back[n++] = '\r'; break;
        default: CHECK(!"a lone backslash");
        }
    }
    CHECK(n == strlen(s) && memcmp(back, s, n) == 0);
    free(back);
    capture_free(&c);
    free(s);
    return 0;
}

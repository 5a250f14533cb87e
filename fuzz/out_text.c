/* out_text (common/io/output.c, common/io/escape.c): whatever a field
 * holds, one record stays one line, nothing in it is a control a
 * terminal would act on, and the escaping can be undone exactly. */
#include <stdlib.h>
#include <string.h>

#include "common/io/output.h"
#include "common/io/utf8.h"
#include "fuzz.h"

static unsigned long hex(const char *p, int digits)
{
    unsigned long v = 0;
    for (int i = 0; i < digits; i++) {
        char c = p[i];
        CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        v = v * 16 + (unsigned long)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return v;
}

/* The output holds no control (utf8_is_control) and is UTF-8. */
static void check_safe(const char *out, size_t len)
{
    size_t at;
    CHECK(utf8_check(out, len, &at) == NULL);
    for (size_t i = 0; i < len;) {
        unsigned long cp;
        size_t n = utf8_decode(out + i, len - i, &cp);
        CHECK(n && !utf8_is_control(cp));
        i += n;
    }
}

/* Undo \\ \t \n \r \xHH \uHHHH into back; returns its length. */
static size_t unescape(const char *in, size_t len, char *back)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] != '\\') {
            back[n++] = in[i];
            continue;
        }
        CHECK(++i < len);
        switch (in[i]) {
        case '\\': back[n++] = '\\'; break;
        case 't': back[n++] = '\t'; break;
        case 'n': back[n++] = '\n'; break;
        case 'r': back[n++] = '\r'; break;
        case 'x':
            CHECK(len - i > 2);
            back[n++] = (char)hex(in + i + 1, 2);
            i += 2;
            break;
        case 'u': {
            CHECK(len - i > 4);
            unsigned long cp = hex(in + i + 1, 4);
            CHECK(cp >= 0x80 && utf8_is_control(cp)); /* only those */
            if (cp < 0x800) {
                back[n++] = (char)(0xC0 | cp >> 6);
            } else {
                back[n++] = (char)(0xE0 | cp >> 12);
                back[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            }
            back[n++] = (char)(0x80 | (cp & 0x3F));
            i += 4;
            break;
        }
        default: CHECK(!"a lone backslash");
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct capture c;
    capture_open(&c);
    out_text(c.f, s);
    capture_close(&c);
    check_safe(c.buf, c.len);
    char *back = malloc(c.len + 1);
    CHECK(back);
    size_t n = unescape(c.buf, c.len, back);
    CHECK(n == strlen(s) && memcmp(back, s, n) == 0);
    free(back);
    capture_free(&c);
    free(s);
    return 0;
}

/* utf8_check and utf8_sanitize (common/io/utf8.c) on arbitrary bytes, and
 * against glibc's UTF-8 decoder: every message body and stdin line goes
 * through them before it is put in a stanza; and utf8_stream_check, which
 * every byte from the server goes through. */
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/utf8.h"
#include "fuzz.h"

/* XML 1.0 §2.2 Char. */
static int xml_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* The reference: does glibc decode all of s (*utf8), to XML characters
 * only (the result)? */
static int reference_valid(const uint8_t *s, size_t n, int *utf8)
{
    static iconv_t cd = (iconv_t)-1;
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-32LE", "UTF-8");
    CHECK(cd != (iconv_t)-1);
    iconv(cd, NULL, NULL, NULL, NULL);
    uint32_t *out = malloc(4 * n + 4);
    CHECK(out);
    char *in = (char *)s, *o = (char *)out;
    size_t inleft = n, outleft = 4 * n + 4;
    int ok = iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1 && inleft == 0;
    *utf8 = ok;
    size_t count = (size_t)((uint32_t *)o - out);
    for (size_t i = 0; ok && i < count; i++)
        ok = xml_char(out[i]);
    free(out);
    return ok;
}

/* utf8_stream_check, on the server's stream as reads cut it: s in two
 * pieces, cut anywhere, is valid exactly when it is UTF-8 as a whole. */
static void check_stream(const char *s, size_t size, int utf8)
{
    size_t cut = size ? (unsigned char)s[0] % (size + 1) : 0;
    struct utf8_stream u = {0};
    size_t a = utf8_stream_check(&u, s, cut);
    int valid = a == cut;
    if (valid) {
        size_t b = utf8_stream_check(&u, s + cut, size - cut);
        valid = b == size - cut && utf8_stream_done(&u);
        /* A bad byte is found where it is: what comes before is valid. */
        if (b < size - cut) {
            struct utf8_stream w = {0};
            CHECK(utf8_stream_check(&w, s, cut + b) == cut + b);
        }
    }
    CHECK(valid == utf8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t at = (size_t)-1, outlen, at2;
    const char *why = utf8_check(s, size, &at);
    int utf8;
    CHECK((why == NULL) == reference_valid(data, size, &utf8));
    check_stream(s, size, utf8);
    if (why)
        CHECK(at < size && utf8_check(s, at, &at2) == NULL);

    char *out = utf8_sanitize(s, size, &outlen);
    CHECK(out && outlen <= 3 * size && out[outlen] == '\0');
    CHECK(strlen(out) == outlen); /* NUL is not an XML character */
    CHECK(utf8_check(out, outlen, &at2) == NULL);
    if (!why)
        CHECK(outlen == size && memcmp(out, s, size) == 0);
    else
        CHECK(outlen >= at + 3 && memcmp(out, s, at) == 0 &&
              memcmp(out + at, "\xEF\xBF\xBD", 3) == 0);
    /* Sanitising clean text changes nothing. */
    char *again = utf8_sanitize(out, outlen, &at2);
    CHECK(again && at2 == outlen && memcmp(again, out, outlen) == 0);
    free(again);
    free(out);
    return 0;
}

#include "common/io/utf8.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_decode(const char *str, size_t n, unsigned long *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    size_t len;
    unsigned long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* XML 1.0 §2.2: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
 * [#x10000-#x10FFFF]. Surrogates never decode, so only these remain. */
static int xml_char(unsigned long cp)
{
    if (cp < 0x20)
        return cp == 0x9 || cp == 0xA || cp == 0xD;
    return cp != 0xFFFE && cp != 0xFFFF;
}

const char *utf8_check(const char *s, size_t len, size_t *at)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned long cp;
        if (p[i] < 0x80 && p[i] >= 0x20) { /* the common case, fast */
            i++;
            continue;
        }
        size_t n = utf8_decode(s + i, len - i, &cp);
        *at = i;
        if (!n)
            return "invalid UTF-8";
        if (!xml_char(cp))
            return "character not allowed in XML";
        i += n;
    }
    return NULL;
}

/* utf8_sanitize, or with xml false utf8_repair. */
static char *replace_bad(const char *s, size_t len, size_t *outlen, bool xml)
{
    /* U+FFFD is 3 bytes and replaces at least one byte. */
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        unsigned long cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n && (!xml || xml_char(cp))) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += n ? n : 1;
        }
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return out;
}

char *utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
    return replace_bad(s, len, outlen, true);
}

char *utf8_repair(const char *s, size_t len, size_t *outlen)
{
    return replace_bad(s, len, outlen, false);
}

bool utf8_is_control(unsigned long cp)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return true;
    return cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x2028 || cp == 0x2029;
}

/* RFC 3629 §4: the second byte's range depends on the first. */
static bool utf8_lead(struct utf8_stream *u, unsigned char c)
{
    u->lo = 0x80, u->hi = 0xBF;
    if (c < 0xC2 || c > 0xF4)
        return false;
    u->need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (c == 0xE0)
        u->lo = 0xA0; /* overlong */
    else if (c == 0xED)
        u->hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        u->lo = 0x90; /* overlong */
    else if (c == 0xF4)
        u->hi = 0x8F; /* above U+10FFFF */
    return true;
}

size_t utf8_stream_check(struct utf8_stream *u, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (u->need) {
            if (c < u->lo || c > u->hi)
                return i;
            u->need--;
            u->lo = 0x80, u->hi = 0xBF;
        } else if (c >= 0x80 && !utf8_lead(u, c)) {
            return i;
        }
    }
    return n;
}

bool utf8_stream_done(const struct utf8_stream *u)
{
    return u->need == 0;
}

bool utf8_is_clean(const char *s, size_t n)
{
    size_t at;
    if (utf8_check(s, n, &at))
        return false;
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (!k || utf8_is_control(cp))
            return false;
        i += k;
    }
    return true;
}

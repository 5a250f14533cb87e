#include "common/io/escape.h"

#include "common/io/utf8.h"

/* The escape for an ASCII byte, or NULL when it is written as it is. */
static const char *ascii_escape(unsigned char c)
{
    switch (c) {
    case '\\': return "\\\\";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\r': return "\\r";
    default: return c < 0x20 || c == 0x7F ? "\\x" : NULL;
    }
}

void escape_text(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            const char *e = ascii_escape(c);
            if (!e)
                putc(c, f);
            else if (e[1] == 'x')
                fprintf(f, "\\x%02x", c);
            else
                fputs(e, f);
            i++;
            continue;
        }
        unsigned long cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (!n) {
            fprintf(f, "\\x%02x", c); /* not UTF-8: the byte */
            i++;
            continue;
        }
        if (utf8_is_control(cp))
            fprintf(f, "\\u%04lx", cp);
        else
            fwrite(p + i, 1, n, f);
        i += n;
    }
}

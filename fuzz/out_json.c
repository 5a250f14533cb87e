/* The JSON Lines writer (common/io/output.c) with arbitrary keys and values,
 * read back with jansson: one object per line, valid JSON whatever the
 * bytes (invalid UTF-8 included), and every valid string back intact. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/output.h"
#include "common/io/utf8.h"
#include "fuzz.h"

#define MAX_MEMBERS 8

static int valid_utf8(const char *s)
{
    unsigned long cp;
    for (size_t n; *s; s += n)
        if (!(n = utf8_decode(s, 4, &cp)))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *keys[MAX_MEMBERS], *vals[MAX_MEMBERS];
    int n = 0;
    while (n < MAX_MEMBERS && (keys[n] = fuzz_field(&p, end))) {
        vals[n] = fuzz_field(&p, end);
        if (!vals[n])
            vals[n] = strdup("");
        n++;
    }
    struct capture c;
    capture_open(&c);
    struct json_obj j;
    json_begin(&j, c.f);
    for (int i = 0; i < n; i++) {
        if (i == 3)
            json_int(&j, keys[i], (long long)strlen(vals[i]) - 3);
        else
            json_str(&j, keys[i], vals[i]);
    }
    json_end(&j);
    capture_close(&c);

    CHECK(c.len > 0 && c.buf[c.len - 1] == '\n');
    CHECK(memchr(c.buf, '\n', c.len) == c.buf + c.len - 1);
    json_error_t err;
    json_t *obj = json_loadb(c.buf, c.len, 0, &err);
    if (!obj)
        fuzz_failed(__FILE__, __LINE__, err.text);
    CHECK(json_is_object(obj));
    for (int i = 0; i < n; i++) {
        int dup = 0; /* a later key equal to this one, maybe once repaired */
        for (int k = i + 1; k < n; k++)
            dup |= strcmp(keys[i], keys[k]) == 0 || !valid_utf8(keys[k]);
        if (dup || !valid_utf8(keys[i]))
            continue; /* the later member wins; a repaired key differs */
        json_t *v = json_object_get(obj, keys[i]);
        CHECK(v);
        if (i == 3)
            CHECK(json_integer_value(v) == (long long)strlen(vals[i]) - 3);
        else if (valid_utf8(vals[i]))
            CHECK(json_is_string(v) &&
                  strcmp(json_string_value(v), vals[i]) == 0);
    }
    json_decref(obj);
    capture_free(&c);
    for (int i = 0; i < n; i++)
        free(keys[i]), free(vals[i]);
    return 0;
}

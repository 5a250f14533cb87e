/* The JSON Lines writer (out_json and out_json_set, common/io/output.c)
 * with arbitrary keys and values, read back with jansson: one object per
 * line, valid JSON whatever the bytes, every valid string back intact and
 * an invalid one repaired (U+FFFD), not lost. */
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

/* What member i must hold: the last value given for its key. */
static void check_member(json_t *obj, char **keys, char **vals, int n, int i)
{
    for (int k = i + 1; k < n; k++)
        if (!strcmp(keys[i], keys[k]))
            return; /* the later one wins */
    json_t *v = json_object_get(obj, keys[i]);
    if (!valid_utf8(keys[i])) {
        CHECK(!v); /* jansson refuses the key: no member */
        return;
    }
    CHECK(v);
    if (i == 3) {
        CHECK(json_integer_value(v) == (long long)strlen(vals[i]) - 3);
        return;
    }
    char *want = utf8_repair(vals[i], strlen(vals[i]), NULL);
    CHECK(want && json_is_string(v) && !strcmp(json_string_value(v), want));
    CHECK(!valid_utf8(vals[i]) || !strcmp(want, vals[i]));
    free(want);
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
    json_t *out = json_object();
    for (int i = 0; i < n; i++) {
        if (i == 3)
            json_object_set_new(out, keys[i],
                                json_integer((long long)strlen(vals[i]) - 3));
        else
            out_json_set(out, keys[i], vals[i]);
    }
    struct capture c;
    capture_open(&c);
    CHECK(out_json(c.f, out) == 0);
    capture_close(&c);

    CHECK(c.len > 0 && c.buf[c.len - 1] == '\n');
    CHECK(memchr(c.buf, '\n', c.len) == c.buf + c.len - 1);
    json_error_t err;
    json_t *obj = json_loadb(c.buf, c.len, 0, &err);
    if (!obj)
        fuzz_failed(__FILE__, __LINE__, err.text);
    CHECK(json_is_object(obj));
    for (int i = 0; i < n; i++)
        check_member(obj, keys, vals, n, i);
    json_decref(obj);
    capture_free(&c);
    for (int i = 0; i < n; i++)
        free(keys[i]), free(vals[i]);
    return 0;
}

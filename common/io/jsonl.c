#include "common/io/jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/utf8.h"

static int one_line(char *line, const char *where, jsonl_fn fn, void *ud)
{
    json_error_t err;
    json_t *obj = json_loads(line, JSON_REJECT_DUPLICATES, &err);
    if (!obj)
        return fail(XE_DATA, "%s: invalid JSON at column %d: %s", where,
                    err.column, err.text);
    int rc = json_is_object(obj)
                 ? fn(obj, where, ud)
                 : fail(XE_DATA, "%s: not a JSON object", where);
    json_decref(obj);
    return rc;
}

int jsonl_each(const char *path, size_t max, jsonl_fn fn, void *ud)
{
    char *buf;
    size_t len;
    int rc = input_read(path, max, &buf, &len);
    if (rc)
        return rc;
    const char *name = !path || !strcmp(path, "-") ? "stdin" : path;
    if (memchr(buf, '\0', len))
        rc = fail(XE_DATA, "%s: holds a NUL byte; not JSON Lines", name);
    unsigned long line_no = 0;
    for (char *p = buf, *nl; !rc && p < buf + len; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = buf + len;
        *nl = '\0';
        line_no++;
        if (strspn(p, " \t\r") == strlen(p))
            continue;
        char where[512];
        snprintf(where, sizeof where, "%s line %lu", name, line_no);
        rc = one_line(p, where, fn, ud);
    }
    free(buf);
    return rc;
}

int jsonl_string(json_t *obj, const char *key, bool required, const char *where,
                 const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return required ? fail(XE_DATA, "%s: no \"%s\"", where, key) : 0;
    if (!json_is_string(v))
        return fail(XE_DATA, "%s: \"%s\" is not a string", where, key);
    size_t at;
    const char *s = json_string_value(v);
    const char *why = utf8_check(s, json_string_length(v), &at);
    if (why)
        return fail(XE_DATA, "%s: \"%s\": %s at byte %zu", where, key, why, at);
    *out = s;
    return 0;
}

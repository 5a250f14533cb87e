/* common/io/jsonl.c: JSON Lines input (roster import), as a file. Every
 * non-blank line reaches the callback as an object, or the read fails
 * with 65 at the first that is not one; strings that jsonl_string hands
 * out are UTF-8 that XML allows. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cli/exitcode.h"
#include "common/io/jsonl.h"
#include "common/io/utf8.h"
#include "fuzz.h"

static int on_object(json_t *obj, const char *where, void *ud)
{
    size_t *count = ud, at;
    CHECK(json_is_object(obj) && where && strstr(where, " line "));
    static const char *const keys[] = {"jid", "name", "subscription"};
    for (int i = 0; i < 3; i++) {
        const char *s = (const char *)1;
        int rc = jsonl_string(obj, keys[i], i == 0, where, &s);
        CHECK(rc == 0 || rc == XE_DATA);
        if (rc == 0 && s)
            CHECK(utf8_check(s, strlen(s), &at) == NULL);
        if (rc)
            CHECK(s == NULL);
    }
    ++*count;
    return 0;
}

/* Lines with something besides blanks, as jsonl_each counts them. */
static size_t content_lines(const uint8_t *d, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n;) {
        const uint8_t *nl = memchr(d + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - d) : n;
        for (size_t k = i; k < end; k++)
            if (d[k] != ' ' && d[k] != '\t' && d[k] != '\r') {
                lines++;
                break;
            }
        i = end + 1;
    }
    return lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("jsonl", 0);
    CHECK(fd >= 0);
    CHECK(write(fd, data, size) == (ssize_t)size);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fd);
    size_t count = 0;
    int rc = jsonl_each(path, 1 << 20, on_object, &count);
    close(fd);
    CHECK(rc == 0 || rc == XE_DATA);
    if (rc == 0)
        CHECK(count == content_lines(data, size) && !memchr(data, 0, size));
    else
        CHECK(count < content_lines(data, size) || memchr(data, 0, size));
    return 0;
}

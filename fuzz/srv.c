/* srv_parse and srv_order (common/net/dnssrv.c) on arbitrary bytes: a
 * DNS answer to an SRV query, as any resolver on the path may forge it.
 * What it keeps must be a host name with a port, never more than asked
 * for; the order must be a permutation, by priority. */
#include <string.h>

#include "common/net/dnssrv.h"
#include "fuzz.h"

static const uint8_t *draws;
static size_t ndraws;

/* The draws come from the input too. */
static uint32_t next_draw(void)
{
    uint32_t r = 0;
    for (int i = 0; i < 4 && ndraws; i++, ndraws--)
        r = r << 8 | *draws++;
    return r;
}

static void check_host(const char *h)
{
    size_t len = strlen(h), label = 0;
    CHECK(len > 0 && len < SRV_HOST_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = h[i];
        CHECK(c == '.' || c == '-' || (c >= '0' && c <= '9') ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
        label = c == '.' ? 0 : label + 1;
        CHECK(label <= 63);
    }
    CHECK(h[0] != '.' && h[0] != '-' && h[len - 1] != '.' && h[len - 1] != '-');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct srv_target t[SRV_MAX + 1];
    struct srv_answer a = {0};
    size_t n = 0, max = size ? (size_t)(data[0] % (SRV_MAX + 1)) : 0;
    memset(t, 0x55, sizeof t);
    int rc = srv_parse(data, size, size && (data[0] & 0x80), t, &n, max, &a);
    CHECK(rc == 0 || rc == -1);
    CHECK(n <= max);
    if (rc == -1)
        CHECK(n == 0);
    CHECK(n <= a.records);
    for (size_t i = 0; i < n; i++) {
        check_host(t[i].host);
        CHECK(t[i].port != 0);
    }
    CHECK(t[max].port == 0x5555); /* nothing written past max */

    unsigned long sum = 0, prio_sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += t[i].port, prio_sum += t[i].priority;
    draws = data;
    ndraws = size;
    srv_order(t, n, next_draw);
    unsigned long sum2 = 0, prio_sum2 = 0;
    for (size_t i = 0; i < n; i++) {
        sum2 += t[i].port, prio_sum2 += t[i].priority;
        if (i)
            CHECK(t[i - 1].priority <= t[i].priority);
        check_host(t[i].host);
    }
    CHECK(sum == sum2 && prio_sum == prio_sum2);
    return 0;
}

#include "common/xmpp/jid.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "common/io/utf8.h"

/* RFC 7622 §3: each part is 1..1023 bytes. */
#define PART_MAX 1023

/* RFC 7622 §3.3.1: these may not appear in a localpart. */
static const char local_forbidden[] = "\"&'/:<>@";

static const char *check_part(const char *p, size_t n, const char *name,
                              const char *forbidden)
{
    static char why[64];
    size_t at;
    if (n == 0) {
        strcpy(why, "empty ");
        strcat(why, name);
        return why;
    }
    if (n > PART_MAX) {
        strcpy(why, name);
        strcat(why, " longer than 1023 bytes");
        return why;
    }
    if (utf8_check(p, n, &at))
        return "invalid UTF-8";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7F || (forbidden && strchr(forbidden, c))) {
            strcpy(why, "forbidden character in ");
            strcat(why, name);
            return why;
        }
    }
    return NULL;
}

/* "[" IPv6address "]" */
static int ipv6_literal(const char *d, size_t n)
{
    char addr[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    if (n < 3 || n - 2 >= sizeof addr || d[n - 1] != ']')
        return 0;
    memcpy(addr, d + 1, n - 2);
    addr[n - 2] = '\0';
    return inet_pton(AF_INET6, addr, bin) == 1;
}

static const char *check_domain(const char *d, size_t n)
{
    const char *why = check_part(d, n, "domainpart", "@/");
    if (why)
        return why;
    if (d[0] == '[') /* IP-literal, RFC 7622 §3.2 (RFC 3986 §3.2.2) */
        return ipv6_literal(d, n) ? NULL : "invalid IPv6 address";
    if (d[0] == '.' || d[n - 1] == '.' || memmem(d, n, "..", 2))
        return "empty label in domainpart";
    return NULL;
}

const char *jid_check(const char *jid)
{
    const char *slash = strchr(jid, '/');
    size_t bare = slash ? (size_t)(slash - jid) : strlen(jid);
    const char *at = memchr(jid, '@', bare);
    const char *why;
    if (at && (why = check_part(jid, (size_t)(at - jid), "localpart",
                                local_forbidden)))
        return why;
    const char *dom = at ? at + 1 : jid;
    if ((why = check_domain(dom, (size_t)(jid + bare - dom))))
        return why;
    if (!slash)
        return NULL;
    /* A resourcepart may hold any character but controls (§3.4). */
    const char *res = slash + 1;
    size_t n = strlen(res), bad;
    if (n == 0)
        return "empty resourcepart";
    if (n > PART_MAX)
        return "resourcepart longer than 1023 bytes";
    if (utf8_check(res, n, &bad))
        return "invalid UTF-8";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)res[i] < 0x20 || res[i] == 0x7F)
            return "control character in resourcepart";
    return NULL;
}

size_t jid_bare_len(const char *jid)
{
    const char *slash = strchr(jid, '/');
    return slash ? (size_t)(slash - jid) : strlen(jid);
}

/* Localparts and domainparts are case-mapped (RFC 7622 §3.2, §3.3), so the
 * bare parts compare without case for ASCII; resources compare exactly. */
int jid_matches(const char *from, const char *want)
{
    if (!from || !want)
        return 0;
    size_t wb = jid_bare_len(want), fb = jid_bare_len(from);
    if (wb != fb || strncasecmp(want, from, wb) != 0)
        return 0;
    if (want[wb] == '\0')
        return 1; /* bare: any resource */
    return strcmp(want + wb, from + fb) == 0;
}

#include "common/xmpp/jid.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/io/utf8.h"

/* RFC 7622 §3: each part is 1..1023 bytes. */
#define PART_MAX 1023

/* RFC 7622 §3.3.1: these may not appear in a localpart. */
static const char local_forbidden[] = "\"&'/:<>@";

/* RFC 7622 §3.2-3.4 with PRECIS (RFC 8264 §9): no part holds a
 * control (C0, DEL, C1), a bidirectional control or a line or paragraph
 * separator (utf8_is_control); so none can reach a terminal or split a
 * line through a JID. */
static bool has_control(const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned long cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        if (len && utf8_is_control(cp))
            return true;
        i += len ? len : 1;
    }
    return false;
}

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
    bool bad = has_control(p, n);
    for (size_t i = 0; !bad && i < n; i++)
        bad = p[i] == ' ' || (forbidden && strchr(forbidden, p[i]));
    if (bad) {
        strcpy(why, "forbidden character in ");
        strcat(why, name);
        return why;
    }
    return utf8_check(p, n, &at);
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

/* IDNA2008 (RFC 5891 §4.2.3, RFC 5892): the ASCII in a domain name is
 * letters, digits and hyphens, and no label begins or ends with a
 * hyphen. Non-ASCII labels are taken as they are (no IDNA tables here). */
static bool ldh(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

static const char *check_labels(const char *d, size_t n)
{
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i == n || d[i] == '.') {
            if (i == start)
                return "empty label in domainpart";
            if (d[start] == '-' || d[i - 1] == '-')
                return "a label of the domainpart begins or ends with '-'";
            start = i + 1;
        } else if ((unsigned char)d[i] < 0x80 && !ldh(d[i])) {
            return "forbidden character in domainpart";
        }
    }
    return NULL;
}

static const char *check_domain(const char *d, size_t n)
{
    const char *why = check_part(d, n, "domainpart", "@/");
    if (why)
        return why;
    if (d[0] == '[') /* IP-literal, RFC 7622 §3.2 (RFC 3986 §3.2.2) */
        return ipv6_literal(d, n) ? NULL : "invalid IPv6 address";
    return check_labels(d, n);
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
    if (has_control(res, n))
        return "control character in resourcepart";
    return utf8_check(res, n, &bad);
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

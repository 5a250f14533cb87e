/* jid_check, jid_bare_len and jid_matches (common/xmpp/jid.c) on arbitrary
 * strings: what a user types after -j or as a recipient, and what a
 * server puts in from=. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/utf8.h"
#include "common/xmpp/jid.h"
#include "fuzz.h"

/* What jid_check promises about a JID it accepts. */
static void check_valid(const char *jid)
{
    size_t len = strlen(jid), bare = jid_bare_len(jid), at;
    CHECK(len > 0 && bare > 0 && bare <= len);
    CHECK(utf8_check(jid, len, &at) == NULL);
    /* No control of any kind, and no space outside the resourcepart. */
    for (size_t i = 0; i < len;) {
        unsigned long cp;
        size_t n = utf8_decode(jid + i, len - i, &cp);
        CHECK(n && !utf8_is_control(cp));
        CHECK(cp != ' ' || i > bare);
        i += n;
    }
    const char *atsign = memchr(jid, '@', bare);
    const char *dom = atsign ? atsign + 1 : jid;
    size_t dlen = (size_t)(jid + bare - dom);
    CHECK(dlen > 0 && dlen <= 1023);
    if (atsign)
        CHECK(atsign > jid && (size_t)(atsign - jid) <= 1023);
    CHECK(!memchr(dom, ' ', dlen) && !memchr(dom, '/', dlen));
    /* IDNA2008: ASCII in a domain name is letters, digits, '-' and the
     * dots between labels, which neither begin nor end with '-' (so a
     * bare domain never reads as an option). */
    for (size_t i = 0; dom[0] != '[' && i < dlen; i++) {
        unsigned char c = (unsigned char)dom[i];
        CHECK(c >= 0x80 || isalnum(c) || c == '-' || c == '.');
        if (c == '-')
            CHECK(i > 0 && dom[i - 1] != '.' && i + 1 < dlen &&
                  dom[i + 1] != '.');
    }
    if (dom[0] == '[') { /* RFC 7622 §3.2: an IPv6 address in brackets */
        char addr[64], buf[16];
        CHECK(dlen >= 2 && dlen - 2 < sizeof addr && dom[dlen - 1] == ']');
        memcpy(addr, dom + 1, dlen - 2);
        addr[dlen - 2] = '\0';
        CHECK(inet_pton(AF_INET6, addr, buf) == 1);
    }
    if (bare < len)
        CHECK(len - bare - 1 > 0 && len - bare - 1 <= 1023);

    /* A JID matches itself; its bare JID is valid and matches it. */
    CHECK(jid_matches(jid, jid));
    char *b = strndup(jid, bare);
    CHECK(b && jid_check(b) == NULL);
    CHECK(jid_matches(jid, b));
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *a = fuzz_field(&p, end);
    if (!a)
        return 0;
    if (!jid_check(a))
        check_valid(a);
    char *b = fuzz_field(&p, end);
    if (b) {
        /* Two bare JIDs match both ways or not at all. */
        int ab = jid_matches(a, b), ba = jid_matches(b, a);
        if (!strchr(a, '/') && !strchr(b, '/'))
            CHECK(ab == ba);
        free(b);
    }
    CHECK(jid_matches(NULL, a) == 0 && jid_matches(a, NULL) == 0);
    free(a);
    return 0;
}

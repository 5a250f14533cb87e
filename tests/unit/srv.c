/* Unit tests of common/net/srv.c's pure parts: reading SRV records from
 * a raw DNS answer (what is kept, what is skipped, what is malformed)
 * and the RFC 2782 order. `make unit` builds build/unit/srv and runs
 * it; the last line is "unit srv: N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/net/dnssrv.h"

#include "tests/unit/check.h"

/* A DNS answer being built: header, the question, answer records. */
struct msg {
    unsigned char b[4096];
    size_t len;
    unsigned ancount;
};

static void put8(struct msg *m, unsigned v)
{
    m->b[m->len++] = (unsigned char)v;
}
static void put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

/* "a.b" as labels, ending with the root; "" is the root alone. */
static void put_name(struct msg *m, const char *name)
{
    while (*name) {
        size_t n = strcspn(name, ".");
        put8(m, (unsigned)n);
        memcpy(m->b + m->len, name, n);
        m->len += n;
        name += n;
        if (*name == '.')
            name++;
    }
    put8(m, 0);
}

#define QNAME_AT 12 /* where the question's name starts */

static void begin(struct msg *m, const char *qname)
{
    memset(m, 0, sizeof *m);
    put16(m, 0x1234); /* id */
    put16(m, 0x8180); /* a response, recursion desired and available */
    put16(m, 1);      /* qdcount */
    put16(m, 0);      /* ancount: set by finish() */
    put16(m, 0);
    put16(m, 0);
    put_name(m, qname);
    put16(m, 33); /* SRV */
    put16(m, 1);  /* IN */
}

/* Where "example.org" starts in the question "_x-client._tcp.example.org"
 * (after the header and two labels). */
#define EXAMPLE_AT (QNAME_AT + 1 + 9 + 1 + 4)

/* An answer record of the question's name (compressed), its RDATA an
 * SRV record's; target NULL: "xmpp" and a pointer to "example.org" in
 * the question (RFC 1035 §4.1.4). */
static void add_srv(struct msg *m, unsigned prio, unsigned weight,
                    unsigned port, const char *target)
{
    put16(m, 0xc000 | QNAME_AT);
    put16(m, 33);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300); /* ttl */
    size_t rdlen_at = m->len;
    put16(m, 0);
    put16(m, prio);
    put16(m, weight);
    put16(m, port);
    if (target)
        put_name(m, target);
    else {
        put8(m, 4);
        memcpy(m->b + m->len, "xmpp", 4);
        m->len += 4;
        put16(m, 0xc000 | EXAMPLE_AT);
    }
    size_t rdlen = m->len - rdlen_at - 2;
    m->b[rdlen_at] = (unsigned char)(rdlen >> 8);
    m->b[rdlen_at + 1] = (unsigned char)rdlen;
    m->ancount++;
}

static void add_a(struct msg *m)
{
    put16(m, 0xc000 | QNAME_AT);
    put16(m, 1);
    put16(m, 1);
    put16(m, 0);
    put16(m, 300);
    put16(m, 4);
    put16(m, 0x7f00);
    put16(m, 0x0001);
    m->ancount++;
}

static void finish(struct msg *m)
{
    m->b[6] = (unsigned char)(m->ancount >> 8);
    m->b[7] = (unsigned char)m->ancount;
}

/* Parse m into a fresh list. */
static int parse(struct msg *m, bool tls, struct srv_target *t, size_t *n,
                 size_t max, struct srv_answer *a)
{
    finish(m);
    *n = 0;
    memset(a, 0, sizeof *a);
    return srv_parse(m->b, m->len, tls, t, n, max, a);
}

static void test_parse(void)
{
    struct msg m;
    struct srv_target t[SRV_MAX];
    struct srv_answer a;
    size_t n;

    begin(&m, "_xmpps-client._tcp.example.org");
    add_srv(&m, 5, 10, 5223, "xmpp.example.org");
    add_srv(&m, 10, 0, 443, "Other-1.example.net");
    CHECK("two records parse", parse(&m, true, t, &n, SRV_MAX, &a) == 0);
    CHECK("both kept", n == 2 && a.records == 2 && !a.dot);
    CHECK("first: fields", !strcmp(t[0].host, "xmpp.example.org") &&
                               t[0].priority == 5 && t[0].weight == 10 &&
                               t[0].port == 5223 && t[0].direct_tls);
    CHECK("second: fields", !strcmp(t[1].host, "Other-1.example.net") &&
                                t[1].priority == 10 && t[1].port == 443);

    begin(&m, "_x-client._tcp.example.org");
    add_srv(&m, 0, 0, 5222, NULL);
    add_a(&m);
    CHECK("a compressed target parses", parse(&m, false, t, &n, 4, &a) == 0);
    CHECK("the target expanded; the A record ignored",
          n == 1 && a.records == 1 && !strcmp(t[0].host, "xmpp.example.org") &&
              !t[0].direct_tls);

    begin(&m, "_xmpp-client._tcp.example.org");
    add_srv(&m, 0, 0, 0, "");
    CHECK("\".\" parses", parse(&m, false, t, &n, 4, &a) == 0);
    CHECK("\".\": noted, not kept", n == 0 && a.dot && a.records == 1);

    begin(&m, "_xmpp-client._tcp.example.org");
    add_srv(&m, 0, 0, 5222, "bad_name.example.org");
    add_srv(&m, 0, 0, 5222, "-dash.example.org");
    add_srv(&m, 0, 0, 5222, "dash-.example.org");
    add_srv(&m, 0, 0, 5222, "sp ace.example.org");
    add_srv(&m, 0, 0, 5222, "a..b");
    add_srv(&m, 0, 0, 0, "zero-port.example.org");
    add_srv(&m, 0, 0, 5222, "ok.example.org");
    CHECK("bad names parse", parse(&m, false, t, &n, 4, &a) == 0);
    CHECK("only the host name with a port is kept",
          n == 1 && !strcmp(t[0].host, "ok.example.org") && a.records == 7);

    char longname[300];
    memset(longname, 0, sizeof longname);
    for (int i = 0; i < 4; i++)
        strcat(
            longname,
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(longname, "example");
    begin(&m, "_xmpp-client._tcp.example.org");
    add_srv(&m, 0, 0, 5222, longname);
    CHECK("a long name parses", parse(&m, false, t, &n, 4, &a) == 0);
    CHECK("more than 253 characters: skipped",
          n == 0 && strlen(longname) > 253);

    begin(&m, "_xmpp-client._tcp.example.org");
    for (int i = 0; i < 6; i++)
        add_srv(&m, (unsigned)i, 0, 5222, "x.example.org");
    CHECK("many parse", parse(&m, false, t, &n, 4, &a) == 0);
    CHECK("no more than max kept", n == 4 && a.records == 6);

    /* Appending: a second answer goes after the first's records. */
    begin(&m, "_xmpp-client._tcp.example.org");
    add_srv(&m, 1, 0, 5222, "y.example.org");
    finish(&m);
    CHECK("appends", srv_parse(m.b, m.len, false, t, &n, 5, &a) == 0 &&
                         n == 5 && !strcmp(t[4].host, "y.example.org"));
}

static void test_malformed(void)
{
    struct msg m;
    struct srv_target t[SRV_MAX];
    struct srv_answer a;
    size_t n;

    begin(&m, "_xmpp-client._tcp.example.org");
    add_srv(&m, 0, 0, 5222, "x.example.org");
    finish(&m);
    size_t whole = m.len;
    for (size_t cut = 0; cut < whole; cut++) {
        n = 0;
        memset(&a, 0, sizeof a);
        int rc = srv_parse(m.b, cut, false, t, &n, SRV_MAX, &a);
        if (rc != -1 || n != 0) {
            CHECK("a cut answer is malformed, nothing kept", 0);
            return;
        }
    }
    CHECK("every cut answer is malformed, nothing kept", 1);

    /* RDATA shorter than its target's name. */
    begin(&m, "_xmpp-client._tcp.example.org");
    add_srv(&m, 0, 0, 5222, "x.example.org");
    finish(&m);
    size_t rdlen_at = m.len - (6 + 15) - 2;
    m.b[rdlen_at + 1] -= 3; /* the name runs past the RDATA */
    m.len -= 3;
    n = 0;
    memset(&a, 0, sizeof a);
    srv_parse(m.b, m.len, false, t, &n, SRV_MAX, &a);
    CHECK("a target that leaves its RDATA is not kept", n == 0);

    /* A name that points at itself. */
    begin(&m, "_x-client._tcp.example.org");
    add_srv(&m, 0, 0, 5222, NULL);
    finish(&m);
    size_t ptr = m.len - 2;
    m.b[ptr] = (unsigned char)(0xc0 | (ptr >> 8));
    m.b[ptr + 1] = (unsigned char)ptr;
    n = 0;
    memset(&a, 0, sizeof a);
    srv_parse(m.b, m.len, false, t, &n, SRV_MAX, &a);
    CHECK("a compression loop is not kept", n == 0);
}

/* Random numbers from a script. */
static const uint32_t *script;
static uint32_t scripted(void)
{
    return *script++;
}

static void fill(struct srv_target *t, const unsigned (*pw)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof t[i]);
        snprintf(t[i].host, sizeof t[i].host, "h%zu", i);
        t[i].priority = (unsigned short)pw[i][0];
        t[i].weight = (unsigned short)pw[i][1];
        t[i].port = 5222;
    }
}

static uint32_t random32(void)
{
    return (uint32_t)random();
}

static void test_order(void)
{
    struct srv_target t[8];

    /* Priority first, whatever the weights. */
    const unsigned prio[][2] = {{20, 100}, {10, 0}, {30, 5}, {10, 0}};
    fill(t, prio, 4);
    static const uint32_t zeros[8] = {0};
    script = zeros;
    srv_order(t, 4, scripted);
    CHECK("by priority, weight 0 in the order given",
          !strcmp(t[0].host, "h1") && !strcmp(t[1].host, "h3") &&
              !strcmp(t[2].host, "h0") && !strcmp(t[3].host, "h2"));

    /* Weights 10, 0, 30 (running sums 10, 10, 40), drawn from a script:
     * the order that comes out, as the records' numbers. */
    static const struct {
        const char *what;
        uint32_t draws[2];
        const char *order;
    } weighted[] = {
        /* 25 picks the third; then (10, 0) 1 the first. */
        {"weighted draw", {25, 1}, "201"},
        {"weight 0 last, even for draws of 0", {0, 0}, "021"},
        {"modulo the sum (46 % 40 = 6: the first)", {46, 0}, "021"},
        {"the top of the range (39): the last", {39, 0}, "201"},
    };
    const unsigned w[][2] = {{1, 10}, {1, 0}, {1, 30}};
    for (size_t i = 0; i < sizeof weighted / sizeof *weighted; i++) {
        fill(t, w, 3);
        script = weighted[i].draws;
        srv_order(t, 3, scripted);
        char got[4] = {t[0].host[1], t[1].host[1], t[2].host[1], 0};
        CHECK(weighted[i].what, !strcmp(got, weighted[i].order));
    }

    /* Weights 1 and 9: the second first about nine times in ten. */
    const unsigned nine[][2] = {{0, 1}, {0, 9}};
    int second = 0;
    srandom(42);
    for (int i = 0; i < 10000; i++) {
        fill(t, nine, 2);
        srv_order(t, 2, random32);
        second += !strcmp(t[0].host, "h1");
    }
    CHECK("weights 1:9 give about 9:1", second > 8700 && second < 9300);

    /* Nothing and one: left as they are. */
    srv_order(t, 0, random32);
    fill(t, nine, 1);
    srv_order(t, 1, random32);
    CHECK("one record stays", !strcmp(t[0].host, "h0"));
}

int main(void)
{
    test_parse();
    test_malformed();
    test_order();
    printf("unit srv: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}

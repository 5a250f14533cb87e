/* Unit tests of common/auth/: the SCRAM client against the RFC 5802 and
 * RFC 7677 test vectors and every refusal, the mechanism policy table,
 * XEP-0474's hash, and the state files (modes, atomic replacement,
 * files others could read). `make unit` builds build/unit/auth and runs
 * it; the last line is "unit: N passed, N failed".
 *
 *   build/unit/auth                 run the tests
 *   build/unit/auth client MECH USER PASSWORD [CBTYPE CBDATA]
 *       one SCRAM exchange over stdin/stdout, a message a line, for
 *       tests/unit/scram_server.py (an independent server side): exits
 *       0 when the server's signature verified, else the status. */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/auth/mech.h"
#include "common/auth/scram.h"
#include "common/auth/state.h"
#include "common/cli/exitcode.h"

#include "tests/unit/check.h"

/* A SCRAM exchange up to the client-final-message. */
struct run {
    struct scram s;
    char *first, *final;
    int rc; /* of the last step taken */
};

static void run_free(struct run *r)
{
    scram_free(&r->s);
    free(r->first);
    free(r->final);
    memset(r, 0, sizeof *r);
}

static const struct scram_params rfc5802 = {
    .mech = "SCRAM-SHA-1",
    .user = "user",
    .nonce = "fyko+d2lbbFgONRv9qkxdawL",
};
static const char *rfc5802_sf =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";

/* client-first, then server_first; rc is the first non-zero status. */
static void start(struct run *r, const struct scram_params *p, const char *sf)
{
    memset(r, 0, sizeof *r);
    r->rc = scram_client_first(&r->s, p, &r->first);
    if (!r->rc && sf)
        r->rc = scram_server_first(&r->s, sf, strlen(sf));
}

static void test_rfc5802(void)
{
    struct run r;
    start(&r, &rfc5802, rfc5802_sf);
    CHECK("RFC 5802 client-first",
          r.first && !strcmp(r.first, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"));
    CHECK("RFC 5802 server-first accepted", r.rc == 0);
    CHECK("RFC 5802 iterations", r.s.iterations == 4096);
    r.rc = scram_client_final(&r.s, "pencil", NULL, &r.final);
    CHECK("RFC 5802 client-final",
          !r.rc &&
              !strcmp(r.final, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJ"
                               "Y1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="));
    const char *v = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
    CHECK("RFC 5802 server-final verified",
          scram_server_final(&r.s, v, strlen(v)) == 0);

    /* The SaltedPassword, given back, makes the same proof without the
     * password (the cache a later login uses). */
    unsigned char salted[SCRAM_KEY_MAX];
    memcpy(salted, scram_salted(&r.s), r.s.hlen);
    char *again = strdup(r.final);
    run_free(&r);
    start(&r, &rfc5802, rfc5802_sf);
    r.rc = scram_client_final(&r.s, NULL, salted, &r.final);
    CHECK("cached SaltedPassword: same proof",
          !r.rc && !strcmp(r.final, again));
    free(again);
    run_free(&r);
}

static void test_rfc7677(void)
{
    struct scram_params p = {.mech = "SCRAM-SHA-256",
                             .user = "user",
                             .nonce = "rOprNGfwEbeRWgbNEkqO"};
    struct run r;
    start(&r, &p,
          "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
          "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    CHECK("RFC 7677 client-first",
          !strcmp(r.first, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
    CHECK("RFC 7677 server-first", r.rc == 0);
    r.rc = scram_client_final(&r.s, "pencil", NULL, &r.final);
    CHECK("RFC 7677 client-final",
          !r.rc && !strcmp(r.final,
                           "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIl"
                           "j)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7"
                           "AndVQ="));
    const char *v = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    CHECK("RFC 7677 server-final verified",
          scram_server_final(&r.s, v, strlen(v)) == 0);
    run_free(&r);
}

/* The GS2 header and c= for each channel-binding flag. */
static void test_gs2(void)
{
    struct scram_params p = rfc5802;
    struct run r;
    p.cb_flag = 'y';
    start(&r, &p, rfc5802_sf);
    CHECK("flag y", !strncmp(r.first, "y,,n=user,", 10));
    scram_client_final(&r.s, "pencil", NULL, &r.final);
    CHECK("flag y: c=eSws", r.final && !strncmp(r.final, "c=eSws,", 7));
    run_free(&r);

    unsigned char cb[] = "THIS IS FAKE CB DATA";
    p = rfc5802;
    p.mech = "SCRAM-SHA-1-PLUS";
    p.cb_flag = 'p';
    p.cb_type = "tls-exporter";
    p.cb_data = cb;
    p.cb_len = sizeof cb - 1;
    start(&r, &p, rfc5802_sf);
    CHECK("-PLUS client-first", !strncmp(r.first, "p=tls-exporter,,n=", 18));
    scram_client_final(&r.s, "pencil", NULL, &r.final);
    /* base64("p=tls-exporter,,THIS IS FAKE CB DATA") */
    CHECK("-PLUS c= carries header and data",
          r.final && !strncmp(r.final,
                              "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBE"
                              "QVRB,",
                              51));
    run_free(&r);

    p.cb_type = "tls-server-end-point";
    start(&r, &p, NULL);
    CHECK("tls-server-end-point header",
          !r.rc && !strncmp(r.first, "p=tls-server-end-point,,", 24));
    run_free(&r);

    p.cb_data = NULL;
    start(&r, &p, NULL);
    CHECK("-PLUS without data refused", r.rc == XE_USAGE && !r.first);
    run_free(&r);
    p.cb_data = cb;
    p.cb_flag = 'n';
    start(&r, &p, NULL);
    CHECK("-PLUS with flag n refused", r.rc == XE_USAGE);
    run_free(&r);
    p = rfc5802;
    p.cb_flag = 'p';
    start(&r, &p, NULL);
    CHECK("flag p without -PLUS refused", r.rc == XE_USAGE);
    run_free(&r);
    p.cb_flag = 0;
    p.mech = "DIGEST-MD5";
    start(&r, &p, NULL);
    CHECK("not SCRAM refused", r.rc == XE_USAGE);
    run_free(&r);
    p = rfc5802;
    p.user = "a,b=c";
    start(&r, &p, NULL);
    CHECK("user name escaped",
          !r.rc && !strncmp(r.first, "n,,n=a=2Cb=3Dc,r=", 17));
    run_free(&r);
    p.user = "bad\nname";
    start(&r, &p, NULL);
    CHECK("user name with a control refused", r.rc == XE_USAGE);
    run_free(&r);

    /* Random nonces: 32 base64 characters, different each time. */
    p = rfc5802;
    p.nonce = NULL;
    struct run a, b;
    start(&a, &p, NULL);
    start(&b, &p, NULL);
    CHECK("random nonce",
          !a.rc && strlen(a.s.cnonce) == 32 && strcmp(a.s.cnonce, b.s.cnonce));
    run_free(&a);
    run_free(&b);
}

/* server-first-message refusals: each with its status and a word of
 * the reason. */
static void refused_first(const char *sf, int status, const char *word,
                          unsigned long max)
{
    struct scram_params p = rfc5802;
    p.max_iterations = max;
    struct run r;
    start(&r, &p, sf);
    char what[800];
    snprintf(what, sizeof what,
             "server-first \"%.200s\" -> %d (%s): got %d, %s", sf, status, word,
             r.rc, r.s.error);
    CHECK(what, r.rc == status && strstr(r.s.error, word));
    run_free(&r);
}

static void test_server_first(void)
{
    const char *n = "r=fyko+d2lbbFgONRv9qkxdawL3rfc";
    char buf[256];
#define SF(rest) (snprintf(buf, sizeof buf, "%s%s", n, rest), buf)
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=2147483647"), XE_AUTH,
                  "2147483647 PBKDF2 iterations", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=1000001"), XE_AUTH,
                  "limit of 1000000", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=5000"), XE_AUTH, "limit of 4096",
                  4096);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=99999999999999999999999"), XE_AUTH,
                  "23-digit", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=0"), XE_PROTOCOL,
                  "not a positive integer", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=04096"), XE_PROTOCOL,
                  "not a positive integer", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=-1"), XE_PROTOCOL,
                  "not a positive integer", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096x"), XE_PROTOCOL,
                  "not a positive integer", 0);
    refused_first("r=someone-elses-nonce,s=QSXCR+Q6sek8bf92,i=4096", XE_AUTH,
                  "does not extend ours", 0);
    refused_first("r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
                  XE_AUTH, "does not extend ours", 0);
    refused_first("r=fyko+d2lbbFgONRv9qkxda,s=QSXCR+Q6sek8bf92,i=4096", XE_AUTH,
                  "does not extend ours", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf9,i=4096"), XE_PROTOCOL, "not base64",
                  0);
    refused_first(SF(",s=QSX*R+Q6sek8bf92,i=4096"), XE_PROTOCOL, "not base64",
                  0);
    refused_first(SF(",s=QSXC R+Q6sek8bf92,i=4096"), XE_PROTOCOL, "not base64",
                  0);
    refused_first(SF(",s=,i=4096"), XE_PROTOCOL, "not \"X=value\"", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i="), XE_PROTOCOL, "not \"X=value\"",
                  0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,"), XE_PROTOCOL,
                  "not \"X=value\"", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,,x=1"), XE_PROTOCOL,
                  "not \"X=value\"", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92"), XE_PROTOCOL,
                  "start with r=, s=, i=", 0);
    refused_first(SF(",i=4096,s=QSXCR+Q6sek8bf92"), XE_PROTOCOL,
                  "start with r=, s=, i=", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,s=QSXCR+Q6sek8bf92"),
                  XE_PROTOCOL, "twice", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,x=1,x=2"), XE_PROTOCOL,
                  "twice", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,m=must"), XE_AUTH, "(m=)", 0);
    refused_first("m=ext,r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,"
                  "i=4096",
                  XE_AUTH, "(m=)", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,h=not!base64"), XE_PROTOCOL,
                  "h=", 0);
    refused_first("", XE_PROTOCOL, "empty", 0);
    refused_first(SF(",s=QSXCR+Q6sek8bf92,i=4096,x=\xff"), XE_PROTOCOL,
                  "not UTF-8", 0);
    refused_first("r=fyko+d2lbbFgONRv9qkxdawL3r,c,s=QSXCR+Q6sek8bf92,i=4096",
                  XE_PROTOCOL, "not \"X=value\"", 0);
    refused_first("r=fyko+d2lbbFgONRv9qkxdawL3\x01,s=QSXCR+Q6sek8bf92,i=4096",
                  XE_PROTOCOL, "not UTF-8 text", 0);

    /* An embedded NUL is refused, not cut at. */
    struct run r;
    start(&r, &rfc5802, NULL);
    const char nul[] = "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,"
                       "i=4096\0,m=x";
    CHECK("NUL in server-first refused",
          scram_server_first(&r.s, nul, sizeof nul - 1) == XE_PROTOCOL);
    run_free(&r);

    /* The message is bytes with a length, not a C string: what follows
     * it is not read (the fuzzer found i= read past the end). */
    start(&r, &rfc5802, NULL);
    const char cut[] = "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,"
                       "i=4096999";
    CHECK("only len bytes are read",
          scram_server_first(&r.s, cut, sizeof cut - 4) == 0 &&
              r.s.iterations == 4096);
    run_free(&r);

    /* Unknown optional extensions are ignored (RFC 5802 §5); h= kept. */
    start(&r, &rfc5802, SF(",s=QSXCR+Q6sek8bf92,i=4096,x=whatever,h=AAAA"));
    CHECK("unknown extension ignored, h= kept",
          r.rc == 0 && r.s.ssdp && !strcmp(r.s.ssdp, "AAAA"));
    run_free(&r);
    /* Exactly the limit is allowed. */
    start(&r, &rfc5802, SF(",s=QSXCR+Q6sek8bf92,i=1000000"));
    CHECK("the limit itself is allowed",
          r.rc == 0 && r.s.iterations == 1000000);
    run_free(&r);
    /* Out of turn. */
    start(&r, &rfc5802, rfc5802_sf);
    CHECK("server-first twice refused",
          scram_server_first(&r.s, rfc5802_sf, strlen(rfc5802_sf)) == XE_USAGE);
    run_free(&r);
#undef SF
}

/* server-final-message outcomes after the RFC 5802 exchange. */
static int final_with(const char *sf_final, struct run *r)
{
    start(r, &rfc5802, rfc5802_sf);
    scram_client_final(&r->s, "pencil", NULL, &r->final);
    return scram_server_final(&r->s, sf_final, strlen(sf_final));
}

static void refused_final(const char *msg, int status, const char *word)
{
    struct run r;
    int rc = final_with(msg, &r);
    char what[800];
    snprintf(what, sizeof what, "server-final \"%s\" -> %d (%s): got %d, %s",
             msg, status, word, rc, r.s.error);
    CHECK(what, rc == status && strstr(r.s.error, word));
    run_free(&r);
}

static void test_server_final(void)
{
    refused_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,x=ext", 0, "");
    refused_final("v=AmF9pqV8S7suAoZWja4dJRkFsKQ=", XE_AUTH, "wrong");
    refused_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ", XE_PROTOCOL, "not base64");
    refused_final("v=rmF9pqV8S7suAoZWja4d", XE_AUTH, "wrong"); /* short */
    refused_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=AAAA", XE_PROTOCOL,
                  "not base64");
    refused_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=rmF9", XE_PROTOCOL,
                  "not base64");
    refused_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", 0, "");
    refused_final("", XE_AUTH, "no signature");
    refused_final("x=ext", XE_AUTH, "no signature");
    refused_final("e=invalid-proof", XE_AUTH,
                  "refused the SCRAM proof: invalid-proof");
    refused_final("e=", XE_PROTOCOL, "not \"X=value\"");
    refused_final("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,v=rmF9pqV8S7suAoZWja4dJRkF"
                  "sKQ=",
                  XE_PROTOCOL, "twice");

    /* A wrong password: our proof differs, and so does the signature we
     * expect, so the right server's v= fails too. */
    struct run r;
    start(&r, &rfc5802, rfc5802_sf);
    scram_client_final(&r.s, "pencil2", NULL, &r.final);
    const char *v = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
    CHECK("other password: signature refused",
          scram_server_final(&r.s, v, strlen(v)) == XE_AUTH);
    run_free(&r);
}

static void test_password(void)
{
    const struct {
        const char *pw;
        const char *word;
    } bad[] = {
        {"", "empty"},
        {"p\xc3\xa9ncil", "non-ASCII"},
        {"pen\tcil", "control"},
        {"pen\x7f", "control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run r;
        start(&r, &rfc5802, rfc5802_sf);
        int rc = scram_client_final(&r.s, bad[i].pw, NULL, &r.final);
        CHECK(bad[i].word,
              rc == XE_AUTH && strstr(r.s.error, bad[i].word) && !r.final);
        run_free(&r);
    }
    struct run r;
    start(&r, &rfc5802, rfc5802_sf);
    CHECK("a space is allowed (OpaqueString)",
          scram_client_final(&r.s, "pen cil ", NULL, &r.final) == 0);
    run_free(&r);
}

static void test_ssdp(void)
{
    /* XEP-0474 §5.3's example: SHA-1 over the sorted lists. */
    const char *mechs[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"};
    const char *cbs[] = {"tls-server-end-point", "tls-exporter"};
    struct run r;
    start(&r, &rfc5802,
          "r=fyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096,"
          "h=G6k/rBLDqgOhRRaCuuatSDFkJ08=");
    CHECK("XEP-0474 example hash matches",
          scram_ssdp_check(&r.s, mechs, 2, cbs, 2) == 0);
    CHECK("a stripped -PLUS is detected",
          scram_ssdp_check(&r.s, mechs + 1, 1, cbs, 2) == XE_AUTH &&
              strstr(r.s.error, "downgrade"));
    CHECK("a stripped channel-binding type is detected",
          scram_ssdp_check(&r.s, mechs, 2, cbs, 1) == XE_AUTH);
    CHECK("a stripped XEP-0440 feature is detected",
          scram_ssdp_check(&r.s, mechs, 2, NULL, 0) == XE_AUTH);
    run_free(&r);
    start(&r, &rfc5802, rfc5802_sf);
    CHECK("no h= at all: refused when asked",
          scram_ssdp_check(&r.s, mechs, 2, cbs, 2) == XE_AUTH);
    run_free(&r);
}

/* The policy table: one row, one expectation. */
struct row {
    const char *what;
    const char *mechs; /* space-separated; "" none */
    const char *cbs;   /* space-separated; NULL: no XEP-0440 */
    const char *ours;  /* channel-binding types we can compute */
    bool tls, sasl2, plain, cert;
    const char *pin;
    const char *want;  /* mechanism, or NULL for a refusal */
    char flag;         /* 'p', 'y', 'n' or 0 */
    const char *extra; /* cb type, or a word of the refusal */
};

/* Split a space-separated list into v (pointers into a copy). */
static size_t words(char *s, const char **v, size_t max)
{
    size_t n = 0;
    for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
        v[n++] = t;
    return n;
}

static void policy_row(const struct row *r)
{
    char m[256], c[256], o[256];
    const char *mv[16], *cv[16], *ov[16];
    snprintf(m, sizeof m, "%s", r->mechs);
    snprintf(c, sizeof c, "%s", r->cbs ? r->cbs : "");
    snprintf(o, sizeof o, "%s", r->ours ? r->ours : "");
    struct mech_offer off = {
        .mechs = mv,
        .nmechs = words(m, mv, 16),
        .cb_types = r->cbs ? cv : NULL,
        .ncb = words(c, cv, 16),
        .our_cb = ov,
        .nour = words(o, ov, 16),
        .tls = r->tls,
        .sasl2 = r->sasl2,
        .allow_plain = r->plain,
        .client_cert = r->cert,
        .pin = r->pin,
    };
    struct mech_choice ch;
    int rc = mech_choose(&off, &ch);
    bool ok;
    if (r->want)
        ok = !rc && ch.mech && !strcmp(ch.mech, r->want) &&
             ch.cb_flag == r->flag &&
             (r->flag != 'p' || !strcmp(ch.cb_type, r->extra));
    else
        ok = rc == XE_AUTH && !ch.mech && strstr(ch.error, r->extra);
    char what[900];
    snprintf(what, sizeof what, "policy: %s: got %s flag %c %s / %s", r->what,
             ch.mech ? ch.mech : "refusal", ch.cb_flag ? ch.cb_flag : '0',
             ch.cb_type ? ch.cb_type : "", ch.error);
    CHECK(what, ok);
}

#define BOTH "tls-exporter tls-server-end-point"
static const struct row policy[] = {
    {"ejabberd 24.12 over TLS 1.3",
     "PLAIN SCRAM-SHA-1-PLUS SCRAM-SHA-1 X-OAUTH2", BOTH, BOTH, true, false,
     false, false, NULL, "SCRAM-SHA-1-PLUS", 'p', "tls-exporter"},
    {"the strongest -PLUS first",
     "SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS SCRAM-SHA-512-PLUS SCRAM-SHA-512",
     BOTH, BOTH, true, true, false, false, NULL, "SCRAM-SHA-512-PLUS", 'p',
     "tls-exporter"},
    {"only tls-server-end-point in common", "SCRAM-SHA-256-PLUS SCRAM-SHA-256",
     BOTH, "tls-server-end-point", true, false, false, false, NULL,
     "SCRAM-SHA-256-PLUS", 'p', "tls-server-end-point"},
    {"-PLUS beats a stronger hash without", "SCRAM-SHA-512 SCRAM-SHA-1-PLUS",
     BOTH, BOTH, true, false, false, false, NULL, "SCRAM-SHA-1-PLUS", 'p',
     "tls-exporter"},
    {"Prosody 0.12 over TLS 1.3: no -PLUS, so y",
     "SCRAM-SHA-1 SCRAM-SHA-256 PLAIN", NULL, BOTH, true, false, false, false,
     NULL, "SCRAM-SHA-256", 'y', NULL},
    {"Prosody 0.12 over TLS 1.2: -PLUS with tls-unique only, so n",
     "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", NULL, "tls-server-end-point", true,
     false, false, false, NULL, "SCRAM-SHA-1", 'n', NULL},
    {"no channel binding of ours: n", "SCRAM-SHA-512", NULL, "", true, false,
     false, false, NULL, "SCRAM-SHA-512", 'n', NULL},
    {"no TLS: SCRAM with n", "SCRAM-SHA-1 PLAIN", NULL, "", false, false, true,
     false, NULL, "SCRAM-SHA-1", 'n', NULL},
    {"only PLAIN, allowed, TLS", "PLAIN DIGEST-MD5", NULL, BOTH, true, false,
     true, false, NULL, "PLAIN", 0, NULL},
    {"only PLAIN, not allowed", "PLAIN", NULL, BOTH, true, false, false, false,
     NULL, NULL, 0,
     "the server offers only PLAIN; --allow-plain allows it over TLS"},
    {"only PLAIN, allowed, no TLS", "PLAIN", NULL, "", false, false, true,
     false, NULL, NULL, 0, "PLAIN without TLS"},
    {"SCRAM preferred to allowed PLAIN", "PLAIN SCRAM-SHA-1", NULL, BOTH, true,
     false, true, false, NULL, "SCRAM-SHA-1", 'y', NULL},
    {"legacy only", "DIGEST-MD5 CRAM-MD5 ANONYMOUS X-OAUTH2", NULL, BOTH, true,
     false, true, false, NULL, NULL, 0,
     "the server offers no mechanism we accept (DIGEST-MD5, CRAM-MD5, "
     "ANONYMOUS, X-OAUTH2)"},
    {"nothing offered", "", NULL, BOTH, true, false, true, false, NULL, NULL, 0,
     "the server offers no SASL mechanism"},
    {"EXTERNAL with a certificate", "SCRAM-SHA-1-PLUS EXTERNAL", BOTH, BOTH,
     true, false, false, true, NULL, "EXTERNAL", 0, NULL},
    {"EXTERNAL needs a certificate", "EXTERNAL", NULL, BOTH, true, false, false,
     false, NULL, NULL, 0, "no mechanism we accept (EXTERNAL)"},
    {"a certificate, no EXTERNAL: password", "SCRAM-SHA-1", NULL, "", true,
     false, false, true, NULL, "SCRAM-SHA-1", 'n', NULL},
    {"pin SCRAM-PLUS, -PLUS stripped with XEP-0440",
     "SCRAM-SHA-1 SCRAM-SHA-256", BOTH, BOTH, true, false, false, false,
     "SCRAM-SHA-256-PLUS", NULL, 0, "no -PLUS mechanism: possible downgrade"},
    {"pin SCRAM-PLUS, -PLUS and XEP-0440 stripped", "SCRAM-SHA-1 SCRAM-SHA-256",
     NULL, BOTH, true, false, false, false, "SCRAM-SHA-256-PLUS", NULL, 0,
     "the server offers only SCRAM-SHA-1, SCRAM-SHA-256 but this account has "
     "logged in with SCRAM-SHA-256-PLUS before: possible downgrade attack; "
     "if the server really changed, run again with --reset-pin"},
    {"pin SCRAM, only PLAIN though allowed", "PLAIN", NULL, BOTH, true, false,
     true, false, "SCRAM-SHA-1", NULL, 0,
     "logged in with SCRAM-SHA-1 before: possible downgrade"},
    {"pin SCRAM, legacy only", "DIGEST-MD5", NULL, BOTH, true, false, true,
     false, "SCRAM-SHA-256", NULL, 0,
     "offers only DIGEST-MD5 but this account"},
    {"pin SCRAM-SHA-256, SCRAM-SHA-1 is the same family", "SCRAM-SHA-1", NULL,
     BOTH, true, false, false, false, "SCRAM-SHA-256", "SCRAM-SHA-1", 'y',
     NULL},
    {"pin PLAIN, SCRAM offered", "SCRAM-SHA-1 PLAIN", NULL, BOTH, true, false,
     true, false, "PLAIN", "SCRAM-SHA-1", 'y', NULL},
    {"pin SCRAM-PLUS, -PLUS types we cannot do", "SCRAM-SHA-1-PLUS SCRAM-SHA-1",
     "tls-exporter tls-server-end-point", "", true, false, false, false,
     "SCRAM-SHA-1-PLUS", NULL, 0, "possible downgrade"},
    {"pin EXTERNAL, certificate gone, -PLUS fine", "SCRAM-SHA-1-PLUS", BOTH,
     BOTH, true, false, false, false, "EXTERNAL", "SCRAM-SHA-1-PLUS", 'p',
     "tls-exporter"},
    {"SASL2 -PLUS without XEP-0440", "SCRAM-SHA-1-PLUS SCRAM-SHA-1", NULL, BOTH,
     true, true, false, false, NULL, NULL, 0,
     "without advertising channel-binding types"},
    {"XEP-0440 without tls-server-end-point", "SCRAM-SHA-1-PLUS SCRAM-SHA-1",
     "tls-unique", BOTH, true, false, false, false, NULL, NULL, 0,
     "lack tls-server-end-point"},
    {"XEP-0440 lists tls-server-end-point we cannot compute: n",
     "SCRAM-SHA-1-PLUS SCRAM-SHA-1", "tls-server-end-point", "tls-exporter",
     true, false, false, false, NULL, "SCRAM-SHA-1", 'n', NULL},
    {"mechanism names are case-sensitive", "scram-sha-1", NULL, BOTH, true,
     false, false, false, NULL, NULL, 0, "no mechanism we accept"},
};

static void test_policy(void)
{
    for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++)
        policy_row(&policy[i]);
    CHECK("pin raises from none", mech_pin_raises(NULL, "PLAIN"));
    CHECK("pin raises SCRAM to -PLUS",
          mech_pin_raises("SCRAM-SHA-512", "SCRAM-SHA-1-PLUS"));
    CHECK("pin stays within a family",
          !mech_pin_raises("SCRAM-SHA-1", "SCRAM-SHA-512"));
    CHECK("pin never lowers", !mech_pin_raises("SCRAM-SHA-1-PLUS", "PLAIN"));
}

/* --- state files --- */

static char statedir[256];

static mode_t mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* How many entries dir has besides . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* stderr into a file for the length of a call, to read the warning. */
static int hold_stderr(void)
{
    fflush(stderr);
    int saved = dup(2);
    char path[300];
    snprintf(path, sizeof path, "%s/stderr", statedir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    return saved;
}

static const char *release_stderr(int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char path[300];
    snprintf(path, sizeof path, "%s/stderr", statedir);
    const char *text = slurp(path);
    unlink(path);
    return text ? text : "";
}

static void test_state(void)
{
    snprintf(statedir, sizeof statedir, "/tmp/xmpp-unit.XXXXXX");
    if (!mkdtemp(statedir)) {
        CHECK("mkdtemp", 0);
        return;
    }
    char home[300], dir[300], pin[400], fast[400];
    snprintf(home, sizeof home, "%s/state", statedir);
    snprintf(dir, sizeof dir, "%s/state/deeper/xmpp", statedir);
    setenv("XDG_STATE_HOME", "relative/is/ignored", 1);
    setenv("HOME", statedir, 1);
    char *d = state_dir();
    char want[400];
    snprintf(want, sizeof want, "%s/.local/state/xmpp", statedir);
    CHECK("state_dir: HOME when XDG_STATE_HOME is relative",
          d && !strcmp(d, want));
    free(d);
    snprintf(want, sizeof want, "%s/state/deeper", statedir);
    setenv("XDG_STATE_HOME", want, 1);
    snprintf(pin, sizeof pin, "%s/alice@example.org.pin", dir);
    snprintf(fast, sizeof fast, "%s/alice@example.org.fast", dir);

    char *mech = (char *)"x";
    CHECK("no pin yet", pin_load("alice@example.org", &mech) == 0 && !mech);
    CHECK("pin stored",
          pin_store("Alice@Example.ORG/laptop", "SCRAM-SHA-256-PLUS") == 0);
    CHECK("pin file 0600", mode_of(pin) == 0600);
    CHECK("state directory 0700", mode_of(dir) == 0700);
    CHECK("pin file content",
          slurp(pin) && !strcmp(slurp(pin), "SCRAM-SHA-256-PLUS\n"));
    CHECK("pin read back", pin_load("alice@example.org", &mech) == 0 && mech &&
                               !strcmp(mech, "SCRAM-SHA-256-PLUS"));
    free(mech);

    /* Atomic: the new file replaces the old by rename, so a reader that
     * had it open still sees the whole old one, and no temporary file is
     * left behind. */
    int old = open(pin, O_RDONLY);
    CHECK("pin replaced", pin_store("alice@example.org", "SCRAM-SHA-1") == 0);
    char buf[64] = {0};
    CHECK("the old file is intact for its reader",
          read(old, buf, sizeof buf - 1) > 0 &&
              !strcmp(buf, "SCRAM-SHA-256-PLUS\n"));
    close(old);
    CHECK("the new content", !strcmp(slurp(pin), "SCRAM-SHA-1\n"));
    CHECK("no temporary file left", entries(dir) == 1);
    int saved = hold_stderr();
    CHECK("not a mechanism: not pinned",
          pin_store("alice@example.org", "DIGEST-MD5") == XE_CONFIG);
    CHECK("and a warning says so",
          strstr(release_stderr(saved), "DIGEST-MD5 is not a mechanism"));

    /* Files others can read or write are not read, and say so. */
    chmod(pin, 0644);
    saved = hold_stderr();
    pin_load("alice@example.org", &mech);
    const char *err = release_stderr(saved);
    CHECK("a pin others can read is ignored", mech == NULL);
    CHECK("with a warning saying how to fix it",
          strstr(err, "open to other users (mode 644)") &&
              strstr(err, "chmod 600"));
    chmod(pin, 0620);
    saved = hold_stderr();
    pin_load("alice@example.org", &mech);
    release_stderr(saved);
    CHECK("a pin others can write is ignored", mech == NULL);
    chmod(pin, 0600);
    if (geteuid() == 0) {
        chown(pin, 65534, 65534);
        saved = hold_stderr();
        pin_load("alice@example.org", &mech);
        err = release_stderr(saved);
        CHECK("someone else's pin is ignored",
              mech == NULL && strstr(err, "another user"));
        chown(pin, 0, 0);
    }
    char target[400];
    snprintf(target, sizeof target, "%s/elsewhere", statedir);
    rename(pin, target);
    symlink(target, pin);
    saved = hold_stderr();
    pin_load("alice@example.org", &mech);
    release_stderr(saved);
    CHECK("a symbolic link is not followed", mech == NULL);
    unlink(pin);
    rename(target, pin);
    FILE *f = fopen(pin, "w");
    fputs("DIGEST-MD5\n", f);
    fclose(f);
    saved = hold_stderr();
    pin_load("alice@example.org", &mech);
    err = release_stderr(saved);
    CHECK("an unknown pinned mechanism is ignored",
          mech == NULL && strstr(err, "names no mechanism"));
    CHECK("pin deleted",
          pin_delete("alice@example.org") == 0 && mode_of(pin) == (mode_t)-1);
    CHECK("deleting no pin is fine", pin_delete("alice@example.org") == 0);

    /* FAST tokens. */
    struct fast_token t = {.mech = (char *)"HT-SHA-256-NONE",
                           .token = (char *)"WXZzciBwYmFmdmZnZiBqdnUgZ2b6",
                           .expiry = 1790000000};
    struct fast_token got;
    CHECK("no token yet",
          fast_load("alice@example.org", &got) == 0 && !got.token);
    CHECK("token stored", fast_store("alice@example.org", &t) == 0);
    CHECK("token file 0600", mode_of(fast) == 0600);
    CHECK("token read back", fast_load("alice@example.org", &got) == 0 &&
                                 got.token && !strcmp(got.token, t.token) &&
                                 !strcmp(got.mech, t.mech) &&
                                 got.expiry == t.expiry);
    fast_token_free(&got);
    t.token = (char *)"two\nlines";
    saved = hold_stderr();
    CHECK("a token with a line break is not stored",
          fast_store("alice@example.org", &t) == XE_CONFIG);
    CHECK("and a warning says so",
          strstr(release_stderr(saved), "line break: not saved"));
    chmod(fast, 0640);
    saved = hold_stderr();
    fast_load("alice@example.org", &got);
    err = release_stderr(saved);
    CHECK("a token others can read is ignored, with a warning",
          !got.token && strstr(err, "chmod 600"));
    chmod(fast, 0600);
    f = fopen(fast, "w");
    fputs("mechanism HT-SHA-256-NONE\ntoken abc\nexpiry soon\n", f);
    fclose(f);
    saved = hold_stderr();
    fast_load("alice@example.org", &got);
    err = release_stderr(saved);
    CHECK("a damaged token file is ignored",
          !got.token && !got.mech && strstr(err, "damaged"));
    CHECK("token deleted",
          fast_delete("alice@example.org") == 0 && mode_of(fast) == (mode_t)-1);

    /* Odd JIDs make safe file names. */
    CHECK("odd JID stored", pin_store(".hidden/x", "PLAIN") == 0);
    snprintf(want, sizeof want, "%s/%%2Ehidden.pin", dir);
    CHECK("a leading dot is encoded", mode_of(want) == 0600);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", statedir);
    CHECK("clean up", system(cmd) == 0);
}

/* One exchange over stdin/stdout for scram_server.py. */
static int client(int argc, char **argv)
{
    if (argc != 5 && argc != 7)
        return XE_USAGE;
    unsigned char cb[256];
    size_t cblen = 0;
    if (argc == 7)
        for (const char *h = argv[6]; h[0] && h[1] && cblen < sizeof cb; h += 2)
            sscanf(h, "%2hhx", &cb[cblen++]);
    struct scram_params p = {
        .mech = argv[2],
        .user = argv[3],
        .cb_flag = argc == 7 ? 'p' : 'n',
        .cb_type = argc == 7 ? argv[5] : NULL,
        .cb_data = cb,
        .cb_len = cblen,
    };
    struct scram s;
    char *out = NULL, line[4096];
    int rc = scram_client_first(&s, &p, &out);
    for (int step = 0; !rc && step < 2; step++) {
        printf("%s\n", out);
        fflush(stdout);
        free(out);
        out = NULL;
        if (!fgets(line, sizeof line, stdin)) {
            rc = XE_CONNLOST;
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        if (step == 0) {
            rc = scram_server_first(&s, line, strlen(line));
            if (!rc)
                rc = scram_client_final(&s, argv[4], NULL, &out);
        } else {
            rc = scram_server_final(&s, line, strlen(line));
        }
    }
    if (rc)
        fprintf(stderr, "client: %s\n", s.error);
    free(out);
    scram_free(&s);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "client"))
        return client(argc, argv);
    test_rfc5802();
    test_rfc7677();
    test_gs2();
    test_server_first();
    test_server_final();
    test_password();
    test_ssdp();
    test_policy();
    test_state();
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

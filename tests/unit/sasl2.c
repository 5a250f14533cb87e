/* Unit tests of common/auth/sasl2.c: stream features, <authenticate/>,
 * the server's answers and FAST's HT-SHA-256-*, on what ejabberd 24.12
 * and Prosody 0.12 really sent (captured with `tests/stream_features.py
 * fast` against tests/server; the <stream:features/> wrapper is written
 * with its namespace as a default, since a stanza parsed alone has no
 * stream to declare the prefix), and the user-agent id file. `make unit`
 * builds build/unit/sasl2 and runs it; the last line is
 * "unit sasl2: N passed, N failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/auth/mech.h"
#include "common/auth/sasl2.h"
#include "common/auth/state.h"
#include "common/cli/exitcode.h"

#include "tests/unit/check.h"

static xmpp_ctx_t *ctx;

#define FEATURES(inner)                                                        \
    "<features xmlns='http://etherx.jabber.org/streams'>" inner "</features>"

/* ejabberd 24.12 after STARTTLS (mod_auth_fast on), byte for byte. */
static const char *ejabberd_features = FEATURES(
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</"
    "mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-1<"
    "/mechanism><mechanism>X-OAUTH2</mechanism></mechanisms><sasl-channel-"
    "binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'"
    "/><channel-binding type='tls-server-end-point'/></sasl-channel-binding>"
    "<authentication xmlns='urn:xmpp:sasl:2'><inline><bind "
    "xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/><feature "
    "var='urn:xmpp:carbons:2'/></inline></bind><sm xmlns='urn:xmpp:sm:3'/>"
    "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism>"
    "<mechanism>HT-SHA-256-UNIQ</mechanism><mechanism>HT-SHA-256-EXPR</"
    "mechanism><mechanism>HT-SHA-256-ENDP</mechanism></fast></inline>"
    "<mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism>"
    "<mechanism>SCRAM-SHA-1</mechanism><mechanism>X-OAUTH2</mechanism></"
    "authentication>");

/* Prosody 0.12.3 after STARTTLS. */
static const char *prosody_features =
    FEATURES("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
             "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>"
             "</mechanisms>");

/* ejabberd's answers, in the order of the FAST life: the password login
 * (SCRAM-SHA-1, Bind2 with SM resume, a token requested), then the token
 * over HT-SHA-256-NONE and -ENDP, a wrong token; then its RFC 6120 form. */
static const char *ejabberd_challenge =
    "<challenge xmlns='urn:xmpp:sasl:2'>cj1FUVlNM2pKdzJWMGhObXFieFZTOVhvNkJU"
    "aFo4MzlvMUwwaXFveWpIeFpKZW1nPT0scz1HNjl3Z2tZRk9yZ0F5NnM0L0JVbm5nPT0saT"
    "00MDk2LGg9YUNDLzJDTnBhMmFFaCtWa1BId0tVcGcwT2ZFPQ==</challenge>";
static const char *ejabberd_success =
    "<success xmlns='urn:xmpp:sasl:2'><token "
    "token='8LIbu7iXYD6WJBRvzJWiy4a+IuICH/vkOMKTexxB6zA=' "
    "expiry='2026-12-30T10:57:50Z' xmlns='urn:xmpp:fast:0'/><bound "
    "xmlns='urn:xmpp:bind:0'><enabled resume='true' max='5' "
    "id='g2gCbQAAABBwcm9iZS52RWMtRUZzMis5bQAAAAj1bmDWPNlXdQ==' "
    "xmlns='urn:xmpp:sm:3'/></bound><authorization-identifier>alice@"
    "localhost/probe.vEc-EFs2+9</authorization-identifier><additional-data>"
    "dj1XMW5oQy9MakZ4OHZHMkZOTms2Z21iRk9Nb2s9</additional-data></success>";
static const char *ejabberd_ht_none =
    "<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind:0'/>"
    "<authorization-identifier>alice@localhost/fast.vEc-EFs2+9</"
    "authorization-identifier><additional-data>R0vQsNV6pVk4v6OvrOslEqvzQNOd"
    "xt8vmkStLrEEWD4=</additional-data></success>";
static const char *ejabberd_ht_endp =
    "<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind:0'/>"
    "<authorization-identifier>alice@localhost/fast.vEc-EFs2+9</"
    "authorization-identifier><additional-data>jkFvEsqNGhsPnaHv8U6u4oKJDRW0"
    "iFJolDwd968WAEc=</additional-data></success>";
static const char *ejabberd_failure =
    "<failure xmlns='urn:xmpp:sasl:2'><not-authorized "
    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Invalid username or "
    "password</text></failure>";

/* The token of that life, and the tls-server-end-point data of that
 * server's certificate (SHA-256 of its DER form). */
static const char *token = "8LIbu7iXYD6WJBRvzJWiy4a+IuICH/vkOMKTexxB6zA=";
static const unsigned char endp[32] = {
    0xb6, 0xd3, 0x3d, 0x06, 0x77, 0x11, 0x3f, 0xbb, 0xa9, 0x61, 0xb4,
    0x61, 0x3b, 0x06, 0x56, 0xf3, 0x0b, 0xbc, 0x88, 0xd9, 0x35, 0x39,
    0x5e, 0xac, 0x5a, 0x13, 0xb8, 0x06, 0xb8, 0x01, 0xd7, 0x3b};

static xmpp_stanza_t *parse(const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);
    if (!st)
        printf("not XML: %s\n", xml);
    return st;
}

static int features(const char *xml, struct sasl2_features *f)
{
    xmpp_stanza_t *st = parse(xml);
    int rc = st ? sasl2_features_parse(st, f) : -1;
    if (st)
        xmpp_stanza_release(st);
    return rc;
}

static bool list_is(const struct sasl2_list *l, const char *words)
{
    char buf[512] = "";
    for (size_t i = 0; i < l->n; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s",
                 i ? " " : "", l->v[i]);
    if (strcmp(buf, words))
        printf("list: \"%s\", expected \"%s\"\n", buf, words);
    return !strcmp(buf, words);
}

static void test_features_ejabberd(void)
{
    struct sasl2_features f;
    CHECK("ejabberd features parse", features(ejabberd_features, &f) == 0);
    CHECK("SASL mechanisms", f.sasl1 && list_is(&f.mechs, "PLAIN "
                                                          "SCRAM-SHA-1-PLUS "
                                                          "SCRAM-SHA-1 "
                                                          "X-OAUTH2"));
    CHECK("channel-binding types",
          f.cb_advertised &&
              list_is(&f.cb_types, "tls-exporter tls-server-end-point"));
    CHECK("SASL2 mechanisms",
          f.sasl2 && list_is(&f.mechs2, "PLAIN SCRAM-SHA-1-PLUS SCRAM-SHA-1 "
                                        "X-OAUTH2"));
    CHECK("Bind2 and its inline features",
          f.bind2 &&
              list_is(&f.bind_features, "urn:xmpp:sm:3 urn:xmpp:carbons:2"));
    CHECK("SM inline in SASL2", f.sm);
    CHECK("FAST mechanisms",
          f.fast && !f.fast_0rtt &&
              list_is(&f.fast_mechs, "HT-SHA-256-NONE HT-SHA-256-UNIQ "
                                     "HT-SHA-256-EXPR HT-SHA-256-ENDP"));
    CHECK("sasl2_listed", sasl2_listed(&f.bind_features, "urn:xmpp:sm:3") &&
                              !sasl2_listed(&f.bind_features, "urn:xmpp:sm"));

    /* The offer goes to the mechanism policy as is. */
    const char *ours[] = {"tls-exporter", "tls-server-end-point"};
    struct mech_offer o = {.our_cb = ours, .nour = 2, .tls = true};
    struct mech_choice c;
    sasl2_features_offer(&f, true, &o);
    CHECK("offer: SASL2's list",
          o.sasl2 && o.nmechs == 4 && o.ncb == 2 &&
              o.mechs == (const char *const *)f.mechs2.v);
    CHECK("policy picks SCRAM-SHA-1-PLUS with tls-exporter",
          mech_choose(&o, &c) == 0 && !strcmp(c.mech, "SCRAM-SHA-1-PLUS") &&
              !strcmp(c.cb_type, "tls-exporter"));
    sasl2_features_offer(&f, false, &o);
    CHECK("offer: RFC 6120's list",
          !o.sasl2 && o.mechs == (const char *const *)f.mechs.v);
    CHECK("HT: EXPR when we have tls-exporter",
          !strcmp(ht_choose(&f.fast_mechs, ours, 2), "HT-SHA-256-EXPR"));
    CHECK("HT: ENDP without it",
          !strcmp(ht_choose(&f.fast_mechs, ours + 1, 1), "HT-SHA-256-ENDP"));
    CHECK("HT: NONE without channel binding",
          !strcmp(ht_choose(&f.fast_mechs, NULL, 0), "HT-SHA-256-NONE"));
    sasl2_features_free(&f);
    CHECK("freed", !f.mechs.v && !f.mechs2.n && !f.fast_mechs.v);
}

static void test_features_prosody(void)
{
    struct sasl2_features f;
    CHECK("Prosody features parse", features(prosody_features, &f) == 0);
    CHECK("Prosody: SASL only", f.sasl1 && !f.sasl2 && !f.fast && !f.bind2 &&
                                    !f.cb_advertised &&
                                    list_is(&f.mechs, "SCRAM-SHA-1 PLAIN"));
    struct mech_offer o = {.tls = true};
    sasl2_features_offer(&f, true, &o);
    CHECK("offer falls back to RFC 6120's list without SASL2",
          !o.sasl2 && o.nmechs == 2 && !o.cb_types);
    sasl2_features_free(&f);

    CHECK("an advertised empty channel-binding list stays non-NULL",
          features(FEATURES("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'"
                            "/>"),
                   &f) == 0 &&
              f.cb_advertised);
    sasl2_features_offer(&f, false, &o);
    CHECK("... in the offer", o.cb_types && o.ncb == 0);
    sasl2_features_free(&f);
    CHECK("whitespace around a name is not part of it",
          features(FEATURES("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-"
                            "sasl'><mechanism>\n  PLAIN </mechanism>"
                            "</mechanisms>"),
                   &f) == 0 &&
              list_is(&f.mechs, "PLAIN"));
    sasl2_features_free(&f);
    CHECK("elements in other namespaces are not ours",
          features(FEATURES("<mechanisms xmlns='urn:x'><mechanism>PLAIN"
                            "</mechanism></mechanisms><authentication "
                            "xmlns='urn:xmpp:sasl:1'/>"),
                   &f) == 0 &&
              !f.sasl1 && !f.sasl2);
    sasl2_features_free(&f);
}

/* Features that break a bound: refused, with the reason, nothing kept. */
static void refused_features(const char *what, const char *xml,
                             const char *word)
{
    struct sasl2_features f;
    int rc = features(xml, &f);
    char name[200];
    snprintf(name, sizeof name, "refused: %s", what);
    CHECK(name, rc == XE_PROTOCOL && strstr(f.error, word) && !f.mechs.v &&
                    !f.mechs2.v && !f.sasl1);
    if (rc != XE_PROTOCOL || !strstr(f.error, word))
        printf("  rc %d, error \"%s\"\n", rc, f.error);
    sasl2_features_free(&f);
}

static void test_features_bounds(void)
{
    char many[4096] = "<features xmlns='http://etherx.jabber.org/streams'>"
                      "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
    for (int i = 0; i <= SASL2_MAX_ITEMS; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many),
                 "<mechanism>M%d</mechanism>", i);
    strcat(many, "</mechanisms></features>");
    refused_features("33 mechanisms", many, "more than 32 entries");
    char longname[512];
    snprintf(longname, sizeof longname,
             FEATURES("<authentication xmlns='urn:xmpp:sasl:2'><mechanism>"
                      "%065d</mechanism></authentication>"),
             0);
    refused_features("a 65-byte mechanism name", longname, "longer than 64");
    refused_features(
        "a bidirectional control in a name",
        FEATURES("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 "<mechanism>PLAIN&#x202e;</mechanism></mechanisms>"),
        "control character");
    refused_features(
        "DEL in a channel-binding type",
        FEATURES("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
                 "<channel-binding type='tls-&#x7f;'/></sasl-channel-binding>"),
        "channel-binding types");
    refused_features("an empty FAST mechanism",
                     FEATURES("<authentication xmlns='urn:xmpp:sasl:2'><inline>"
                              "<fast xmlns='urn:xmpp:fast:0'><mechanism/>"
                              "</fast></inline></authentication>"),
                     "FAST mechanism list has an empty entry");
    refused_features("a channel-binding without a type",
                     FEATURES("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:"
                              "0'><channel-binding/></sasl-channel-binding>"),
                     "empty entry");
    refused_features(
        "two mechanism lists",
        FEATURES("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 "<mechanism>SCRAM-SHA-1</mechanism></mechanisms>"
                 "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 "<mechanism>PLAIN</mechanism></mechanisms>"),
        "<mechanisms/> twice");
}

/* st as text, malloc'd. */
static char *text(xmpp_stanza_t *st)
{
    char *buf = NULL, *out;
    size_t len = 0;
    if (xmpp_stanza_to_text(st, &buf, &len))
        return NULL;
    out = strndup(buf, len);
    xmpp_free(ctx, buf);
    return out;
}

/* libstrophe writes attributes in the order of its hash table: for
 * these names, the order below. */
static bool built(xmpp_stanza_t *st, const char *want)
{
    char *got = st ? text(st) : NULL;
    bool ok = got && !strcmp(got, want);
    if (!ok)
        printf("built:    %s\nexpected: %s\n", got ? got : "(none)", want);
    free(got);
    if (st)
        xmpp_stanza_release(st);
    return ok;
}

static void test_authenticate(void)
{
    static const unsigned char first[] = "n,,n=alice,r=abc";
    struct sasl2_auth a = {
        .mech = "SCRAM-SHA-1",
        .initial = first,
        .initial_len = sizeof first - 1,
        .agent_id = "d4565fa7-4d72-4749-b3d3-740edbf87770",
        .software = "xmpp",
        .device = "build-host",
        .bind_tag = "xmpp",
        .sm_enable = true,
        .sm_resume = true,
        .request_token = "HT-SHA-256-EXPR",
    };
    xmpp_stanza_t *st;
    CHECK("password login with everything inline",
          sasl2_authenticate(ctx, &a, &st) == 0 &&
              built(st, "<authenticate mechanism=\"SCRAM-SHA-1\" "
                        "xmlns=\"urn:xmpp:sasl:2\"><initial-response>"
                        "biwsbj1hbGljZSxyPWFiYw==</initial-response>"
                        "<user-agent id=\"d4565fa7-4d72-4749-b3d3-"
                        "740edbf87770\"><software>xmpp</software><device>"
                        "build-host</device></user-agent><bind "
                        "xmlns=\"urn:xmpp:bind:0\"><tag>xmpp</tag><enable "
                        "xmlns=\"urn:xmpp:sm:3\" resume=\"true\"/></bind>"
                        "<request-token mechanism=\"HT-SHA-256-EXPR\" "
                        "xmlns=\"urn:xmpp:fast:0\"/></authenticate>"));

    struct sasl2_auth t = {.mech = "HT-SHA-256-NONE",
                           .initial = (const unsigned char *)"",
                           .initial_len = 0,
                           .software = "xmpp",
                           .bind_tag = "xmpp",
                           .fast = true,
                           .invalidate = true};
    CHECK("token login that invalidates, empty response, no SM",
          sasl2_authenticate(ctx, &t, &st) == 0 &&
              built(st,
                    "<authenticate mechanism=\"HT-SHA-256-NONE\" "
                    "xmlns=\"urn:xmpp:sasl:2\"><initial-response>="
                    "</initial-response><user-agent><software>xmpp"
                    "</software></user-agent><bind xmlns=\"urn:xmpp:"
                    "bind:0\"><tag>xmpp</tag></bind><fast invalidate=\"true\" "
                    "xmlns=\"urn:xmpp:fast:0\"/></authenticate>"));
    struct sasl2_auth bare = {.mech = "SCRAM-SHA-256", .device = "a<b&c"};
    CHECK("no initial response, no Bind2; text escaped",
          sasl2_authenticate(ctx, &bare, &st) == 0 &&
              built(st, "<authenticate mechanism=\"SCRAM-SHA-256\" "
                        "xmlns=\"urn:xmpp:sasl:2\"><user-agent><device>"
                        "a&lt;b&amp;c</device></user-agent></authenticate>"));
    struct sasl2_auth bad = {.mech = "PLAIN", .device = "host\n"};
    CHECK("a control character is refused",
          sasl2_authenticate(ctx, &bad, &st) == XE_USAGE && !st &&
              strstr(bad.error, "control character"));
    struct sasl2_auth nosm = {.mech = "PLAIN", .sm_enable = true};
    CHECK("SM inline without Bind2 is refused",
          sasl2_authenticate(ctx, &nosm, &st) == XE_USAGE &&
              strstr(nosm.error, "needs Bind2"));
    struct sasl2_auth inv = {.mech = "PLAIN", .invalidate = true};
    CHECK("invalidate without FAST is refused",
          sasl2_authenticate(ctx, &inv, &st) == XE_USAGE);

    CHECK("SASL2 response", built(sasl2_response(ctx, true, first, 3),
                                  "<response xmlns=\"urn:xmpp:sasl:2\">"
                                  "biws</response>"));
    CHECK("SASL response, empty",
          built(sasl2_response(ctx, false, NULL, 0),
                "<response xmlns=\"urn:ietf:params:xml:ns:xmpp-sasl\">="
                "</response>"));
}

static int answer(const char *xml, struct sasl2_answer *a)
{
    xmpp_stanza_t *st = parse(xml);
    int rc = st ? sasl2_answer_parse(st, a) : -1;
    if (st)
        xmpp_stanza_release(st);
    return rc;
}

static void test_answers(void)
{
    struct sasl2_answer a;
    CHECK("challenge", answer(ejabberd_challenge, &a) == 0 &&
                           a.kind == SASL2_CHALLENGE && a.sasl2 &&
                           !strncmp((char *)a.data,
                                    "r=EQYM3jJw2V0hNmqbxVS9Xo6BThZ839o1L0iq"
                                    "oyjHxZJemg==,s=G69wgkYFOrgAy6s4/BUnng=="
                                    ",i=4096,h=aCC/2CNpa2aEh+VkPHwKUpg0OfE=",
                                    a.len) &&
                           a.len == 115);
    sasl2_answer_free(&a);

    CHECK("success",
          answer(ejabberd_success, &a) == 0 && a.kind == SASL2_SUCCESS);
    CHECK("success: SCRAM's server-final",
          a.data && !strcmp((char *)a.data, "v=W1nhC/LjFx8vG2FNNk6gmbFOMok="));
    CHECK("success: the bound full JID",
          a.jid && !strcmp(a.jid, "alice@localhost/probe.vEc-EFs2+9"));
    CHECK("success: SM enabled inline, resumable",
          a.bound && a.sm.enabled && a.sm.resume && a.sm.max == 5 &&
              !a.sm.failed && a.sm.id &&
              !strcmp(a.sm.id, "g2gCbQAAABBwcm9iZS52RWMtRUZzMis5bQAAAAj1bmDW"
                               "PNlXdQ=="));
    CHECK("success: the FAST token and its expiry",
          a.token && !strcmp(a.token, token) && a.token_expiry == 1798628270LL);
    sasl2_answer_free(&a);

    CHECK("HT success: no SM, no token", answer(ejabberd_ht_none, &a) == 0 &&
                                             a.bound && !a.sm.enabled &&
                                             !a.token && a.len == 32);
    sasl2_answer_free(&a);

    CHECK("failure", answer(ejabberd_failure, &a) == XE_AUTH &&
                         a.kind == SASL2_FAILURE &&
                         !strcmp(a.condition, "not-authorized") &&
                         !strcmp(a.text, "Invalid username or password"));
    CHECK("failure: one line saying so",
          !strcmp(a.error, "the server refused the login: not-authorized "
                           "(Invalid username or password)"));
    sasl2_answer_free(&a);

    CHECK("SASL failure without text",
          answer("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 "<credentials-expired/></failure>",
                 &a) == XE_AUTH &&
              !a.sasl2 && a.kind == SASL2_FAILURE &&
              !strcmp(a.error,
                      "the server refused the login: credentials-expired"));
    sasl2_answer_free(&a);
    CHECK("failure text with a line break stays as sent (fail() escapes it)",
          answer("<failure xmlns='urn:xmpp:sasl:2'><aborted xmlns='urn:ietf:"
                 "params:xml:ns:xmpp-sasl'/><text>a\nb&#x85;[31m</text>"
                 "</failure>",
                 &a) == XE_AUTH &&
              !strcmp(a.text, "a\nb\xc2\x85[31m"));
    sasl2_answer_free(&a);
    CHECK("a failure with an odd condition name leaves it out",
          answer("<failure xmlns='urn:xmpp:sasl:2'><Bad_Name xmlns='urn:ietf:"
                 "params:xml:ns:xmpp-sasl'/></failure>",
                 &a) == XE_AUTH &&
              !a.condition[0] && strstr(a.error, "no reason given"));
    sasl2_answer_free(&a);

    /* XEP-0388 §2.4's example. */
    CHECK("continue: refused, naming the tasks",
          answer("<continue xmlns='urn:xmpp:sasl:2'><additional-data>"
                 "SSdtIGJvcmVkIG5vdy4=</additional-data><tasks><task>HOTP-"
                 "EXAMPLE</task><task>TOTP-EXAMPLE</task></tasks><text>This "
                 "account requires 2FA</text></continue>",
                 &a) == XE_AUTH &&
              a.kind == SASL2_CONTINUE &&
              strstr(a.error, "(HOTP-EXAMPLE, TOTP-EXAMPLE) that xmpp does "
                              "not do"));
    sasl2_answer_free(&a);

    CHECK("SASL success with data",
          answer("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1hYmM="
                 "</success>",
                 &a) == 0 &&
              !a.sasl2 && a.len == 5 && !strcmp((char *)a.data, "v=abc"));
    sasl2_answer_free(&a);
    CHECK("SASL success without data",
          answer("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", &a) ==
                  0 &&
              !a.data);
    sasl2_answer_free(&a);
    CHECK("empty challenge (=)",
          answer("<challenge xmlns='urn:xmpp:sasl:2'>=</challenge>", &a) == 0 &&
              a.data && a.len == 0);
    sasl2_answer_free(&a);

    CHECK("not base64",
          answer("<challenge xmlns='urn:xmpp:sasl:2'>a b!</challenge>", &a) ==
                  XE_PROTOCOL &&
              a.kind == SASL2_CHALLENGE && strstr(a.error, "not base64") &&
              !a.data);
    sasl2_answer_free(&a);
    CHECK("not SASL", answer("<iq xmlns='jabber:client' type='result'/>", &a) ==
                              XE_PROTOCOL &&
                          a.kind == SASL2_NONE);
    sasl2_answer_free(&a);
    CHECK("continue outside SASL2 is unknown",
          answer("<continue xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", &a) ==
              XE_PROTOCOL);
    sasl2_answer_free(&a);
    CHECK("a token expiry without a time zone",
          answer("<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:"
                 "fast:0' token='x' expiry='2026-12-30T10:57:50'/></success>",
                 &a) == XE_PROTOCOL &&
              strstr(a.error, "expiry") && !a.token);
    sasl2_answer_free(&a);
    CHECK("a token element without a token",
          answer("<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:"
                 "fast:0'/></success>",
                 &a) == XE_PROTOCOL);
    sasl2_answer_free(&a);
    CHECK("a JID with a control character",
          answer("<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>"
                 "a@b/&#x85;</authorization-identifier></success>",
                 &a) == XE_PROTOCOL);
    sasl2_answer_free(&a);
    CHECK("SM failed inline",
          answer("<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:"
                 "bind:0'><failed xmlns='urn:xmpp:sm:3'><unexpected-request "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
                 "</bound></success>",
                 &a) == 0 &&
              a.sm.failed && !a.sm.enabled &&
              !strcmp(a.sm.condition, "unexpected-request"));
    sasl2_answer_free(&a);
}

/* HT-SHA-256-* against the draft's definition (vectors from Python's
 * hmac: HMAC-SHA-256(token, b"Initiator" + cb)), and against ejabberd:
 * it accepted the NONE and ENDP initial responses below and sent the
 * additional-data verified here. */
static void ht_case(const char *mech, const unsigned char *cb, size_t cb_len,
                    const char *want_b64, const char *server)
{
    struct ht h;
    unsigned char *out = NULL;
    size_t len = 0;
    char name[200];
    snprintf(name, sizeof name, "%s initial response", mech);
    int rc = ht_start(&h, mech, "alice", token, cb, cb_len, &out, &len);
    char *b64 = rc ? NULL : xmpp_base64_encode(ctx, out, len);
    CHECK(name, b64 && !strcmp(b64, want_b64));
    if (b64 && strcmp(b64, want_b64))
        printf("  got %s\n", b64);
    if (b64)
        xmpp_free(ctx, b64);
    free(out);
    struct sasl2_answer a;
    snprintf(name, sizeof name, "%s: the server's proof verifies", mech);
    CHECK(name, answer(server, &a) == 0 && ht_verify(&h, a.data, a.len) == 0);
    sasl2_answer_free(&a);
    ht_free(&h);
}

static void test_ht(void)
{
    unsigned char expr[32];
    for (int i = 0; i < 32; i++)
        expr[i] = (unsigned char)i;
    ht_case("HT-SHA-256-NONE", NULL, 0,
            "YWxpY2UAhIb9LX7OOYNLoAMJtGNP+gKQqYwr6wKUVsUoGkVRSYY=",
            ejabberd_ht_none);
    ht_case("HT-SHA-256-ENDP", endp, sizeof endp,
            "YWxpY2UAHKJV/97KVeku9EnOc/gwfJ1ZcdygPD1no8xPUOqVrfQ=",
            ejabberd_ht_endp);
    ht_case("HT-SHA-256-EXPR", expr, sizeof expr,
            "YWxpY2UASoJNYx49lzDE78Hxd5+ZgCu29lxO0G1DDoZykgfnUBw=",
            "<success xmlns='urn:xmpp:sasl:2'><additional-data>NO+lIw9TrtLWo"
            "tdIv+N7/HgR1P36SZ6xn6Go4Hzb5l0=</additional-data></success>");

    struct ht h;
    unsigned char *out;
    size_t len;
    CHECK("NONE ignores channel-binding data",
          ht_start(&h, "HT-SHA-256-NONE", "alice", token, endp, 32, &out,
                   &len) == 0);
    free(out);
    struct sasl2_answer a;
    answer(ejabberd_ht_endp, &a);
    CHECK("another variant's proof is wrong",
          ht_verify(&h, a.data, a.len) == XE_AUTH &&
              strstr(h.error, "proof is wrong"));
    sasl2_answer_free(&a);
    CHECK("a success without proof proves nothing",
          ht_verify(&h, NULL, 0) == XE_AUTH && strstr(h.error, "no proof"));
    ht_free(&h);
    CHECK("ENDP without data is refused",
          ht_start(&h, "HT-SHA-256-ENDP", "alice", token, NULL, 0, &out,
                   &len) == XE_USAGE &&
              !out);
    CHECK("UNIQ is not done", ht_start(&h, "HT-SHA-256-UNIQ", "alice", token,
                                       endp, 32, &out, &len) == XE_USAGE);
    const char *type = "x";
    CHECK("ht_cb_type", ht_cb_type("HT-SHA-256-EXPR", &type) &&
                            !strcmp(type, "tls-exporter") &&
                            ht_cb_type("HT-SHA-256-NONE", &type) && !type &&
                            !ht_cb_type("HT-SHA-256-UNIQ", &type));
    struct sasl2_list only_uniq = {(char *[]){"HT-SHA-256-UNIQ"}, 1};
    CHECK("UNIQ alone: no HT mechanism", !ht_choose(&only_uniq, NULL, 0));
}

static void test_agent(void)
{
    char dir[] = "/tmp/xmpp-unit-sasl2.XXXXXX", path[200], cmd[300];
    if (!mkdtemp(dir)) {
        CHECK("mkdtemp", 0);
        return;
    }
    setenv("XDG_STATE_HOME", dir, 1);
    char *id = NULL, *again = NULL;
    CHECK("a new user-agent id", agent_load("Alice@localhost/x", &id) == 0 &&
                                     id && strlen(id) == 36 && id[14] == '4' &&
                                     strchr("89ab", id[19]));
    snprintf(path, sizeof path, "%s/xmpp/alice@localhost.agent", dir);
    struct stat st;
    CHECK("saved 0600", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK("the same id next time", agent_load("alice@localhost", &again) == 0 &&
                                       again && !strcmp(id, again));
    free(again);
    FILE *f = fopen(path, "w");
    fputs("not-a-uuid\n", f);
    fclose(f);
    fflush(stderr);
    int saved = dup(2);
    freopen("/dev/null", "w", stderr);
    CHECK("a damaged id is replaced",
          agent_load("alice@localhost", &again) == 0 && again &&
              strcmp(again, id) && strlen(again) == 36);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    free(again);
    free(id);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK("clean up", system(cmd) == 0);
}

int main(void)
{
    ctx = xmpp_ctx_new(NULL, NULL);
    test_features_ejabberd();
    test_features_prosody();
    test_features_bounds();
    test_authenticate();
    test_answers();
    test_ht();
    test_agent();
    xmpp_ctx_free(ctx);
    printf("unit sasl2: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

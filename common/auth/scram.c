/* The SCRAM client; see scram.h. */
#include "common/auth/scram.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/exitcode.h"
#include "common/io/utf8.h"

/* Put the reason into s->error and return status. */
__attribute__((format(printf, 3, 4))) static int
refuse(struct scram *s, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    return status;
}

static int oom(struct scram *s)
{
    return refuse(s, XE_OSERR, "out of memory");
}

/* RFC 5802 §4 and RFC 7677 §3: the mechanism names and their hashes. */
static const EVP_MD *mech_md(const char *mech, bool *plus)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } hashes[] = {
        {"SCRAM-SHA-1", EVP_sha1},
        {"SCRAM-SHA-256", EVP_sha256},
        {"SCRAM-SHA-512", EVP_sha512},
    };
    size_t n = strlen(mech);
    *plus = n > 5 && !strcmp(mech + n - 5, "-PLUS");
    if (*plus)
        n -= 5;
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
        if (strlen(hashes[i].name) == n && !strncmp(mech, hashes[i].name, n))
            return hashes[i].md();
    return NULL;
}

static char *b64(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

static bool b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* RFC 4648 §4 with padding, nothing else (no whitespace, no line breaks):
 * the number of padding characters, or -1 when s[0..n) is not base64. */
static int b64_padding(const char *s, size_t n)
{
    if (n == 0 || n % 4)
        return -1;
    int pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - (size_t)pad; i++)
        if (!b64_char((unsigned char)s[i]))
            return -1;
    return pad;
}

/* Decode s[0..n), which b64_padding accepted (pad): malloc'd, NULL only
 * when out of memory. */
static unsigned char *unb64(const char *s, size_t n, int pad, size_t *len)
{
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    *len = got < pad ? 0 : (size_t)(got - pad);
    return out;
}

/* RFC 5802 §7 printable: %x21-2B / %x2D-7E (no comma). */
static bool printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x21 || s[i] > 0x7E || s[i] == ',')
            return false;
    return n > 0;
}

/* RFC 5802 §5.1 saslname: ',' and '=' as "=2C" and "=3D". */
static char *saslname(const char *user)
{
    char *out = malloc(3 * strlen(user) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *u = user; *u; u++) {
        if (*u == ',' || *u == '=') {
            memcpy(o, *u == ',' ? "=2C" : "=3D", 3);
            o += 3;
        } else {
            *o++ = *u;
        }
    }
    *o = '\0';
    return out;
}

/* RFC 5056 §7 cb-name: 1*(ALPHA / DIGIT / "." / "-"). */
static bool cb_name(const char *t)
{
    if (!t || !*t)
        return false;
    for (; *t; t++)
        if ((!b64_char((unsigned char)*t) || *t == '+' || *t == '/') &&
            *t != '.' && *t != '-')
            return false;
    return true;
}

/* RFC 5802 §7 gs2-header, checked against the mechanism. */
static int gs2_header(struct scram *s, const struct scram_params *p, bool plus)
{
    char flag = p->cb_flag ? p->cb_flag : 'n';
    if (plus != (flag == 'p'))
        return refuse(s, XE_USAGE, "%s needs channel-binding flag %s, not '%c'",
                      p->mech, plus ? "'p'" : "'n' or 'y'", flag);
    if (flag == 'n' || flag == 'y') {
        s->gs2 = strdup(flag == 'n' ? "n,," : "y,,");
        return s->gs2 ? 0 : oom(s);
    }
    if (flag != 'p')
        return refuse(s, XE_USAGE, "channel-binding flag '%c' is not n, y or p",
                      flag);
    if (!cb_name(p->cb_type) || !p->cb_data || !p->cb_len)
        return refuse(s, XE_USAGE, "%s needs a channel-binding type and data",
                      p->mech);
    if (asprintf(&s->gs2, "p=%s,,", p->cb_type) < 0) {
        s->gs2 = NULL;
        return oom(s);
    }
    s->cb_data = malloc(p->cb_len);
    if (!s->cb_data)
        return oom(s);
    memcpy(s->cb_data, p->cb_data, p->cb_len);
    s->cb_len = p->cb_len;
    return 0;
}

/* Our nonce: the test's, or 24 random bytes (RFC 5802 §5.1 asks for at
 * least a cryptographically random value; 192 bits is plenty). */
static int client_nonce(struct scram *s, const char *fixed)
{
    if (fixed) {
        if (!printable(fixed, strlen(fixed)))
            return refuse(s, XE_USAGE, "the nonce must be printable");
        s->cnonce = strdup(fixed);
        return s->cnonce ? 0 : oom(s);
    }
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return refuse(s, XE_OSERR, "no random bytes for the SCRAM nonce");
    s->cnonce = b64(raw, sizeof raw);
    return s->cnonce ? 0 : oom(s);
}

int scram_client_first(struct scram *s, const struct scram_params *p,
                       char **out)
{
    memset(s, 0, sizeof *s);
    *out = NULL;
    bool plus = false;
    const EVP_MD *md = p->mech ? mech_md(p->mech, &plus) : NULL;
    if (!md)
        return refuse(s, XE_USAGE, "%s is not a SCRAM mechanism we know",
                      p->mech ? p->mech : "(none)");
    s->md = md;
    s->hlen = (size_t)EVP_MD_get_size(md);
    s->max_iterations =
        p->max_iterations ? p->max_iterations : SCRAM_MAX_ITERATIONS;
    if (s->max_iterations > INT_MAX) /* PKCS5_PBKDF2_HMAC takes an int */
        s->max_iterations = INT_MAX;
    if (!p->user || !*p->user || !utf8_is_clean(p->user, strlen(p->user)))
        return refuse(s, XE_USAGE,
                      "the SCRAM user name must be UTF-8 text "
                      "without control characters");
    int rc = gs2_header(s, p, plus);
    if (!rc)
        rc = client_nonce(s, p->nonce);
    if (rc)
        return rc;
    char *name = saslname(p->user);
    if (!name || asprintf(&s->first_bare, "n=%s,r=%s", name, s->cnonce) < 0) {
        free(name);
        s->first_bare = NULL;
        return oom(s);
    }
    free(name);
    if (asprintf(out, "%s%s", s->gs2, s->first_bare) < 0) {
        *out = NULL;
        return oom(s);
    }
    s->step = 1;
    return 0;
}

/* One attribute of a SCRAM message: "X=value", value non-empty. */
struct attr {
    char name;
    const char *val;
    size_t len;
};

/* The next attribute of [*p, end) into a; *p moves past it and its
 * comma. 0, or -1 when it is not "X=value" with X a letter. */
static int next_attr(const char **p, const char *end, struct attr *a)
{
    const char *s = *p, *comma = memchr(s, ',', (size_t)(end - s));
    const char *stop = comma ? comma : end;
    if (stop - s < 3 || s[1] != '=' ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return -1;
    a->name = s[0];
    a->val = s + 2;
    a->len = (size_t)(stop - a->val);
    *p = comma ? comma + 1 : end;
    if (comma && *p == end)
        return -1; /* a trailing comma: an empty attribute */
    return 0;
}

/* Split msg into at most max attributes, checking the grammar every
 * SCRAM message shares: UTF-8, no NUL, "X=value" joined by commas, no
 * attribute twice. Returns the count, or -1 with s->error set. */
static int split_attrs(struct scram *s, const char *what, const char *msg,
                       size_t len, struct attr *a, int max)
{
    size_t at;
    if (len == 0) {
        refuse(s, XE_PROTOCOL, "the server's %s is empty", what);
        return -1;
    }
    if (memchr(msg, '\0', len) || utf8_check(msg, len, &at)) {
        refuse(s, XE_PROTOCOL,
               "the server's %s is not UTF-8 text without controls", what);
        return -1;
    }
    const char *p = msg, *end = msg + len;
    int n = 0;
    while (p < end) {
        if (n == max) {
            refuse(s, XE_PROTOCOL, "the server's %s has too many attributes",
                   what);
            return -1;
        }
        if (next_attr(&p, end, &a[n]) < 0) {
            refuse(s, XE_PROTOCOL,
                   "the server's %s is malformed: attribute %d is not "
                   "\"X=value\" (RFC 5802 §7)",
                   what, n + 1);
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (a[i].name == a[n].name) {
                refuse(s, XE_PROTOCOL,
                       "the server's %s has attribute %c= twice", what,
                       a[n].name);
                return -1;
            }
        n++;
    }
    return n;
}

/* i=: RFC 5802 §7 posit-number, at most s->max_iterations. */
static int iteration_count(struct scram *s, const struct attr *a)
{
    size_t digits = 0; /* the value is not NUL-terminated */
    while (digits < a->len && a->val[digits] >= '0' && a->val[digits] <= '9')
        digits++;
    if (a->val[0] == '0' || digits < a->len)
        return refuse(s, XE_PROTOCOL,
                      "the server's SCRAM iteration count \"%.*s\" is not a "
                      "positive integer",
                      (int)(a->len > 40 ? 40 : a->len), a->val);
    if (a->len > 19)
        return refuse(s, XE_AUTH,
                      "the server asks for a %zu-digit number of PBKDF2 "
                      "iterations, more than the limit of %lu: refusing (a "
                      "hostile or misconfigured server)",
                      a->len, s->max_iterations);
    unsigned long long n = 0; /* 19 digits fit: no overflow */
    for (size_t i = 0; i < a->len; i++)
        n = n * 10 + (unsigned)(a->val[i] - '0');
    if (n > s->max_iterations)
        return refuse(s, XE_AUTH,
                      "the server asks for %llu PBKDF2 iterations, more than "
                      "the limit of %lu: refusing (a hostile or misconfigured "
                      "server)",
                      n, s->max_iterations);
    s->iterations = (unsigned long)n;
    return 0;
}

/* r=: our nonce followed by at least one printable character. */
static int check_nonce(struct scram *s, const struct attr *a)
{
    size_t cn = strlen(s->cnonce);
    if (!printable(a->val, a->len))
        return refuse(s, XE_PROTOCOL,
                      "the server's SCRAM nonce has characters RFC 5802 §7 "
                      "does not allow");
    if (a->len <= cn || memcmp(a->val, s->cnonce, cn) != 0)
        return refuse(s, XE_AUTH,
                      "the server's SCRAM nonce does not extend ours: a "
                      "replayed or forged challenge");
    s->nonce = strndup(a->val, a->len);
    return s->nonce ? 0 : oom(s);
}

static int check_salt(struct scram *s, const struct attr *a)
{
    int pad = b64_padding(a->val, a->len);
    if (pad < 0)
        return refuse(s, XE_PROTOCOL, "the server's SCRAM salt is not base64");
    s->salt = unb64(a->val, a->len, pad, &s->salt_len);
    if (!s->salt)
        return oom(s);
    if (!s->salt_len)
        return refuse(s, XE_PROTOCOL, "the server's SCRAM salt is empty");
    return 0;
}

/* The optional attributes after i=. RFC 5802 §5.1: m= is a mandatory
 * extension we do not know, so the exchange must fail; others we do
 * not know are ignored (they are part of AuthMessage, so signed). */
static int extension(struct scram *s, const struct attr *a)
{
    if (a->name == 'm')
        return refuse(s, XE_AUTH,
                      "the server requires a SCRAM extension (m=) we do "
                      "not know");
    if (a->name != 'h')
        return 0;
    if (b64_padding(a->val, a->len) < 0)
        return refuse(s, XE_PROTOCOL,
                      "the server's XEP-0474 hash (h=) is not base64");
    s->ssdp = strndup(a->val, a->len);
    return s->ssdp ? 0 : oom(s);
}

int scram_server_first(struct scram *s, const char *msg, size_t len)
{
    if (s->step != 1)
        return refuse(s, XE_USAGE, "a server-first-message out of turn");
    struct attr a[16];
    int n = split_attrs(s, "SCRAM challenge", msg, len, a, 16);
    if (n < 0)
        return XE_PROTOCOL;
    if (a[0].name == 'm')
        return extension(s, &a[0]);
    if (n < 3 || a[0].name != 'r' || a[1].name != 's' || a[2].name != 'i')
        return refuse(s, XE_PROTOCOL,
                      "the server's SCRAM challenge is malformed: it must "
                      "start with r=, s=, i= (RFC 5802 §7)");
    int rc = check_nonce(s, &a[0]);
    if (!rc)
        rc = check_salt(s, &a[1]);
    if (!rc)
        rc = iteration_count(s, &a[2]);
    for (int i = 3; i < n && !rc; i++)
        rc = extension(s, &a[i]);
    if (rc)
        return rc;
    s->server_first = strndup(msg, len);
    if (!s->server_first)
        return oom(s);
    s->step = 2;
    return 0;
}

/* RFC 7613 §4.2 OpaqueString for what we can prepare: ASCII. */
static int prepare_password(struct scram *s, const char *pw)
{
    if (!pw || !*pw)
        return refuse(s, XE_AUTH, "the password is empty");
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if (*p >= 0x80)
            return refuse(s, XE_AUTH,
                          "the password has non-ASCII characters, which this "
                          "version cannot prepare for SCRAM (RFC 7613 "
                          "OpaqueString needs Unicode normalization): use an "
                          "ASCII password");
        if (*p < 0x20 || *p == 0x7F)
            return refuse(s, XE_AUTH,
                          "the password has a control character, which RFC "
                          "7613 OpaqueString does not allow");
    }
    return 0;
}

static bool hmac(const struct scram *s, const unsigned char *key,
                 const void *data, size_t n, unsigned char *out)
{
    unsigned int len = 0;
    return HMAC(s->md, key, (int)s->hlen, data, n, out, &len) && len == s->hlen;
}

/* RFC 5802 §3: ClientProof and ServerSignature over AuthMessage. */
static int proof(struct scram *s, const char *auth_message,
                 unsigned char *client_proof)
{
    unsigned char ckey[SCRAM_KEY_MAX], stored[SCRAM_KEY_MAX],
        csig[SCRAM_KEY_MAX], skey[SCRAM_KEY_MAX];
    size_t n = strlen(auth_message);
    bool ok = hmac(s, s->salted, "Client Key", 10, ckey) &&
              EVP_Digest(ckey, s->hlen, stored, NULL, s->md, NULL) &&
              hmac(s, stored, auth_message, n, csig) &&
              hmac(s, s->salted, "Server Key", 10, skey) &&
              hmac(s, skey, auth_message, n, s->server_sig);
    for (size_t i = 0; i < s->hlen; i++)
        client_proof[i] = ckey[i] ^ csig[i];
    OPENSSL_cleanse(ckey, sizeof ckey);
    OPENSSL_cleanse(skey, sizeof skey);
    return ok ? 0 : refuse(s, XE_OSERR, "OpenSSL could not compute the HMAC");
}

/* c=: base64 of the GS2 header and the channel binding data. */
static char *channel_binding(const struct scram *s)
{
    size_t g = strlen(s->gs2);
    unsigned char *raw = malloc(g + s->cb_len + 1);
    if (!raw)
        return NULL;
    memcpy(raw, s->gs2, g);
    if (s->cb_len)
        memcpy(raw + g, s->cb_data, s->cb_len);
    char *c = b64(raw, g + s->cb_len);
    free(raw);
    return c;
}

static int salted_password(struct scram *s, const char *password,
                           const unsigned char *salted)
{
    if (salted) {
        memcpy(s->salted, salted, s->hlen);
        return 0;
    }
    int rc = prepare_password(s, password);
    if (rc)
        return rc;
    if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), s->salt,
                           (int)s->salt_len, (int)s->iterations, s->md,
                           (int)s->hlen, s->salted))
        return refuse(s, XE_OSERR, "OpenSSL could not run PBKDF2");
    return 0;
}

int scram_client_final(struct scram *s, const char *password,
                       const unsigned char *salted, char **out)
{
    *out = NULL;
    if (s->step != 2)
        return refuse(s, XE_USAGE, "a client-final-message out of turn");
    int rc = salted_password(s, password, salted);
    if (rc)
        return rc;
    char *c = channel_binding(s), *bare = NULL, *auth = NULL, *p = NULL;
    unsigned char cproof[SCRAM_KEY_MAX];
    rc = XE_OSERR;
    if (c && asprintf(&bare, "c=%s,r=%s", c, s->nonce) >= 0 &&
        asprintf(&auth, "%s,%s,%s", s->first_bare, s->server_first, bare) >=
            0) {
        rc = proof(s, auth, cproof);
        if (!rc && (!(p = b64(cproof, s->hlen)) ||
                    asprintf(out, "%s,p=%s", bare, p) < 0)) {
            *out = NULL;
            rc = XE_OSERR;
        }
    }
    if (rc == XE_OSERR && !s->error[0])
        oom(s);
    free(c);
    free(bare);
    free(auth);
    free(p);
    if (!rc)
        s->step = 3;
    return rc;
}

/* v=: the ServerSignature, compared in constant time. */
static int verify(struct scram *s, const struct attr *v)
{
    int pad = b64_padding(v->val, v->len);
    if (pad < 0)
        return refuse(s, XE_PROTOCOL,
                      "the server's SCRAM signature (v=) is not base64");
    size_t n;
    unsigned char *sig = unb64(v->val, v->len, pad, &n);
    if (!sig)
        return oom(s);
    bool same = n == s->hlen && !CRYPTO_memcmp(sig, s->server_sig, n);
    free(sig);
    if (!same)
        return refuse(s, XE_AUTH,
                      "the server's SCRAM signature is wrong: it does not "
                      "know the password (an impostor in between?)");
    return 0;
}

int scram_server_final(struct scram *s, const char *msg, size_t len)
{
    if (s->step != 3)
        return refuse(s, XE_USAGE, "a server-final-message out of turn");
    if (len == 0)
        return refuse(s, XE_AUTH,
                      "the server's SCRAM success carries no signature (v=): "
                      "it proved nothing, refusing it");
    struct attr a[16];
    int n = split_attrs(s, "SCRAM outcome", msg, len, a, 16);
    if (n < 0)
        return XE_PROTOCOL;
    if (a[0].name == 'e')
        return refuse(s, XE_AUTH, "the server refused the SCRAM proof: %.*s",
                      (int)(a[0].len > 100 ? 100 : a[0].len), a[0].val);
    if (a[0].name != 'v')
        return refuse(s, XE_AUTH,
                      "the server's SCRAM success carries no signature (v=): "
                      "it proved nothing, refusing it");
    int rc = verify(s, &a[0]);
    if (!rc)
        s->step = 4;
    return rc;
}

const unsigned char *scram_salted(const struct scram *s)
{
    return s->salted;
}

static int by_octets(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* XEP-0474 §5.1: the sorted names joined by %x1E, to f. */
static bool append_sorted(FILE *f, const char *const *names, size_t n)
{
    const char **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return false;
    memcpy(v, names, n * sizeof *v);
    qsort(v, n, sizeof *v, by_octets); /* strcmp: "i;octet" (RFC 4790) */
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "\x1E" : "", v[i]);
    free(v);
    return true;
}

int scram_ssdp_check(struct scram *s, const char *const *mechs, size_t nmechs,
                     const char *const *cb_types, size_t ncb)
{
    if (s->step < 2)
        return refuse(s, XE_USAGE, "no server-first-message yet");
    if (!s->ssdp)
        return refuse(s, XE_AUTH,
                      "the server sent no XEP-0474 downgrade-protection hash");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return oom(s);
    bool ok = append_sorted(f, mechs, nmechs);
    if (ok && cb_types) {
        fputc('\x1F', f);
        ok = append_sorted(f, cb_types, ncb);
    }
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return oom(s);
    }
    unsigned char md[SCRAM_KEY_MAX];
    char *h =
        EVP_Digest(buf, len, md, NULL, s->md, NULL) ? b64(md, s->hlen) : NULL;
    free(buf);
    if (!h)
        return oom(s);
    bool same = !strcmp(h, s->ssdp);
    free(h);
    if (!same)
        return refuse(s, XE_AUTH,
                      "the server's XEP-0474 hash does not match the "
                      "mechanisms and channel-binding types we were offered: "
                      "possible downgrade attack");
    return 0;
}

void scram_free(struct scram *s)
{
    free(s->gs2);
    free(s->cb_data);
    free(s->first_bare);
    free(s->cnonce);
    free(s->server_first);
    free(s->nonce);
    free(s->salt);
    free(s->ssdp);
    OPENSSL_cleanse(s->salted, sizeof s->salted);
    OPENSSL_cleanse(s->server_sig, sizeof s->server_sig);
    memset(s, 0, offsetof(struct scram, error));
}

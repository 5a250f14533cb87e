/* The SCRAM client's parsers (common/auth/scram.c) on arbitrary server
 * messages: the server-first-message and, when that is accepted, the
 * server-final-message. Input: one byte choosing the mechanism (SHA-1,
 * -256, -512, each plain or -PLUS), then the two messages separated by
 * a NUL. The client nonce is fixed so inputs can extend it; the
 * iteration limit is 16 so PBKDF2 stays cheap. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/auth/scram.h"
#include "common/cli/exitcode.h"
#include "fuzz.h"

#define NONCE "fyko+d2lbbFgONRv9qkxdawL"

static const char *const mechs[] = {
    "SCRAM-SHA-1",      "SCRAM-SHA-256",      "SCRAM-SHA-512",
    "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS",
};

/* Every refusal is one of the documented statuses, with a reason. */
static void check_refusal(const struct scram *s, int rc)
{
    CHECK(rc == XE_AUTH || rc == XE_PROTOCOL);
    CHECK(s->error[0] && memchr(s->error, '\0', sizeof s->error));
}

/* What an accepted server-first-message guarantees. */
static void check_first(const struct scram *s, const char *msg, size_t len)
{
    CHECK(s->iterations >= 1 && s->iterations <= 16);
    CHECK(s->salt && s->salt_len > 0);
    CHECK(strlen(s->nonce) > strlen(NONCE));
    CHECK(!strncmp(s->nonce, NONCE, strlen(NONCE)));
    CHECK(!strchr(s->nonce, ','));
    CHECK(!strncmp(msg, "r=", 2) && !memchr(msg, '\0', len));
}

/* v= was accepted: it must be our ServerSignature. */
static void check_final(const struct scram *s, const char *msg, size_t len)
{
    CHECK(len > 2 && !strncmp(msg, "v=", 2));
    const char *comma = memchr(msg + 2, ',', len - 2);
    size_t vlen = comma ? (size_t)(comma - msg - 2) : len - 2;
    unsigned char sig[SCRAM_KEY_MAX * 2];
    CHECK(vlen <= 4 * ((SCRAM_KEY_MAX + 2) / 3));
    int n = EVP_DecodeBlock(sig, (const unsigned char *)msg + 2, (int)vlen);
    CHECK(n >= (int)s->hlen && !CRYPTO_memcmp(sig, s->server_sig, s->hlen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1, *end = data + size;
    const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
    size_t flen = nul ? (size_t)(nul - p) : (size_t)(end - p);
    const char *first = (const char *)p;
    const char *final = nul ? (const char *)nul + 1 : NULL;
    size_t final_len = nul ? (size_t)(end - nul - 1) : 0;

    static const unsigned char cb[] = "channel binding data";
    const char *mech = mechs[data[0] % 6];
    bool plus = data[0] % 6 >= 3;
    struct scram_params params = {
        .mech = mech,
        .user = "user",
        .cb_flag = plus ? 'p' : (data[0] & 0x80 ? 'y' : 'n'),
        .cb_type = "tls-exporter",
        .cb_data = cb,
        .cb_len = sizeof cb - 1,
        .max_iterations = 16,
        .nonce = NONCE,
    };
    struct scram s;
    char *out = NULL;
    CHECK(scram_client_first(&s, &params, &out) == 0);
    free(out);
    out = NULL;

    /* Copied so that reading past the length is a heap overflow. */
    char *msg = malloc(flen ? flen : 1);
    CHECK(msg);
    memcpy(msg, first, flen);
    int rc = scram_server_first(&s, msg, flen);
    if (rc) {
        check_refusal(&s, rc);
    } else {
        check_first(&s, msg, flen);
        if (s.ssdp) {
            const char *list[] = {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"};
            int sr = scram_ssdp_check(&s, list, 2, list, 1);
            CHECK(sr == 0 || sr == XE_AUTH);
        }
        CHECK(scram_client_final(&s, "pencil", NULL, &out) == 0);
        CHECK(out && !strncmp(out, "c=", 2) && strstr(out, ",p="));
        free(out);
        if (final) {
            char *fin = malloc(final_len ? final_len : 1);
            CHECK(fin);
            memcpy(fin, final, final_len);
            rc = scram_server_final(&s, fin, final_len);
            if (rc)
                check_refusal(&s, rc);
            else
                check_final(&s, fin, final_len);
            free(fin);
        }
    }
    free(msg);
    scram_free(&s);
    return 0;
}

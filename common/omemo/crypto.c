/* The cryptography libomemo-c asks its host for (random bytes,
 * HMAC-SHA256, SHA-512, AES-CBC/CTR), the AES-128-GCM that OMEMO 0.3
 * wraps message bodies in and OMEMO 2's AES-256-CBC with HMAC, all on
 * the OpenSSL we link already. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

#include "common/omemo/omemo_priv.h"

static int random_bytes(uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    return RAND_bytes(data, (int)len) == 1 ? 0 : SG_ERR_UNKNOWN;
}

static int hmac_init(void **hctx, const uint8_t *key, size_t len, void *ud)
{
    (void)ud;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!c || !EVP_MAC_init(c, key, len, params)) {
        EVP_MAC_CTX_free(c);
        return SG_ERR_UNKNOWN;
    }
    *hctx = c;
    return 0;
}

static int hmac_update(void *hctx, const uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    return EVP_MAC_update(hctx, data, len) ? 0 : SG_ERR_UNKNOWN;
}

static int hmac_final(void *hctx, signal_buffer **out, void *ud)
{
    (void)ud;
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (!EVP_MAC_final(hctx, md, &len, sizeof md))
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(md, len);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void hmac_cleanup(void *hctx, void *ud)
{
    (void)ud;
    EVP_MAC_CTX_free(hctx);
}

static int sha512_init(void **dctx, void *ud)
{
    (void)ud;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha512(), NULL)) {
        EVP_MD_CTX_free(c);
        return SG_ERR_UNKNOWN;
    }
    *dctx = c;
    return 0;
}

static int sha512_update(void *dctx, const uint8_t *data, size_t len, void *ud)
{
    (void)ud;
    return EVP_DigestUpdate(dctx, data, len) ? 0 : SG_ERR_UNKNOWN;
}

/* Final, and ready for the next digest (as the interface asks). */
static int sha512_final(void *dctx, signal_buffer **out, void *ud)
{
    (void)ud;
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_DigestFinal_ex(dctx, md, &len) ||
        !EVP_DigestInit_ex(dctx, EVP_sha512(), NULL))
        return SG_ERR_UNKNOWN;
    *out = signal_buffer_create(md, len);
    return *out ? 0 : SG_ERR_NOMEM;
}

static void sha512_cleanup(void *dctx, void *ud)
{
    (void)ud;
    EVP_MD_CTX_free(dctx);
}

static const EVP_CIPHER *aes(int cipher, size_t key_len)
{
    bool cbc = cipher == SG_CIPHER_AES_CBC_PKCS5;
    if (cipher != SG_CIPHER_AES_CBC_PKCS5 &&
        cipher != SG_CIPHER_AES_CTR_NOPADDING)
        return NULL;
    switch (key_len) {
    case 16: return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ctr();
    case 24: return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ctr();
    case 32: return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ctr();
    default: return NULL;
    }
}

static int aes_run(signal_buffer **out, int cipher, const uint8_t *key,
                   size_t key_len, const uint8_t *iv, size_t iv_len,
                   const uint8_t *in, size_t in_len, int enc)
{
    const EVP_CIPHER *c = aes(cipher, key_len);
    if (!c || iv_len != 16 || in_len > INT32_MAX - 32)
        return SG_ERR_UNKNOWN;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    uint8_t *buf = malloc(in_len + 32);
    int n = 0, m = 0, rc = SG_ERR_UNKNOWN;
    if (x && buf && EVP_CipherInit_ex(x, c, NULL, key, iv, enc) &&
        EVP_CipherUpdate(x, buf, &n, in, (int)in_len) &&
        EVP_CipherFinal_ex(x, buf + n, &m)) {
        *out = signal_buffer_create(buf, (size_t)(n + m));
        rc = *out ? 0 : SG_ERR_NOMEM;
    }
    EVP_CIPHER_CTX_free(x);
    free(buf);
    return rc;
}

static int encrypt(signal_buffer **out, int cipher, const uint8_t *key,
                   size_t key_len, const uint8_t *iv, size_t iv_len,
                   const uint8_t *in, size_t in_len, void *ud)
{
    (void)ud;
    return aes_run(out, cipher, key, key_len, iv, iv_len, in, in_len, 1);
}

static int decrypt(signal_buffer **out, int cipher, const uint8_t *key,
                   size_t key_len, const uint8_t *iv, size_t iv_len,
                   const uint8_t *in, size_t in_len, void *ud)
{
    (void)ud;
    return aes_run(out, cipher, key, key_len, iv, iv_len, in, in_len, 0);
}

const signal_crypto_provider omemo_crypto = {
    .random_func = random_bytes,
    .hmac_sha256_init_func = hmac_init,
    .hmac_sha256_update_func = hmac_update,
    .hmac_sha256_final_func = hmac_final,
    .hmac_sha256_cleanup_func = hmac_cleanup,
    .sha512_digest_init_func = sha512_init,
    .sha512_digest_update_func = sha512_update,
    .sha512_digest_final_func = sha512_final,
    .sha512_digest_cleanup_func = sha512_cleanup,
    .encrypt_func = encrypt,
    .decrypt_func = decrypt,
};

int omemo_random(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* AES-GCM with a 12-byte IV and a 16-byte tag, the key 16 bytes (OMEMO
 * 0.3). enc: out gets len bytes and tag is written; else tag is
 * checked. Returns 0, or -1 (on decryption: a wrong tag). */
int omemo_gcm(bool enc, const uint8_t key[16], const uint8_t iv[12],
              const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0, rc = -1;
    if (len > INT32_MAX)
        goto done;
    if (!x || !EVP_CipherInit_ex(x, EVP_aes_128_gcm(), NULL, NULL, NULL, enc) ||
        !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) ||
        !EVP_CipherInit_ex(x, NULL, NULL, key, iv, enc))
        goto done;
    if (!enc && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag))
        goto done;
    if (len && !EVP_CipherUpdate(x, out, &n, in, (int)len))
        goto done;
    if (!EVP_CipherFinal_ex(x, out + n, &n))
        goto done;
    if (enc && !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag))
        goto done;
    rc = 0;
done:
    EVP_CIPHER_CTX_free(x);
    return rc;
}

/* XEP-0384 v0.8 §4.4 (Message Encryption): HKDF-SHA-256 of the key
 * (salt 32 zero bytes, info "OMEMO Payload") gives 80 bytes: the
 * AES-256 key, the HMAC-SHA-256 key and the IV. */
static int payload_keys(const uint8_t key[32], uint8_t out[80])
{
    static const uint8_t salt[32];
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *x = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                          sizeof salt),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
                                          (void *)"OMEMO Payload", 13),
        OSSL_PARAM_construct_end(),
    };
    int rc = x && EVP_KDF_derive(x, out, 80, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(x);
    EVP_KDF_free(kdf);
    return rc;
}

int omemo_payload2(bool enc, const uint8_t key[32], const uint8_t *in,
                   size_t len, signal_buffer **out, uint8_t tag[16])
{
    uint8_t k[80], mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    signal_buffer *ct = NULL;
    int rc = -1;
    *out = NULL;
    if (payload_keys(key, k))
        goto done;
    if (enc) {
        if (aes_run(&ct, SG_CIPHER_AES_CBC_PKCS5, k, 32, k + 64, 16, in, len,
                    1))
            goto done;
        in = signal_buffer_data(ct);
        len = signal_buffer_len(ct);
    }
    if (!HMAC(EVP_sha256(), k + 32, 32, in, len, mac, &maclen))
        goto done;
    if (enc) {
        memcpy(tag, mac, 16);
        *out = ct;
        ct = NULL;
        rc = 0;
    } else if (!CRYPTO_memcmp(tag, mac, 16)) { /* then decrypt */
        rc =
            aes_run(out, SG_CIPHER_AES_CBC_PKCS5, k, 32, k + 64, 16, in, len, 0)
                ? -1
                : 0;
    }
done:
    signal_buffer_free(ct);
    OPENSSL_cleanse(k, sizeof k);
    return rc;
}

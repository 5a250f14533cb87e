/* See clientcert.h. */
#include "common/cli/clientcert.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* No passphrase: an encrypted key fails to load, without a prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static X509 *read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, no_passphrase, NULL) : NULL;
    if (f)
        fclose(f);
    return x;
}

/* The key, or NULL with *encrypted set when it is one. */
static EVP_PKEY *read_key(const char *path, int *encrypted)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, no_passphrase, NULL) : NULL;
    if (f)
        fclose(f);
    *encrypted = 0;
    if (!k && f) { /* read it again as text: is it an encrypted one? */
        char line[128];
        if ((f = fopen(path, "r"))) {
            while (!*encrypted && fgets(line, sizeof line, f))
                *encrypted = strstr(line, "ENCRYPTED") != NULL;
            fclose(f);
        }
    }
    return k;
}

int client_cert_check(const char *cert, const char *cert_from, const char *key,
                      const char *key_from)
{
    int encrypted, rc = 0;
    X509 *x = read_cert(cert);
    EVP_PKEY *k = x ? read_key(key, &encrypted) : NULL;
    if (!x)
        rc = fail(XE_CONFIG, "%s %s: not a PEM certificate", cert_from, cert);
    else if (!k && encrypted)
        rc = fail(XE_CONFIG,
                  "%s %s: the key is encrypted; decrypt it (openssl pkey "
                  "-in KEY -out NEW) and keep it 0600",
                  key_from, key);
    else if (!k)
        rc = fail(XE_CONFIG, "%s %s: not a PEM private key", key_from, key);
    else if (X509_check_private_key(x, k) != 1)
        rc = fail(XE_CONFIG, "%s %s is not the key of %s %s", key_from, key,
                  cert_from, cert);
    ERR_clear_error();
    EVP_PKEY_free(k);
    X509_free(x);
    return rc;
}

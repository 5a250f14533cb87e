/* The trust store: spare the library parsing the whole CA bundle when
 * the hashed certificate directory holds the same system roots. */
#include "common/net/session_priv.h"

#include <dirent.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int has_hash_links(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)))
        found = strlen(e->d_name) == 10 && e->d_name[8] == '.' &&
                e->d_name[9] == '0';
    closedir(d);
    return found;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* The library calls SSL_CTX_set_default_verify_paths(), which parses the
 * whole CA bundle file up front: most of a one-shot send's CPU. The
 * hashed certificate directory holds the same system roots and is read
 * lazily, one issuer at a time, so point the default *file* elsewhere
 * when it is only the system bundle. Verification stays on: the
 * directory (and --ca-file) still decide. */
void trim_trust_store(const struct creds *c, bool insecure)
{
    const char *file_env = X509_get_default_cert_file_env();
    const char *dir_env = X509_get_default_cert_dir_env();
    const char *file = getenv(file_env);
    const char *dir = getenv(dir_env);
    if (!file)
        file = X509_get_default_cert_file();
    if (!dir)
        dir = X509_get_default_cert_dir();
    if (insecure || c->ca_file) {
        setenv(file_env, c->ca_file ? c->ca_file : "/nonexistent", 1);
        return;
    }
    if (same_file(file, X509_get_default_cert_file()) && has_hash_links(dir))
        setenv(file_env, "/nonexistent", 1);
}

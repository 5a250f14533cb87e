/* Channel binding (RFC 5056) for SCRAM-*-PLUS and FAST: data only the
 * two ends of this TLS connection can know. libstrophe keeps its SSL
 * object to itself, so SSL_new is interposed while the library starts
 * TLS for the session, as xmlhook.c interposes expat: the object it
 * makes then is the session's. libcurl (uploads) makes SSL objects
 * too; those are not caught, as nothing is being watched then. */
#include "common/net/session_priv.h"

#include <dlfcn.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static SSL *caught;
static bool catching;

SSL *SSL_new(SSL_CTX *ctx)
{
    static SSL *(*real)(SSL_CTX *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_new");
    SSL *ssl = real(ctx);
    if (catching)
        caught = ssl;
    return ssl;
}

int tls_start_caught(struct session *s)
{
    caught = NULL;
    catching = true;
    int rc = xmpp_conn_tls_start(s->conn);
    catching = false;
    if (rc)
        caught = NULL;
    return rc;
}

void tls_forget(void)
{
    caught = NULL;
}

/* RFC 9266: tls-exporter is defined for TLS 1.3 only (with 1.2 it would
 * need the extended master secret, which we cannot check). */
static bool exporter_ok(void)
{
    return caught && SSL_version(caught) == TLS1_3_VERSION;
}

/* SSL_shutdown, as libstrophe's tls_stop() calls it, waits (up to a
 * second, 100 ms at a time) for the server's close_notify: a round trip
 * through a slow link. Taken as received, ours still goes out and the
 * wait is skipped. */
void tls_close_quick(void)
{
    if (caught)
        SSL_set_shutdown(caught, SSL_RECEIVED_SHUTDOWN);
}

bool tls_pending(void)
{
    return caught && SSL_pending(caught) > 0;
}

size_t tls_binding_types(const char **types, size_t max)
{
    size_t n = 0;
    if (exporter_ok() && n < max)
        types[n++] = "tls-exporter";
    if (caught && SSL_get0_peer_certificate(caught) && n < max)
        types[n++] = "tls-server-end-point";
    return n;
}

/* RFC 5929 §4.1: the hash of the certificate's signature algorithm,
 * SHA-256 where that is MD5 or SHA-1 (or unknown). */
static int end_point(unsigned char *out, size_t *len)
{
    X509 *cert = caught ? SSL_get0_peer_certificate(caught) : NULL;
    int md_nid = NID_undef;
    if (!cert)
        return -1;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, NULL) ||
        md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_undef)
        md_nid = NID_sha256;
    const EVP_MD *md = EVP_get_digestbynid(md_nid);
    unsigned n = 0;
    if (!md || !X509_digest(cert, md, out, &n))
        return -1;
    *len = n;
    return 0;
}

int tls_binding(const char *type, unsigned char *out, size_t *len)
{
    static const char label[] = "EXPORTER-Channel-Binding";
    if (!strcmp(type, "tls-server-end-point"))
        return end_point(out, len);
    if (strcmp(type, "tls-exporter") || !exporter_ok())
        return -1;
    *len = 32; /* RFC 9266 §2 */
    return SSL_export_keying_material(caught, out, 32, label, sizeof label - 1,
                                      NULL, 0, 0) == 1
               ? 0
               : -1;
}

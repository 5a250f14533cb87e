/* Sharing files: XEP-0363 HTTP File Upload (find the service, ask for a
 * slot, PUT the file) and the XEP-0066 element that points at it. */
#ifndef XMPP_UPLOAD_H
#define XMPP_UPLOAD_H

#include <stdbool.h>
#include <strophe.h>

#include "common/net/session.h"

struct upload {
    const char *path;         /* the local file */
    const char *content_type; /* NULL: from the file name */
    long long size;           /* set by upload_check */
    bool encrypt;             /* XEP-0454: upload it AES-256-GCM encrypted */
    char *url;                /* the GET URL once uploaded; upload_free */
    char *aesgcm; /* with encrypt: the aesgcm:// URL carrying the key */
};

/* Before connecting: path must be a readable regular file. Sets
 * u->size and u->content_type. Returns 0 or XE_NOINPUT, the message
 * printed. */
int upload_check(struct upload *u);

/* Find the server's upload service (XEP-0363 §2), then for each file
 * ask for a slot (§3) and PUT it (§4), setting u->url. Every file's
 * size is checked against the service's limit before any is sent.
 * Returns 0, or an exit status with the message printed: XE_DATA (too
 * large: the limit printed), XE_UNAVAILABLE (no upload service, or its
 * HTTP host unreachable), XE_CONNLOST (HTTP failure: its status
 * printed), XE_STANZA (slot refused), XE_AUTH (certificate rejected),
 * XE_PROTOCOL (malformed slot), or the session's status.
 *
 * A file with encrypt set goes up as XEP-0454 says: AES-256-GCM
 * ciphertext and tag under a random name (its extension kept, so that
 * clients can tell an image), typed application/octet-stream; u->url
 * is then where the ciphertext lies and u->aesgcm the URL to send end
 * to end: aesgcm://HOST/PATH#IVKEY, hex of the 12-byte IV and the
 * 32-byte key. It needs an https service (XE_UNAVAILABLE otherwise). */
int upload_files(struct session *s, struct upload *files, int n);

/* <x xmlns='jabber:x:oob'><url>URL</url></x> (XEP-0066 §4), for a
 * message whose body is the same URL (XEP-0363 §1, as clients expect
 * to show the file inline). The caller adds and releases it. */
xmpp_stanza_t *upload_oob(xmpp_ctx_t *ctx, const char *url);

void upload_free(struct upload *u);

#endif

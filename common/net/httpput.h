/* PUT a local file to an HTTP(S) URL with libcurl, trusting what the
 * XMPP connection trusts (--ca-file, --insecure), under the session's
 * deadline and signals, while the XMPP session keeps running. */
#ifndef XMPP_HTTPPUT_H
#define XMPP_HTTPPUT_H

#include <stdio.h>

#include "common/net/session.h"

struct http_header {
    const char *name;
    const char *value; /* no CR or LF */
};

struct http_put {
    const char *url;  /* http:// or https:// only */
    const char *path; /* the local file, for messages */
    FILE *f;          /* open on it, positioned at the start */
    long long size;   /* bytes to send: the Content-Length */
    const char *content_type;
    const struct http_header *headers;
    int nheaders;
};

/* Send the file; a 2xx answer is success. Draws a progress bar on
 * stderr when it is a terminal and --quiet is off. Returns 0, or an
 * exit status with one line printed: XE_CONNLOST for an HTTP error
 * status (printed) or a broken transfer, XE_UNAVAILABLE when the host
 * cannot be resolved or reached, XE_AUTH when its certificate is
 * rejected, XE_TIMEOUT at the deadline, XE_NOINPUT or XE_DATA when the
 * file cannot be read or shrank, or the session's own status. */
int http_put(struct session *s, const struct http_put *req);

#endif

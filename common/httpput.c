#include "httpput.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "exitcode.h"
#include "version.h"

struct transfer {
    const struct http_put *req;
    long long sent;      /* bytes handed to curl */
    bool short_read;     /* the file ended before req->size */
    bool read_error;
    int read_errno;
    char status[128];    /* the last "HTTP/1.1 404 Not Found" line */
    /* progress bar */
    bool bar;
    bool bar_drawn;
    int bar_pct;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- the body, capped at the announced size ---- */

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    long long left = t->req->size - t->sent;
    size_t want = size * n;
    if ((long long)want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    size_t got = fread(buf, 1, want, t->req->f);
    if (got == 0) {
        if (ferror(t->req->f)) {
            t->read_error = true;
            t->read_errno = errno;
        } else {
            t->short_read = true;
        }
        return CURL_READFUNC_ABORT;
    }
    t->sent += (long long)got;
    return got;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    (void)buf;
    (void)ud;
    return size * n; /* the answer's body says nothing we print */
}

/* Keep the final status line, for "HTTP 413 Payload Too Large". */
static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    if (len > 5 && !memcmp(buf, "HTTP/", 5)) {
        const char *sp = memchr(buf, ' ', len);
        size_t skip = sp ? (size_t)(sp + 1 - buf) : len;
        size_t keep = len - skip;
        while (keep && (buf[skip + keep - 1] == '\r' ||
                        buf[skip + keep - 1] == '\n'))
            keep--;
        if (keep >= sizeof t->status)
            keep = sizeof t->status - 1;
        memcpy(t->status, buf + skip, keep);
        t->status[keep] = '\0';
    }
    return len;
}

/* ---- progress bar (stderr is a terminal) ---- */

static void human(char *buf, size_t n, long long bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4)
        v /= 1024, u++;
    if (u == 0)
        snprintf(buf, n, "%lld B", bytes);
    else
        snprintf(buf, n, "%.1f %s", v, unit[u]);
}

static void draw_bar(struct transfer *t, long long done, bool final)
{
    long long size = t->req->size;
    int pct = size ? (int)(done * 100 / size) : 100;
    if (!final && pct == t->bar_pct)
        return;
    t->bar_pct = pct;
    const char *name = strrchr(t->req->path, '/');
    name = name ? name + 1 : t->req->path;
    char bar[31], have[16], total[16];
    int fill = pct * 30 / 100;
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '-', (size_t)(30 - fill));
    bar[30] = '\0';
    human(have, sizeof have, done);
    human(total, sizeof total, size);
    fprintf(stderr, "\r%-20.20s [%s] %3d%% %s / %s\033[K", name, bar, pct,
            have, total);
    t->bar_drawn = true;
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct transfer *t = ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    draw_bar(t, (long long)ulnow, false);
    return 0;
}

/* ---- the request ---- */

static bool add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *next = curl_slist_append(*list, line);
    if (next)
        *list = next;
    return next != NULL;
}

/* The slot's headers, the Content-Type the slot was asked for, and no
 * "Expect: 100-continue": the slot already authorised this size, and a
 * server that never answers it (Prosody, for small files) would cost a
 * second of waiting per file. */
static struct curl_slist *make_headers(const struct http_put *req)
{
    struct curl_slist *list = NULL;
    char line[2048];
    snprintf(line, sizeof line, "Content-Type: %s", req->content_type);
    bool ok = add_header(&list, line) && add_header(&list, "Expect:");
    for (int i = 0; ok && i < req->nheaders; i++) {
        snprintf(line, sizeof line, "%s: %s", req->headers[i].name,
                 req->headers[i].value);
        ok = add_header(&list, line);
    }
    if (!ok) {
        curl_slist_free_all(list);
        return NULL;
    }
    return list;
}

static CURL *make_handle(struct session *s, struct transfer *t,
                         struct curl_slist *headers)
{
    const struct http_put *req = t->req;
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    /* A slot URL comes from the network: never file://, never redirected. */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->size);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "xmpp/" XMPP_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* The same trust as the XMPP connection: --ca-file adds to the
     * system roots, --insecure checks nothing. */
    if (s->creds.ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, s->creds.ca_file);
    if (s->opt->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (t->bar) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    return h;
}

/* Drive the transfer and the XMPP session together, so that the
 * deadline, a signal or a lost connection stop the upload too. Returns
 * the transfer's result, or -1 with *status the session's. */
static CURLcode run_transfer(struct session *s, CURL *h, int *status)
{
    CURLM *m = curl_multi_init();
    if (!m)
        return CURLE_OUT_OF_MEMORY;
    curl_multi_add_handle(m, h);
    CURLcode res = CURLE_OK;
    int running = 1;
    *status = 0;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            res = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
        int st = session_step(s, 0);
        if (st != SESSION_RUNNING) {
            *status = st;
            break;
        }
    }
    int left;
    CURLMsg *msg;
    while (!*status && (msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            res = msg->data.result;
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
    return res;
}

/* "https://host:port" of url, for messages (the path may hold a token). */
static void origin_of(const char *url, char *buf, size_t n)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t len = (size_t)(host - url) + strcspn(host, "/?#");
    snprintf(buf, n, "%.*s", (int)len, url);
}

static int report(struct transfer *t, CURLcode res, int status, long code)
{
    const struct http_put *req = t->req;
    char origin[256];
    origin_of(req->url, origin, sizeof origin);
    const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(res);
    if (status == XE_TIMEOUT) {
        char done[16], total[16];
        human(done, sizeof done, t->sent);
        human(total, sizeof total, req->size);
        return fail(XE_TIMEOUT, "%s: upload to %s timed out after %s of %s; "
                                "allow more with --timeout", req->path, origin,
                    done, total);
    }
    if (status)
        return status; /* a signal, or the session printed why */
    if (t->read_error)
        return fail(XE_NOINPUT, "%s: %s", req->path, strerror(t->read_errno));
    if (t->short_read)
        return fail(XE_DATA, "%s: the file shrank while it was uploaded",
                    req->path);
    switch (res) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return fail(XE_UNAVAILABLE, "%s: cannot connect to upload host %s: %s",
                    req->path, origin, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return fail(XE_AUTH, "%s: TLS certificate of upload host %s rejected "
                             "(%s); trust it with --ca-file FILE", req->path,
                    origin, why);
    default:
        return fail(XE_CONNLOST, "%s: upload to %s failed: %s", req->path,
                    origin, why);
    }
    if (code >= 200 && code < 300)
        return 0;
    return fail(XE_CONNLOST, "%s: upload to %s failed: HTTP %s", req->path,
                origin, t->status[0] ? t->status : "status unknown");
}

int http_put(struct session *s, const struct http_put *req)
{
    struct transfer t = {.req = req, .bar_pct = -1};
    t.bar = !quiet && isatty(STDERR_FILENO);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fail(XE_UNAVAILABLE, "cannot initialise libcurl");
    struct curl_slist *headers = make_headers(req);
    CURL *h = headers ? make_handle(s, &t, headers) : NULL;
    int rc;
    if (!h) {
        rc = fail(XE_UNAVAILABLE, "%s: out of memory", req->path);
    } else {
        int status = 0;
        CURLcode res = run_transfer(s, h, &status);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (t.bar_drawn)
            draw_bar(&t, t.sent, true);
        if (s->opt->verbose) /* the console's view of the HTTP side */
            fprintf(stderr, "HTTP: PUT %s (%lld bytes, %s): %s\n", req->url,
                    req->size, req->content_type,
                    t.status[0] ? t.status : curl_easy_strerror(res));
        rc = report(&t, res, status, code);
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return rc;
}

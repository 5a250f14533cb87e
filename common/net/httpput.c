#include "common/net/httpput.h"

#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt() is ours, below */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/version.h"

/* libcurl is opened when a file is uploaded, not linked: linked, it and
 * the 30 libraries it needs (GnuTLS, Kerberos, LDAP, ...) were loaded by
 * every tool at start, +4.5 MiB of peak RSS and +6.6 M instructions of
 * dynamic linking for a one-shot send (bench/run). */
static struct {
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd[], unsigned int, int,
                            int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;

#define curl_global_init    curl.global_init
#define curl_global_cleanup curl.global_cleanup
#define curl_easy_init      curl.easy_init
#undef curl_easy_setopt /* curl.h checks the argument count with these */
#undef curl_easy_getinfo
#define curl_easy_setopt         curl.easy_setopt
#define curl_easy_getinfo        curl.easy_getinfo
#define curl_easy_cleanup        curl.easy_cleanup
#define curl_easy_strerror       curl.easy_strerror
#define curl_multi_init          curl.multi_init
#define curl_multi_add_handle    curl.multi_add_handle
#define curl_multi_remove_handle curl.multi_remove_handle
#define curl_multi_perform       curl.multi_perform
#define curl_multi_poll          curl.multi_poll
#define curl_multi_info_read     curl.multi_info_read
#define curl_multi_cleanup       curl.multi_cleanup
#define curl_slist_append        curl.slist_append
#define curl_slist_free_all      curl.slist_free_all

/* Returns 0 once every function is found. The library stays loaded. */
static int load_curl(void)
{
    static void *lib;
    if (lib)
        return 0;
    void *l = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!l)
        return -1;
#define LOAD(f) (*(void **)&curl.f = dlsym(l, "curl_" #f)) != NULL
    if (!(LOAD(global_init) && LOAD(global_cleanup) && LOAD(easy_init) &&
          LOAD(easy_setopt) && LOAD(easy_getinfo) && LOAD(easy_cleanup) &&
          LOAD(easy_strerror) && LOAD(multi_init) && LOAD(multi_add_handle) &&
          LOAD(multi_remove_handle) && LOAD(multi_perform) &&
          LOAD(multi_poll) && LOAD(multi_info_read) && LOAD(multi_cleanup) &&
          LOAD(slist_append) && LOAD(slist_free_all))) {
        dlclose(l);
        return -1;
    }
#undef LOAD
    lib = l;
    return 0;
}

struct transfer {
    const struct http_put *req;
    long long sent;  /* bytes handed to curl */
    bool short_read; /* the file ended before req->size */
    bool read_error;
    int read_errno;
    char status[128]; /* the last "HTTP/1.1 404 Not Found" line */
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
        while (keep &&
               (buf[skip + keep - 1] == '\r' || buf[skip + keep - 1] == '\n'))
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
    fprintf(stderr, "\r%-20.20s [%s] %3d%% %s / %s\033[K", name, bar, pct, have,
            total);
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
    if (s->creds.insecure) {
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
        return fail(XE_TIMEOUT,
                    "%s: upload to %s timed out after %s of %s; "
                    "allow more with --timeout",
                    req->path, origin, done, total);
    }
    if (status)
        return status; /* a signal, or the session printed why */
    if (t->read_error)
        return fail(XE_NOINPUT, "%s: %s", req->path, strerror(t->read_errno));
    if (t->short_read)
        return fail(XE_DATA, "%s: the file shrank while it was uploaded",
                    req->path);
    switch (res) {
    case CURLE_OK: break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return fail(XE_UNAVAILABLE, "%s: cannot connect to upload host %s: %s",
                    req->path, origin, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return fail(XE_AUTH,
                    "%s: TLS certificate of upload host %s rejected "
                    "(%s); trust it with --ca-file FILE",
                    req->path, origin, why);
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
    if (load_curl() < 0) {
        const char *why = dlerror();
        return fail(XE_UNAVAILABLE,
                    "cannot load libcurl.so.4 (%s): install "
                    "the Debian package libcurl4",
                    why ? why : "a function is missing");
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fail(XE_UNAVAILABLE, "cannot initialise libcurl");
    struct curl_slist *headers = make_headers(req);
    CURL *h = headers ? make_handle(s, &t, headers) : NULL;
    int rc;
    if (!h) {
        rc = fail_oom(req->path);
    } else {
        int status = 0;
        CURLcode res = run_transfer(s, h, &status);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (t.bar_drawn)
            draw_bar(&t, t.sent, true);
        if (s->opt->verbose) /* the console's view of the HTTP side */
            trace("HTTP: PUT %s (%lld bytes, %s): %s", req->url, req->size,
                  req->content_type,
                  t.status[0] ? t.status : curl_easy_strerror(res));
        rc = report(&t, res, status, code);
        curl_easy_cleanup(h);
    }
    curl_slist_free_all(headers);
    curl_global_cleanup();
    return rc;
}

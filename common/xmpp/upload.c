#include "common/xmpp/upload.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/mimetype.h"
#include "common/io/utf8.h"
#include "common/net/httpput.h"
#include "common/xmpp/jid.h"

#define NS_UPLOAD      "urn:xmpp:http:upload:0"
#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DATA        "jabber:x:data"
#define NS_OOB         "jabber:x:oob"

/* Entities of the server asked whether they are an upload service. */
#define MAX_PROBES 64
/* XEP-0363 §4: the only slot headers a client passes on. */
#define MAX_HEADERS 3

int upload_check(struct upload *u)
{
    struct stat st;
    /* stat first: opening a FIFO to test it would wait for a writer. */
    if (stat(u->path, &st) != 0)
        return fail(XE_NOINPUT, "%s: %s", u->path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(XE_NOINPUT,
                    "%s: not a regular file; --attach uploads "
                    "files",
                    u->path);
    FILE *f = fopen(u->path, "rb");
    if (!f)
        return fail(XE_NOINPUT, "%s: %s", u->path, strerror(errno));
    fclose(f);
    u->size = (long long)st.st_size;
    if (!u->content_type)
        u->content_type = mimetype_guess(u->path);
    return 0;
}

void upload_free(struct upload *u)
{
    free(u->url);
    free(u->aesgcm);
    u->url = u->aesgcm = NULL;
}

xmpp_stanza_t *upload_oob(xmpp_ctx_t *ctx, const char *url)
{
    xmpp_stanza_t *x = xmpp_stanza_new(ctx);
    xmpp_stanza_t *el = xmpp_stanza_new(ctx);
    xmpp_stanza_t *text = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(x, "x");
    xmpp_stanza_set_ns(x, NS_OOB);
    xmpp_stanza_set_name(el, "url");
    xmpp_stanza_set_text(text, url);
    xmpp_stanza_add_child_ex(el, text, 0);
    xmpp_stanza_add_child_ex(x, el, 0);
    return x;
}

/* XEP-0454 §3: AES-256-GCM with a 12-byte IV, the 16-byte tag appended
 * to the ciphertext. */
#define GCM_IV  12
#define GCM_KEY 32
#define GCM_TAG 16
#define GCM_HEX (2 * (GCM_IV + GCM_KEY) + 1)

/* The bytes that go up: the file's, or its ciphertext and tag. */
static long long put_size(const struct upload *u)
{
    return u->size + (u->encrypt ? GCM_TAG : 0);
}

static void human_size(char *buf, size_t n, long long bytes)
{
    if (bytes >= 1024 * 1024)
        snprintf(buf, n, "%.1f MiB (%lld bytes)", bytes / 1048576.0, bytes);
    else
        snprintf(buf, n, "%lld bytes", bytes);
}

static int too_large(const struct upload *u, const char *service, long long max)
{
    char size[64], limit[64];
    human_size(size, sizeof size, put_size(u));
    human_size(limit, sizeof limit, max);
    return fail(XE_DATA, "%s: %s is larger than the %s that %s accepts",
                u->path, size, limit, service);
}

/* ---- discovery (XEP-0363 §2, XEP-0030) ---- */

enum probe_state { PROBE_WAITING, PROBE_NO, PROBE_YES };

struct probe {
    struct discovery *d;
    char *jid;
    char *id;
    enum probe_state state;
    long long max; /* max-file-size; -1: not announced */
};

struct discovery {
    struct session *s;
    const char *domain;
    struct probe *p[MAX_PROBES];
    int n;
    char *items_id; /* the disco#items request, until answered */
};

/* A reply must come from whom we asked; our own server may also answer
 * without 'from' (RFC 6120 §8.1.2.1). */
static int from_asked(const char *from, const char *asked, const char *domain)
{
    if (!from)
        return !strcasecmp(asked, domain);
    return jid_matches(from, asked);
}

static int is_result(xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    return type && !strcmp(type, "result");
}

static int is_reply(xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    return type && (!strcmp(type, "result") || !strcmp(type, "error"));
}

static char *field_value(xmpp_stanza_t *field)
{
    xmpp_stanza_t *v = xmpp_stanza_get_child_by_name(field, "value");
    return v ? xmpp_stanza_get_text(v) : NULL;
}

/* XEP-0363 §2: the limit is the max-file-size field of the data form
 * whose FORM_TYPE is the upload namespace (XEP-0128). */
static long long form_max_size(xmpp_ctx_t *ctx, xmpp_stanza_t *query)
{
    for (xmpp_stanza_t *x = xmpp_stanza_get_children(query); x;
         x = xmpp_stanza_get_next(x)) {
        const char *name = xmpp_stanza_get_name(x);
        const char *ns = xmpp_stanza_get_ns(x);
        if (!name || strcmp(name, "x") || !ns || strcmp(ns, NS_DATA))
            continue;
        int ours = 0;
        long long max = -1;
        for (xmpp_stanza_t *f = xmpp_stanza_get_children(x); f;
             f = xmpp_stanza_get_next(f)) {
            const char *var = xmpp_stanza_get_attribute(f, "var");
            if (!var)
                continue;
            char *val = field_value(f);
            if (val && !strcmp(var, "FORM_TYPE"))
                ours = !strcmp(val, NS_UPLOAD);
            else if (val && !strcmp(var, "max-file-size"))
                max = strtoll(val, NULL, 10);
            xmpp_free(ctx, val);
        }
        if (ours)
            return max > 0 ? max : -1;
    }
    return -1;
}

static int has_feature(xmpp_stanza_t *query, const char *feature)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(query); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *var = xmpp_stanza_get_attribute(c, "var");
        if (name && !strcmp(name, "feature") && var && !strcmp(var, feature))
            return 1;
    }
    return 0;
}

static int on_info(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct probe *p = ud;
    (void)conn;
    if (!is_reply(st) ||
        !from_asked(xmpp_stanza_get_from(st), p->jid, p->d->domain))
        return 1;
    xmpp_stanza_t *q =
        xmpp_stanza_get_child_by_name_and_ns(st, "query", NS_DISCO_INFO);
    p->state = PROBE_NO;
    if (is_result(st) && q && has_feature(q, NS_UPLOAD)) {
        p->state = PROBE_YES;
        p->max = form_max_size(xmpp_stanza_get_context(st), q);
    }
    return 0;
}

static xmpp_stanza_t *disco_iq(struct session *s, const char *to,
                               const char *ns, char **id)
{
    *id = session_id(s);
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", *id);
    xmpp_stanza_t *q = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_to(iq, to);
    xmpp_stanza_set_name(q, "query");
    xmpp_stanza_set_ns(q, ns);
    xmpp_stanza_add_child_ex(iq, q, 0);
    return iq;
}

static void probe(struct discovery *d, const char *jid)
{
    if (d->n == MAX_PROBES)
        return;
    for (int i = 0; i < d->n; i++)
        if (!strcasecmp(d->p[i]->jid, jid))
            return;
    struct probe *p = calloc(1, sizeof *p);
    if (!p || !(p->jid = strdup(jid))) {
        free(p);
        return;
    }
    p->d = d;
    p->max = -1;
    xmpp_stanza_t *iq = disco_iq(d->s, jid, NS_DISCO_INFO, &p->id);
    xmpp_id_handler_add(d->s->conn, on_info, p->id, p);
    session_send(d->s, iq);
    xmpp_stanza_release(iq);
    d->p[d->n++] = p;
}

/* The server's items are the candidates (XEP-0030 §4); ask them all at
 * once rather than one round trip each. */
static int on_items(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct discovery *d = ud;
    (void)conn;
    if (!is_reply(st) ||
        !from_asked(xmpp_stanza_get_from(st), d->domain, d->domain))
        return 1;
    xmpp_stanza_t *q =
        xmpp_stanza_get_child_by_name_and_ns(st, "query", NS_DISCO_ITEMS);
    for (xmpp_stanza_t *c = q && is_result(st) ? xmpp_stanza_get_children(q)
                                               : NULL;
         c; c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *jid = xmpp_stanza_get_attribute(c, "jid");
        if (name && !strcmp(name, "item") && jid && !jid_check(jid) &&
            !xmpp_stanza_get_attribute(c, "node"))
            probe(d, jid);
    }
    xmpp_free(d->s->ctx, d->items_id);
    d->items_id = NULL;
    return 0;
}

/* The first service in the server's own order, once every entity
 * before it has answered: -1 none, -2 not known yet. */
static int decided(const struct discovery *d)
{
    for (int i = 0; i < d->n; i++) {
        if (d->p[i]->state == PROBE_WAITING)
            return -2;
        if (d->p[i]->state == PROBE_YES)
            return i;
    }
    return d->items_id ? -2 : -1;
}

static void discovery_free(struct discovery *d)
{
    xmpp_ctx_t *ctx = d->s->ctx;
    if (d->items_id) {
        xmpp_id_handler_delete(d->s->conn, on_items, d->items_id);
        xmpp_free(ctx, d->items_id);
    }
    for (int i = 0; i < d->n; i++) {
        struct probe *p = d->p[i];
        if (p->state == PROBE_WAITING)
            xmpp_id_handler_delete(d->s->conn, on_info, p->id);
        xmpp_free(ctx, p->id);
        free(p->jid);
        free(p);
    }
}

struct service {
    char jid[1024];
    long long max; /* -1: no limit announced */
};

static int find_service(struct session *s, struct service *svc)
{
    const char *at = strchr(s->creds.jid, '@');
    char domain[1024];
    const char *d0 = at ? at + 1 : s->creds.jid;
    snprintf(domain, sizeof domain, "%.*s", (int)jid_bare_len(d0), d0);
    struct discovery d = {.s = s, .domain = domain};

    /* The server itself may be the service; ask it with its items. */
    probe(&d, domain);
    xmpp_stanza_t *iq = disco_iq(s, domain, NS_DISCO_ITEMS, &d.items_id);
    xmpp_id_handler_add(s->conn, on_items, d.items_id, &d);
    session_send(s, iq);
    xmpp_stanza_release(iq);

    int found, rc = SESSION_RUNNING;
    while ((found = decided(&d)) == -2 &&
           (rc = session_step(s, 1000)) == SESSION_RUNNING)
        ;
    if (found >= 0) {
        snprintf(svc->jid, sizeof svc->jid, "%s", d.p[found]->jid);
        svc->max = d.p[found]->max;
        rc = 0;
    } else if (found == -1) {
        rc = fail(XE_UNAVAILABLE,
                  "%s offers no HTTP file upload service "
                  "(XEP-0363); --attach needs one",
                  domain);
    } else if (rc == XE_TIMEOUT) {
        fail(rc, "timed out looking for %s's upload service (--timeout)",
             domain);
    } else if (rc == XE_OK) { /* ended under us, without a word */
        rc = fail(XE_CONNLOST,
                  "the session ended while looking for %s's "
                  "upload service",
                  domain);
    }
    discovery_free(&d);
    return rc;
}

/* ---- the slot (XEP-0363 §3, §4) ---- */

struct slot {
    char *put, *get;
    struct http_header h[MAX_HEADERS];
    int nh;
};

static void slot_free(struct slot *sl)
{
    free(sl->put);
    free(sl->get);
    for (int i = 0; i < sl->nh; i++)
        free((char *)sl->h[i].value);
}

/* Only http(s), nothing that could smuggle a second header or line. */
static int usable_url(const char *url)
{
    if (!url || strlen(url) > 8192)
        return 0;
    if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7))
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return 0;
    return 1;
}

/* §4: pass on Authorization, Cookie and Expires, newlines stripped;
 * ignore any other header. */
static void slot_header(struct slot *sl, xmpp_stanza_t *h)
{
    static const char *const allowed[] = {"Authorization", "Cookie", "Expires"};
    const char *name = xmpp_stanza_get_attribute(h, "name");
    for (int i = 0; name && i < 3 && sl->nh < MAX_HEADERS; i++) {
        if (strcasecmp(name, allowed[i]))
            continue;
        char *text = xmpp_stanza_get_text(h);
        char *v = strdup(text ? text : "");
        xmpp_free(xmpp_stanza_get_context(h), text);
        if (!v)
            return;
        size_t k = 0;
        for (size_t j = 0; v[j]; j++)
            if (v[j] != '\r' && v[j] != '\n')
                v[k++] = v[j];
        v[k] = '\0';
        sl->h[sl->nh++] = (struct http_header){allowed[i], v};
        return;
    }
}

static int parse_slot(xmpp_stanza_t *reply, struct slot *sl)
{
    xmpp_stanza_t *slot =
        xmpp_stanza_get_child_by_name_and_ns(reply, "slot", NS_UPLOAD);
    xmpp_stanza_t *put =
        slot ? xmpp_stanza_get_child_by_name(slot, "put") : NULL;
    xmpp_stanza_t *get =
        slot ? xmpp_stanza_get_child_by_name(slot, "get") : NULL;
    const char *pu = put ? xmpp_stanza_get_attribute(put, "url") : NULL;
    const char *gu = get ? xmpp_stanza_get_attribute(get, "url") : NULL;
    if (!pu || !gu || !usable_url(pu) || !usable_url(gu))
        return -1;
    sl->put = strdup(pu);
    sl->get = strdup(gu);
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(put); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (name && !strcmp(name, "header"))
            slot_header(sl, c);
    }
    return sl->put && sl->get ? 0 : -1;
}

/* The name the receiver sees: the file's own, as valid UTF-8. */
static char *announced_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base), at;
    if (!utf8_check(base, len, &at))
        return strdup(base);
    return utf8_sanitize(base, len, &len);
}

/* An encrypted file's name tells the server nothing but its extension,
 * which clients use to show it (an image inline). */
static char *random_name(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *dot = strrchr(base ? base + 1 : path, '.');
    size_t ext = dot ? strlen(dot) : 0;
    for (size_t i = 1; i < ext; i++)
        if (!isalnum((unsigned char)dot[i]) || ext > 10)
            ext = 0;
    unsigned char r[12];
    char *name = malloc(2 * sizeof r + ext + 1);
    if (!name || RAND_bytes(r, sizeof r) != 1) {
        free(name);
        return NULL;
    }
    for (size_t i = 0; i < sizeof r; i++)
        sprintf(name + 2 * i, "%02x", r[i]);
    snprintf(name + 2 * sizeof r, ext + 1, "%s", ext ? dot : "");
    return name;
}

/* What the service is told the file is: ciphertext is just bytes. */
static const char *put_type(const struct upload *u)
{
    return u->encrypt ? "application/octet-stream" : u->content_type;
}

static int request_slot(struct session *s, const struct service *svc,
                        const struct upload *u, struct slot *sl)
{
    char *name = u->encrypt ? random_name(u->path) : announced_name(u->path);
    if (!name)
        return fail_oom(u->path);
    char size[32];
    snprintf(size, sizeof size, "%lld", put_size(u));
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", NULL);
    xmpp_stanza_t *req = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_to(iq, svc->jid);
    xmpp_stanza_set_name(req, "request");
    xmpp_stanza_set_ns(req, NS_UPLOAD);
    xmpp_stanza_set_attribute(req, "filename", name);
    xmpp_stanza_set_attribute(req, "size", size);
    xmpp_stanza_set_attribute(req, "content-type", put_type(u));
    xmpp_stanza_add_child_ex(iq, req, 0);
    free(name);

    xmpp_stanza_t *reply;
    int rc = session_iq(s, iq, &reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA) {
        /* §3.2: a service may still refuse on size, and say its limit. */
        xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(reply, "error");
        xmpp_stanza_t *big = err ? xmpp_stanza_get_child_by_name_and_ns(
                                       err, "file-too-large", NS_UPLOAD)
                                 : NULL;
        xmpp_stanza_t *max =
            big ? xmpp_stanza_get_child_by_name(big, "max-file-size") : NULL;
        char *text = max ? xmpp_stanza_get_text(max) : NULL;
        char what[1200];
        snprintf(what, sizeof what, "%s: upload slot from %s", u->path,
                 svc->jid);
        rc = big ? too_large(u, svc->jid, text ? strtoll(text, NULL, 10) : 0)
                 : report_stanza_error(what, reply);
        xmpp_free(s->ctx, text);
    } else if (rc == 0 && parse_slot(reply, sl) < 0) {
        rc = fail(XE_PROTOCOL,
                  "%s: %s sent an unusable upload slot (no "
                  "http or https URL)",
                  u->path, svc->jid);
    }
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

/* ---- XEP-0454: the file encrypted before it goes up ---- */

/* Copy in to out encrypted with x, then the tag. Returns the number of
 * bytes read, or -1 when reading, writing or OpenSSL failed. */
static long long seal(EVP_CIPHER_CTX *x, FILE *in, FILE *out)
{
    unsigned char buf[16384], enc[16384 + GCM_TAG];
    long long total = 0;
    size_t got;
    int n;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        total += (long long)got;
        if (!EVP_EncryptUpdate(x, enc, &n, buf, (int)got) ||
            fwrite(enc, 1, (size_t)n, out) != (size_t)n)
            return -1;
    }
    if (ferror(in) || !EVP_EncryptFinal_ex(x, enc, &n) ||
        fwrite(enc, 1, (size_t)n, out) != (size_t)n ||
        !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, GCM_TAG, enc) ||
        fwrite(enc, 1, GCM_TAG, out) != GCM_TAG || fflush(out) != 0)
        return -1;
    return total;
}

/* u's file encrypted with a fresh key and IV into an unnamed temporary
 * file (*out, rewound), and hex of IV then key for the URL. Returns 0
 * or an exit status, the message printed. */
static int encrypt_file(const struct upload *u, FILE **out, char hex[GCM_HEX])
{
    uint8_t ivkey[GCM_IV + GCM_KEY];
    FILE *in = fopen(u->path, "rb");
    if (!in)
        return fail(XE_NOINPUT, "%s: %s", u->path, strerror(errno));
    FILE *t = tmpfile();
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    long long got = -1;
    int errno_was = 0;
    if (t && x && RAND_bytes(ivkey, sizeof ivkey) == 1 &&
        EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, NULL, NULL) &&
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, GCM_IV, NULL) &&
        EVP_EncryptInit_ex(x, NULL, NULL, ivkey + GCM_IV, ivkey)) {
        got = seal(x, in, t);
        errno_was = errno;
    }
    EVP_CIPHER_CTX_free(x);
    fclose(in);
    int rc = 0;
    if (got < 0)
        rc = fail(XE_OSERR, "%s: encrypting for upload: %s", u->path,
                  t ? strerror(errno_was) : strerror(errno));
    else if (got != u->size)
        rc = fail(XE_DATA, "%s: changed while being encrypted; not sent",
                  u->path);
    if (rc) {
        if (t)
            fclose(t);
        return rc;
    }
    for (size_t i = 0; i < sizeof ivkey; i++)
        sprintf(hex + 2 * i, "%02x", ivkey[i]);
    OPENSSL_cleanse(ivkey, sizeof ivkey);
    rewind(t);
    *out = t;
    return 0;
}

/* XEP-0454 §4: the https:// of the GET URL becomes aesgcm://, and the
 * fragment carries IV and key. Only https: the scheme promises it. */
static int aesgcm_url(struct upload *u, const char *svc, const char *get,
                      const char hex[GCM_HEX])
{
    if (strncasecmp(get, "https://", 8))
        return fail(XE_UNAVAILABLE,
                    "%s: %s uploads over plain http; an encrypted file "
                    "(aesgcm://, XEP-0454) needs https",
                    u->path, svc);
    size_t n = strlen("aesgcm://") + strlen(get + 8) + 1 + GCM_HEX;
    if (!(u->aesgcm = malloc(n)))
        return fail_oom(u->path);
    snprintf(u->aesgcm, n, "aesgcm://%s#%s", get + 8, hex);
    return 0;
}

/* The file to PUT: u's own, or its ciphertext (then u->aesgcm set). */
static int open_put(struct upload *u, const struct service *svc,
                    const struct slot *sl, FILE **f)
{
    char hex[GCM_HEX];
    if (!u->encrypt) {
        if (!(*f = fopen(u->path, "rb")))
            return fail(XE_NOINPUT, "%s: %s", u->path, strerror(errno));
        return 0;
    }
    int rc = encrypt_file(u, f, hex);
    if (!rc && (rc = aesgcm_url(u, svc->jid, sl->get, hex))) {
        fclose(*f);
        *f = NULL;
    }
    OPENSSL_cleanse(hex, sizeof hex);
    return rc;
}

static int upload_one(struct session *s, const struct service *svc,
                      struct upload *u)
{
    struct slot sl = {0};
    FILE *f = NULL;
    int rc = request_slot(s, svc, u, &sl);
    if (!rc)
        rc = open_put(u, svc, &sl, &f);
    if (!rc) {
        struct http_put req = {
            .url = sl.put,
            .path = u->path,
            .f = f,
            .size = put_size(u),
            .content_type = put_type(u),
            .headers = sl.h,
            .nheaders = sl.nh,
        };
        rc = http_put(s, &req);
    }
    if (f)
        fclose(f);
    if (!rc && !(u->url = strdup(sl.get)))
        rc = fail_oom(u->path);
    slot_free(&sl);
    return rc;
}

int upload_files(struct session *s, struct upload *files, int n)
{
    if (n == 0)
        return 0;
    struct service svc = {.max = -1};
    int rc = find_service(s, &svc);
    /* All or nothing: no file goes up when one of them cannot. */
    for (int i = 0; !rc && i < n; i++)
        if (svc.max >= 0 && put_size(&files[i]) > svc.max)
            rc = too_large(&files[i], svc.jid, svc.max);
    for (int i = 0; !rc && i < n; i++)
        rc = upload_one(s, &svc, &files[i]);
    return rc;
}

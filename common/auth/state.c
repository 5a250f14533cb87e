/* The per-account state files; see state.h. */
#include "common/auth/state.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/auth/mech.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* No state file is anywhere near this; a bigger one is not ours. */
#define STATE_MAX 4096

char *state_dir(void)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *dir = NULL;
    int n;
    if (xdg && xdg[0] == '/')
        n = asprintf(&dir, "%s/xmpp", xdg);
    else if (home && *home)
        n = asprintf(&dir, "%s/.local/state/xmpp", home);
    else
        return NULL;
    return n < 0 ? NULL : dir;
}

/* This run's slot (state_claim_slot): the kinds of a slot other than
 * the first carry its number ("fast.2"). */
static int slot;

static const char *slot_kind(const char *kind)
{
    static char buf[32];
    if (!slot)
        return kind;
    snprintf(buf, sizeof buf, "%s.%d", kind, slot);
    return buf;
}

/* The file name of jid's state of kind ("pin", "fast"): see state.h. */
static char *state_path(const char *dir, const char *jid, const char *kind)
{
    size_t bare = strcspn(jid, "/");
    char *key = malloc(3 * bare + 1), *k = key;
    if (!key)
        return NULL;
    for (size_t i = 0; i < bare; i++) {
        unsigned char c = (unsigned char)jid[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            (c && strchr("@_-", c)) || (c == '.' && i > 0))
            *k++ = (char)c;
        else
            k += sprintf(k, "%%%02X", c);
    }
    *k = '\0';
    char *path = NULL;
    if (asprintf(&path, "%s/%s.%s", dir, key, kind) < 0)
        path = NULL;
    free(key);
    return path;
}

/* mkdir -p dir, each new directory 0700 (XDG Base Directory). */
static int make_dir(char *dir)
{
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = '\0';
        int rc = mkdir(dir, 0700);
        *p = c;
        if (rc < 0 && errno != EEXIST)
            return -1;
        if (!c)
            return 0;
    }
}

/* The contents of path, NUL-terminated, malloc'd; NULL when there is no
 * usable file (a warning said why, unless there is no file at all).
 * *oom is set when memory ran out. */
static char *read_state(const char *path, bool *oom)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT)
            warnx("warning: %s: %s; ignoring it", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        warnx("warning: %s is not a regular file; ignoring it", path);
    else if (st.st_uid != geteuid())
        warnx("warning: %s belongs to another user; ignoring it", path);
    else if (st.st_mode & 077)
        warnx("warning: %s is open to other users (mode %03o); ignoring "
              "it: chmod 600 %s",
              path, (unsigned)(st.st_mode & 0777), path);
    else if (st.st_size >= STATE_MAX)
        warnx("warning: %s is too big to be ours; ignoring it", path);
    else if (!(buf = malloc(STATE_MAX)))
        *oom = true;
    if (buf) {
        ssize_t n = read(fd, buf, STATE_MAX - 1);
        if (n < 0 || memchr(buf, '\0', (size_t)n)) {
            warnx("warning: %s: %s; ignoring it", path,
                  n < 0 ? strerror(errno) : "not text");
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    close(fd);
    return buf;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Replace path with text: a temporary file beside it, 0600, synced,
 * renamed over it. */
static int write_state(char *dir, const char *path, const char *text)
{
    char *tmp = NULL;
    const char *base = strrchr(path, '/') + 1;
    if (make_dir(dir) < 0) {
        warnx("warning: cannot create %s: %s", dir, strerror(errno));
        return XE_CONFIG;
    }
    if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0)
        return fail_oom(NULL);
    int fd = mkstemp(tmp), rc = 0;
    if (fd < 0 || fchmod(fd, 0600) < 0 ||
        write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0)
        rc = -1;
    if (fd >= 0 && close(fd) < 0)
        rc = -1;
    if (!rc && rename(tmp, path) < 0)
        rc = -1;
    if (rc) {
        warnx("warning: cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    free(tmp);
    return rc ? XE_CONFIG : 0;
}

/* Call fn with the directory and jid's path of kind. */
static int with_path(const char *jid, const char *kind,
                     int (*fn)(char *dir, const char *path, void *arg),
                     void *arg)
{
    char *dir = state_dir(), *path = NULL;
    if (!dir) {
        warnx("warning: no state directory: set HOME or XDG_STATE_HOME");
        return XE_CONFIG;
    }
    path = state_path(dir, jid, kind);
    int rc = path ? fn(dir, path, arg) : fail_oom(NULL);
    free(dir);
    free(path);
    return rc;
}

static int do_write(char *dir, const char *path, void *text)
{
    return write_state(dir, path, text);
}

static int do_delete(char *dir, const char *path, void *arg)
{
    (void)dir, (void)arg;
    if (unlink(path) < 0 && errno != ENOENT) {
        warnx("warning: cannot delete %s: %s", path, strerror(errno));
        return XE_CONFIG;
    }
    return 0;
}

static int do_read(char *dir, const char *path, void *out)
{
    (void)dir;
    bool oom = false;
    *(char **)out = read_state(path, &oom);
    if (oom)
        return fail_oom(NULL);
    return 0;
}

/* A whole state file, NULL when none is usable. */
static int load(const char *jid, const char *kind, char **text)
{
    *text = NULL;
    int rc = with_path(jid, kind, do_read, text);
    return rc == XE_CONFIG ? 0 : rc; /* no directory: nothing saved */
}

int state_text_load(const char *jid, const char *kind, char **text)
{
    return load(jid, kind, text);
}

int state_text_store(const char *jid, const char *kind, const char *text)
{
    return with_path(jid, kind, do_write, (void *)text);
}

int pin_load(const char *jid, char **mech)
{
    char *text;
    int rc = load(jid, "pin", &text);
    *mech = NULL;
    if (rc || !text)
        return rc;
    text[strcspn(text, "\n")] = '\0';
    if (mech_rank(text) > 0) {
        *mech = text;
        return 0;
    }
    warnx("warning: the pin of %s names no mechanism we know; ignoring it",
          jid);
    free(text);
    return 0;
}

int pin_store(const char *jid, const char *mech)
{
    char *text = NULL;
    if (mech_rank(mech) == 0) {
        warnx("warning: %s is not a mechanism to pin", mech ? mech : "NULL");
        return XE_CONFIG;
    }
    if (asprintf(&text, "%s\n", mech) < 0)
        return fail_oom(NULL);
    int rc = with_path(jid, "pin", do_write, text);
    free(text);
    return rc;
}

int pin_delete(const char *jid)
{
    return with_path(jid, "pin", do_delete, NULL);
}

/* Text that fits on one line of a state file. */
static bool one_line(const char *s)
{
    if (!s || !*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

/* The value of the "key VALUE" line in text, malloc'd; NULL if absent. */
static char *field(const char *text, const char *key, bool *oom)
{
    size_t k = strlen(key);
    for (const char *l = text; *l;) {
        size_t n = strcspn(l, "\n");
        if (n > k && !strncmp(l, key, k) && l[k] == ' ') {
            char *v = strndup(l + k + 1, n - k - 1);
            *oom = !v;
            return v;
        }
        l += n + (l[n] != '\0');
    }
    return NULL;
}

int fast_load(const char *jid, struct fast_token *t)
{
    memset(t, 0, sizeof *t);
    char *text;
    int rc = load(jid, slot_kind("fast"), &text);
    if (rc || !text)
        return rc;
    bool oom = false;
    t->mech = field(text, "mechanism", &oom);
    if (!oom)
        t->token = field(text, "token", &oom);
    char *exp = oom ? NULL : field(text, "expiry", &oom), *end = NULL;
    if (exp)
        t->expiry = strtoll(exp, &end, 10);
    bool bad = !one_line(t->mech) || !one_line(t->token) || !exp || !*exp ||
               *end || t->expiry < 0;
    free(exp);
    free(text);
    if (oom || bad) {
        fast_token_free(t);
        if (oom)
            return fail_oom(NULL);
        warnx("warning: the FAST token file of %s is damaged; ignoring it",
              jid);
    }
    return 0;
}

int fast_store(const char *jid, const struct fast_token *t)
{
    if (!one_line(t->mech) || !one_line(t->token) || t->expiry < 0) {
        warnx("warning: a FAST token with a control character or a line "
              "break: not saved");
        return XE_CONFIG;
    }
    char *text = NULL;
    if (asprintf(&text, "mechanism %s\ntoken %s\nexpiry %lld\n", t->mech,
                 t->token, t->expiry) < 0)
        return fail_oom(NULL);
    int rc = with_path(jid, slot_kind("fast"), do_write, text);
    memset(text, 0, strlen(text));
    free(text);
    return rc;
}

int fast_delete(const char *jid)
{
    return with_path(jid, slot_kind("fast"), do_delete, NULL);
}

void fast_token_free(struct fast_token *t)
{
    free(t->mech);
    if (t->token)
        memset(t->token, 0, strlen(t->token));
    free(t->token);
    memset(t, 0, sizeof *t);
}

/* RFC 9562 §5.4 text form: 8-4-4-4-12 lower-case hex digits. */
static bool uuid_form(const char *s)
{
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
            return false;
    }
    return s[36] == '\0';
}

/* A random version 4 UUID (RFC 9562 §5.4), malloc'd. */
static char *uuid_new(void)
{
    unsigned char b[16];
    char *s = malloc(37), *p = s;
    if (!s || RAND_bytes(b, sizeof b) != 1) {
        free(s);
        return NULL;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    for (int i = 0; i < 16; i++)
        p += sprintf(p, "%s%02x",
                     i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", b[i]);
    return s;
}

int agent_load(const char *jid, char **id)
{
    char *text;
    int rc = load(jid, slot_kind("agent"), &text);
    *id = NULL;
    if (rc)
        return rc;
    if (text) {
        text[strcspn(text, "\n")] = '\0';
        if (uuid_form(text)) {
            *id = text;
            return 0;
        }
        warnx("warning: the user-agent id of %s is damaged; making a new one",
              jid);
        free(text);
    }
    char *line = NULL;
    if (!(*id = uuid_new()) || asprintf(&line, "%s\n", *id) < 0) {
        free(*id);
        *id = NULL;
        return fail_oom(NULL);
    }
    with_path(jid, slot_kind("agent"), do_write, line); /* warned when it fails */
    free(line);
    return 0;
}

int state_claim_slot(const char *jid)
{
    char *dir = state_dir();
    if (!dir || make_dir(dir)) {
        free(dir);
        return -1;
    }
    for (int k = 0; k < STATE_SLOTS; k++) {
        char kind[16];
        snprintf(kind, sizeof kind, "lock.%d", k);
        char *path = state_path(dir, jid, kind);
        int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
        free(path);
        if (fd < 0)
            break;
        if (!flock(fd, LOCK_EX | LOCK_NB)) { /* held until we exit */
            slot = k;
            free(dir);
            return k;
        }
        close(fd);
    }
    free(dir);
    return -1;
}

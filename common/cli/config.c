#include "common/cli/config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/cli/credentials.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/options.h"
#include "common/xmpp/jid.h"

char *config_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *path = NULL;
    int n;
    if (xdg && *xdg)
        n = asprintf(&path, "%s/xmpp/config", xdg);
    else if (home && *home)
        n = asprintf(&path, "%s/.config/xmpp/config", home);
    else
        return NULL;
    return n < 0 ? NULL : path;
}

/* What a key's value must be. */
enum kind {
    K_TEXT,
    K_JID,
    K_NICK,
    K_SERVER,
    K_PORT,
    K_BOOL,
    K_SECONDS,
    K_STANZA,
};

/* Every key, with the field it fills. */
static const struct key {
    const char *name;
    enum kind kind;
    size_t off;
} keys[AK_COUNT] = {
    [AK_JID] = {"jid", K_JID, offsetof(struct account, jid)},
    [AK_PASSWORD] = {"password", K_TEXT, offsetof(struct account, password)},
    [AK_PASSWORD_FILE] = {"password_file", K_TEXT,
                          offsetof(struct account, password_file)},
    [AK_PASSWORD_CMD] = {"password_cmd", K_TEXT,
                         offsetof(struct account, password_cmd)},
    [AK_SERVER] = {"server", K_SERVER, offsetof(struct account, server)},
    [AK_PORT] = {"port", K_PORT, offsetof(struct account, port)},
    [AK_DIRECT_TLS] = {"direct_tls", K_BOOL,
                       offsetof(struct account, direct_tls)},
    [AK_CA_FILE] = {"ca_file", K_TEXT, offsetof(struct account, ca_file)},
    [AK_INSECURE] = {"insecure", K_BOOL, offsetof(struct account, insecure)},
    [AK_RESOURCE] = {"resource", K_NICK, offsetof(struct account, resource)},
    [AK_COMPONENT] = {"component", K_JID, offsetof(struct account, component)},
    [AK_SECRET_FILE] = {"secret_file", K_TEXT,
                        offsetof(struct account, secret_file)},
    [AK_TIMEOUT] = {"timeout", K_SECONDS, offsetof(struct account, timeout)},
    [AK_MAX_STANZA] = {"max_stanza", K_STANZA,
                       offsetof(struct account, max_stanza)},
    [AK_NICK] = {"nick", K_NICK, offsetof(struct account, nick)},
    [AK_KEEPALIVE] = {"keepalive", K_SECONDS,
                      offsetof(struct account, keepalive)},
    [AK_RETRY] = {"retry", K_SECONDS, offsetof(struct account, retry)},
    [AK_OMEMO] = {"omemo", K_BOOL, offsetof(struct account, omemo)},
    [AK_TRUSTED_ONLY] = {"trusted_only", K_BOOL,
                         offsetof(struct account, trusted_only)},
    [AK_ALLOW_PLAIN] = {"allow_plain", K_BOOL,
                        offsetof(struct account, allow_plain)},
    [AK_CERT_FILE] = {"cert_file", K_TEXT, offsetof(struct account, cert_file)},
    [AK_KEY_FILE] = {"key_file", K_TEXT, offsetof(struct account, key_file)},
};

const char *account_key_name(enum account_key k)
{
    return keys[k].name;
}

const char *account_text(const struct account *a, enum account_key k)
{
    enum kind kind = keys[k].kind;
    if (kind != K_TEXT && kind != K_JID && kind != K_NICK && kind != K_SERVER)
        return NULL;
    return *(char *const *)((const char *)a + keys[k].off);
}

const char *account_where(const struct account *a, enum account_key k,
                          char *buf, size_t n)
{
    snprintf(buf, n, "%s:%d: %s", a->path ? a->path : "config", a->line[k],
             keys[k].name);
    return buf;
}

/* Every section of the file, in order. */
struct loader {
    FILE *f;
    int line; /* the line being handled */
    bool bol; /* the next read starts a line */
    struct account *all;
    size_t n;
    char *error; /* first refused value, malloc'd */
    int error_line;
    bool oom; /* a value could not be kept: out of memory */
};

/* fgets that counts lines, so that a bad value can be named by its line
 * (Debian's inih is built without INI_HANDLER_LINENO). */
static char *read_line(char *str, int num, void *ud)
{
    struct loader *l = ud;
    char *r = fgets(str, num, l->f);
    if (r && l->bol)
        l->line++;
    l->bol = r && strchr(r, '\n');
    return r;
}

int config_bool(const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") ||
        !strcmp(v, "on"))
        return 1;
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") ||
        !strcmp(v, "off"))
        return 0;
    return -1;
}

/* Keep the first refused value's reason, for line `line`; returns 0,
 * which stops inih. */
static int refuse(struct loader *l, int line, const char *fmt, ...)
{
    if (l->error)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&l->error, fmt, ap) < 0) {
        l->error = NULL;
        l->oom = true;
    }
    va_end(ap);
    l->error_line = line;
    return 0;
}

static void account_init(struct account *a)
{
    memset(a, 0, sizeof *a);
    a->direct_tls = -1;
    a->insecure = -1;
    a->timeout = -1;
    a->keepalive = a->retry = -1;
    a->omemo = a->trusted_only = a->allow_plain = -1;
}

/* The account for this section, made on its first key. */
static struct account *section(struct loader *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->all[i].name, name))
            return &l->all[i];
    struct account *more = realloc(l->all, (l->n + 1) * sizeof *more);
    if (!more)
        return NULL;
    l->all = more;
    struct account *a = &l->all[l->n];
    account_init(a);
    if (!(a->name = strdup(name)))
        return NULL;
    l->n++;
    return a;
}

static int key_index(const char *name)
{
    for (int k = 0; k < AK_COUNT; k++)
        if (!strcmp(keys[k].name, name))
            return k;
    return -1;
}

static int set_text(struct loader *l, char **slot, const char *v, size_t n)
{
    free(*slot);
    if (!(*slot = strndup(v, n)))
        l->oom = true;
    return *slot ? 1 : 0;
}

/* server = HOST[:PORT]: the port, when given, is the section's port. */
static int set_server(struct loader *l, struct account *a, const char *sect,
                      const char *v)
{
    size_t at, len;
    unsigned short port = 0;
    const char *why = server_check(v, &at, &len, &port);
    if (why)
        return refuse(l, l->line, "[%s]: server '%s': %s", sect, v, why);
    if (port && a->line[AK_PORT])
        return refuse(l, l->line,
                      "[%s]: server '%s' has a port, and so has line %d", sect,
                      v, a->line[AK_PORT]);
    if (port) {
        a->port = port;
        a->line[AK_PORT] = l->line;
    }
    return set_text(l, &a->server, v + at, len);
}

/* Check value for key k and keep it. Returns 1, or 0 with the reason
 * kept (or l->oom set). */
static int set_value(struct loader *l, struct account *a, const char *sect,
                     int k, const char *v)
{
    const struct key *key = &keys[k];
    void *field = (char *)a + key->off;
    const char *why = NULL;
    long n;
    if (!*v)
        return refuse(l, l->line, "[%s]: %s is empty", sect, key->name);
    switch (key->kind) {
    case K_JID:
        if ((why = jid_check(v)))
            return refuse(l, l->line, "[%s]: %s '%s' is not a valid JID: %s",
                          sect, key->name, v, why);
        return set_text(l, field, v, strlen(v));
    case K_NICK: {
        char jid[1100];
        snprintf(jid, sizeof jid, "r@s/%s", v);
        if (strlen(v) > 1023 || (why = jid_check(jid)))
            return refuse(l, l->line, "[%s]: %s '%s' is not valid: %s", sect,
                          key->name, v, why ? why : "too long");
        return set_text(l, field, v, strlen(v));
    }
    case K_SERVER: return set_server(l, a, sect, v);
    case K_PORT:
        if (a->line[AK_PORT] && a->line[AK_PORT] == a->line[AK_SERVER])
            return refuse(l, l->line,
                          "[%s]: port given, and server on line %d has one",
                          sect, a->line[AK_SERVER]);
        if (opts_int(v, 1, 65535, &n) < 0)
            return refuse(l, l->line, "[%s]: port '%s' is not 1-65535", sect,
                          v);
        *(long *)field = n;
        return 1;
    case K_BOOL:
        if ((*(int *)field = config_bool(v)) < 0)
            return refuse(l, l->line, "[%s]: %s '%s' is not true/false", sect,
                          key->name, v);
        return 1;
    case K_SECONDS:
        if (opts_seconds(v, (double *)field) < 0)
            return refuse(l, l->line,
                          "[%s]: %s '%s' is not a number of seconds", sect,
                          key->name, v);
        return 1;
    case K_STANZA:
        if (opts_int(v, OPTS_MIN_STANZA, 1L << 30, &n) < 0)
            return refuse(l, l->line,
                          "[%s]: %s '%s' is not 1024 to 1073741824 bytes", sect,
                          key->name, v);
        *(long *)field = n;
        return 1;
    case K_TEXT: return set_text(l, field, v, strlen(v));
    }
    return 1;
}

static int on_value(void *ud, const char *sect, const char *name,
                    const char *value)
{
    struct loader *l = ud;
    if (!*sect)
        return refuse(l, l->line, "'%s' outside any [section]", name);
    struct account *a = section(l, sect);
    if (!a) {
        l->oom = true;
        return 0;
    }
    int k = key_index(name);
    if (k < 0)
        return refuse(l, l->line, "[%s]: unknown key '%s'", sect, name);
    if (!set_value(l, a, sect, k, value))
        return 0;
    a->line[k] = l->line;
    return 1;
}

/* The later of two keys both set, else 0. */
static int both(const struct account *a, enum account_key x, enum account_key y)
{
    if (!a->line[x] || !a->line[y])
        return 0;
    return a->line[x] > a->line[y] ? a->line[x] : a->line[y];
}

/* Keys that do not go together in one section. */
static void check_section(struct loader *l, const struct account *a)
{
    static const enum account_key pw[] = {AK_PASSWORD, AK_PASSWORD_FILE,
                                          AK_PASSWORD_CMD};
    int at;
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if ((at = both(a, pw[i], pw[j])))
                refuse(l, at, "[%s]: both %s and %s; keep one", a->name,
                       keys[pw[i]].name, keys[pw[j]].name);
    if ((at = both(a, AK_JID, AK_COMPONENT)))
        refuse(l, at,
               "[%s]: both jid and component; a section is an account or "
               "a component",
               a->name);
    for (int i = 0; i < 3; i++)
        if ((at = both(a, AK_COMPONENT, pw[i])))
            refuse(l, at, "[%s]: a component logs in with secret_file, not %s",
                   a->name, keys[pw[i]].name);
    if (a->line[AK_SECRET_FILE] && !a->line[AK_COMPONENT])
        refuse(l, a->line[AK_SECRET_FILE],
               "[%s]: secret_file without component = DOMAIN", a->name);
    if (!a->line[AK_CERT_FILE] != !a->line[AK_KEY_FILE])
        refuse(l, a->line[AK_CERT_FILE] + a->line[AK_KEY_FILE],
               "[%s]: %s without %s; a client certificate needs both", a->name,
               keys[a->line[AK_CERT_FILE] ? AK_CERT_FILE : AK_KEY_FILE].name,
               keys[a->line[AK_CERT_FILE] ? AK_KEY_FILE : AK_CERT_FILE].name);
}

/* Do two JIDs name one account (resources aside)? */
static bool same_account(const char *x, const char *y)
{
    size_t n = jid_bare_len(x);
    return n == jid_bare_len(y) && !strncasecmp(x, y, n);
}

/* Which section to use: the one asked for by name; else, when the JID is
 * known from the command line or the environment, the first section for
 * that JID ("default" preferred), so that one account's password never
 * goes to another's login; else "default", else the first. -1: none. */
static long choose(const struct loader *l, const char *want, const char *jid)
{
    long pick = -1;
    for (size_t i = 0; i < l->n; i++) {
        const struct account *a = &l->all[i];
        bool is_default = !strcmp(a->name, "default");
        if (want) {
            if (!strcmp(a->name, want))
                return (long)i;
            continue;
        }
        const char *who = a->jid ? a->jid : a->component;
        if (jid && !(who && same_account(who, jid)))
            continue;
        if (pick < 0 || is_default)
            pick = (long)i;
        if (is_default)
            break;
    }
    return pick;
}

/* A password in a file others can read is a password others know. */
static void check_mode(const char *path, const struct loader *l)
{
    bool secret = false;
    for (size_t i = 0; i < l->n; i++)
        secret |= l->all[i].password != NULL;
    struct stat st;
    if (secret && stat(path, &st) == 0 && (st.st_mode & 077))
        warnx("warning: %s holds a password and is readable by others; "
              "run chmod 600 %s",
              path, path);
}

static int parse(const char *path, FILE *f, struct loader *l)
{
    /* inih returns the first bad line: a syntax error or a refused value */
    int line = ini_parse_stream(read_line, l, on_value, l);
    for (size_t i = 0; line == 0 && i < l->n; i++)
        check_section(l, &l->all[i]);
    if (l->oom || line == -2) /* -2: inih's own allocation failed */
        return fail_oom(path);
    if (line > 0 && (!l->error || line < l->error_line))
        return fail(XE_CONFIG,
                    "%s:%d: syntax error (not [section] nor key = value)", path,
                    line);
    if (l->error)
        return fail(XE_CONFIG, "%s:%d: %s", path, l->error_line, l->error);
    if (line < 0 || ferror(f))
        return fail(XE_CONFIG, "%s: cannot read it", path);
    return 0;
}

static void loader_free(struct loader *l, long keep)
{
    for (size_t i = 0; i < l->n; i++)
        if ((long)i != keep)
            account_free(&l->all[i]);
    free(l->all);
    free(l->error);
}

int config_parse(FILE *f, const char *path, const char *want, const char *jid,
                 struct account *a)
{
    account_init(a);
    struct loader l = {.f = f, .bol = true};
    int rc = parse(path, f, &l);
    long pick = rc ? -1 : choose(&l, want, jid);
    if (!rc && want && pick < 0)
        rc = fail(XE_CONFIG, "%s: no section [%s]", path, want);
    if (!rc)
        check_mode(path, &l);
    if (pick >= 0) {
        *a = l.all[pick];
        if (!(a->path = strdup(path))) {
            account_free(a);
            rc = fail_oom(path);
        }
    }
    loader_free(&l, pick);
    return rc;
}

int config_has_section(FILE *f, const char *path, const char *name)
{
    struct loader l = {.f = f, .bol = true};
    int rc = parse(path, f, &l);
    for (size_t i = 0; !rc && i < l.n; i++)
        if (!strcmp(l.all[i].name, name))
            rc = 1;
    loader_free(&l, -1);
    return rc;
}

int config_load(const char *want, const char *jid, struct account *a)
{
    account_init(a);
    char *path = config_path();
    if (!path)
        return want ? fail(XE_CONFIG,
                           "no config file (HOME unset) for "
                           "account '%s'",
                           want)
                    : 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        int rc = 0;
        if (errno != ENOENT)
            rc = fail(XE_CONFIG, "%s: %s", path, strerror(errno));
        else if (want)
            rc = fail(XE_CONFIG, "account '%s': no config file %s", want, path);
        free(path);
        return rc;
    }
    int rc = config_parse(f, path, want, jid, a);
    fclose(f);
    free(path);
    return rc;
}

void account_free(struct account *a)
{
    if (a->password)
        memset(a->password, 0, strlen(a->password));
    for (int k = 0; k < AK_COUNT; k++)
        if (account_text(a, k))
            free(*(char **)((char *)a + keys[k].off));
    free(a->name);
    free(a->path);
    account_init(a);
}

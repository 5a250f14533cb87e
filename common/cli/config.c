#include "common/cli/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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

static int parse_bool(const char *v)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1") ||
        !strcmp(v, "on"))
        return 1;
    if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0") ||
        !strcmp(v, "off"))
        return 0;
    return -1;
}

static int set_error(struct loader *l, const char *section, const char *fmt,
                     const char *what)
{
    if (l->error)
        return 0;
    if (asprintf(&l->error, fmt, section, what) < 0) {
        l->error = NULL;
        l->oom = true;
    }
    l->error_line = l->line;
    return 0;
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
    memset(a, 0, sizeof *a);
    a->direct_tls = a->omemo = a->trusted_only = -1;
    if (!(a->name = strdup(name)))
        return NULL;
    l->n++;
    return a;
}

static char **string_slot(struct account *a, const char *key)
{
    if (!strcmp(key, "jid"))
        return &a->jid;
    if (!strcmp(key, "password"))
        return &a->password;
    if (!strcmp(key, "password_cmd"))
        return &a->password_cmd;
    if (!strcmp(key, "server"))
        return &a->server;
    if (!strcmp(key, "ca_file"))
        return &a->ca_file;
    if (!strcmp(key, "resource"))
        return &a->resource;
    return NULL;
}

static int on_value(void *ud, const char *sect, const char *name,
                    const char *value)
{
    struct loader *l = ud;
    if (!*sect)
        return set_error(l, name, "'%s' outside any [section]", "");
    struct account *a = section(l, sect);
    if (!a) {
        l->oom = true;
        return 0;
    }
    char **slot = string_slot(a, name);
    if (slot) {
        free(*slot);
        if (!(*slot = strdup(value))) {
            l->oom = true;
            return 0;
        }
    } else if (!strcmp(name, "port")) {
        if (opts_int(value, 1, 65535, &a->port) < 0)
            return set_error(l, sect, "[%s]: port '%s' is not 1-65535", value);
    } else if (!strcmp(name, "max_stanza")) {
        if (opts_int(value, OPTS_MIN_STANZA, 1L << 30, &a->max_stanza) < 0)
            return set_error(l, sect,
                             "[%s]: max_stanza '%s' is not 1024 to 1073741824 "
                             "bytes",
                             value);
    } else if (!strcmp(name, "direct_tls")) {
        if ((a->direct_tls = parse_bool(value)) < 0)
            return set_error(l, sect, "[%s]: direct_tls '%s' is not true/false",
                             value);
    } else if (!strcmp(name, "omemo")) {
        if ((a->omemo = parse_bool(value)) < 0)
            return set_error(l, sect, "[%s]: omemo '%s' is not true/false",
                             value);
    } else if (!strcmp(name, "trusted_only")) {
        if ((a->trusted_only = parse_bool(value)) < 0)
            return set_error(
                l, sect, "[%s]: trusted_only '%s' is not true/false", value);
    } else {
        return set_error(l, sect, "[%s]: unknown key '%s'", name);
    }
    return 1;
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
        if (jid && !(a->jid && same_account(a->jid, jid)))
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
    if (l->oom || line == -2) /* -2: inih's own allocation failed */
        return fail_oom(path);
    if (line > 0 && (!l->error || line < l->error_line))
        return fail(XE_CONFIG, "%s: line %d: syntax error", path, line);
    if (l->error)
        return fail(XE_CONFIG, "%s: line %d: %s", path, l->error_line,
                    l->error);
    if (line < 0 || ferror(f))
        return fail(XE_CONFIG, "%s: cannot read it", path);
    return 0;
}

int config_parse(FILE *f, const char *path, const char *want, const char *jid,
                 struct account *a)
{
    memset(a, 0, sizeof *a);
    a->direct_tls = -1;
    struct loader l = {.f = f, .bol = true};
    int rc = parse(path, f, &l);
    long pick = rc ? -1 : choose(&l, want, jid);
    if (!rc && want && pick < 0)
        rc = fail(XE_CONFIG, "%s: no section [%s]", path, want);
    if (!rc)
        check_mode(path, &l);
    for (size_t i = 0; i < l.n; i++) {
        if ((long)i == pick)
            *a = l.all[i];
        else
            account_free(&l.all[i]);
    }
    free(l.all);
    free(l.error);
    return rc;
}

int config_load(const char *want, const char *jid, struct account *a)
{
    memset(a, 0, sizeof *a);
    a->direct_tls = -1;
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
    free(a->name);
    free(a->jid);
    free(a->password);
    free(a->password_cmd);
    free(a->server);
    free(a->ca_file);
    free(a->resource);
    memset(a, 0, sizeof *a);
    a->direct_tls = -1;
}

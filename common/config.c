#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "die.h"
#include "exitcode.h"
#include "options.h"

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

struct loader {
    const char *want;
    struct account *a;
    char *chosen;      /* the section being loaded */
    char *error;       /* first error, malloc'd */
};

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
    if (!l->error && asprintf(&l->error, fmt, section, what) < 0)
        l->error = NULL;
    return 0;
}

/* Does this section hold the account we are after? The first section is
 * taken unless a named one (or "default") turns up. */
static int wanted(struct loader *l, const char *section)
{
    if (l->want)
        return strcmp(section, l->want) == 0;
    if (!l->chosen) {
        l->chosen = strdup(section);
        return 1;
    }
    if (strcmp(l->chosen, section) == 0)
        return 1;
    if (strcmp(section, "default") == 0) {
        /* "default" beats the first section: forget what we took. */
        char *keep = l->chosen;
        account_free(l->a);
        l->chosen = strdup(section);
        free(keep);
        return 1;
    }
    return 0;
}

static int on_value(void *ud, const char *section, const char *name,
                    const char *value)
{
    struct loader *l = ud;
    static const char *const keys[] = {"jid", "password", "password_cmd",
                                       "server", "port", "direct_tls",
                                       "ca_file", "resource", NULL};
    int known = 0;
    for (int i = 0; keys[i]; i++)
        known |= strcmp(keys[i], name) == 0;
    if (!known)
        return set_error(l, section, "[%s]: unknown key '%s'", name);
    if (!*section)
        return set_error(l, "(none)", "%s: '%s' outside any [section]", name);
    if (!wanted(l, section))
        return 1;

    struct account *a = l->a;
    char **slot = NULL;
    if (!strcmp(name, "jid")) slot = &a->jid;
    else if (!strcmp(name, "password")) slot = &a->password;
    else if (!strcmp(name, "password_cmd")) slot = &a->password_cmd;
    else if (!strcmp(name, "server")) slot = &a->server;
    else if (!strcmp(name, "ca_file")) slot = &a->ca_file;
    else if (!strcmp(name, "resource")) slot = &a->resource;
    else if (!strcmp(name, "port")) {
        if (opts_int(value, 1, 65535, &a->port) < 0)
            return set_error(l, section, "[%s]: port '%s' is not 1-65535",
                             value);
    } else if ((a->direct_tls = parse_bool(value)) < 0) {
        return set_error(l, section, "[%s]: direct_tls '%s' is not true/false",
                         value);
    }
    if (slot) {
        free(*slot);
        *slot = strdup(value);
    }
    return 1;
}

/* A password in a file others can read is a password others know. */
static void check_mode(const char *path, const struct account *a)
{
    struct stat st;
    if (a->password && stat(path, &st) == 0 && (st.st_mode & 077))
        warnx("warning: %s holds a password and is readable by others; "
              "run chmod 600 %s", path, path);
}

int config_parse(FILE *f, const char *path, const char *want,
                 struct account *a)
{
    memset(a, 0, sizeof *a);
    a->direct_tls = -1;
    struct loader l = {.want = want, .a = a};
    int line = ini_parse_file(f, on_value, &l);
    int rc = 0;
    if (line > 0 && !l.error)
        rc = fail(XE_CONFIG, "%s: line %d: syntax error", path, line);
    else if (l.error)
        rc = fail(XE_CONFIG, "%s: %s", path, l.error);
    else if (line < 0)
        rc = fail(XE_CONFIG, "%s: out of memory", path);
    else if (want && !a->jid && !a->password && !a->server)
        rc = fail(XE_CONFIG, "%s: no section [%s]", path, want);
    if (rc == 0) {
        a->name = l.chosen ? l.chosen : (want ? strdup(want) : NULL);
        l.chosen = NULL;
    } else {
        account_free(a);
    }
    free(l.chosen);
    free(l.error);
    return rc;
}

int config_load(const char *want, struct account *a)
{
    memset(a, 0, sizeof *a);
    a->direct_tls = -1;
    char *path = config_path();
    if (!path)
        return want ? fail(XE_CONFIG, "no config file (HOME unset) for "
                                      "account '%s'", want)
                    : 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        int rc = 0;
        if (e != ENOENT)
            rc = fail(XE_CONFIG, "%s: %s", path, strerror(e));
        else if (want)
            rc = fail(XE_CONFIG, "account '%s': no config file %s", want, path);
        free(path);
        return rc;
    }
    int rc = config_parse(f, path, want, a);
    fclose(f);
    if (rc == 0)
        check_mode(path, a);
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

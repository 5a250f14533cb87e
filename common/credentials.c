#include "credentials.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "die.h"
#include "exitcode.h"
#include "jid.h"

static char *chomp_dup(char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

/* Read one line from f into a malloc'd string (NULL at EOF). */
static char *first_line(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    char *out = NULL;
    if (getline(&line, &cap, f) >= 0)
        out = chomp_dup(line);
    if (line) {
        memset(line, 0, cap);
        free(line);
    }
    return out;
}

int read_first_line(const char *what, const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(XE_NOINPUT, "%s %s: %s", what, path, strerror(errno));
    *out = first_line(f);
    fclose(f);
    if (!*out || !**out) {
        free(*out);
        *out = NULL;
        return fail(XE_CONFIG, "%s %s is empty", what, path);
    }
    return 0;
}

/* The first output line of `sh -c cmd`, which must exit 0. */
static int run_password_cmd(const char *cmd, char **out)
{
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p)
        return fail(XE_CONFIG, "password command: %s", strerror(errno));
    *out = first_line(p);
    /* Drain the rest so the command does not die of SIGPIPE. */
    char buf[256];
    while (fread(buf, 1, sizeof buf, p) > 0)
        ;
    int st = pclose(p);
    if (st != 0 || !*out || !**out) {
        free(*out);
        *out = NULL;
        if (st != 0)
            return fail(XE_CONFIG, "password command failed (exit %d): %s",
                        WIFEXITED(st) ? WEXITSTATUS(st) : -1, cmd);
        return fail(XE_CONFIG, "password command printed nothing: %s", cmd);
    }
    return 0;
}

static int pick_password(const struct session_opts *o,
                         const struct account *a, char **out)
{
    const char *env = getenv("XMPP_PASSWORD");
    if (o->password_file)
        return read_first_line("password file", o->password_file, out);
    if (o->password_cmd)
        return run_password_cmd(o->password_cmd, out);
    if (env && *env)
        return (*out = strdup(env)) ? 0 : XE_CONFIG;
    if (a->password)
        return (*out = strdup(a->password)) ? 0 : XE_CONFIG;
    if (a->password_cmd)
        return run_password_cmd(a->password_cmd, out);
    return fail(XE_CONFIG, "no password for %s: use --password-file, "
                           "--password-cmd, XMPP_PASSWORD or the config file",
                o->jid ? o->jid : "the account");
}

/* HOST[:PORT] or [IPv6]:PORT. */
static int split_server(const char *spec, char **host, unsigned short *port)
{
    const char *colon = strrchr(spec, ':');
    const char *h = spec;
    size_t hlen = strlen(spec);
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close)
            return fail(XE_USAGE, "--server %s: missing ']'", spec);
        h = spec + 1;
        hlen = (size_t)(close - h);
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon && strchr(spec, ':') != colon) {
        colon = NULL; /* a bare IPv6 address */
    }
    if (colon && spec[0] != '[')
        hlen = (size_t)(colon - spec);
    if (colon) {
        long p;
        if (opts_int(colon + 1, 1, 65535, &p) < 0)
            return fail(XE_USAGE, "--server %s: port must be 1-65535", spec);
        *port = (unsigned short)p;
    }
    if (hlen == 0)
        return fail(XE_USAGE, "--server %s: empty host", spec);
    *host = strndup(h, hlen);
    return 0;
}

static int resolve_jid(const struct session_opts *o, const struct account *a,
                       struct creds *c)
{
    const char *jid = o->component ? o->component : o->jid;
    if (!jid)
        jid = getenv("XMPP_JID");
    if (!jid || !*jid)
        jid = a->jid;
    if (!jid)
        return fail(XE_CONFIG, "no account: give --jid, set XMPP_JID, or "
                               "write a config file (see xmpp(1))");
    const char *why = jid_check(jid);
    if (why)
        return fail(XE_DATA, "%s: invalid JID: %s", jid, why);
    const char *res = o->resource ? o->resource : a->resource;
    if (res && !o->component && !strchr(jid, '/')) {
        if (asprintf(&c->jid, "%s/%s", jid, res) < 0)
            return XE_CONFIG;
        if ((why = jid_check(c->jid)))
            return fail(XE_DATA, "--resource %s: %s", res, why);
        return 0;
    }
    c->jid = strdup(jid);
    return 0;
}

int creds_resolve(const struct session_opts *o, struct creds *c)
{
    memset(c, 0, sizeof *c);
    struct account a;
    const char *name = o->account ? o->account : getenv("XMPP_ACCOUNT");
    const char *jid = o->component ? o->component : o->jid;
    if (!jid)
        jid = getenv("XMPP_JID");
    int rc = config_load(name && *name ? name : NULL, jid && *jid ? jid : NULL,
                         &a);
    if (rc)
        return rc;
    c->component = o->component != NULL;
    if (!(rc = resolve_jid(o, &a, c))) {
        if (c->component)
            rc = o->secret_file ? read_first_line("secret file",
                                                  o->secret_file, &c->password)
                                : fail(XE_USAGE, "--component needs "
                                                 "--secret-file");
        else
            rc = pick_password(o, &a, &c->password);
    }
    if (!rc && o->server)
        rc = split_server(o->server, &c->host, &c->port);
    else if (!rc && a.server)
        c->host = strdup(a.server);
    if (!rc && !o->server && a.port)
        c->port = (unsigned short)a.port;
    if (!rc && c->component && !c->host)
        rc = fail(XE_USAGE, "--component needs --server HOST:PORT");
    c->direct_tls = o->direct_tls || a.direct_tls == 1;
    const char *ca = o->ca_file ? o->ca_file : a.ca_file;
    if (!rc && ca)
        c->ca_file = strdup(ca);
    account_free(&a);
    if (rc)
        creds_free(c);
    return rc;
}

void creds_free(struct creds *c)
{
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    free(c->password);
    free(c->jid);
    free(c->host);
    free(c->ca_file);
    memset(c, 0, sizeof *c);
}

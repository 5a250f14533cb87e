#include "common/cli/credentials.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/cli/config.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/xmpp/jid.h"

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

static int pick_password(const struct session_opts *o, const struct account *a,
                         char **out)
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
    return fail(XE_CONFIG,
                "no password for %s: use --password-file, "
                "--password-cmd, XMPP_PASSWORD or the config file",
                o->jid ? o->jid : "the account");
}

/* An IPv6 address, with an optional zone ("fe80::1%eth0"). */
static bool ipv6_host(const char *h, size_t n)
{
    char addr[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    const char *zone = memchr(h, '%', n);
    size_t len = zone ? (size_t)(zone - h) : n;
    if (len >= sizeof addr || (zone && zone + 1 == h + n))
        return false;
    for (const char *z = zone ? zone + 1 : h + n; z < h + n; z++)
        if (!isalnum((unsigned char)*z) && !strchr("._-", *z))
            return false; /* an interface name or number */
    memcpy(addr, h, len);
    addr[len] = '\0';
    return inet_pton(AF_INET6, addr, bin) == 1;
}

/* A name or an IPv4 address: nothing that could never be dialled. */
static bool name_host(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= 0x20 || c == 0x7F || strchr("[]/@\\", c))
            return false;
    }
    return true;
}

int server_split(const char *spec, char **host, unsigned short *port)
{
    const char *h = spec, *portstr = NULL;
    const char *colon = strchr(spec, ':');
    size_t hlen;
    bool ipv6 = false;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close)
            return fail(XE_USAGE, "--server %s: missing ']'", spec);
        if (close[1] && close[1] != ':')
            return fail(XE_USAGE,
                        "--server %s: ':PORT' or nothing may "
                        "follow ']'",
                        spec);
        h = spec + 1;
        hlen = (size_t)(close - h);
        portstr = close[1] ? close + 2 : NULL;
        ipv6 = true;
    } else if (colon && strchr(colon + 1, ':')) {
        hlen = strlen(spec); /* a bare IPv6 address, no port */
        ipv6 = true;
    } else {
        hlen = colon ? (size_t)(colon - spec) : strlen(spec);
        portstr = colon ? colon + 1 : NULL;
    }
    if (hlen == 0)
        return fail(XE_USAGE, "--server %s: empty host", spec);
    if (ipv6 ? !ipv6_host(h, hlen) : !name_host(h, hlen))
        return fail(XE_USAGE, "--server %s: invalid %s", spec,
                    ipv6 ? "IPv6 address" : "host name");
    if (portstr) {
        long p;
        if (opts_int(portstr, 1, 65535, &p) < 0)
            return fail(XE_USAGE, "--server %s: port must be 1-65535", spec);
        *port = (unsigned short)p;
    }
    *host = strndup(h, hlen);
    return *host ? 0 : fail_oom(NULL);
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
    int rc =
        config_load(name && *name ? name : NULL, jid && *jid ? jid : NULL, &a);
    if (rc)
        return rc;
    c->component = o->component != NULL;
    if (!(rc = resolve_jid(o, &a, c))) {
        if (c->component)
            rc = o->secret_file ? read_first_line("secret file", o->secret_file,
                                                  &c->password)
                                : fail(XE_USAGE, "--component needs "
                                                 "--secret-file");
        else
            rc = pick_password(o, &a, &c->password);
    }
    if (!rc && o->server)
        rc = server_split(o->server, &c->host, &c->port);
    else if (!rc && a.server)
        c->host = strdup(a.server);
    if (!rc && !o->server && a.port)
        c->port = (unsigned short)a.port;
    if (!rc && c->component && !c->host)
        rc = fail(XE_USAGE, "--component needs --server HOST:PORT");
    c->direct_tls = o->direct_tls || a.direct_tls == 1;
    c->omemo = a.omemo == 1;
    c->trusted_only = a.trusted_only == 1;
    c->max_stanza = o->max_stanza ? o->max_stanza : (unsigned long)a.max_stanza;
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

#include "common/cli/credentials.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cli/clientcert.h"
#include "common/cli/config.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/xmpp/jid.h"

/* ---- reading secrets ---- */

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
    bool std = !strcmp(path, "-");
    FILE *f = std ? stdin : fopen(path, "r");
    if (!f)
        return fail(XE_NOINPUT, "%s %s: %s", what, path, strerror(errno));
    *out = first_line(f);
    if (!std)
        fclose(f);
    if (!*out || !**out) {
        free(*out);
        *out = NULL;
        return fail(XE_CONFIG, "%s %s is empty", what, std ? "(stdin)" : path);
    }
    return 0;
}

/* The first output line of `sh -c cmd`, which must exit 0. */
static int run_password_cmd(const char *from, const char *cmd, char **out)
{
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (!p)
        return fail(XE_CONFIG, "%s: %s", from, strerror(errno));
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
            return fail(XE_CONFIG, "%s failed (exit %d): %s", from,
                        WIFEXITED(st) ? WEXITSTATUS(st) : -1, cmd);
        return fail(XE_CONFIG, "%s printed nothing: %s", from, cmd);
    }
    return 0;
}

/* ---- the password prompt ---- */

static volatile sig_atomic_t prompt_signal;

static void on_prompt_signal(int sig)
{
    prompt_signal = sig;
}

/* Ask on the terminal fd and read a line without echo; a signal ends
 * it. Echo goes off before the prompt shows, so that nothing typed after
 * it is echoed or flushed away. */
static char *read_hidden(int fd, const char *prompt)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa = {.sa_handler = on_prompt_signal}, old[4];
    struct termios saved, quiet;
    char buf[1024];
    size_t n = 0;
    if (tcgetattr(fd, &saved) < 0)
        return NULL;
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    prompt_signal = 0;
    for (int i = 0; i < 4; i++) /* no SA_RESTART: read() returns */
        sigaction(sigs[i], &sa, &old[i]);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    dprintf(fd, "%s", prompt);
    while (!prompt_signal && n < sizeof buf - 1) {
        ssize_t got = read(fd, buf + n, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || buf[n] == '\n')
            break;
        n++;
    }
    tcsetattr(fd, TCSANOW, &saved);
    for (int i = 0; i < 4; i++)
        sigaction(sigs[i], &old[i], NULL);
    (void)!write(fd, "\n", 1);
    buf[n] = '\0';
    char *out = prompt_signal ? NULL : strdup(buf);
    memset(buf, 0, sizeof buf);
    return out;
}

/* Ask on the terminal, as sendxmpp users expect. Returns 0, -1 when
 * there is no terminal to ask on, or an exit status (printed). */
static int prompt_password(const char *jid, char **out)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char prompt[1100];
    snprintf(prompt, sizeof prompt, "Password for %s: ", jid);
    *out = read_hidden(fd, prompt);
    close(fd);
    if (prompt_signal)
        return fail(128 + prompt_signal, "interrupted at the password prompt");
    if (!*out)
        return -1;
    if (!**out) {
        free(*out);
        *out = NULL;
        return fail(XE_CONFIG, "no password typed for %s", jid);
    }
    return 0;
}

/* ---- where each setting comes from ---- */

/* A setting's value and where it came from: "--ca-file", "XMPP_CA_FILE"
 * or "PATH:LINE: ca_file", for messages that blame the real source. */
struct pick {
    const char *value;
    char from[512];
};

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The first of option, environment variable, config key that is set. */
static bool pick(struct pick *p, const char *opt, const char *opt_name,
                 const char *env_name, const struct account *a,
                 enum account_key k)
{
    const char *e = env_name ? env(env_name) : NULL;
    const char *cfg = a ? account_text(a, k) : NULL;
    if (opt) {
        p->value = opt;
        snprintf(p->from, sizeof p->from, "%s", opt_name);
    } else if (e) {
        p->value = e;
        snprintf(p->from, sizeof p->from, "%s", env_name);
    } else if (cfg) {
        p->value = cfg;
        account_where(a, k, p->from, sizeof p->from);
    } else {
        p->value = NULL;
        p->from[0] = '\0';
    }
    return p->value != NULL;
}

/* A yes/no setting: the option (on when given), else the variable, else
 * the config (cfg -1: unset). */
static int pick_flag(bool opt, const char *env_name, int cfg, bool *out)
{
    const char *e = env(env_name);
    int v = opt ? 1 : e ? config_bool(e) : cfg;
    if (v < 0 && e)
        return fail(XE_CONFIG, "%s='%s' is not true/false", env_name, e);
    *out = v == 1;
    return 0;
}

/* ---- the password ---- */

/* A password source: the text itself, a file or a command. */
enum how { LITERAL, FROM_FILE, FROM_CMD };

static int take_password(struct creds *c, const char *from, enum how how,
                         const char *value)
{
    free(c->password_from);
    if (!(c->password_from = strdup(from)))
        return fail_oom(NULL);
    if (how == FROM_FILE)
        return read_first_line(from, value, &c->password);
    if (how == FROM_CMD)
        return run_password_cmd(from, value, &c->password);
    return (c->password = strdup(value)) ? 0 : fail_oom(NULL);
}

/* Two sources of one level at once is a mistake to point out, not to
 * settle by an order nobody remembers. */
static int both_given(const char *x_name, const char *x, const char *y_name,
                      const char *y, int status)
{
    if (x && y)
        return fail(status, "both %s and %s give the password; keep one",
                    x_name, y_name);
    return 0;
}

/* XMPP_PASSWORD, XMPP_PASSWORD_FILE or XMPP_PASSWORD_CMD: at most one. */
static int env_password(struct creds *c, bool *found)
{
    static const struct {
        const char *name;
        enum how how;
    } vars[] = {{"XMPP_PASSWORD", LITERAL},
                {"XMPP_PASSWORD_FILE", FROM_FILE},
                {"XMPP_PASSWORD_CMD", FROM_CMD}};
    int at = -1, rc;
    for (int i = 0; i < 3; i++) {
        if (!env(vars[i].name))
            continue;
        if (at >= 0 &&
            (rc = both_given(vars[at].name, "", vars[i].name, "", XE_CONFIG)))
            return rc;
        at = i;
    }
    *found = at >= 0;
    return at < 0 ? 0
                  : take_password(c, vars[at].name, vars[at].how,
                                  env(vars[at].name));
}

/* The config section's password, password_file or password_cmd (one at
 * most: config.c checks). */
static int config_password(const struct account *a, struct creds *c,
                           bool *found)
{
    static const struct {
        enum account_key key;
        enum how how;
    } keys[] = {{AK_PASSWORD, LITERAL},
                {AK_PASSWORD_FILE, FROM_FILE},
                {AK_PASSWORD_CMD, FROM_CMD}};
    char from[512];
    for (int i = 0; i < 3; i++) {
        const char *v = account_text(a, keys[i].key);
        if (v) {
            *found = true;
            return take_password(
                c, account_where(a, keys[i].key, from, sizeof from),
                keys[i].how, v);
        }
    }
    *found = false;
    return 0;
}

/* Options, then the environment, then the config section, then the
 * terminal. */
static int pick_password(const struct session_opts *o, const struct account *a,
                         struct creds *c)
{
    bool found;
    int rc = both_given("--password-file", o->password_file, "--password-cmd",
                        o->password_cmd, XE_USAGE);
    if (rc)
        return rc;
    if (o->password_file)
        return take_password(c, "--password-file", FROM_FILE, o->password_file);
    if (o->password_cmd)
        return take_password(c, "--password-cmd", FROM_CMD, o->password_cmd);
    if ((rc = env_password(c, &found)) || found)
        return rc;
    if ((rc = config_password(a, c, &found)) || found)
        return rc;
    /* XEP-0178: the certificate is the credential; a password given
     * too is the way in where the server does not take it. */
    if (c->cert_file)
        return 0;
    if (isatty(STDIN_FILENO) &&
        (rc = prompt_password(c->jid, &c->password)) >= 0) {
        if (!rc && !(c->password_from = strdup("typed at the prompt")))
            rc = fail_oom(NULL);
        return rc;
    }
    return fail(XE_CONFIG,
                "no password for %s: use --password-file, --password-cmd, "
                "XMPP_PASSWORD, the config file, or run on a terminal to be "
                "asked",
                c->jid);
}

/* The component's shared secret (XEP-0114): a file, never inline. */
static int pick_secret(const struct session_opts *o, const struct account *a,
                       struct creds *c, const char *comp_from)
{
    struct pick p;
    if (!pick(&p, o->secret_file, "--secret-file", "XMPP_SECRET_FILE", a,
              AK_SECRET_FILE))
        return fail(XE_USAGE,
                    "%s needs --secret-file (or XMPP_SECRET_FILE, or "
                    "secret_file in the config)",
                    comp_from);
    return take_password(c, p.from, FROM_FILE, p.value);
}

/* ---- the server ---- */

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

const char *server_check(const char *spec, size_t *at, size_t *len,
                         unsigned short *port)
{
    const char *h = spec, *portstr = NULL;
    const char *colon = strchr(spec, ':');
    size_t hlen;
    bool ipv6 = false;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close)
            return "missing ']'";
        if (close[1] && close[1] != ':')
            return "':PORT' or nothing may follow ']'";
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
        return "empty host";
    if (ipv6 ? !ipv6_host(h, hlen) : !name_host(h, hlen))
        return ipv6 ? "invalid IPv6 address" : "invalid host name";
    *port = 0;
    if (portstr) {
        long p;
        if (opts_int(portstr, 1, 65535, &p) < 0)
            return "port must be 1-65535";
        *port = (unsigned short)p;
    }
    *at = (size_t)(h - spec);
    *len = hlen;
    return NULL;
}

/* Split spec, naming `from` in the message; the port only when given. */
static int split_from(const char *from, const char *spec, char **host,
                      unsigned short *port, int status)
{
    size_t at, len;
    unsigned short p;
    const char *why = server_check(spec, &at, &len, &p);
    if (why)
        return fail(status, "%s %s: %s", from, spec, why);
    if (p)
        *port = p;
    *host = strndup(spec + at, len);
    return *host ? 0 : fail_oom(NULL);
}

int server_split(const char *spec, char **host, unsigned short *port)
{
    return split_from("--server", spec, host, port, XE_USAGE);
}

/* A server from a level replaces host and port of the levels below. */
static int pick_server(const struct session_opts *o, const struct account *a,
                       struct creds *c)
{
    const char *e = env("XMPP_SERVER");
    if (o->server)
        return server_split(o->server, &c->host, &c->port);
    if (e)
        return split_from("XMPP_SERVER", e, &c->host, &c->port, XE_CONFIG);
    if (a->server && !(c->host = strdup(a->server)))
        return fail_oom(NULL);
    c->port = (unsigned short)a->port;
    return 0;
}

/* ---- the account ---- */

/* The JID or component domain: from the options, else the environment,
 * else the config section. */
static int pick_identity(const struct session_opts *o, const struct account *a,
                         struct pick *p, bool *component)
{
    const char *ej = env("XMPP_JID"), *ec = env("XMPP_COMPONENT");
    if (o->component || o->jid) {
        *component = o->component != NULL;
        pick(p, o->component ? o->component : o->jid,
             o->component ? "--component" : "--jid", NULL, NULL, 0);
        return 0;
    }
    if (ej && ec)
        return fail(XE_CONFIG, "both XMPP_JID and XMPP_COMPONENT are set; "
                               "unset one");
    if (ej || ec) {
        *component = ec != NULL;
        pick(p, NULL, NULL, ec ? "XMPP_COMPONENT" : "XMPP_JID", NULL, 0);
        return 0;
    }
    *component = a->component != NULL;
    if (!pick(p, NULL, NULL, NULL, a, a->component ? AK_COMPONENT : AK_JID))
        return fail(XE_CONFIG, "no account: give --jid, set XMPP_JID, or "
                               "write a config file (see xmpp(1))");
    return 0;
}

static int resolve_jid(const struct session_opts *o, const struct account *a,
                       struct creds *c, struct pick *id)
{
    int rc = pick_identity(o, a, id, &c->component);
    if (rc)
        return rc;
    const char *why = jid_check(id->value);
    if (why && id->from[0] == '-')
        return fail(XE_DATA, "%s: invalid JID: %s", id->value, why);
    if (why)
        return fail(XE_CONFIG, "%s %s: invalid JID: %s", id->from, id->value,
                    why);
    struct pick res;
    if (!c->component &&
        pick(&res, o->resource, "--resource", "XMPP_RESOURCE", a,
             AK_RESOURCE) &&
        !strchr(id->value, '/')) {
        if (asprintf(&c->jid, "%s/%s", id->value, res.value) < 0)
            return fail_oom(NULL);
        if ((why = jid_check(c->jid)))
            return fail(res.from[0] == '-' ? XE_DATA : XE_CONFIG, "%s %s: %s",
                        res.from, res.value, why);
        return 0;
    }
    return (c->jid = strdup(id->value)) ? 0 : fail_oom(NULL);
}

/* --max-stanza, else XMPP_MAX_STANZA, else the config. */
static int pick_max_stanza(const struct session_opts *o,
                           const struct account *a, struct creds *c)
{
    const char *e = env("XMPP_MAX_STANZA");
    long n = a->max_stanza;
    if (o->max_stanza) {
        c->max_stanza = o->max_stanza;
        return 0;
    }
    if (e && opts_int(e, OPTS_MIN_STANZA, 1L << 30, &n) < 0)
        return fail(XE_CONFIG,
                    "XMPP_MAX_STANZA='%s' is not 1024 to 1073741824 bytes", e);
    c->max_stanza = (unsigned long)n;
    return 0;
}

static int pick_ca_file(const struct session_opts *o, const struct account *a,
                        struct creds *c)
{
    struct pick p;
    if (!pick(&p, o->ca_file, "--ca-file", "XMPP_CA_FILE", a, AK_CA_FILE))
        return 0;
    if (access(p.value, R_OK) != 0)
        return fail(XE_NOINPUT, "%s %s: %s", p.from, p.value, strerror(errno));
    return (c->ca_file = strdup(p.value)) ? 0 : fail_oom(NULL);
}

/* A key others can read is a key others have. */
static void check_key_mode(const struct pick *key)
{
    struct stat st;
    if (stat(key->value, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
        warnx("warning: %s %s is readable by others; run chmod 600 %s",
              key->from, key->value, key->value);
}

/* --cert and --key, XMPP_CERT_FILE and XMPP_KEY_FILE, or cert_file
 * and key_file (config.c checks the pair): both from one level, so that
 * a certificate is never paired with another level's key. */
static int pick_client_cert(const struct session_opts *o,
                            const struct account *a, struct creds *c)
{
    struct pick cert, key;
    bool opt = o->cert_file || o->key_file;
    bool envs = !opt && (env("XMPP_CERT_FILE") || env("XMPP_KEY_FILE"));
    pick(&cert, o->cert_file, "--cert", opt ? NULL : "XMPP_CERT_FILE",
         opt || envs ? NULL : a, AK_CERT_FILE);
    pick(&key, o->key_file, "--key", opt ? NULL : "XMPP_KEY_FILE",
         opt || envs ? NULL : a, AK_KEY_FILE);
    if (!cert.value && !key.value)
        return 0;
    if (!cert.value || !key.value)
        return fail(opt ? XE_USAGE : XE_CONFIG,
                    "%s without %s: a client certificate needs both",
                    cert.value ? cert.from : key.from,
                    opt ? (cert.value ? "--key" : "--cert")
                        : (cert.value ? "XMPP_KEY_FILE" : "XMPP_CERT_FILE"));
    const struct pick *files[] = {&cert, &key};
    for (int i = 0; i < 2; i++)
        if (access(files[i]->value, R_OK) != 0)
            return fail(XE_NOINPUT, "%s %s: %s", files[i]->from,
                        files[i]->value, strerror(errno));
    int rc = client_cert_check(cert.value, cert.from, key.value, key.from);
    if (rc)
        return rc;
    check_key_mode(&key);
    if (!(c->cert_file = strdup(cert.value)) ||
        !(c->key_file = strdup(key.value)))
        return fail_oom(NULL);
    return 0;
}

/* Everything but the account and its password. */
static int resolve_connection(const struct session_opts *o,
                              const struct account *a, struct creds *c,
                              const struct pick *id)
{
    int rc;
    if ((rc = pick_server(o, a, c)) ||
        (rc = pick_flag(o->direct_tls, "XMPP_DIRECT_TLS", a->direct_tls,
                        &c->direct_tls)) ||
        (rc = pick_flag(o->insecure, "XMPP_INSECURE", a->insecure,
                        &c->insecure)) ||
        (rc = pick_flag(o->allow_plain, "XMPP_ALLOW_PLAIN", a->allow_plain,
                        &c->allow_plain)) ||
        (rc = pick_ca_file(o, a, c)) || (rc = pick_client_cert(o, a, c)) ||
        (rc = pick_max_stanza(o, a, c)))
        return rc;
    if (a->nick && !(c->nick = strdup(a->nick)))
        return fail_oom(NULL);
    /* main() has set 0 where the tool does not take the option: then
     * the config's value does not apply either. */
    c->keepalive = o->keepalive >= 0   ? o->keepalive
                   : a->keepalive >= 0 ? a->keepalive
                                       : OPTS_DEFAULT_KEEPALIVE;
    c->retry = o->retry >= 0 ? o->retry : a->retry >= 0 ? a->retry : 0;
    c->omemo = a->omemo == 1;
    c->trusted_only = a->trusted_only == 1;
    if (c->component && !c->host)
        return fail(XE_USAGE,
                    "%s needs --server HOST:PORT (or XMPP_SERVER, or server "
                    "in the config)",
                    id->from);
    return 0;
}

/* ---- loading ---- */

/* The account named on the command line or in the environment, which
 * picks the config section. */
static const char *wanted_identity(const struct session_opts *o)
{
    if (o->component || o->jid)
        return o->component ? o->component : o->jid;
    return env("XMPP_COMPONENT") ? env("XMPP_COMPONENT") : env("XMPP_JID");
}

static int load_account(const struct session_opts *o, struct account *a)
{
    const char *name = o->account ? o->account : env("XMPP_ACCOUNT");
    return config_load(name && *name ? name : NULL, wanted_identity(o), a);
}

/* "-" for a secret means stdin; only on the command line, where the
 * user sees that stdin is taken. */
static int check_dash(const struct session_opts *o, const struct account *a)
{
    static const struct {
        const char *env;
        enum account_key key;
    } files[] = {{"XMPP_PASSWORD_FILE", AK_PASSWORD_FILE},
                 {"XMPP_SECRET_FILE", AK_SECRET_FILE}};
    char from[512];
    for (size_t i = 0; i < 2; i++) {
        const char *e = env(files[i].env);
        const char *cfg = i ? a->secret_file : a->password_file;
        if (e && !strcmp(e, "-"))
            return fail(XE_CONFIG,
                        "%s=-: stdin only on the command line "
                        "(--password-file - or --secret-file -)",
                        files[i].env);
        if (cfg && !strcmp(cfg, "-"))
            return fail(XE_CONFIG, "%s -: stdin only on the command line",
                        account_where(a, files[i].key, from, sizeof from));
    }
    if (o->component && o->secret_file && !strcmp(o->secret_file, "-"))
        input_reserve_stdin("--secret-file -");
    else if (!o->component && o->password_file &&
             !strcmp(o->password_file, "-"))
        input_reserve_stdin("--password-file -");
    return 0;
}

/* XMPP_TIMEOUT, else the config's timeout, replaces the default deadline
 * of a tool that does a job and exits; listeners still run until
 * stopped unless -t says otherwise. */
static int apply_timeout(struct session_opts *o, const struct account *a)
{
    const char *e = env("XMPP_TIMEOUT");
    double t = a->timeout;
    if (o->timeout_given || (current_tool->flags & TOOL_LISTENER))
        return 0;
    if (e && opts_seconds(e, &t) < 0)
        return fail(XE_CONFIG, "XMPP_TIMEOUT='%s' is not a number of seconds",
                    e);
    if (t >= 0)
        o->timeout = t == 0 ? -1 : t;
    return 0;
}

int creds_load(struct session_opts *o)
{
    struct account *a = calloc(1, sizeof *a);
    if (!a)
        return fail_oom(NULL);
    int rc = load_account(o, a);
    if (!rc && !(rc = check_dash(o, a)))
        rc = apply_timeout(o, a);
    if (rc) {
        account_free(a);
        free(a);
        return rc;
    }
    o->config = a;
    return 0;
}

void creds_unload(struct session_opts *o)
{
    if (o->config)
        account_free(o->config);
    free(o->config);
    o->config = NULL;
}

int creds_resolve(const struct session_opts *o, struct creds *c)
{
    memset(c, 0, sizeof *c);
    struct account own;
    const struct account *a = o->config;
    int rc = 0;
    if (!a && !(rc = load_account(o, &own)))
        a = &own;
    struct pick id;
    if (!rc && !(rc = resolve_jid(o, a, c, &id)))
        rc = resolve_connection(o, a, c, &id);
    if (!rc)
        rc = c->component ? pick_secret(o, a, c, id.from)
                          : pick_password(o, a, c);
    if (a == &own)
        account_free(&own);
    if (rc)
        creds_free(c);
    return rc;
}

void creds_free(struct creds *c)
{
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    free(c->password);
    free(c->password_from);
    free(c->jid);
    free(c->host);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    free(c->nick);
    memset(c, 0, sizeof *c);
}

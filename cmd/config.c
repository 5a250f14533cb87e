/* xmpp config: the config file itself. `import` turns the account of a
 * sendxmpp or go-sendxmpp config (~/.sendxmpprc) into a section of ours,
 * so that people can move over without retyping it. Nothing connects. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli/config.h"
#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/options.h"
#include "common/cli/tool.h"
#include "common/io/output.h"
#include "common/xmpp/jid.h"

static const char notes[] =
    "\nFILE (default ~/.sendxmpprc, else go-sendxmpp's\n"
    "~/.config/go-sendxmpp/config) may be in either format:\n"
    "  user@server[;host][:port] password [domain]   (sendxmpp <= 1.23)\n"
    "  username: JID   jserver: HOST   port: PORT   password: PASSWORD\n"
    "  eval_password: CMD   alias: NICK   component: DOMAIN\n"
    "import appends its account to the config file as section [NAME] (-a NAME,\n"
    "default 'default'), mode 0600; an existing section is never replaced.\n"
    "A password an INI value cannot hold as it is goes to NAME.password\n"
    "beside the config (password_file). Prints NAME TAB JID TAB CONFIG;\n"
    "--json: {section, jid, from, config}. Nothing connects.\n";

static int run_import(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"import", "[FILE]", 0, 1,
     "add the account of a sendxmpp or go-sendxmpp config\n"
     "as a section of ours",
     "", run_import},
    {0},
};

/* What the old file says, as its tools read it. */
struct rc {
    char *user, *jserver, *port, *password, *eval, *alias, *domain;
    bool eval_last; /* eval_password came after password */
};

struct config_cmd {
    const struct session_opts *o;
    const char *file; /* the file to import */
    char *default_file;
    struct rc rc;
    char *jid, *server; /* the section's jid and server = HOST[:PORT] */
};

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static void release(void *tool);

const struct tool tool_config = {
    .name = "config",
    .summary = "Import a sendxmpp or go-sendxmpp config",
    .subs = subs,
    .notes = notes,
    .flags = TOOL_OFFLINE,
    .size = sizeof(struct config_cmd),
    .prepare = prepare,
    .release = release,
};

/* ---- reading the old file ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int keep(char **slot, const char *v)
{
    free(*slot);
    *slot = strdup(v);
    return *slot ? 0 : fail_oom(NULL);
}

/* "key: value" (sendxmpp 1.24, go-sendxmpp). The password and the
 * command keep what follows "key:" and its blanks exactly: the old
 * tools send it that way. Returns 0, -1 when the line is no such line,
 * or an exit status. */
static int key_line(struct config_cmd *c, const char *where, char *line)
{
    char *p = line + strspn(line, " \t");
    size_t klen = strspn(p, "abcdefghijklmnopqrstuvwxyz_-");
    if (!klen || p[klen] != ':')
        return -1;
    p[klen] = '\0';
    char *raw = p + klen + 1;
    raw += strspn(raw, " \t");
    struct rc *r = &c->rc;
    if (!strcmp(p, "password")) {
        r->eval_last = false;
        return keep(&r->password, raw);
    }
    if (!strcmp(p, "eval_password")) {
        r->eval_last = true;
        return keep(&r->eval, raw);
    }
    char *v = trim(raw);
    char **slot = !strcmp(p, "username")    ? &r->user
                  : !strcmp(p, "jserver")   ? &r->jserver
                  : !strcmp(p, "port")      ? &r->port
                  : !strcmp(p, "alias")     ? &r->alias
                  : !strcmp(p, "component") ? &r->domain
                                            : NULL;
    if (!slot) {
        warnx("%s: '%s' is not imported", where, p);
        return 0;
    }
    return keep(slot, v);
}

/* "user@server[;host][:port] password [domain]" (sendxmpp 1.23 and
 * before); what it sets replaces the whole account, as there. */
static int account_line(struct config_cmd *c, const char *where, char *line)
{
    char *f[4] = {0};
    int n = 0;
    for (char *save, *t = strtok_r(line, " \t", &save); t;
         t = strtok_r(NULL, " \t", &save))
        if (n < 4)
            f[n++] = t;
        else
            n++;
    char *at = n ? strchr(f[0], '@') : NULL;
    if (!at || at == f[0] || !at[1] || n > 3)
        return fail(XE_DATA,
                    "%s: neither 'key: value' nor 'user@server password "
                    "[domain]'",
                    where);
    struct rc *r = &c->rc;
    *at = '\0';
    char *server = at + 1, *colon = strrchr(server, ':');
    char *semi = strchr(server, ';');
    int rc = keep(&r->user, f[0]);
    if (!rc && colon && colon[1] &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        *colon = '\0';
        rc = keep(&r->port, colon + 1);
    } else if (!rc) {
        free(r->port);
        r->port = NULL;
    }
    if (semi)
        *semi = '\0';
    /* sendxmpp: user@domain;host, or the domain given as 3rd field */
    if (!rc)
        rc = keep(&r->domain, f[2] ? f[2] : server);
    if (!rc)
        rc = keep(&r->jserver, semi ? semi + 1 : server);
    if (!rc && f[1])
        rc = keep(&r->password, f[1]);
    if (!rc && !f[1])
        warnx("%s: no password on the line", where);
    r->eval_last = false;
    return rc;
}

static int read_rc(struct config_cmd *c, FILE *f)
{
    char *line = NULL, where[600];
    size_t cap = 0;
    int rc = 0;
    for (long no = 1; !rc && getline(&line, &cap, f) >= 0; no++) {
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        snprintf(where, sizeof where, "%s:%ld", c->file, no);
        if ((rc = key_line(c, where, line)) < 0)
            rc = account_line(c, where, line);
    }
    if (!rc && ferror(f))
        rc = fail(XE_NOINPUT, "%s: %s", c->file, strerror(errno));
    if (line)
        memset(line, 0, cap);
    free(line);
    return rc;
}

/* ---- what our section says ---- */

/* The JID: username if it is one, else username@domain (sendxmpp's
 * "component", else the server). The server to dial: jserver and port
 * when they say more than the JID's domain does (else SRV). */
static int make_account(struct config_cmd *c)
{
    struct rc *r = &c->rc;
    if (!r->user || !*r->user)
        return fail(XE_DATA, "%s: no account in it (username)", c->file);
    const char *domain = r->domain && *r->domain ? r->domain : r->jserver;
    int n = strchr(r->user, '@') || !domain
                ? asprintf(&c->jid, "%s", r->user)
                : asprintf(&c->jid, "%s@%s", r->user, domain);
    if (n < 0)
        return fail_oom(NULL);
    const char *why = jid_check(c->jid);
    if (why)
        return fail(XE_DATA, "%s: %s: invalid JID: %s", c->file, c->jid, why);
    const char *at = strchr(c->jid, '@');
    const char *mine = at ? at + 1 : c->jid;
    size_t mlen = jid_bare_len(mine);
    const char *host = r->jserver && *r->jserver ? r->jserver : NULL;
    bool same = !host || (strlen(host) == mlen && !strncmp(host, mine, mlen));
    if (r->port && *r->port)
        n = asprintf(&c->server, "%.*s:%s",
                     host ? (int)strlen(host) : (int)mlen, host ? host : mine,
                     r->port);
    else if (!same)
        n = asprintf(&c->server, "%s", host);
    return n < 0 ? fail_oom(NULL) : 0;
}

/* The section's text. password_file: where the password went instead,
 * or NULL for it inline. */
static char *section_text(const struct config_cmd *c, const char *name,
                          const char *password_file)
{
    const struct rc *r = &c->rc;
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fprintf(f, "[%s]\n; imported from %s\njid = %s\n", name, c->file, c->jid);
    if (c->server)
        fprintf(f, "server = %s\n", c->server);
    if (r->eval && (r->eval_last || !r->password))
        fprintf(f, "password_cmd = %s\n", r->eval);
    else if (password_file)
        fprintf(f, "password_file = %s\n", password_file);
    else if (r->password)
        fprintf(f, "password = %s\n", r->password);
    if (r->alias)
        fprintf(f, "nick = %s\n", r->alias);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}

static bool same(const char *x, const char *y)
{
    return (!x && !y) || (x && y && !strcmp(x, y));
}

/* Does the text read back as what we meant? inih trims values and cuts
 * " ;comments": a password with those goes to a file instead. Returns
 * 0 (ok), 1 (the password does not survive) or an exit status. */
static int reads_back(const struct config_cmd *c, const char *text,
                      const char *name, bool pw_inline)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    if (!f)
        return fail_oom(NULL);
    struct account a;
    int rc = config_parse(f, "(the imported section)", name, NULL, &a);
    fclose(f);
    if (rc)
        return rc;
    const struct rc *r = &c->rc;
    bool cmd = r->eval && (r->eval_last || !r->password);
    if (!same(a.jid, c->jid) || (cmd && !same(a.password_cmd, r->eval)) ||
        (r->alias && !same(a.nick, r->alias)))
        rc = fail(XE_DATA,
                  "%s: a value would not read back as it is (blanks around "
                  "it, or ' ;'); fix the file and import again",
                  c->file);
    else if (!cmd && pw_inline && !same(a.password, r->password))
        rc = 1;
    account_free(&a);
    return rc;
}

/* ---- writing ---- */

/* mkdir -p for the config's directory (0700: it holds passwords). */
static int make_dirs(char *path)
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int e = mkdir(path, 0700) < 0 && errno != EEXIST ? errno : 0;
        *p = '/';
        if (e)
            return fail(XE_CONFIG, "%.*s: %s", (int)(p - path), path,
                        strerror(e));
    }
    return 0;
}

/* Write all of text to fd; returns 0 or errno. */
static int write_all(int fd, const char *text)
{
    for (size_t n = strlen(text); n;) {
        ssize_t w = write(fd, text, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        text += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A new file, 0600, that must not exist yet. */
static int create_secret(const char *path, const char *secret)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(XE_CONFIG, "%s: %s%s", path, strerror(errno),
                    errno == EEXIST ? "; not replaced" : "");
    int e = write_all(fd, secret);
    if (!e)
        e = write_all(fd, "\n");
    if (close(fd) < 0 && !e)
        e = errno;
    if (e) {
        unlink(path);
        return fail(XE_CONFIG, "%s: %s", path, strerror(e));
    }
    return 0;
}

/* Is there a section `name` already? The file must also be one we read:
 * never append to a broken file. 0: free; else an exit status. */
static int check_target(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT
                   ? 0
                   : fail(XE_CONFIG, "%s: %s", path, strerror(errno));
    int rc = config_has_section(f, path, name);
    fclose(f);
    if (rc == 1)
        return fail(XE_CONFIG,
                    "%s already has a section [%s]; name this one with "
                    "-a NAME",
                    path, name);
    return rc;
}

/* Append the section, the file made or kept 0600. */
static int append(const char *path, const char *text)
{
    int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(XE_CONFIG, "%s: %s", path, strerror(errno));
    struct stat st;
    char last = '\n';
    int e = fstat(fd, &st) < 0 || fchmod(fd, 0600) < 0 ? errno : 0;
    if (!e && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        e = errno;
    if (!e && st.st_size > 0)
        e = write_all(fd, last == '\n' ? "\n" : "\n\n");
    if (!e)
        e = write_all(fd, text);
    if (close(fd) < 0 && !e)
        e = errno;
    return e ? fail(XE_CONFIG, "%s: %s", path, strerror(e)) : 0;
}

/* ---- the job ---- */

static void report(const struct config_cmd *c, const char *name,
                   const char *path)
{
    if (c->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "section", name);
        out_json_set(j, "jid", c->jid);
        out_json_set(j, "from", c->file);
        out_json_set(j, "config", path);
        out_json(stdout, j);
        return;
    }
    const char *fields[] = {name, c->jid, path};
    print_fields(stdout, 3, fields);
}

/* Write the section, the password beside it when inline will not do. */
static int write_section(struct config_cmd *c, const char *name,
                         const char *path)
{
    char *text = section_text(c, name, NULL);
    int rc = text ? reads_back(c, text, name, true) : fail_oom(NULL);
    char *pwfile = NULL;
    if (rc == 1) {
        free(text);
        text = NULL;
        char *dir = strdup(path);
        if (dir && asprintf(&pwfile, "%s/%s.password", dirname(dir), name) < 0)
            pwfile = NULL;
        free(dir);
        text = pwfile ? section_text(c, name, pwfile) : NULL;
        rc = text ? reads_back(c, text, name, false) : fail_oom(NULL);
        if (!rc)
            rc = create_secret(pwfile, c->rc.password);
    }
    if (!rc && (rc = append(path, text)) && pwfile)
        unlink(pwfile);
    if (text)
        memset(text, 0, strlen(text));
    free(text);
    free(pwfile);
    return rc;
}

static int run_import(void *tool, struct session *s)
{
    (void)s;
    struct config_cmd *c = tool;
    const char *name = c->o->account ? c->o->account : "default";
    char *path = config_path();
    if (!path)
        return fail(XE_CONFIG, "no config file: neither XDG_CONFIG_HOME nor "
                               "HOME is set");
    int rc = check_target(path, name);
    if (!rc)
        rc = make_dirs(path);
    if (!rc)
        rc = write_section(c, name, path);
    if (!rc)
        report(c, name, path);
    free(path);
    return rc;
}

/* A name inih reads back as the section's: no brackets, no blanks
 * around it, nothing that ends a line. */
static int check_name(const char *name)
{
    size_t n = strlen(name);
    bool ok = n && name[0] != ' ' && name[n - 1] != ' ';
    for (const char *p = name; ok && *p; p++)
        ok = (unsigned char)*p >= 0x20 && *p != 0x7f && !strchr("[];#", *p);
    return ok ? 0
              : fail(XE_USAGE,
                     "-a '%s': not a section name (no brackets, ';', "
                     "'#' or blanks around it)",
                     name);
}

/* sendxmpp's file, else go-sendxmpp's. */
static int default_file(struct config_cmd *c)
{
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    char *go = NULL;
    if (!home || !*home)
        return fail(XE_USAGE, "HOME is not set: give the FILE to import");
    if (asprintf(&c->default_file, "%s/.sendxmpprc", home) < 0)
        return fail_oom(NULL);
    if (access(c->default_file, F_OK) == 0)
        return 0;
    int n = xdg && *xdg ? asprintf(&go, "%s/go-sendxmpp/config", xdg)
                        : asprintf(&go, "%s/.config/go-sendxmpp/config", home);
    if (n < 0)
        return fail_oom(NULL);
    if (access(go, F_OK) == 0) {
        free(c->default_file);
        c->default_file = go;
        return 0;
    }
    int rc = fail(XE_NOINPUT,
                  "neither %s nor %s exists; give the FILE to "
                  "import",
                  c->default_file, go);
    free(go);
    return rc;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct config_cmd *c = tool;
    c->o = o;
    int rc = 0;
    if (o->account && (rc = check_name(o->account)))
        return rc;
    if (a->argc)
        c->file = a->argv[0];
    else if (!(rc = default_file(c)))
        c->file = c->default_file;
    if (rc)
        return rc;
    FILE *f = fopen(c->file, "r");
    if (!f)
        return fail(XE_NOINPUT, "%s: %s", c->file, strerror(errno));
    rc = read_rc(c, f);
    fclose(f);
    return rc ? rc : make_account(c);
}

static void release(void *tool)
{
    struct config_cmd *c = tool;
    struct rc *r = &c->rc;
    if (r->password)
        memset(r->password, 0, strlen(r->password));
    char *all[] = {r->user,  r->jserver, r->port, r->password, r->eval,
                   r->alias, r->domain,  c->jid,  c->server,   c->default_file};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

#include "common/cli/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/subcmd.h"
#include "common/cli/suggest.h"
#include "common/cli/version.h"

enum {
    OPT_PASSWORD_FILE = 256,
    OPT_PASSWORD_CMD,
    OPT_SERVER,
    OPT_DIRECT_TLS,
    OPT_CA_FILE,
    OPT_INSECURE,
    OPT_RESOURCE,
    OPT_JSON,
    OPT_XML,
    OPT_COMPONENT,
    OPT_SECRET_FILE,
    OPT_MAX_STANZA,
    OPT_ALLOW_PLAIN,
    OPT_RESET_PIN,
    OPT_RESET_TOKEN,
    OPT_CERT,
    OPT_KEY,
};

static const struct tool_opt common_opts[] = {
    {.help = "Connection (shared by every tool):"},
    {"jid", 'j', "JID", "account to log in as (env XMPP_JID)"},
    {"account", 'a', "NAME", "config file section to use (env XMPP_ACCOUNT)"},
    {"password-file", OPT_PASSWORD_FILE, "FILE",
     "read the password from FILE's first line\n(-: from stdin)"},
    {"password-cmd", OPT_PASSWORD_CMD, "CMD",
     "run CMD, use its first output line as password\n"
     "(else env XMPP_PASSWORD, else the config file,\n"
     "else a prompt on a terminal)"},
    {"server", OPT_SERVER, "HOST[:PORT]",
     "connect here instead of looking up SRV records"},
    {"direct-tls", OPT_DIRECT_TLS, NULL,
     "TLS from the first byte (XEP-0368), port 5223"},
    {"ca-file", OPT_CA_FILE, "FILE", "trust the certificates in FILE"},
    {"cert", OPT_CERT, "FILE",
     "log in with this client certificate (PEM;\n"
     "SASL EXTERNAL, XEP-0178); needs --key"},
    {"key", OPT_KEY, "FILE", "the client certificate's private key (PEM)"},
    {"insecure", OPT_INSECURE, NULL,
     "do not verify the server certificate (tests)"},
    {"allow-plain", OPT_ALLOW_PLAIN, NULL,
     "allow SASL PLAIN (the password itself) over\n"
     "TLS when the server offers nothing better"},
    {"reset-pin", OPT_RESET_PIN, NULL,
     "forget the strongest mechanism this account\n"
     "logged in with, and its FAST token"},
    {"reset-token", OPT_RESET_TOKEN, NULL,
     "log in with the FAST token one last time, having\n"
     "the server invalidate it, and ask for no new one"},
    {"resource", OPT_RESOURCE, "RES",
     "resource to bind (default: server-assigned)"},
    {"component", OPT_COMPONENT, "DOMAIN",
     "connect as an external component (XEP-0114)"},
    {"secret-file", OPT_SECRET_FILE, "FILE", "the component's shared secret"},
    {"timeout", 't', "SECONDS", "deadline for the whole run (0: none)"},
    {"max-stanza", OPT_MAX_STANZA, "BYTES",
     "refuse a larger stanza from the server\n"
     "(default 1 MiB, or the server's announced limit)"},
    {"verbose", 'v', NULL, "XML console on stderr, secrets redacted",
     OPT_REPEAT},
    {"quiet", 'q', NULL, "no warnings or progress on stderr"},
    {"json", OPT_JSON, NULL, "output JSON Lines"},
    {"xml", OPT_XML, NULL, "output raw stanza XML, one per line"},
    {"help", 'h', NULL, "this help"},
    {"version", 'V', NULL, "print the version"},
    {0},
};

const struct tool_opt *opts_common(void)
{
    return common_opts;
}

bool opts_is_heading(const struct tool_opt *opt)
{
    return !opt->name && !opt->key;
}

static bool has_short(const struct tool_opt *opt)
{
    return opt->key > 0 && opt->key < 128 && isalnum(opt->key);
}

static bool table_end(const struct tool_opt *opt)
{
    return !opt->name && !opt->key && !opt->help;
}

const char *opts_flag(const struct tool_opt *opt, char *buf, size_t n)
{
    if (opt->name)
        snprintf(buf, n, "--%s", opt->name);
    else
        snprintf(buf, n, "-%c", opt->key);
    return buf;
}

/* ---- --help ---- */

/* Help lines: the first after `left` (padded to the help column), the
 * rest under it. */
#define HELP_COLUMN 27

static void print_help_text(FILE *f, const char *left, const char *help)
{
    int used = fprintf(f, "%s", left);
    for (const char *line = help; line && *line;) {
        size_t len = strcspn(line, "\n");
        int pad = used < HELP_COLUMN ? HELP_COLUMN - used : 2;
        fprintf(f, "%*s%.*s\n", pad, "", (int)len, line);
        used = 0;
        line += len + (line[len] == '\n');
    }
    if (!help || !*help)
        fputc('\n', f);
}

static void print_opts(FILE *f, const struct tool_opt *opts)
{
    for (const struct tool_opt *o = opts; o && !table_end(o); o++) {
        if (opts_is_heading(o)) {
            fprintf(f, "%s\n", o->help);
            continue;
        }
        char left[80];
        char shrt[8] = "    ";
        if (has_short(o))
            snprintf(shrt, sizeof shrt, "-%c%s", o->key, o->name ? ", " : "");
        snprintf(left, sizeof left, "  %s%s%s%s%s", shrt, o->name ? "--" : "",
                 o->name ? o->name : "", o->arg ? " " : "",
                 o->arg ? o->arg : "");
        print_help_text(f, left, o->help);
    }
}

static const struct tool_opt *find_opt(const struct tool_opt *opts,
                                       const char *name)
{
    for (const struct tool_opt *o = opts; o && !table_end(o); o++)
        if (o->name && !strcmp(o->name, name))
            return o;
    return NULL;
}

/* " [--name NAME] [-g GROUP]..." for the options a subcommand takes. */
static void append_takes(FILE *f, const struct tool *t,
                         const struct tool_sub *sub)
{
    const char *p = sub->takes;
    while (p && *p) {
        size_t len = strcspn(p, " ");
        char name[48];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        const struct tool_opt *o = find_opt(t->opts, name);
        if (o && has_short(o))
            fprintf(f, " [-%c%s%s]", o->key, o->arg ? " " : "",
                    o->arg ? o->arg : "");
        else if (o)
            fprintf(f, " [--%s%s%s]", o->name, o->arg ? " " : "",
                    o->arg ? o->arg : "");
        if (o && (o->flags & OPT_REPEAT))
            fputs("...", f);
        p += len + (p[len] == ' ');
    }
}

void opts_synopsis(const struct tool *t, const struct tool_sub *sub, char *buf,
                   size_t n)
{
    FILE *f = fmemopen(buf, n, "w");
    if (!f) {
        snprintf(buf, n, "[options]");
        return;
    }
    fputs("[options]", f);
    if (sub) {
        bool dflt = t->default_sub && !strcmp(t->default_sub, sub->name);
        fprintf(f, dflt ? " [%s]" : " %s", sub->name);
        if (sub->operands && *sub->operands)
            fprintf(f, " %s", sub->operands);
        append_takes(f, t, sub);
    } else if (t->operands && *t->operands) {
        fprintf(f, " %s", t->operands);
    }
    fclose(f);
}

static void print_subs(FILE *f, const struct tool *t)
{
    fputs("Commands:\n", f);
    for (const struct tool_sub *c = t->subs; c->name; c++) {
        char left[80];
        snprintf(left, sizeof left, "  %s%s%s", c->name,
                 c->operands && *c->operands ? " " : "",
                 c->operands ? c->operands : "");
        print_help_text(f, left, c->help);
    }
}

void opts_usage(const struct tool *t, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    char syn[512];
    if (t->subs) {
        for (const struct tool_sub *c = t->subs; c->name; c++) {
            opts_synopsis(t, c, syn, sizeof syn);
            fprintf(f, "%s xmpp %s %s\n", c == t->subs ? "usage:" : "      ",
                    t->name, syn);
        }
    } else {
        opts_synopsis(t, NULL, syn, sizeof syn);
        fprintf(f, "usage: xmpp %s %s\n", t->name, syn);
    }
    fprintf(f, "%s\n\n", t->summary);
    if (t->subs)
        print_subs(f, t);
    print_opts(f, t->opts);
    if (t->notes && *t->notes)
        fputs(t->notes, f);
    if (t->subs || t->opts || (t->notes && *t->notes))
        fputc('\n', f);
    print_opts(f, common_opts);
}

bool opts_takes(const struct tool *t, const struct tool_sub *sub, int key)
{
    for (const struct tool_opt *o = t->opts; o && !table_end(o); o++)
        if (o->key == key && !opts_is_heading(o))
            return !sub || !o->name || subcmd_takes(sub, o->name);
    return false;
}

int opts_seconds(const char *arg, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    /* Written so that NaN ("nan" parses) fails too. */
    if (errno || end == arg || *end || !(v >= 0 && v <= 1e7))
        return -1;
    *out = v;
    return 0;
}

int opts_int(const char *arg, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int opts_bytes(const char *flag, const char *arg, long min, size_t *out)
{
    long n;
    if (opts_int(arg, min, 1L << 30, &n) < 0)
        return fail(XE_USAGE, "%s %s: give bytes, %ld to 1 GiB", flag, arg,
                    min);
    *out = (size_t)n;
    return OPTS_CONTINUE;
}

int opts_size(const char *arg, size_t *out)
{
    return opts_bytes("--max-size", arg, 1, out);
}

/* --keepalive, --retry: seconds, 0 turning it off. */
static int seconds_opt(const char *name, const char *arg, double *out)
{
    if (opts_seconds(arg, out) < 0)
        return fail(XE_USAGE, "--%s: '%s' is not a number of seconds", name,
                    arg);
    return OPTS_CONTINUE;
}

/* Apply one shared option; returns OPTS_CONTINUE or an exit status. */
static int common_opt(struct session_opts *o, int c, const char *arg)
{
    switch (c) {
    case OPTS_KEEPALIVE: return seconds_opt("keepalive", arg, &o->keepalive);
    case OPTS_RETRY: return seconds_opt("retry", arg, &o->retry);
    case OPTS_RECONNECT: o->reconnect = true; break;
    case 'j': o->jid = arg; break;
    case 'a': o->account = arg; break;
    case OPT_PASSWORD_FILE: o->password_file = arg; break;
    case OPT_PASSWORD_CMD: o->password_cmd = arg; break;
    case OPT_SERVER: o->server = arg; break;
    case OPT_DIRECT_TLS: o->direct_tls = true; break;
    case OPT_CA_FILE: o->ca_file = arg; break;
    case OPT_CERT: o->cert_file = arg; break;
    case OPT_KEY: o->key_file = arg; break;
    case OPT_INSECURE: o->insecure = true; break;
    case OPT_ALLOW_PLAIN: o->allow_plain = true; break;
    case OPT_RESET_PIN: o->reset_pin = true; break;
    case OPT_RESET_TOKEN: o->reset_token = true; break;
    case OPT_RESOURCE: o->resource = arg; break;
    case OPT_COMPONENT: o->component = arg; break;
    case OPT_SECRET_FILE: o->secret_file = arg; break;
    case OPT_MAX_STANZA:
        return opts_bytes("--max-stanza", arg, OPTS_MIN_STANZA, &o->max_stanza);
    case 'v': o->verbose++; break;
    case 'q': quiet = 1; break;
    case OPT_JSON: o->format = OUT_JSON; break;
    case OPT_XML: o->format = OUT_XML; break;
    case 't':
        if (opts_seconds(arg, &o->timeout) < 0)
            return fail(XE_USAGE, "--timeout: '%s' is not a number of seconds",
                        arg);
        if (o->timeout == 0)
            o->timeout = -1;
        o->timeout_given = true;
        break;
    case 'h': opts_usage(current_tool, 0); return XE_OK;
    case 'V': printf("xmpp %s\n", XMPP_VERSION); return XE_OK;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* getopt's view of both tables: the tool's options first (their index in
 * its table, counted without headings, is the getopt flag value's
 * offset), then the shared ones. */
struct getopt_tables {
    struct option *longs;
    char shorts[128];
};

#define TOOL_INDEX 0x10000 /* getopt values of the tool's options */

static int add_table(struct getopt_tables *g, int n,
                     const struct tool_opt *opts, int base)
{
    int i = 0;
    for (const struct tool_opt *o = opts; o && !table_end(o); o++) {
        if (opts_is_heading(o))
            continue;
        int val = base >= 0 ? base + i : o->key;
        if (o->name)
            g->longs[n++] = (struct option){o->name, o->arg ? 1 : 0, NULL, val};
        if (has_short(o)) {
            size_t len = strlen(g->shorts);
            if (len + 3 < sizeof g->shorts) {
                g->shorts[len] = (char)o->key;
                strcpy(g->shorts + len + 1, o->arg ? ":" : "");
            }
        }
        i++;
    }
    return n;
}

static size_t count_opts(const struct tool_opt *opts)
{
    size_t n = 0;
    for (const struct tool_opt *o = opts; o && !table_end(o); o++)
        n += !opts_is_heading(o);
    return n;
}

/* The option of a table with this key, by index (headings not
 * counted). */
static int key_index(const struct tool_opt *opts, int key)
{
    int i = 0;
    for (const struct tool_opt *o = opts; o && !table_end(o); o++) {
        if (opts_is_heading(o))
            continue;
        if (o->key == key)
            return i;
        i++;
    }
    return -1;
}

static const struct tool_opt *nth_opt(const struct tool_opt *opts, int n)
{
    for (const struct tool_opt *o = opts; o && !table_end(o); o++)
        if (!opts_is_heading(o) && n-- == 0)
            return o;
    return NULL;
}

/* sendxmpp, go-sendxmpp (-p, --password) and xmppc (--pwd) take the
 * password as an argument; say where ours goes instead, and never echo
 * what followed the flag. */
static const char *password_flag(const char *arg, int c)
{
    if (c == '?' && optopt == 'p')
        return "-p";
    for (const char *const *f =
             (const char *const[]){"--password", "--pwd", NULL};
         *f; f++) {
        size_t n = strlen(*f);
        if (!strncmp(arg, *f, n) && (arg[n] == '\0' || arg[n] == '='))
            return *f;
    }
    return NULL;
}

/* "--mesage: unknown option; did you mean --message?" */
static int unknown_option(const struct tool *t, const char *what, int c)
{
    const char *pw = password_flag(what, c);
    if (pw)
        return fail(XE_USAGE,
                    "%s: no password on the command line, where ps shows it "
                    "to everyone; use --password-file FILE (or - for stdin), "
                    "--password-cmd CMD, XMPP_PASSWORD or the config file",
                    pw);
    if (!strncmp(what, "--", 2)) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(what + 2, "="),
                 what + 2);
        struct suggest s;
        suggest_init(&s, name);
        for (const struct tool_opt *o = t->opts; o && !table_end(o); o++)
            suggest_try(&s, o->name);
        for (const struct tool_opt *o = common_opts; !table_end(o); o++)
            suggest_try(&s, o->name);
        if (s.best)
            return fail(XE_USAGE, "--%s: unknown option; did you mean --%s?",
                        name, s.best);
    }
    return fail(XE_USAGE, "%s: unknown option; see 'xmpp %s --help'", what,
                t->name);
}

/* An option that takes one value, given again, is a mistake to point
 * out rather than a choice to make for the user (which one counts?). */
static int once(const struct tool_opt *opt, opts_given *seen, int idx)
{
    opts_given bit = idx < 64 ? 1ULL << idx : 0;
    if (!(opt->flags & OPT_REPEAT) && (*seen & bit)) {
        char flag[64];
        return fail(XE_USAGE, "%s given twice; give it once",
                    opts_flag(opt, flag, sizeof flag));
    }
    *seen |= bit;
    return OPTS_CONTINUE;
}

/* Shared options that contradict each other: which would win is
 * anybody's guess, so neither does. */
static const int conflicts[][2] = {
    {OPT_JSON, OPT_XML},
    {OPT_PASSWORD_FILE, OPT_PASSWORD_CMD},
};

static int check_conflicts(opts_given seen)
{
    for (size_t i = 0; i < sizeof conflicts / sizeof *conflicts; i++) {
        int a = key_index(common_opts, conflicts[i][0]),
            b = key_index(common_opts, conflicts[i][1]);
        if ((seen >> a & 1) && (seen >> b & 1)) {
            char fa[64], fb[64];
            return fail(XE_USAGE, "choose one of %s and %s",
                        opts_flag(nth_opt(common_opts, a), fa, sizeof fa),
                        opts_flag(nth_opt(common_opts, b), fb, sizeof fb));
        }
    }
    return OPTS_CONTINUE;
}

int opts_parse(int argc, char **argv, struct session_opts *o, void *state,
               int *first, opts_given *given)
{
    const struct tool *t = current_tool;
    struct getopt_tables g = {.shorts = ":"};
    g.longs = calloc(count_opts(t->opts) + count_opts(common_opts) + 1,
                     sizeof *g.longs);
    if (!g.longs)
        return fail_oom(NULL);
    /* Short options of the tool are looked up by key below, so both
     * tables give getopt their keys for them. */
    add_table(&g, add_table(&g, 0, t->opts, TOOL_INDEX), common_opts, -1);

    o->timeout = (t->flags & TOOL_LISTENER) ? -1 : OPTS_DEFAULT_TIMEOUT;
    o->keepalive = o->retry = -1;
    *given = 0;
    opts_given common_given = 0;
    int rc = OPTS_CONTINUE;
    optind = 1;
    opterr = 0;
    int c;
    while (rc == OPTS_CONTINUE &&
           (c = getopt_long(argc, argv, g.shorts, g.longs, NULL)) != -1) {
        int idx = c >= TOOL_INDEX ? c - TOOL_INDEX : key_index(t->opts, c);
        if (c == ':') {
            rc = fail(XE_USAGE, "%s: needs an argument; see 'xmpp %s --help'",
                      argv[optind - 1], t->name);
        } else if (c == '?') {
            rc = unknown_option(t, argv[optind - 1], c);
        } else if (idx >= 0) {
            const struct tool_opt *opt = nth_opt(t->opts, idx);
            bool shared = opt->key >= OPTS_KEEPALIVE && opt->key <= OPTS_RETRY;
            rc = once(opt, given, idx);
            if (rc == OPTS_CONTINUE && shared)
                rc = common_opt(o, opt->key, optarg);
            else if (rc == OPTS_CONTINUE)
                rc = t->option ? t->option(state, opt->key, optarg) : XE_USAGE;
        } else {
            int ci = key_index(common_opts, c);
            rc = ci < 0 ? XE_USAGE
                        : once(nth_opt(common_opts, ci), &common_given, ci);
            if (rc == OPTS_CONTINUE)
                rc = common_opt(o, c, optarg);
        }
    }
    if (rc == OPTS_CONTINUE)
        rc = check_conflicts(common_given);
    free(g.longs);
    *first = optind;
    return rc;
}

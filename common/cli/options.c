#include "common/cli/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
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
};

#define COMMON_SHORTOPTS "j:a:t:vqhV"

static const struct option common_options[] = {
    {"jid", required_argument, NULL, 'j'},
    {"account", required_argument, NULL, 'a'},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"password-cmd", required_argument, NULL, OPT_PASSWORD_CMD},
    {"server", required_argument, NULL, OPT_SERVER},
    {"direct-tls", no_argument, NULL, OPT_DIRECT_TLS},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"resource", required_argument, NULL, OPT_RESOURCE},
    {"component", required_argument, NULL, OPT_COMPONENT},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"timeout", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"xml", no_argument, NULL, OPT_XML},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

#define N_COMMON (sizeof common_options / sizeof common_options[0] - 1)

static const char common_help[] =
    "Connection (shared by every tool):\n"
    "  -j, --jid JID            account to log in as (env XMPP_JID)\n"
    "  -a, --account NAME       config file section to use (env XMPP_ACCOUNT)\n"
    "      --password-file FILE read the password from FILE's first line\n"
    "      --password-cmd CMD   run CMD, use its first output line as password\n"
    "                           (else env XMPP_PASSWORD, else the config file)\n"
    "      --server HOST[:PORT] connect here instead of looking up SRV records\n"
    "      --direct-tls         TLS from the first byte (XEP-0368), port 5223\n"
    "      --ca-file FILE       trust the certificates in FILE\n"
    "      --insecure           do not verify the server certificate (tests)\n"
    "      --resource RES       resource to bind (default: server-assigned)\n"
    "      --component DOMAIN   connect as an external component (XEP-0114)\n"
    "      --secret-file FILE   the component's shared secret\n"
    "  -t, --timeout SECONDS    deadline for the whole run (0: none)\n"
    "  -v, --verbose            XML console on stderr, secrets redacted\n"
    "  -q, --quiet              no warnings or progress on stderr\n"
    "      --json               output JSON Lines\n"
    "      --xml                output raw stanza XML, one per line\n"
    "  -h, --help               this help\n"
    "  -V, --version            print the version\n";

struct opts_table opts_common(void)
{
    return (struct opts_table){common_options, COMMON_SHORTOPTS, common_help};
}

void opts_usage(const struct tool *t, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    fprintf(f, "usage: xmpp %s %s\n%s\n\n", t->name, t->synopsis, t->summary);
    if (t->help && *t->help)
        fprintf(f, "%s\n", t->help);
    fputs(common_help, f);
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

int opts_size(const char *arg, size_t *out)
{
    long n;
    if (opts_int(arg, 1, 1L << 30, &n) < 0)
        return fail(XE_USAGE, "--max-size %s: give bytes, 1 to 1 GiB", arg);
    *out = (size_t)n;
    return OPTS_CONTINUE;
}

/* Apply one shared option; returns OPTS_CONTINUE or an exit status. */
static int common_opt(struct session_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'j': o->jid = arg; break;
    case 'a': o->account = arg; break;
    case OPT_PASSWORD_FILE: o->password_file = arg; break;
    case OPT_PASSWORD_CMD: o->password_cmd = arg; break;
    case OPT_SERVER: o->server = arg; break;
    case OPT_DIRECT_TLS: o->direct_tls = true; break;
    case OPT_CA_FILE: o->ca_file = arg; break;
    case OPT_INSECURE: o->insecure = true; break;
    case OPT_RESOURCE: o->resource = arg; break;
    case OPT_COMPONENT: o->component = arg; break;
    case OPT_SECRET_FILE: o->secret_file = arg; break;
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

/* The merged long-option table: the tool's own, then the shared ones. */
static struct option *merge_options(const struct option *own)
{
    size_t n = 0;
    while (own && own[n].name)
        n++;
    struct option *all = calloc(n + N_COMMON + 1, sizeof *all);
    if (!all)
        return NULL;
    if (n)
        memcpy(all, own, n * sizeof *all);
    memcpy(all + n, common_options, N_COMMON * sizeof *all);
    return all;
}

/* Tools number their long-only options from 1000, so these cannot clash. */
static int is_common(int c)
{
    if (c >= 256 && c <= OPT_SECRET_FILE)
        return 1;
    return c > 0 && c < 256 && strchr(COMMON_SHORTOPTS, c) != NULL;
}

int opts_parse(int argc, char **argv, struct session_opts *o,
               tool_opt_fn on_opt, void *ud, int *first)
{
    const struct tool *t = current_tool;
    char shortopts[64];
    snprintf(shortopts, sizeof shortopts, ":%s%s",
             t->shortopts ? t->shortopts : "", COMMON_SHORTOPTS);
    struct option *all = merge_options(t->options);
    if (!all)
        return fail(XE_USAGE, "out of memory");

    o->timeout = (t->flags & TOOL_LISTENER) ? -1 : OPTS_DEFAULT_TIMEOUT;
    int rc = OPTS_CONTINUE;
    optind = 1;
    opterr = 0;
    int c;
    while (rc == OPTS_CONTINUE &&
           (c = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
        if (c == '?' || c == ':') {
            const char *what = argv[optind - 1];
            rc = fail(XE_USAGE, "%s: %s; see 'xmpp %s --help'", what,
                      c == ':' ? "needs an argument" : "unknown option",
                      t->name);
        } else if (is_common(c)) {
            rc = common_opt(o, c, optarg);
        } else {
            rc = on_opt ? on_opt(c, optarg, ud) : XE_USAGE;
        }
    }
    free(all);
    *first = optind;
    return rc;
}

/* xmpp iq: send one IQ request with a payload of your own, print the
 * payload of the answer, and exit 0 on a result, 1 on an error.
 *
 * usage: xmpp iq [options] get|set [PAYLOAD]
 */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/xmlin.h"
#include "common/io/xmljson.h"
#include "common/xmpp/query.h"

static const char help[] =
    "Request:\n"
    "      --to JID             send it to JID (default: no 'to', which the\n"
    "                           server answers for the account)\n"
    "      --json-in            the payload is JSON in the --json mapping\n"
    "      --max-size BYTES     refuse a payload larger than this (default\n"
    "                           1 MiB)\n"
    "PAYLOAD is one XML element, from the argument or else from stdin; it is\n"
    "checked before anything is sent. The answer's payload is printed as\n"
    "one line of XML, or with --json as JSON (name, ns, attrs, text,\n"
    "children: see xmpp-iq(1)).\n";

enum { OPT_TO = 1000, OPT_JSON_IN, OPT_MAX_SIZE };

static const struct option options[] = {
    {"to", required_argument, NULL, OPT_TO},
    {"json-in", no_argument, NULL, OPT_JSON_IN},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {NULL, 0, NULL, 0},
};

static int cmd_iq(int argc, char **argv);

const struct tool tool_iq = {
    .name = "iq",
    .run = cmd_iq,
    .summary = "Send an IQ request with a raw payload",
    .synopsis = "[options] [--to JID] [--json-in] [--max-size BYTES] get|set "
                "[PAYLOAD]",
    .help = help,
    .options = options,
};

struct iq {
    struct session_opts o;
    const char *to;
    bool json_in;
    size_t max;
};

static int on_opt(int c, const char *arg, void *ud)
{
    struct iq *q = ud;
    switch (c) {
    case OPT_TO: q->to = arg; break;
    case OPT_JSON_IN: q->json_in = true; break;
    case OPT_MAX_SIZE: return opts_size(arg, &q->max);
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* The payload, checked whole before we connect: nothing half-sent. */
static int read_payload(struct iq *q, xmpp_ctx_t *ctx, const char *arg,
                        xmpp_stanza_t **out)
{
    char *buf;
    size_t len;
    int rc;
    const char *what = arg ? "payload" : "stdin";
    if (arg) {
        len = strlen(arg);
        if (len > q->max)
            return fail(XE_DATA,
                        "payload: larger than %zu bytes "
                        "(--max-size)",
                        q->max);
        if (!(buf = strdup(arg)))
            return fail(XE_DATA, "payload: out of memory");
    } else if ((rc = input_read(NULL, q->max, &buf, &len))) {
        return rc;
    }
    rc = q->json_in ? xmljson_parse(ctx, what, buf, len, out)
                    : xmlin_parse_one(ctx, what, buf, len, out);
    free(buf);
    return rc;
}

/* RFC 6120 §8.2.3: a result holds at most one child. */
static void print_answer(const struct answer *a, void *ud)
{
    (void)ud;
    print_element(stdout, a->el, a->ns, a->fmt);
}

static int cmd_iq(int argc, char **argv)
{
    struct iq q = {.max = INPUT_MAX_DEFAULT};
    int first, rc = opts_parse(argc, argv, &q.o, on_opt, &q, &first);
    if (rc != OPTS_CONTINUE)
        return rc;
    if (first == argc)
        return fail(XE_USAGE, "get or set? usage: xmpp iq %s",
                    tool_iq.synopsis);
    const char *type = argv[first];
    if (strcmp(type, "get") && strcmp(type, "set"))
        return fail(XE_USAGE, "'%s': the request type is get or set", type);
    if (argc - first > 2)
        return fail(XE_USAGE,
                    "unexpected argument '%s': give the payload "
                    "as one argument",
                    argv[first + 2]);
    if ((rc = query_check_target(&q.o, q.to)))
        return rc;
    /* Parsed in a context of our own: the session's does not exist yet. */
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    xmpp_stanza_t *payload;
    if (!ctx)
        return fail(XE_DATA, "out of memory");
    if (!(rc = read_payload(&q, ctx, argv[first + 1], &payload))) {
        struct query qr = {.type = type,
                           .to = q.to,
                           .to_self = true,
                           .payload = payload,
                           .print = print_answer};
        rc = query_run(&q.o, &qr);
    }
    xmpp_ctx_free(ctx);
    return rc;
}

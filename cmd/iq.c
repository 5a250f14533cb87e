/* xmpp iq: send one IQ request with a payload of your own, print the
 * payload of the answer, and exit 0 on a result, 1 on an error. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/xmlin.h"
#include "common/io/xmljson.h"
#include "common/xmpp/query.h"

enum { OPT_TO = 1000, OPT_JSON_IN, OPT_MAX_SIZE };

static const struct tool_opt opts[] = {
    {.help = "Request:"},
    {"to", OPT_TO, "JID",
     "send it to JID (default: no 'to', which the\n"
     "server answers for the account)"},
    {"json-in", OPT_JSON_IN, NULL, "the payload is JSON in the --json mapping"},
    {"max-size", OPT_MAX_SIZE, "BYTES",
     "refuse a payload larger than this (default\n1 MiB)"},
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static const char notes[] =
    "PAYLOAD is one XML element, from the argument or else from stdin; it is\n"
    "checked before anything is sent. The answer's payload is printed as\n"
    "one line of XML, or with --json as JSON (name, ns, attrs, text,\n"
    "children: see xmpp-iq(1)).\n";

static const struct tool_sub subs[] = {
    {"get", "[PAYLOAD]", 0, 1, "ask for something (type='get')",
     "to json-in max-size retry"},
    {"set", "[PAYLOAD]", 0, 1, "change something (type='set')",
     "to json-in max-size retry"},
    {0},
};

static void init(void *tool);
static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

struct iq {
    const char *type; /* the subcommand: get or set */
    const char *to;
    bool json_in;
    size_t max;
    xmpp_ctx_t *ctx;        /* the payload's, made before the session's */
    xmpp_stanza_t *payload; /* until run hands it to the query */
};

const struct tool tool_iq = {
    .name = "iq",
    .summary = "Send an IQ request with a raw payload",
    .opts = opts,
    .subs = subs,
    .notes = notes,
    .size = sizeof(struct iq),
    .init = init,
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static void init(void *tool)
{
    struct iq *q = tool;
    q->max = INPUT_MAX_DEFAULT;
}

static int option(void *tool, int key, const char *arg)
{
    struct iq *q = tool;
    switch (key) {
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
            return fail_oom("payload");
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

/* The payload is parsed in a context of our own: the session's does not
 * exist yet. */
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct iq *q = tool;
    q->type = a->sub->name;
    int rc = query_check_target(o, q->to);
    if (rc)
        return rc;
    if (!(q->ctx = xmpp_ctx_new(NULL, NULL)))
        return fail_oom(NULL);
    return read_payload(q, q->ctx, a->argc ? a->argv[0] : NULL, &q->payload);
}

static int run(void *tool, struct session *s)
{
    struct iq *q = tool;
    struct query qr = {.type = q->type,
                       .to = q->to,
                       .to_self = true,
                       .payload = q->payload,
                       .print = print_answer};
    q->payload = NULL; /* query_once releases it */
    return query_once(s, &qr);
}

static void release(void *tool)
{
    struct iq *q = tool;
    if (q->payload)
        xmpp_stanza_release(q->payload);
    if (q->ctx)
        xmpp_ctx_free(q->ctx);
}

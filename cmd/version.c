/* xmpp version: the software an entity runs (XEP-0092). */
#include <string.h>

#include "common/io/output.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

static const char notes[] =
    "JID defaults to your server. Output: NAME TAB VERSION TAB OS (empty\n"
    "when not told); --json: {jid, name, version, os}.\n";

static const struct tool_opt opts[] = {
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static int run(void *tool, struct session *s);

const struct tool tool_version = {
    .name = "version",
    .summary = "Show the software an entity runs (XEP-0092)",
    .operands = "[JID]",
    .opts = opts,
    .notes = notes,
    .size = sizeof(struct query_jid),
    .prepare = query_jid_prepare,
    .run = run,
};

static void print_answer(const struct answer *a, void *ud)
{
    (void)ud;
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(a->el);
    char *name = stanza_child_text(a->el, "name");
    char *version = stanza_child_text(a->el, "version");
    char *os = stanza_child_text(a->el, "os");
    if (a->fmt == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "version");
        out_json_set(j, "jid", a->from);
        out_json_set(j, "name", name);
        out_json_set(j, "version", version);
        out_json_set(j, "os", os);
        out_json(stdout, j);
    } else {
        const char *fields[] = {name, version, os};
        print_fields(stdout, 3, fields);
    }
    xmpp_free(ctx, name);
    xmpp_free(ctx, version);
    xmpp_free(ctx, os);
}

static int run(void *tool, struct session *s)
{
    struct query_jid *t = tool;
    struct query q = {.type = "get",
                      .to = t->jid,
                      .name = "query",
                      .ns = "jabber:iq:version",
                      .print = print_answer};
    return query_once(s, &q);
}

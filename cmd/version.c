/* xmpp version: the software an entity runs (XEP-0092).
 *
 * usage: xmpp version [options] [JID]
 */
#include <string.h>

#include "common/io/output.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

static const char help[] =
    "JID defaults to your server. Output: NAME TAB VERSION TAB OS (empty\n"
    "when not told); --json: {jid, name, version, os}.\n";

static int cmd_version(int argc, char **argv);

const struct tool tool_version = {
    .name = "version",
    .run = cmd_version,
    .summary = "Show the software an entity runs (XEP-0092)",
    .synopsis = "[options] [JID]",
    .help = help,
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

static int cmd_version(int argc, char **argv)
{
    return query_tool(argc, argv, "query", "jabber:iq:version", print_answer);
}

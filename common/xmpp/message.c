#include "common/xmpp/message.h"

#include "common/io/output.h"
#include "common/xmpp/stanza.h"

static void print_json(xmpp_stanza_t *st, const char *type, const char *body)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(st);
    char *subject = stanza_child_text(st, "subject");
    char *thread = stanza_child_text(st, "thread");
    json_t *j = json_object();
    out_json_set(j, "from", xmpp_stanza_get_from(st));
    out_json_set(j, "to", xmpp_stanza_get_to(st));
    out_json_set(j, "type", type);
    out_json_set(j, "id", xmpp_stanza_get_id(st));
    out_json_set(j, "thread", thread);
    out_json_set(j, "subject", subject);
    out_json_set(j, "body", body);
    out_json_set(j, "delay", stanza_delay_stamp(st));
    out_json(stdout, j);
    xmpp_free(ctx, subject);
    xmpp_free(ctx, thread);
}

void message_print(xmpp_stanza_t *st, const char *type, const char *body,
                   enum output_format fmt)
{
    if (fmt == OUT_XML) {
        out_xml(stdout, st);
        putchar('\n');
    } else if (fmt == OUT_JSON) {
        print_json(st, type, body);
    } else {
        out_text(stdout, xmpp_stanza_get_from(st));
        putchar('\t');
        out_text(stdout, type);
        putchar('\t');
        out_text(stdout, body);
        putchar('\n');
    }
}

#include "common/xmpp/message.h"

#include "common/io/output.h"
#include "common/xmpp/stanza.h"

/* FROM<TAB>TYPE [delay: STAMP] [subject: SUBJECT]<TAB>BODY: what a
 * message says beyond its body goes with its type, in brackets, only
 * when the message has it; the body stays the third field, alone, and
 * the record one escaped line. */
static void print_text(xmpp_stanza_t *st, const char *type, const char *body,
                       const struct message_crypt *c)
{
    const char *delay = stanza_delay_stamp(st);
    char *subject = stanza_child_text(st, "subject");
    out_text(stdout, xmpp_stanza_get_from(st));
    putchar('\t');
    out_text(stdout, type);
    if (delay) {
        fputs(" [delay: ", stdout);
        out_text(stdout, delay);
        putchar(']');
    }
    if (subject) {
        fputs(" [subject: ", stdout);
        out_text(stdout, subject);
        putchar(']');
        xmpp_free(xmpp_stanza_get_context(st), subject);
    }
    putchar('\t');
    if (c && c->why) {
        fputs("[OMEMO message not decrypted: ", stdout);
        out_text(stdout, c->why);
        putchar(']');
    } else {
        out_text(stdout, body);
    }
    putchar('\n');
}

static void print_json(xmpp_stanza_t *st, const char *type, const char *body,
                       const struct message_crypt *c)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(st);
    char *subject = stanza_child_text(st, "subject");
    char *thread = stanza_child_text(st, "thread");
    json_t *j = json_object();
    out_json_set(j, "kind", "message");
    out_json_set(j, "from", xmpp_stanza_get_from(st));
    out_json_set(j, "to", xmpp_stanza_get_to(st));
    out_json_set(j, "type", type);
    out_json_set(j, "id", xmpp_stanza_get_id(st));
    out_json_set(j, "thread", thread);
    out_json_set(j, "subject", subject);
    out_json_set(j, "body", body);
    out_json_set(j, "delay", stanza_delay_stamp(st));
    if (c) {
        out_json_set(j, "encrypted", c->scheme ? c->scheme : "omemo");
        out_json_set(j, "trust", c->why ? NULL : c->trust);
        out_json_set(j, "decrypt_error", c->why);
    }
    out_json(stdout, j);
    xmpp_free(ctx, subject);
    xmpp_free(ctx, thread);
}

void message_print(xmpp_stanza_t *st, const char *type, const char *body,
                   enum output_format fmt, const struct message_crypt *c)
{
    if (fmt == OUT_XML) {
        out_xml(stdout, st);
        putchar('\n');
    } else if (fmt == OUT_JSON) {
        print_json(st, type, body, c);
    } else {
        print_text(st, type, body, c);
    }
}

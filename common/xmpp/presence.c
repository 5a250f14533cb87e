#include "common/xmpp/presence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/output.h"
#include "common/xmpp/stanza.h"

static const char *const shows[] = {"away", "chat", "dnd", "xa", NULL};

bool presence_show_valid(const char *show)
{
    for (int i = 0; shows[i]; i++)
        if (!strcmp(show, shows[i]))
            return true;
    return false;
}

xmpp_stanza_t *presence_build(xmpp_ctx_t *ctx, const char *type, const char *to,
                              const char *show, const char *status,
                              long priority)
{
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    if (type)
        xmpp_stanza_set_type(p, type);
    if (to)
        xmpp_stanza_set_to(p, to);
    if (show)
        stanza_add_text_child(p, "show", show);
    if (status)
        stanza_add_text_child(p, "status", status);
    if (priority) {
        char num[8];
        snprintf(num, sizeof num, "%ld", priority);
        stanza_add_text_child(p, "priority", num);
    }
    return p;
}

bool presence_is_available(xmpp_stanza_t *st)
{
    return xmpp_stanza_get_type(st) == NULL;
}

const char *presence_state(xmpp_stanza_t *st)
{
    const char *type = xmpp_stanza_get_type(st);
    if (type)
        return type;
    /* An unknown <show/> value is treated as plain available. */
    char *show = stanza_child_text(st, "show");
    const char *state = "available";
    for (int i = 0; show && shows[i]; i++)
        if (!strcmp(show, shows[i]))
            state = shows[i];
    if (show)
        xmpp_free(xmpp_stanza_get_context(st), show);
    return state;
}

long presence_priority(xmpp_stanza_t *st)
{
    char *text = stanza_child_text(st, "priority");
    if (!text)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < -128 || v > 127)
        v = 0;
    xmpp_free(xmpp_stanza_get_context(st), text);
    return v;
}

void presence_print(FILE *f, enum output_format fmt, xmpp_stanza_t *st)
{
    if (fmt == OUT_XML) {
        out_xml(f, st);
        putc('\n', f);
        return;
    }
    const char *jid = xmpp_stanza_get_from(st);
    const char *state = presence_state(st);
    bool available = presence_is_available(st);
    long priority = presence_priority(st);
    char *status = stanza_child_text(st, "status");
    if (fmt == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "presence");
        out_json_set(j, "jid", jid);
        out_json_set(j, "show", state);
        if (available)
            json_object_set_new(j, "priority", json_integer(priority));
        out_json_set(j, "status", status);
        out_json_set(j, "delay", stanza_delay_stamp(st));
        out_json(f, j);
    } else {
        out_text(f, jid);
        putc('\t', f);
        out_text(f, state); /* the type of a presence is the sender's */
        putc('\t', f);
        if (available)
            fprintf(f, "%ld", priority);
        putc('\t', f);
        out_text(f, status);
        putc('\n', f);
    }
    if (status)
        xmpp_free(xmpp_stanza_get_context(st), status);
}

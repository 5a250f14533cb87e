#include "common/xmpp/stanza.h"

#include <string.h>

xmpp_stanza_t *stanza_text_child(xmpp_ctx_t *ctx, const char *name,
                                 const char *text)
{
    xmpp_stanza_t *el = xmpp_stanza_new(ctx);
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(el, name);
    xmpp_stanza_set_text(t, text);
    xmpp_stanza_add_child_ex(el, t, 0);
    return el;
}

void stanza_add_text_child(xmpp_stanza_t *parent, const char *name,
                           const char *text)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(parent);
    xmpp_stanza_add_child_ex(parent, stanza_text_child(ctx, name, text), 0);
}

char *stanza_child_text(xmpp_stanza_t *parent, const char *name)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(parent, name);
    return c ? xmpp_stanza_get_text(c) : NULL;
}

xmpp_stanza_t *next_named(xmpp_stanza_t *c, const char *name)
{
    while ((c = xmpp_stanza_get_next(c)))
        if (xmpp_stanza_is_tag(c) && !strcmp(xmpp_stanza_get_name(c), name))
            return c;
    return NULL;
}

const char *stanza_delay_stamp(xmpp_stanza_t *st)
{
    xmpp_stanza_t *d =
        xmpp_stanza_get_child_by_name_and_ns(st, "delay", "urn:xmpp:delay");
    return d ? xmpp_stanza_get_attribute(d, "stamp") : NULL;
}

xmpp_stanza_t *stanza_new_el(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *el = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(el, name);
    if (ns)
        xmpp_stanza_set_ns(el, ns);
    return el;
}

xmpp_stanza_t *stanza_add_el(xmpp_stanza_t *parent, const char *name,
                             const char *ns)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(parent);
    xmpp_stanza_t *el = stanza_new_el(ctx, name, ns);
    xmpp_stanza_add_child_ex(parent, el, 0);
    return el;
}

const char *stanza_error_condition(xmpp_stanza_t *st)
{
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(st, "error");
    for (xmpp_stanza_t *c = err ? xmpp_stanza_get_children(err) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        if (!xmpp_stanza_is_text(c) && name && strcmp(name, "text"))
            return name;
    }
    return "";
}

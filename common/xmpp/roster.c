#include "common/xmpp/roster.h"

#include <stdlib.h>
#include <string.h>

#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/stanza.h"

#define NS_ROSTER "jabber:iq:roster"

/* Rosters are small; running out of memory copying one is not a state
 * worth a code path of its own. */
static char *dup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void *grow(void *p, size_t n, size_t size)
{
    void *q = realloc(p, n * size);
    if (!q)
        abort();
    return q;
}

void roster_item_add_group(struct roster_item *it, const char *g)
{
    size_t i = 0;
    while (i < it->ngroups && strcmp(it->groups[i], g) < 0)
        i++;
    if (i < it->ngroups && !strcmp(it->groups[i], g))
        return;
    it->groups = grow(it->groups, it->ngroups + 1, sizeof *it->groups);
    memmove(it->groups + i + 1, it->groups + i,
            (it->ngroups - i) * sizeof *it->groups);
    it->groups[i] = dup(g);
    it->ngroups++;
}

void roster_item_set_name(struct roster_item *it, const char *name)
{
    free(it->name);
    it->name = name && *name ? dup(name) : NULL;
}

void roster_item_copy(struct roster_item *dst, const struct roster_item *src)
{
    memset(dst, 0, sizeof *dst);
    dst->jid = dup(src->jid);
    dst->name = dup(src->name);
    dst->subscription = dup(src->subscription);
    dst->ask = dup(src->ask);
    for (size_t i = 0; i < src->ngroups; i++)
        roster_item_add_group(dst, src->groups[i]);
}

void roster_item_free(struct roster_item *it)
{
    free(it->jid);
    free(it->name);
    free(it->subscription);
    free(it->ask);
    for (size_t i = 0; i < it->ngroups; i++)
        free(it->groups[i]);
    free(it->groups);
    memset(it, 0, sizeof *it);
}

void roster_free(struct roster *r)
{
    for (size_t i = 0; i < r->n; i++)
        roster_item_free(&r->items[i]);
    free(r->items);
    if (r->result)
        xmpp_stanza_release(r->result);
    memset(r, 0, sizeof *r);
}

bool roster_item_sees(const struct roster_item *it)
{
    return it && it->subscription &&
           (!strcmp(it->subscription, "to") ||
            !strcmp(it->subscription, "both"));
}

bool roster_item_same(const struct roster_item *a, const struct roster_item *b)
{
    const char *na = a->name ? a->name : "", *nb = b->name ? b->name : "";
    if (strcmp(na, nb) || a->ngroups != b->ngroups)
        return false;
    for (size_t i = 0; i < a->ngroups; i++)
        if (strcmp(a->groups[i], b->groups[i]))
            return false;
    return true;
}

/* JIDs compare case-insensitively in the domain; rosters hold them as
 * the server prepared them, so a plain comparison finds them. */
struct roster_item *roster_find(const struct roster *r, const char *jid)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->items[i].jid, jid))
            return &r->items[i];
    return NULL;
}

static int by_jid(const void *a, const void *b)
{
    const struct roster_item *x = a, *y = b;
    return strcmp(x->jid, y->jid);
}

/* One <item/> of a roster result; false when it is unusable. */
static bool parse_item(xmpp_stanza_t *el, struct roster_item *it)
{
    const char *jid = xmpp_stanza_get_attribute(el, "jid");
    if (!jid || jid_check(jid) || strchr(jid, '/'))
        return false;
    const char *sub = xmpp_stanza_get_attribute(el, "subscription");
    memset(it, 0, sizeof *it);
    it->jid = dup(jid);
    roster_item_set_name(it, xmpp_stanza_get_attribute(el, "name"));
    it->subscription = dup(sub ? sub : "none");
    it->ask = dup(xmpp_stanza_get_attribute(el, "ask"));
    for (xmpp_stanza_t *g = xmpp_stanza_get_children(el); g;
         g = xmpp_stanza_get_next(g)) {
        const char *name = xmpp_stanza_get_name(g);
        if (xmpp_stanza_is_text(g) || !name || strcmp(name, "group"))
            continue;
        char *text = xmpp_stanza_get_text(g);
        if (text && *text)
            roster_item_add_group(it, text);
        if (text)
            xmpp_free(xmpp_stanza_get_context(g), text);
    }
    return true;
}

int roster_fetch(struct session *s, struct roster *r)
{
    memset(r, 0, sizeof *r);
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", NULL);
    xmpp_stanza_t *q = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(q, "query");
    xmpp_stanza_set_ns(q, NS_ROSTER);
    xmpp_stanza_add_child_ex(iq, q, 0);
    xmpp_stanza_t *reply;
    int rc = session_iq(s, iq, &reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA)
        rc = report_stanza_error("roster", reply);
    if (rc) {
        if (reply)
            xmpp_stanza_release(reply);
        return rc;
    }
    r->result = reply;
    q = xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_ROSTER);
    for (xmpp_stanza_t *el = q ? xmpp_stanza_get_children(q) : NULL; el;
         el = xmpp_stanza_get_next(el)) {
        const char *name = xmpp_stanza_get_name(el);
        if (xmpp_stanza_is_text(el) || !name || strcmp(name, "item"))
            continue;
        r->items = grow(r->items, r->n + 1, sizeof *r->items);
        if (parse_item(el, &r->items[r->n]))
            r->n++;
    }
    if (r->n)
        qsort(r->items, r->n, sizeof *r->items, by_jid);
    return 0;
}

static xmpp_stanza_t *item_iq(struct session *s, const char *jid,
                              xmpp_stanza_t **item)
{
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "set", NULL);
    xmpp_stanza_t *q = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(q, "query");
    xmpp_stanza_set_ns(q, NS_ROSTER);
    *item = xmpp_stanza_new(s->ctx);
    xmpp_stanza_set_name(*item, "item");
    xmpp_stanza_set_attribute(*item, "jid", jid);
    xmpp_stanza_add_child_ex(q, *item, 0);
    xmpp_stanza_add_child_ex(iq, q, 0);
    return iq;
}

static int set_round_trip(struct session *s, xmpp_stanza_t *iq, const char *jid)
{
    xmpp_stanza_t *reply;
    int rc = session_iq(s, iq, &reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA)
        rc = report_stanza_error(jid, reply);
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

int roster_set(struct session *s, const struct roster_item *it)
{
    xmpp_stanza_t *item, *iq = item_iq(s, it->jid, &item);
    if (it->name)
        xmpp_stanza_set_attribute(item, "name", it->name);
    for (size_t i = 0; i < it->ngroups; i++)
        stanza_add_text_child(item, "group", it->groups[i]);
    return set_round_trip(s, iq, it->jid);
}

int roster_remove(struct session *s, const char *jid)
{
    xmpp_stanza_t *item, *iq = item_iq(s, jid, &item);
    xmpp_stanza_set_attribute(item, "subscription", "remove");
    return set_round_trip(s, iq, jid);
}

/* A group name with its commas escaped, so the column splits on ','. */
static void print_group(FILE *f, const char *g)
{
    for (const char *comma; (comma = strchr(g, ',')); g = comma + 1) {
        char *part = strndup(g, (size_t)(comma - g));
        if (!part)
            abort();
        out_text(f, part);
        fputs("\\,", f);
        free(part);
    }
    out_text(f, g);
}

static void print_json(FILE *f, const struct roster_item *it)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < it->ngroups; i++)
        json_array_append_new(groups, out_json_str(it->groups[i]));
    json_t *j = json_object();
    out_json_set(j, "jid", it->jid);
    out_json_set(j, "subscription", it->subscription);
    out_json_set(j, "ask", it->ask);
    out_json_set(j, "name", it->name);
    json_object_set_new(j, "groups", groups);
    out_json(f, j);
}

void roster_item_print(FILE *f, enum output_format fmt,
                       const struct roster_item *it)
{
    if (fmt == OUT_JSON) {
        print_json(f, it);
        return;
    }
    out_text(f, it->jid);
    putc('\t', f);
    out_text(f, it->subscription);
    if (it->ask)
        fputs("+ask", f);
    putc('\t', f);
    out_text(f, it->name);
    putc('\t', f);
    for (size_t i = 0; i < it->ngroups; i++) {
        if (i)
            putc(',', f);
        print_group(f, it->groups[i]);
    }
    putc('\n', f);
}

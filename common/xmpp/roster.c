#include "common/xmpp/roster.h"

#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/stanza.h"

#define NS_ROSTER "jabber:iq:roster"

/* *dst = a copy of s (NULL stays NULL). Returns 0 or XE_OSERR, said. */
static int dup_into(char **dst, const char *s)
{
    *dst = s ? strdup(s) : NULL;
    return s && !*dst ? fail_oom(NULL) : 0;
}

int roster_item_add_group(struct roster_item *it, const char *g)
{
    size_t i = 0;
    while (i < it->ngroups && strcmp(it->groups[i], g) < 0)
        i++;
    if (i < it->ngroups && !strcmp(it->groups[i], g))
        return 0;
    char **groups = realloc(it->groups, (it->ngroups + 1) * sizeof *groups);
    if (!groups)
        return fail_oom(NULL);
    it->groups = groups;
    char *copy = strdup(g);
    if (!copy)
        return fail_oom(NULL);
    memmove(it->groups + i + 1, it->groups + i,
            (it->ngroups - i) * sizeof *it->groups);
    it->groups[i] = copy;
    it->ngroups++;
    return 0;
}

int roster_item_set_name(struct roster_item *it, const char *name)
{
    char *copy;
    int rc = dup_into(&copy, name && *name ? name : NULL);
    if (rc)
        return rc;
    free(it->name);
    it->name = copy;
    return 0;
}

int roster_item_copy(struct roster_item *dst, const struct roster_item *src)
{
    memset(dst, 0, sizeof *dst);
    int rc;
    if ((rc = dup_into(&dst->jid, src->jid)) ||
        (rc = dup_into(&dst->name, src->name)) ||
        (rc = dup_into(&dst->subscription, src->subscription)) ||
        (rc = dup_into(&dst->ask, src->ask)))
        return rc;
    for (size_t i = 0; i < src->ngroups; i++)
        if ((rc = roster_item_add_group(dst, src->groups[i])))
            return rc;
    return 0;
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

/* One <item/> of a roster result into *it: 1, or 0 when it is unusable,
 * or XE_OSERR (said); *it is to be freed either way. */
static int parse_item(xmpp_stanza_t *el, struct roster_item *it)
{
    memset(it, 0, sizeof *it);
    const char *jid = xmpp_stanza_get_attribute(el, "jid");
    if (!jid || jid_check(jid) || strchr(jid, '/'))
        return 0;
    const char *sub = xmpp_stanza_get_attribute(el, "subscription");
    int rc;
    if ((rc = dup_into(&it->jid, jid)) ||
        (rc =
             roster_item_set_name(it, xmpp_stanza_get_attribute(el, "name"))) ||
        (rc = dup_into(&it->subscription, sub ? sub : "none")) ||
        (rc = dup_into(&it->ask, xmpp_stanza_get_attribute(el, "ask"))))
        return rc;
    for (xmpp_stanza_t *g = xmpp_stanza_get_children(el); g;
         g = xmpp_stanza_get_next(g)) {
        const char *name = xmpp_stanza_get_name(g);
        if (xmpp_stanza_is_text(g) || !name || strcmp(name, "group"))
            continue;
        char *text = xmpp_stanza_get_text(g);
        if (text && *text)
            rc = roster_item_add_group(it, text);
        if (text)
            xmpp_free(xmpp_stanza_get_context(g), text);
        if (rc)
            return rc;
    }
    return 1;
}

/* The items of a roster result, sorted. Returns 0 or XE_OSERR (said). */
static int parse_items(xmpp_stanza_t *q, struct roster *r)
{
    for (xmpp_stanza_t *el = q ? xmpp_stanza_get_children(q) : NULL; el;
         el = xmpp_stanza_get_next(el)) {
        const char *name = xmpp_stanza_get_name(el);
        if (xmpp_stanza_is_text(el) || !name || strcmp(name, "item"))
            continue;
        struct roster_item *items =
            realloc(r->items, (r->n + 1) * sizeof *items);
        if (!items)
            return fail_oom(NULL);
        r->items = items;
        int ok = parse_item(el, &r->items[r->n]);
        if (ok == 1)
            r->n++;
        else
            roster_item_free(&r->items[r->n]);
        if (ok > 1)
            return ok;
    }
    if (r->n)
        qsort(r->items, r->n, sizeof *r->items, by_jid);
    return 0;
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
    return parse_items(
        xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_ROSTER), r);
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

/* A group name with its commas escaped, so the column splits on ','.
 * Written through a buffer of our own, a piece at a time (no allocation
 * to fail), each piece ending between characters, as out_text escapes
 * characters. */
static void print_group(FILE *f, const char *g)
{
    char piece[256];
    while (*g) {
        size_t n = strcspn(g, ",");
        if (n >= sizeof piece) {
            n = sizeof piece - 1;
            while (n > 1 && ((unsigned char)g[n] & 0xC0) == 0x80)
                n--; /* not inside a UTF-8 sequence */
        }
        memcpy(piece, g, n);
        piece[n] = '\0';
        out_text(f, piece);
        g += n;
        if (*g == ',') {
            fputs("\\,", f);
            g++;
        }
    }
}

static void print_json(FILE *f, const struct roster_item *it)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < it->ngroups; i++)
        json_array_append_new(groups, out_json_str(it->groups[i]));
    json_t *j = json_object();
    out_json_set(j, "kind", "contact");
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

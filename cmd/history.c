/* xmpp history: messages from a message archive (XEP-0313 MAM), ours
 * or a group chat's, fetched page by page (XEP-0059 RSM) and printed as
 * recv prints messages. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/datetime.h"
#include "common/io/output.h"
#include "common/xmpp/form.h"
#include "common/xmpp/message.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

#define NS_MAM     "urn:xmpp:mam:2"
#define NS_RSM     "http://jabber.org/protocol/rsm"
#define NS_FORWARD "urn:xmpp:forward:0"
#define NS_DELAY   "urn:xmpp:delay"

/* What we ask for in one page; servers cap it lower or not (Prosody
 * and ejabberd at 50 by default). */
#define PAGE_MAX 50

enum { OPT_SINCE = 1000, OPT_UNTIL, OPT_MAX, OPT_MUC };

static const struct tool_opt opts[] = {
    {.help = "Which messages:"},
    {"since", OPT_SINCE, "TIME", "only those sent at TIME or later"},
    {"until", OPT_UNTIL, "TIME", "only those sent at TIME or earlier"},
    {"max", OPT_MAX, "N", "only the newest N (still oldest first)"},
    {"muc", OPT_MUC, "ROOM",
     "the archive of group chat ROOM@SERVICE\n"
     "(XEP-0045) instead of our own"},
    {0},
};

static const char notes[] =
    "JID: only the conversation with JID (bare: any resource). TIME: ISO\n"
    "8601 (2026-11-30, 2026-11-30T08:00, 2026-11-30T08:00:00Z; local time\n"
    "without a zone) or a span back from now (30s, 10m, 2h, 1d, 1h30m).\n"
    "Output, oldest first, as xmpp recv's: FROM<TAB>TYPE [delay: STAMP]\n"
    "<TAB>BODY, STAMP when it was sent; --json: kind, from, to, type, id,\n"
    "thread, subject, body, delay; --xml: the archived stanzas, each with\n"
    "its <delay/>.\n";
struct history {
    struct session_opts *o;
    const char *with; /* the JID operand */
    const char *room; /* --muc */
    double since, until;
    bool has_since, has_until;
    long max; /* 0: all */
    struct session *s;
    char queryid[64];
    /* The page being received, then (with --max, newest pages first)
     * every page kept until the end. */
    xmpp_stanza_t **page;
    size_t npage;
    xmpp_stanza_t **kept;
    size_t nkept;
    long got;       /* messages taken so far */
    size_t results; /* results in this page, with a body or not */
    bool oom;
};

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

const struct tool tool_history = {
    .name = "history",
    .summary = "Show archived messages (XEP-0313)",
    .operands = "[JID]",
    .opts = opts,
    .notes = notes,
    .size = sizeof(struct history),
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static int time_option(const char *flag, const char *arg, double *t, bool *has)
{
    if (datetime_since(arg, datetime_now(), t) < 0)
        return fail(XE_USAGE,
                    "%s %s: give an ISO 8601 time (2024-05-01T12:00:00Z) or "
                    "a span back from now (30s, 10m, 2h, 1d)",
                    flag, arg);
    *has = true;
    return OPTS_CONTINUE;
}

static int option(void *tool, int key, const char *arg)
{
    struct history *h = tool;
    switch (key) {
    case OPT_SINCE:
        return time_option("--since", arg, &h->since, &h->has_since);
    case OPT_UNTIL:
        return time_option("--until", arg, &h->until, &h->has_until);
    case OPT_MAX:
        if (opts_int(arg, 1, OPTS_COUNT_MAX, &h->max) < 0)
            return fail(XE_USAGE, "--max %s: give a positive number", arg);
        break;
    case OPT_MUC: h->room = arg; break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct history *h = tool;
    h->o = o;
    int rc = query_jid_operand(o, a->argc, a->argv, 0, &h->with);
    if (rc)
        return rc;
    if (h->room && (rc = query_check_target(o, h->room)))
        return rc;
    if (h->room && strchr(h->room, '/'))
        return fail(XE_USAGE, "--muc %s: give the room's bare JID", h->room);
    if (h->has_since && h->has_until && h->since > h->until)
        return fail(XE_USAGE, "--since is later than --until");
    return 0;
}

/* ---- the results ---- */

/* The archived message of a <result/>, as a stanza of its own that
 * carries when it was sent: the archive's <delay/> (XEP-0313 §4.1.2)
 * unless it has one. NULL when the result holds no message. */
static xmpp_stanza_t *archived_message(xmpp_stanza_t *result)
{
    xmpp_stanza_t *fwd =
        xmpp_stanza_get_child_by_name_and_ns(result, "forwarded", NS_FORWARD);
    xmpp_stanza_t *m =
        fwd ? xmpp_stanza_get_child_by_name(fwd, "message") : NULL;
    if (!m)
        return NULL;
    xmpp_stanza_t *copy = xmpp_stanza_copy(m);
    xmpp_stanza_t *delay =
        xmpp_stanza_get_child_by_name_and_ns(fwd, "delay", NS_DELAY);
    if (copy && delay && !stanza_delay_stamp(copy)) {
        xmpp_stanza_t *d = xmpp_stanza_copy(delay);
        if (d)
            xmpp_stanza_add_child_ex(copy, d, 0);
    }
    return copy;
}

static bool push(xmpp_stanza_t ***list, size_t *n, xmpp_stanza_t *st)
{
    xmpp_stanza_t **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return false;
    *list = l;
    l[(*n)++] = st;
    return true;
}

/* XEP-0313 §4.1.2: results come as messages before the IQ result; only
 * the archive itself (our account, or the room) may send them. */
static int on_result(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct history *h = ud;
    (void)conn;
    xmpp_stanza_t *r =
        xmpp_stanza_get_child_by_name_and_ns(st, "result", NS_MAM);
    const char *qid = r ? xmpp_stanza_get_attribute(r, "queryid") : NULL;
    if (!qid || strcmp(qid, h->queryid) || !stanza_from_ok(st) ||
        !session_reply_from(h->s, h->room, xmpp_stanza_get_from(st)))
        return 1;
    h->results++;
    xmpp_stanza_t *m = archived_message(r);
    char *body = m ? xmpp_message_get_body(m) : NULL;
    if (body && !push(&h->page, &h->npage, m))
        h->oom = true;
    else if (body)
        m = NULL;
    if (m)
        xmpp_stanza_release(m);
    xmpp_free(h->s->ctx, body);
    return 1;
}

static void print_one(struct history *h, xmpp_stanza_t *m)
{
    const char *type = xmpp_stanza_get_type(m);
    char *body = xmpp_message_get_body(m);
    message_print(m, type ? type : "normal", body, h->o->format, NULL);
    xmpp_free(h->s->ctx, body);
    xmpp_stanza_release(m);
}

/* A page is complete. Paging forward it is printed now; paging back
 * (--max) it goes before the pages kept, to be printed at the end. */
static void take_page(struct history *h, bool backward)
{
    h->got += (long)h->npage;
    if (!backward) {
        for (size_t i = 0; i < h->npage; i++)
            print_one(h, h->page[i]);
        h->npage = 0;
        return;
    }
    xmpp_stanza_t **all = realloc(h->page, (h->npage + h->nkept) * sizeof *all);
    if (!all) {
        h->oom = true;
        return;
    }
    if (h->nkept)
        memcpy(all + h->npage, h->kept, h->nkept * sizeof *all);
    free(h->kept);
    h->kept = all;
    h->nkept += h->npage;
    h->page = NULL;
    h->npage = 0;
}

/* ---- the query ---- */

static void add_time_field(xmpp_stanza_t *x, const char *var, double t)
{
    char stamp[32];
    form_add_value(x, var, datetime_format(t, stamp, sizeof stamp));
}

/* XEP-0313 §4.1.1: the filter as a data form; XEP-0059 §2: the page,
 * after `after` going forward, before `before` ("" for the last page)
 * going back. */
static xmpp_stanza_t *build_query(struct history *h, long max,
                                  const char *after, const char *before)
{
    xmpp_stanza_t *q;
    xmpp_stanza_t *iq = query_new(h->s, "set", h->room, "query", NS_MAM, &q);
    xmpp_stanza_set_attribute(q, "queryid", h->queryid);
    xmpp_stanza_t *x = form_submit_new(h->s->ctx, NS_MAM);
    xmpp_stanza_add_child_ex(q, x, 0);
    if (h->with)
        form_add_value(x, "with", h->with);
    if (h->has_since)
        add_time_field(x, "start", h->since);
    if (h->has_until)
        add_time_field(x, "end", h->until);
    xmpp_stanza_t *set = stanza_add_el(q, "set", NS_RSM);
    char n[24];
    snprintf(n, sizeof n, "%ld", max);
    stanza_add_text_child(set, "max", n);
    if (after)
        stanza_add_text_child(set, "after", after);
    if (before && *before)
        stanza_add_text_child(set, "before", before);
    else if (before)
        stanza_add_el(set, "before", NULL);
    return iq;
}

/* From the IQ result's <fin/>: is this the last page, and the id to go
 * on from (malloc'd; NULL: none). */
static bool fin_page(xmpp_stanza_t *reply, bool backward, char **next)
{
    xmpp_stanza_t *fin =
        xmpp_stanza_get_child_by_name_and_ns(reply, "fin", NS_MAM);
    const char *c = fin ? xmpp_stanza_get_attribute(fin, "complete") : NULL;
    xmpp_stanza_t *set =
        fin ? xmpp_stanza_get_child_by_name_and_ns(fin, "set", NS_RSM) : NULL;
    char *id = set ? stanza_child_text(set, backward ? "first" : "last") : NULL;
    *next = id ? strdup(id) : NULL;
    if (id)
        xmpp_free(xmpp_stanza_get_context(reply), id);
    return c && (!strcmp(c, "true") || !strcmp(c, "1"));
}

/* Page through the archive until it is done or --max is reached: forward
 * from the oldest, or, with --max, back from the newest. */
static int fetch(struct history *h)
{
    bool backward = h->max > 0;
    char *from = NULL; /* where the last page ended */
    int rc = 0;
    for (;;) {
        long want = PAGE_MAX;
        if (h->max && h->max - h->got < want)
            want = h->max - h->got;
        const char *after = backward ? NULL : from;
        const char *before = !backward ? NULL : from ? from : "";
        xmpp_stanza_t *reply;
        h->results = 0;
        rc = query_ask(h->s, build_query(h, want, after, before), &reply);
        free(from);
        from = NULL;
        if (rc)
            break;
        bool done = fin_page(reply, backward, &from);
        bool empty = h->results == 0;
        xmpp_stanza_release(reply);
        take_page(h, backward);
        if (h->oom) {
            rc = fail_oom(NULL);
            break;
        }
        if (done || empty || !from || (h->max && h->got >= h->max))
            break;
    }
    free(from);
    return rc;
}

static int run(void *tool, struct session *s)
{
    struct history *h = tool;
    h->s = s;
    char *id = session_id(s);
    snprintf(h->queryid, sizeof h->queryid, "%s", id ? id : "history");
    xmpp_free(s->ctx, id);
    xmpp_handler_add(s->conn, on_result, NS_MAM, "message", NULL, h);
    int rc = fetch(h);
    xmpp_handler_delete(s->conn, on_result);
    if (!rc)
        for (size_t i = 0; i < h->nkept; i++)
            print_one(h, h->kept[i]);
    else
        for (size_t i = 0; i < h->nkept; i++)
            xmpp_stanza_release(h->kept[i]);
    h->nkept = 0;
    return rc;
}

static void release(void *tool)
{
    struct history *h = tool;
    for (size_t i = 0; i < h->npage; i++)
        xmpp_stanza_release(h->page[i]);
    for (size_t i = 0; i < h->nkept; i++)
        xmpp_stanza_release(h->kept[i]);
    free(h->page);
    free(h->kept);
}

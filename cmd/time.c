/* xmpp time: an entity's clock (XEP-0202). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/io/output.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

static const char notes[] =
    "JID defaults to your server. Output: the entity's local time, its UTC\n"
    "time shifted by its offset (2024-05-01T14:00:00+02:00); --json: {jid,\n"
    "utc, tzo, local}.\n";

static const struct tool_opt opts[] = {
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static int run(void *tool, struct session *s);

const struct tool tool_time = {
    .name = "time",
    .summary = "Show an entity's time (XEP-0202)",
    .operands = "[JID]",
    .opts = opts,
    .notes = notes,
    .size = sizeof(struct query_jid),
    .prepare = query_jid_prepare,
    .run = run,
};

/* XEP-0082 offset "+hh:mm", "-hh:mm" or "Z", in seconds. */
static int parse_tzo(const char *tzo, long *secs)
{
    int h, m;
    char sign;
    if (!strcmp(tzo, "Z")) {
        *secs = 0;
        return 0;
    }
    if (sscanf(tzo, "%c%2d:%2d", &sign, &h, &m) != 3 ||
        (sign != '+' && sign != '-') || strlen(tzo) != 6)
        return -1;
    *secs = (sign == '-' ? -1 : 1) * (h * 3600L + m * 60L);
    return 0;
}

/* utc (XEP-0082 "CCYY-MM-DDThh:mm:ss[.sss]Z") seen from offset tzo,
 * into buf. Returns buf, or NULL when either does not parse. */
static const char *local_time(const char *utc, const char *tzo, char *buf,
                              size_t n)
{
    struct tm tm = {0};
    int used = 0;
    long off;
    if (!utc || !tzo || parse_tzo(tzo, &off) < 0 ||
        sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return NULL;
    const char *frac = utc + used, *end = frac;
    if (*end == '.')
        end += 1 + strspn(end + 1, "0123456789");
    if (strcmp(end, "Z"))
        return NULL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm) + off;
    char base[32];
    if (!gmtime_r(&t, &tm) ||
        !strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm))
        return NULL;
    snprintf(buf, n, "%s%.*s%s", base, (int)(end - frac), frac,
             strcmp(tzo, "Z") ? tzo : "+00:00");
    return buf;
}

static void print_answer(const struct answer *a, void *ud)
{
    (void)ud;
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(a->el);
    char *utc = stanza_child_text(a->el, "utc");
    char *tzo = stanza_child_text(a->el, "tzo");
    char buf[96];
    const char *local = local_time(utc, tzo, buf, sizeof buf);
    if (a->fmt == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "time");
        out_json_set(j, "jid", a->from);
        out_json_set(j, "utc", utc);
        out_json_set(j, "tzo", tzo);
        out_json_set(j, "local", local);
        out_json(stdout, j);
    } else {
        const char *fields[] = {local ? local : utc};
        print_fields(stdout, 1, fields);
    }
    xmpp_free(ctx, utc);
    xmpp_free(ctx, tzo);
}

static int run(void *tool, struct session *s)
{
    struct query_jid *t = tool;
    struct query q = {.type = "get",
                      .to = t->jid,
                      .name = "time",
                      .ns = "urn:xmpp:time",
                      .print = print_answer};
    return query_once(s, &q);
}

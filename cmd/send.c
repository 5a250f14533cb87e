/* xmpp send: send a message to one or more JIDs, and exit 0 only once
 * the server has taken every one of them. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/mimetype.h"
#include "common/io/output.h"
#include "common/net/session.h"
#include "common/omemo/omemo.h"
#include "common/xmpp/bounce.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/muc.h"
#include "common/xmpp/stanza.h"
#include "common/xmpp/upload.h"

enum {
    OPT_TYPE = 1000,
    OPT_THREAD,
    OPT_ID,
    OPT_SANITIZE,
    OPT_MAX_SIZE,
    OPT_RECEIPT,
    OPT_ATTACH,
    OPT_CONTENT_TYPE,
    OPT_OMEMO,
    OPT_TRUSTED_ONLY,
};

static const struct tool_opt opts[] = {
    {.help = "Message:"},
    {"message", 'm', "TEXT", "the body (else --file, else stdin)"},
    {"file", 'f', "FILE", "read the body from FILE"},
    {"lines", 'l', NULL, "one message per stdin line, sent as it arrives"},
    {"type", OPT_TYPE, "TYPE", "chat (default), normal or headline", 0,
     "chat normal headline"},
    {"subject", 's', "TEXT", "the subject"},
    {"thread", OPT_THREAD, "ID", "the thread"},
    {"id", OPT_ID, "ID", "the stanza id (default: a fresh UUID)"},
    {"receipt", OPT_RECEIPT, NULL,
     "ask for delivery receipts (XEP-0184) and wait\n"
     "for every one until the deadline"},
    {"sanitize", OPT_SANITIZE, NULL,
     "replace invalid UTF-8 and forbidden control\n"
     "characters with U+FFFD instead of failing"},
    {"max-size", OPT_MAX_SIZE, "BYTES",
     "refuse a body larger than this (default 1 MiB)"},
    {"attach", OPT_ATTACH, "FILE",
     "upload FILE (XEP-0363) and send its URL as a\n"
     "message of its own; repeatable; any text\n"
     "(-m, -f) goes first; stdin is not read",
     OPT_REPEAT},
    {"content-type", OPT_CONTENT_TYPE, "TYPE",
     "MIME type of the attached files (default:\n"
     "from the file name)"},
    {.help = "End-to-end encryption (OMEMO, XEP-0384):"},
    {"omemo", OPT_OMEMO, NULL,
     "encrypt for every device of every recipient\n"
     "and our other devices; a recipient without\n"
     "OMEMO is an error (69), never sent in clear;\n"
     "--attach files go up AES-256-GCM encrypted\n"
     "and their aesgcm:// URL is sent (XEP-0454)"},
    {"trusted-only", OPT_TRUSTED_ONLY, NULL,
     "with --omemo: only for devices verified with\n"
     "'xmpp omemo trust' (none for a recipient: 67)"},
    {.help = "Group chat (XEP-0045):"},
    {"muc", MUC_OPT_MUC, "ROOM",
     "also send to this room (ROOM@SERVICE; repeat for\n"
     "more; the JIDs may then be left out): join,\n"
     "send, wait for the room to pass the message\n"
     "on, leave",
     OPT_REPEAT},
    MUC_OPT_NICK_ENTRY,
    MUC_OPT_ROOM_PASSWORD_FILE_ENTRY,
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static const char notes[] =
    "Output: the URL of each --attach file, once the server took it\n"
    "(with --omemo where the ciphertext lies, without the key);\n"
    "--json: one line per message the server took: kind, to, id, url.\n";

static void init(void *tool);
static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

#define MAX_ATTACH 16

struct send {
    struct session_opts *o;
    const char *message, *file, *type, *subject, *thread, *id;
    bool lines, sanitize, receipt;
    bool omemo, trusted_only;
    struct omemo *om;
    int crypt_rc; /* --omemo: encryption failed (said) */
    size_t max;
    char **to;
    int nto;
    struct upload files[MAX_ATTACH]; /* --attach */
    int nfiles;
    const char *content_type;
    struct muc muc; /* --muc rooms */
    struct session *s;
    char *body; /* without --lines: read in prepare */
    size_t len;
    /* Ids: "BASE.N" for the N-th message to the JID operands (to
     * to[N % nto], as each body goes to every one in turn), "BASE.rN"
     * to the rooms; or --id for all. A bounce or a receipt names its
     * message, and through it the recipient that may send it. */
    char *base;
    unsigned long nmsg, nroom_msg; /* sent so far */
    bool *refused;                 /* per JID operand: a message bounced */
    struct routes routes;          /* the other domains pinged */
    bool oom;                      /* out of memory while sending: said */
    /* --lines bookkeeping: input line numbers, 1-based. */
    unsigned long line_no; /* last line read */
    struct pending *pend;  /* lines sent, not yet confirmed, in order */
    size_t pend_head, pend_len, pend_cap;
    unsigned long asked_at; /* session.out when we last asked for an ack */
    int bad_lines;
    int bounced; /* messages refused with an error */
    /* --receipt: one entry per message to a JID operand, found by the
     * number in its id (the same N). */
    struct receipt *rcpt;
    size_t nrcpt, rcpt_cap, rcpt_got;
    /* What the server took, said on stdout as it confirms it: each
     * message with --json, else each attachment's URL once. */
    struct sent *sent;
    size_t sent_head, sent_len, sent_cap;
    bool url_said[MAX_ATTACH];
};

const struct tool tool_send = {
    .name = "send",
    .summary = "Send messages",
    .operands = "JID... [-m TEXT | -f FILE | -l] [--attach FILE]...",
    .opts = opts,
    .notes = notes,
    .size = sizeof(struct send),
    .init = init,
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

/* A message that asked for a receipt: to whom, for which input line. */
struct receipt {
    int to;
    unsigned long line;
    bool got;
};

/* A message sent, until the server confirms it: its ordinal, whom it
 * went to (a JID operand, or nto + a room), the number in its id (see
 * struct send) and the attachment it carries (-1: none). */
struct sent {
    unsigned long ordinal, n;
    int to, file;
    bool room;
};

/* A line sent but not yet confirmed: its number, and the ordinal of its
 * last message (see session.confirmed). */
struct pending {
    unsigned long line, ordinal;
};

static void init(void *tool)
{
    struct send *sd = tool;
    sd->type = "chat";
    sd->max = INPUT_MAX_DEFAULT;
}

static int option(void *tool, int key, const char *arg)
{
    struct send *sd = tool;
    switch (key) {
    case 'm': sd->message = arg; break;
    case 'f': sd->file = arg; break;
    case 'l': sd->lines = true; break;
    case 's': sd->subject = arg; break;
    case OPT_THREAD: sd->thread = arg; break;
    case OPT_ID: sd->id = arg; break;
    case OPT_SANITIZE: sd->sanitize = true; break;
    case OPT_RECEIPT: sd->receipt = true; break;
    case OPT_OMEMO: sd->omemo = true; break;
    case OPT_TRUSTED_ONLY: sd->trusted_only = true; break;
    case MUC_OPT_MUC:
    case MUC_OPT_NICK:
    case MUC_OPT_ROOM_PASSWORD_FILE: return muc_option(&sd->muc, key, arg);
    case OPT_TYPE:
        if (strcmp(arg, "chat") && strcmp(arg, "normal") &&
            strcmp(arg, "headline"))
            return fail(XE_USAGE, "--type %s: use chat, normal or headline",
                        arg);
        sd->type = arg;
        break;
    case OPT_MAX_SIZE: return opts_size(arg, &sd->max);
    case OPT_ATTACH:
        if (sd->nfiles == MAX_ATTACH)
            return fail(XE_USAGE, "--attach: at most %d files at a time",
                        MAX_ATTACH);
        sd->files[sd->nfiles++] = (struct upload){.path = arg};
        break;
    case OPT_CONTENT_TYPE:
        if (mimetype_check(arg))
            return fail(XE_USAGE, "--content-type %s: %s; e.g. text/plain", arg,
                        mimetype_check(arg));
        sd->content_type = arg;
        break;
    default: return XE_USAGE;
    }
    return OPTS_CONTINUE;
}

/* ---- --receipt (XEP-0184) ---- */

#define NS_RECEIPTS "urn:xmpp:receipts"

static xmpp_stanza_t *receipt_request(xmpp_ctx_t *ctx)
{
    xmpp_stanza_t *r = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(r, "request");
    xmpp_stanza_set_ns(r, NS_RECEIPTS);
    return r;
}

/* A receipt entry for the next message to JID operand `to`. Returns 0,
 * or -1 when out of memory (said). */
static int add_receipt(struct send *sd, int to)
{
    if (sd->nrcpt == sd->rcpt_cap) {
        size_t cap = sd->rcpt_cap ? sd->rcpt_cap * 2 : 64;
        struct receipt *r = realloc(sd->rcpt, cap * sizeof *r);
        if (!r) {
            fail_oom(NULL);
            return -1;
        }
        sd->rcpt = r;
        sd->rcpt_cap = cap;
    }
    sd->rcpt[sd->nrcpt++] = (struct receipt){.to = to, .line = sd->line_no};
    return 0;
}

/* The id of the next message to JID operand `to`, into buf (see
 * struct send). NULL when out of memory (said). */
static const char *next_id(struct send *sd, int to, char *buf, size_t n)
{
    if (sd->receipt && add_receipt(sd, to) < 0)
        return NULL;
    unsigned long k = sd->nmsg++;
    if (sd->id)
        return sd->id;
    snprintf(buf, n, "%s.%lu", sd->base, k);
    return buf;
}

/* Which message an id names: the N-th to the JID operands, or with
 * *room to the rooms; -1 for an id that is none of ours. --id names
 * them all: 0. */
static long message_of(const struct send *sd, const char *id, bool *room)
{
    *room = false;
    if (!id)
        return -1;
    if (sd->id)
        return strcmp(id, sd->id) ? -1 : 0;
    size_t blen = strlen(sd->base);
    if (strncmp(id, sd->base, blen) || id[blen] != '.')
        return -1;
    const char *p = id + blen + 1;
    if ((*room = *p == 'r'))
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (*end || n >= (*room ? sd->nroom_msg : sd->nmsg) || n > LONG_MAX)
        return -1;
    return (long)n;
}

/* XEP-0184 §5.4: <received id='...'/> from the recipient we sent to. */
static int on_receipt(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct send *sd = ud;
    (void)conn;
    xmpp_stanza_t *r =
        xmpp_stanza_get_child_by_name_and_ns(st, "received", NS_RECEIPTS);
    bool room;
    long n =
        message_of(sd, r ? xmpp_stanza_get_attribute(r, "id") : NULL, &room);
    if (n < 0 || room || (size_t)n >= sd->nrcpt || sd->rcpt[n].got ||
        !jid_matches(xmpp_stanza_get_from(st), sd->to[sd->rcpt[n].to]))
        return 1;
    sd->rcpt[n].got = true;
    sd->rcpt_got++;
    return 1;
}

/* Print "1-3,7" for the ascending numbers in v[0..n). */
static void print_ranges(FILE *f, const unsigned long *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        fprintf(f, "%s%lu", i ? "," : "", v[i]);
        if (j > i)
            fprintf(f, "-%lu", v[j]);
        i = j + 1;
    }
}

/* "bob@example.org (lines 2-3), carol@example.org": who owes receipts. */
static void print_missing_receipts(FILE *f, struct send *sd)
{
    unsigned long *lines = malloc((sd->nrcpt + 1) * sizeof *lines);
    int listed = 0;
    for (int t = 0; lines && t < sd->nto; t++) {
        size_t n = 0;
        for (size_t i = 0; i < sd->nrcpt; i++)
            if (sd->rcpt[i].to == t && !sd->rcpt[i].got)
                lines[n++] = sd->rcpt[i].line;
        if (!n)
            continue;
        fprintf(f, "%s%s", listed++ ? ", " : "", sd->to[t]);
        if (sd->lines) {
            fputs(n > 1 ? " (lines " : " (line ", f);
            print_ranges(f, lines, n);
            putc(')', f);
        }
    }
    free(lines);
}

/* After the server confirmed everything: wait for the receipts until
 * the deadline, or until a bounce makes the status 1 anyway. Returns 0,
 * or XE_TIMEOUT naming who did not confirm. */
static int wait_receipts(struct send *sd)
{
    while (sd->rcpt_got < sd->nrcpt && !sd->bounced)
        if (session_step(sd->s, 1000) != SESSION_RUNNING)
            break;
    if (sd->rcpt_got == sd->nrcpt || sd->bounced)
        return 0;
    char *who = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&who, &size);
    if (f) {
        print_missing_receipts(f, sd);
        fclose(f);
    }
    int rc = sd->s->status == XE_TIMEOUT ? XE_TIMEOUT : sd->s->status;
    fail(rc, "no delivery receipt for %zu of %zu message(s)%s: %s",
         sd->nrcpt - sd->rcpt_got, sd->nrcpt,
         rc == XE_TIMEOUT ? " by the deadline" : "", who ? who : "");
    free(who);
    return rc;
}

/* Room for one more entry at the end of a queue of n-byte entries
 * (*buf, entries *head to *head + len of *cap): what is still queued
 * slides down to the front, or the array doubles. Returns 0, or -1
 * when out of memory. */
static int queue_room(void **buf, size_t *head, size_t len, size_t *cap,
                      size_t n)
{
    if (*head + len < *cap)
        return 0;
    if (*head) {
        memmove(*buf, (char *)*buf + *head * n, len * n);
        *head = 0;
        return 0;
    }
    size_t more = *cap ? *cap * 2 : 64;
    void *p = realloc(*buf, more * n);
    if (!p)
        return -1;
    *buf = p;
    *cap = more;
    return 0;
}

/* ---- what the server took, on stdout ---- */

/* Remember a message for print_taken; with neither --json nor a file
 * nothing needs saying. Returns 0, or -1 when out of memory (said). */
static int remember_sent(struct send *sd, struct sent m)
{
    if (sd->o->format != OUT_JSON && m.file < 0)
        return 0;
    if (queue_room((void **)&sd->sent, &sd->sent_head, sd->sent_len,
                   &sd->sent_cap, sizeof *sd->sent) < 0) {
        fail_oom(NULL);
        return -1;
    }
    sd->sent[sd->sent_head + sd->sent_len++] = m;
    return 0;
}

/* {"kind":"message","to":...,"id":...[,"url":...]}, or the URL of an
 * attachment the first time one of its messages is confirmed. */
static void print_sent(struct send *sd, const struct sent *m)
{
    const char *url = m->file >= 0 ? sd->files[m->file].url : NULL;
    if (sd->o->format != OUT_JSON) {
        if (url && !sd->url_said[m->file]) {
            sd->url_said[m->file] = true;
            out_text(stdout, url);
            putchar('\n');
        }
        return;
    }
    char id[128]; /* as next_id and send_rooms make them */
    snprintf(id, sizeof id, "%s.%s%lu", sd->base, m->room ? "r" : "", m->n);
    json_t *j = json_object();
    out_json_set(j, "kind", "message");
    out_json_set(j, "to",
                 m->to < sd->nto ? sd->to[m->to]
                                 : sd->muc.room[m->to - sd->nto].jid);
    out_json_set(j, "id", sd->id ? sd->id : id);
    out_json_set(j, "url", url);
    out_json(stdout, j);
}

/* Say what the server has confirmed since the last call. */
static void print_taken(struct send *sd)
{
    bool any = false;
    while (sd->sent_len &&
           sd->sent[sd->sent_head].ordinal <= sd->s->confirmed) {
        print_sent(sd, &sd->sent[sd->sent_head++]);
        sd->sent_len--;
        any = true;
    }
    if (any)
        fflush(stdout);
}

/* A <message/> with the body and what goes with every one: subject,
 * thread and, with oob_url, the XEP-0066 pointer to an uploaded file. */
static xmpp_stanza_t *new_message(struct send *sd, const char *type,
                                  const char *to, const char *id,
                                  const char *body, const char *oob_url)
{
    xmpp_ctx_t *ctx = sd->s->ctx;
    xmpp_stanza_t *m = xmpp_message_new(ctx, type, to, id);
    if (sd->subject)
        stanza_add_text_child(m, "subject", sd->subject);
    xmpp_message_set_body(m, body);
    if (sd->thread)
        stanza_add_text_child(m, "thread", sd->thread);
    if (oob_url)
        xmpp_stanza_add_child_ex(m, upload_oob(ctx, oob_url), 0);
    return m;
}

/* XEP-0384 v0.3 §4.5, v0.8 §4.5: the body encrypted for `to`, in the
 * generations its devices and ours speak; in the clear only a fallback
 * body (XEP-0380 names the encryption) and a store hint (XEP-0334), as
 * a bodiless message may not be stored offline. */
static xmpp_stanza_t *new_encrypted(struct send *sd, const char *to,
                                    const char *id, const char *body)
{
    xmpp_ctx_t *ctx = sd->s->ctx;
    xmpp_stanza_t *m = xmpp_message_new(ctx, sd->type, to, id);
    unsigned gens = omemo_encrypt(sd->om, m, to, body, strlen(body));
    if (!gens) {
        xmpp_stanza_release(m);
        sd->crypt_rc = XE_CONFIG;
        return NULL;
    }
    xmpp_message_set_body(m, "This message is OMEMO encrypted.");
    if (sd->thread)
        stanza_add_text_child(m, "thread", sd->thread);
    /* XEP-0380 names one: 0.3 when it is there, which more clients read. */
    xmpp_stanza_t *eme = stanza_add_el(m, "encryption", "urn:xmpp:eme:0");
    xmpp_stanza_set_attribute(eme, "namespace",
                              gens & OMEMO_V03 ? NS_OMEMO : NS_OMEMO2);
    xmpp_stanza_set_attribute(eme, "name", "OMEMO");
    stanza_add_el(m, "store", "urn:xmpp:hints");
    return m;
}

/* XEP-0045 §7.4: a groupchat message to each room we joined; the room
 * reflects it to us with the same id once it has passed it on. No
 * receipt request: XEP-0184 §5.3. */
static unsigned long send_rooms(struct send *sd, const char *body, int file)
{
    unsigned long ordinal = 0;
    const char *oob_url = file >= 0 ? sd->files[file].url : NULL;
    for (int i = 0; i < sd->muc.n && !sd->oom; i++) {
        char buf[128];
        unsigned long n = sd->nroom_msg++;
        snprintf(buf, sizeof buf, "%s.r%lu", sd->base, n);
        const char *id = sd->id ? sd->id : buf;
        xmpp_stanza_t *m = new_message(sd, "groupchat", sd->muc.room[i].jid, id,
                                       body, oob_url);
        muc_expect(&sd->muc.room[i], id);
        ordinal = session_send(sd->s, m);
        xmpp_stanza_release(m);
        sd->oom = remember_sent(sd, (struct sent){ordinal, n, sd->nto + i, file,
                                                  true}) < 0;
    }
    return ordinal;
}

/* One <message/> to each recipient (RFC 6121 §5.2) and room. Returns
 * the ordinal of the last one. */
static unsigned long send_body(struct send *sd, const char *body, int file)
{
    unsigned long ordinal = 0;
    const char *oob_url = file >= 0 ? sd->files[file].url : NULL;
    for (int i = 0; i < sd->nto && !sd->oom && !sd->crypt_rc; i++) {
        char buf[128];
        unsigned long n = sd->nmsg;
        const char *id = next_id(sd, i, buf, sizeof buf);
        if (!id) {
            sd->oom = true;
            break;
        }
        xmpp_stanza_t *m =
            sd->om ? new_encrypted(sd, sd->to[i], id, body)
                   : new_message(sd, sd->type, sd->to[i], id, body, oob_url);
        if (!m)
            break;
        if (sd->receipt)
            xmpp_stanza_add_child_ex(m, receipt_request(sd->s->ctx), 0);
        ordinal = session_send(sd->s, m);
        xmpp_stanza_release(m);
        sd->oom =
            remember_sent(sd, (struct sent){ordinal, n, i, file, false}) < 0;
    }
    return sd->muc.n ? send_rooms(sd, body, file) : ordinal;
}

/* The message an error is about, and who sent the error: the index of
 * the JID operand (or nto + the room's) it was sent to, or -1 when the
 * id is none of ours or the sender may not speak for that recipient
 * (bounce_from_ok): a forgery, ignored. */
static int bounced_to(struct send *sd, xmpp_stanza_t *st)
{
    bool room;
    long n = message_of(sd, xmpp_stanza_get_id(st), &room);
    const char *from = xmpp_stanza_get_from(st), *self = sd->s->creds.jid;
    if (n < 0)
        return -1;
    int d = sd->id ? 0 /* any recipient of ours may have sent it */
            : room ? sd->nto + (int)(n % sd->muc.n)
                   : (int)(n % sd->nto);
    for (int i = d; i < sd->nto + sd->muc.n; i++) {
        const char *to =
            i < sd->nto ? sd->to[i] : sd->muc.room[i - sd->nto].jid;
        if (bounce_from_ok(from, to, self))
            return i;
        if (!sd->id)
            break;
    }
    return -1;
}

/* Count one bounce for recipient d (JID operand, or nto + room) and
 * say the first. */
static void count_bounce(struct send *sd, int d, const char *why)
{
    if (d < sd->nto)
        sd->refused[d] = true;
    if (!sd->bounced++)
        fail(XE_STANZA, "%s: message refused: %s",
             d < sd->nto ? sd->to[d] : sd->muc.room[d - sd->nto].jid, why);
}

/* RFC 6120 §8.3: a refused message comes back as an error, from the
 * recipient or a server on the way. A local server bounces before it
 * acks what we sent after the message, so waiting for the confirmation
 * collects the bounces too; those from other domains come before the
 * answer to our route check (see bounce.h). */
static int on_bounce(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
    struct send *sd = ud;
    (void)conn;
    char why[256];
    int d = bounced_to(sd, st);
    if (d >= 0)
        count_bounce(sd, d, stanza_error_text(st, why, sizeof why));
    return 1;
}

/* After a reconnect (--retry): a new session is in no room. What the
 * server had not confirmed is sent again after this. */
static int rejoin(struct session *s, void *ud)
{
    struct send *sd = ud;
    return sd->muc.n ? muc_join(&sd->muc, s) : 0;
}

/* With the session open: the id base made, the rooms joined, the
 * handlers set. */
static int start(struct send *sd)
{
    int rc;
    sd->s->renew = rejoin;
    sd->s->renew_ud = sd;
    char *uuid = session_id(sd->s);
    sd->base = uuid ? strdup(uuid) : NULL;
    xmpp_free(sd->s->ctx, uuid);
    if (!sd->base)
        return fail_oom(NULL);
    if (sd->muc.n && (rc = muc_join(&sd->muc, sd->s))) {
        muc_leave(&sd->muc);
        return rc;
    }
    xmpp_handler_add(sd->s->conn, on_bounce, NULL, "message", "error", sd);
    if (sd->receipt)
        xmpp_handler_add(sd->s->conn, on_receipt, NULL, "message", NULL, sd);
    return 0;
}

/* How long a domain may take to answer the route check. Silence is no
 * bounce (a component that is gone may never answer); a domain that
 * cannot be reached is said at once by our server. */
#define ROUTE_WAIT_MS 5000

/* Once the server confirmed the messages: wait for the other domains to
 * answer our route checks. A domain that cannot be reached bounced its
 * messages, whether or not the server sent the bounces (one counted per
 * recipient that has none yet). Returns 0 or the session's status. */
static int check_routes(struct send *sd)
{
    int rc = routes_wait(&sd->routes, ROUTE_WAIT_MS);
    if (!rc && routes_unanswered(&sd->routes))
        warnx("%s did not answer within %d s: the server took the "
              "message(s); a bounce from it may still come later",
              routes_unanswered(&sd->routes), ROUTE_WAIT_MS / 1000);
    if (rc == XE_TIMEOUT)
        return fail(rc,
                    "deadline reached before %s answered: the server took "
                    "the message(s), but whether they can reach %s is "
                    "unknown",
                    routes_unanswered(&sd->routes),
                    routes_unanswered(&sd->routes));
    for (int i = 0; !rc && i < sd->nto; i++) {
        const char *why = routes_failed(&sd->routes, sd->to[i]);
        if (why && !sd->refused[i])
            count_bounce(sd, i, why);
    }
    return rc;
}

/* The status once the server confirmed everything (rc 0): 1 if anything
 * bounced, else what the receipts say. */
static int finish(struct send *sd, int rc)
{
    if (!rc)
        rc = check_routes(sd);
    if (!rc && sd->muc.n)
        rc = muc_wait_reflections(&sd->muc);
    muc_leave(&sd->muc);
    if (rc && !(rc == XE_STANZA && sd->bounced)) /* else reported below */
        return rc;
    if (!sd->bounced && sd->receipt)
        rc = wait_receipts(sd);
    if (sd->bounced > 1)
        fail(XE_STANZA, "%d message(s) refused", sd->bounced);
    return sd->bounced ? XE_STANZA : rc;
}

/* Without --lines, the body (--message, --file or stdin) is read before
 * connecting: nothing to send is refused without a connection. */
static int read_body(struct send *sd)
{
    char *body = NULL;
    size_t len = 0;
    int rc;
    if (sd->message) {
        len = strlen(sd->message);
        if (len > sd->max)
            return fail(XE_DATA,
                        "--message: larger than %zu bytes "
                        "(--max-size)",
                        sd->max);
        body = strdup(sd->message);
    } else if ((sd->file || !sd->nfiles) &&
               (rc = input_read(sd->file, sd->max, &body, &len))) {
        return rc;
    } else {
        /* `echo done | xmpp send` sends "done", as $(...) would: the one
         * newline that ends the input is not part of the message. */
        if (len && body[len - 1] == '\n')
            body[--len] = '\0';
        if (len && body[len - 1] == '\r')
            body[--len] = '\0';
    }
    const char *what = sd->message                         ? "--message"
                       : sd->file && strcmp(sd->file, "-") ? sd->file
                                                           : "stdin";
    if (body && (rc = input_text(what, &body, &len, sd->sanitize))) {
        free(body);
        return rc;
    }
    sd->body = body;
    sd->len = len;
    if (len == 0 && !sd->nfiles)
        return fail(XE_DATA, "%s: empty message; nothing sent", what);
    return 0;
}

static int send_once(struct send *sd)
{
    /* Files go up first: a failed upload sends no message. With
     * --omemo they go up encrypted (XEP-0454). */
    for (int i = 0; i < sd->nfiles; i++)
        sd->files[i].encrypt = sd->om != NULL;
    int rc = upload_files(sd->s, sd->files, sd->nfiles);
    if (rc)
        return rc;
    unsigned long first = sd->s->out + 1, last = 0;
    if (sd->len)
        last = send_body(sd, sd->body, -1);
    /* With --omemo the body is the aesgcm:// URL, key and all. */
    for (int i = 0; i < sd->nfiles && !sd->oom; i++)
        last =
            send_body(sd, sd->om ? sd->files[i].aesgcm : sd->files[i].url, i);
    if (!sd->oom)
        sd->oom = routes_check(&sd->routes, sd->s, sd->to, sd->nto,
                               sd->s->creds.jid) != 0;
    rc = session_confirm(sd->s);
    print_taken(sd);
    bool lost = rc == XE_CONNLOST || rc == XE_PROTOCOL; /* a stream error */
    if (rc)
        fail(rc, "%s%s%lu of %lu message(s) not confirmed by the server",
             lost ? session_tell_loss(sd->s) : "", lost ? "; " : "",
             last > sd->s->confirmed ? last - sd->s->confirmed : 0,
             last - first + 1);
    return finish(sd, rc             ? rc
                      : sd->crypt_rc ? sd->crypt_rc
                      : sd->oom      ? XE_OSERR
                                     : 0);
}

/* ---- --lines: stream stdin, confirming as we go ---- */

/* Ask for an ack every so many stanzas, and whenever the input pauses,
 * so that lines are confirmed while `tail -f` keeps the pipe open. */
#define ACK_EVERY 500

/* Read stdin a little at a time, and not at all while this many
 * stanzas wait in the library's send queue: each queued stanza holds
 * about 1 KiB, and one read of a file used to queue every line of it at
 * once (40 MiB for 30,000 lines). The socket buffer keeps the server
 * busy meanwhile. */
#define SEND_QUEUE_MAX 256
#define READ_CHUNK     4096

/* Room for one more line in sd->pend, made before the line is sent: a
 * line sent must be remembered. Returns 0, or -1 when out of memory. */
static int pending_room(struct send *sd)
{
    return queue_room((void **)&sd->pend, &sd->pend_head, sd->pend_len,
                      &sd->pend_cap, sizeof *sd->pend);
}

/* Drop the lines the server has confirmed (--json: say them). */
static void forget_confirmed(struct send *sd)
{
    print_taken(sd);
    while (sd->pend_len &&
           sd->pend[sd->pend_head].ordinal <= sd->s->confirmed) {
        sd->pend_head++;
        sd->pend_len--;
    }
    if (!sd->pend_len)
        sd->pend_head = 0;
}

static void maybe_ask(struct send *sd, bool idle)
{
    unsigned long unasked = sd->s->out - sd->asked_at;
    if (unasked && (idle || unasked >= ACK_EVERY)) {
        session_request_ack(sd->s);
        sd->asked_at = sd->s->out;
    }
}

static void send_line(struct send *sd, char *line, size_t len)
{
    char what[48];
    if (sd->oom)
        return;
    sd->line_no++;
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    if (len == 0)
        return;
    snprintf(what, sizeof what, "stdin line %lu", sd->line_no);
    if (len > sd->max) {
        fail(XE_DATA, "%s: larger than %zu bytes (--max-size); skipped", what,
             sd->max);
        sd->bad_lines++;
        return;
    }
    /* input_text replaces what it sanitises, freeing it: give it a
     * copy, not a piece of the read buffer. */
    char *text = sd->sanitize ? strndup(line, len) : line;
    if (!text || pending_room(sd) < 0) {
        fail_oom(what);
        sd->oom = true;
        sd->line_no--; /* reported as the first line not sent */
    } else if (!input_text(what, &text, &len, sd->sanitize)) {
        unsigned long ordinal = send_body(sd, text, -1);
        if (ordinal) /* sent, to some recipients at least */
            sd->pend[sd->pend_head + sd->pend_len++] =
                (struct pending){.line = sd->line_no, .ordinal = ordinal};
    } else {
        sd->bad_lines++;
    }
    if (text != line)
        free(text);
}

/* Split buf into lines; returns how many bytes of a partial last line
 * remain (moved to the front). */
static size_t send_complete_lines(struct send *sd, char *buf, size_t n)
{
    char *p = buf, *end = buf + n, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
        *nl = '\0';
        send_line(sd, p, (size_t)(nl - p));
        p = nl + 1;
    }
    size_t rest = (size_t)(end - p);
    memmove(buf, p, rest);
    return rest;
}

/* One line on stderr naming every line the server did not confirm, as
 * ranges: "3 line(s) not confirmed by the server: stdin line(s) 5-6,9",
 * and, when the session broke before the end of the input, from which
 * line on nothing was sent: so that every input line is accounted for. */
static void report_unconfirmed(struct send *sd, bool eof, int rc,
                               const char *cause)
{
    const char *sep = *cause ? "; " : "";
    if (!eof && !sd->pend_len) {
        fail(rc, "%s%sstdin from line %lu on was not sent", cause, sep,
             sd->line_no + 1);
        return;
    }
    if (!sd->pend_len) {
        if (*cause)
            fail(rc, "%s", cause);
        return;
    }
    unsigned long *lines = malloc(sd->pend_len * sizeof *lines);
    char *list = NULL;
    size_t size = 0;
    FILE *f = lines ? open_memstream(&list, &size) : NULL;
    if (f) {
        for (size_t i = 0; i < sd->pend_len; i++)
            lines[i] = sd->pend[sd->pend_head + i].line;
        print_ranges(f, lines, sd->pend_len);
        fclose(f);
    }
    char unread[64] = "";
    if (!eof)
        snprintf(unread, sizeof unread, "; from line %lu on not sent",
                 sd->line_no + 1);
    fail(rc, "%s%s%zu line(s) not confirmed by the server: stdin line(s) %s%s",
         cause, sep, sd->pend_len, list ? list : "?", unread);
    free(list);
    free(lines);
}

static int send_lines(struct send *sd)
{
    int rc;
    /* Room for one line at the size limit plus a read's worth. */
    size_t cap = sd->max + 65536, have = 0;
    char *buf = malloc(cap + 1);
    bool eof = false;
    if (!buf)
        return finish(sd, fail_oom("stdin"));
    while (!eof && !sd->oom && !sd->crypt_rc) {
        ssize_t n = -1;
        bool full = xmpp_conn_send_queue_len(sd->s->conn) >= SEND_QUEUE_MAX;
        if (!full)
            n = input_available(0, buf + have,
                                cap - have < READ_CHUNK ? cap - have
                                                        : READ_CHUNK);
        if (n == 0)
            eof = true;
        if (n > 0) {
            have = send_complete_lines(sd, buf, have + (size_t)n);
            if (have == cap) { /* a line over the limit: drop it */
                fail(XE_DATA,
                     "stdin line %lu: larger than %zu bytes "
                     "(--max-size); skipped",
                     sd->line_no + 1, sd->max);
                sd->bad_lines++;
                have = 0;
            }
        }
        maybe_ask(sd, !full && n < 0); /* idle: stdin has nothing now */
        forget_confirmed(sd);
        if (session_step(sd->s, n > 0 ? 0 : 10) != SESSION_RUNNING)
            break;
    }
    /* SIGINT/SIGTERM is how `tail -f | xmpp send --lines` is stopped:
     * read no more, but confirm what was sent, and exit 0 if all was. */
    if (sd->s->status > 128 && sd->s->status < 128 + 32) {
        session_clear_signal(sd->s);
        eof = true;
        if (have)
            warnx("interrupted: the unfinished stdin line %lu was not sent",
                  sd->line_no + 1);
        have = 0;
    }
    if (buf && eof && have) {
        buf[have] = '\0';
        send_line(sd, buf, have);
    }
    free(buf);
    /* The input has ended: from now on a one-shot tool's default
     * deadline bounds the wait for confirmations and receipts. */
    if (!sd->o->timeout_given)
        sd->s->deadline =
            now_ms() +
            (long long)((OPTS_DEFAULT_TIMEOUT + sd->s->creds.retry) * 1000);
    bool ended = sd->s->status != SESSION_RUNNING;
    if (!ended && !sd->oom)
        sd->oom = routes_check(&sd->routes, sd->s, sd->to, sd->nto,
                               sd->s->creds.jid) != 0;
    rc = ended ? sd->s->status : session_confirm(sd->s);
    char cause[SESSION_WHY_MAX + 64] = "";
    if (rc == XE_CONNLOST || rc == XE_PROTOCOL) /* lost, or a stream error */
        snprintf(cause, sizeof cause, "%s", session_tell_loss(sd->s));
    else if (rc == XE_TIMEOUT)
        snprintf(cause, sizeof cause,
                 "deadline reached (--timeout) after "
                 "%lu input line(s)",
                 sd->line_no);
    forget_confirmed(sd);
    report_unconfirmed(sd, eof, rc, cause);
    rc = finish(sd, rc             ? rc
                    : sd->crypt_rc ? sd->crypt_rc
                    : sd->oom      ? XE_OSERR
                                   : 0);
    if (!rc && sd->bad_lines)
        rc = fail(XE_DATA, "%d line(s) were not sent", sd->bad_lines);
    return rc;
}

/* --attach: what cannot work is refused before connecting. */
static int check_attachments(struct send *sd)
{
    if (sd->content_type && !sd->nfiles)
        return fail(XE_USAGE, "--content-type applies to --attach files");
    if (sd->nfiles && sd->lines)
        return fail(XE_USAGE, "--attach cannot be combined with --lines");
    if (sd->nfiles && sd->o->component)
        return fail(XE_USAGE, "--attach needs a client account, not "
                              "--component");
    if (sd->receipt && sd->id && sd->nfiles + !!(sd->message || sd->file) > 1)
        return fail(XE_USAGE, "--id with --receipt needs a single message: "
                              "receipts are matched by id");
    for (int i = 0; i < sd->nfiles; i++) {
        sd->files[i].content_type = sd->content_type;
        int rc = upload_check(&sd->files[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* --omemo: nothing that would go out in the clear beside it. */
static int check_omemo(struct send *sd)
{
    if (sd->trusted_only && !sd->omemo)
        return fail(XE_USAGE, "--trusted-only applies to --omemo");
    if (!sd->omemo)
        return 0;
    if (sd->o->component)
        return fail(XE_USAGE, "--omemo needs a client account, not "
                              "--component");
    if (sd->muc.n)
        return fail(XE_USAGE, "--omemo cannot be combined with --muc yet");
    if (sd->subject)
        return fail(XE_USAGE, "--subject would go out in the clear; not with "
                              "--omemo");
    return 0;
}

/* With --omemo, before anything is sent: our keys (made and published
 * the first time), the recipients' devices, sessions with them. */
static int start_omemo(struct send *sd)
{
    int rc = omemo_open(&sd->om, sd->s->creds.jid, true);
    if (!rc)
        rc = omemo_ensure_published(sd->om, sd->s);
    if (!rc)
        rc = omemo_prepare_send(sd->om, sd->s, sd->to, sd->nto,
                                sd->trusted_only);
    return rc;
}

/* Everything that can be refused before connecting is, here; without
 * --lines the body is read too. */
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct send *sd = tool;
    int rc;
    sd->o = o;
    sd->to = a->argv;
    sd->nto = a->argc;
    if (sd->nto == 0 && sd->muc.n == 0) {
        char syn[512];
        opts_synopsis(&tool_send, NULL, syn, sizeof syn);
        return fail(XE_USAGE, "no recipient; usage: xmpp send %s", syn);
    }
    if ((rc = muc_check_options(&sd->muc)))
        return rc;
    if ((sd->message != NULL) + (sd->file != NULL) + sd->lines > 1)
        return fail(XE_USAGE, "choose one of --message, --file and --lines");
    for (int i = 0; i < sd->nto; i++) {
        const char *why = jid_check(sd->to[i]);
        if (why)
            return fail(XE_DATA, "%s: invalid JID: %s", sd->to[i], why);
    }
    if (sd->receipt && sd->id && (sd->nto > 1 || sd->lines))
        return fail(XE_USAGE, "--id with --receipt needs one recipient and "
                              "no --lines: receipts are matched by id");
    if ((rc = check_attachments(sd)) || (rc = check_omemo(sd)))
        return rc;
    if (!(sd->refused = calloc((size_t)sd->nto + 1, sizeof *sd->refused)))
        return fail_oom(NULL);
    /* Said once, with how many messages it leaves unconfirmed; set
     * before the session is up, as it may be lost at once. */
    o->tells_loss = true;
    /* `tail -f log | xmpp send --lines` runs as long as its input does:
     * no deadline while it flows, unless one is asked for. */
    if (sd->lines && !o->timeout_given)
        o->timeout = -1;
    return sd->lines ? input_stdin_check() : read_body(sd);
}

static int run(void *tool, struct session *s)
{
    struct send *sd = tool;
    sd->s = s;
    int rc = start(sd);
    if (!rc && (s->creds.omemo || s->creds.trusted_only)) {
        /* The account's config says every message is encrypted. */
        bool given = sd->omemo;
        sd->omemo = true;
        sd->trusted_only |= s->creds.trusted_only;
        if (!given)
            rc = check_omemo(sd);
    }
    if (!rc && sd->omemo)
        rc = start_omemo(sd);
    if (rc)
        return rc;
    return sd->lines ? send_lines(sd) : send_once(sd);
}

static void release(void *tool)
{
    struct send *sd = tool;
    for (int i = 0; i < sd->nfiles; i++)
        upload_free(&sd->files[i]);
    free(sd->body);
    free(sd->pend);
    muc_free(&sd->muc);
    free(sd->rcpt);
    free(sd->sent);
    free(sd->base);
    free(sd->refused);
    routes_free(&sd->routes);
    omemo_close(sd->om);
}

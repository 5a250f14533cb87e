/* xmpp muc: look after group chat rooms (XEP-0045): read or set the
 * subject, list the occupants, invite, create, configure, destroy. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/net/session.h"
#include "common/xmpp/form.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/muc.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

enum {
    O_NICK = 1000,
    O_ROOM_PASSWORD_FILE,
    O_FIELD,
    O_FORM,
    O_REASON,
    O_ALTERNATE
};

static const struct tool_opt opts[] = {
    {.help = "Options:"},
    {"nick", O_NICK, "NICK", "nick for joining (default: the JID's localpart)"},
    {"room-password-file", O_ROOM_PASSWORD_FILE, "FILE",
     "the room's password (FILE's first line);\n"
     "with create, protect the new room with it"},
    {"field", O_FIELD, "VAR=VALUE",
     "a configuration field for create and config;\n"
     "repeat for more fields or values",
     OPT_REPEAT},
    {"form", O_FORM, "FILE",
     "configuration fields from a JSON object file\n"
     "({\"VAR\": \"VALUE\" | [...] | true}; - for stdin)"},
    {"reason", O_REASON, "TEXT", "the reason given with invite and destroy"},
    {"alternate", O_ALTERNATE, "ROOM",
     "with destroy: where the occupants should go"},
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static int do_subject(void *tool, struct session *s);
static int do_occupants(void *tool, struct session *s);
static int do_invite(void *tool, struct session *s);
static int do_create(void *tool, struct session *s);
static int do_config(void *tool, struct session *s);
static int do_destroy(void *tool, struct session *s);

/* Those that join the room take --nick and --room-password-file. */
static const struct tool_sub subs[] = {
    {"subject", "ROOM [TEXT]", 1, 2,
     "print the room's subject, or set it to TEXT\n"
     "(\"\" clears it)",
     "nick room-password-file retry", do_subject},
    {"occupants", "ROOM", 1, 1,
     "NICK<TAB>ROLE<TAB>AFFILIATION<TAB>JID per\n"
     "occupant (JID empty when the room hides it)",
     "nick room-password-file retry", do_occupants},
    {"invite", "ROOM JID...", 2, -1,
     "invite through the room (mediated, §7.8.2)", "reason retry", do_invite},
    {"create", "ROOM", 1, 1,
     "create the room, persistent unless the form\n"
     "says otherwise; fails if it exists",
     "nick room-password-file field form retry", do_create},
    {"config", "ROOM", 1, 1,
     "print the room's configuration form, or with\n"
     "--field/--form change it (owners only)",
     "field form retry", do_config},
    {"destroy", "ROOM", 1, 1, "destroy the room (owners only)",
     "reason alternate retry", do_destroy},
    {0},
};

static const char notes[] = "ROOM is ROOM@SERVICE.\n";

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

/* Someone in the room, as their presence says (§7.2.3). */
struct occupant {
    char *nick, *role, *affiliation, *jid;
    xmpp_stanza_t *presence; /* for --xml */
};

struct muc_cmd {
    struct session_opts *o;
    const struct tool_sub *sub;
    struct muc m;
    struct form_input fields;
    const char *reason, *alternate;
    char **args; /* its operands after ROOM */
    int nargs;
    struct session *s;
    struct occupant *occ;
    int nocc;
};

const struct tool tool_muc = {
    .name = "muc",
    .summary = "Manage group chat rooms",
    .opts = opts,
    .subs = subs,
    .notes = notes,
    .size = sizeof(struct muc_cmd),
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static int option(void *tool, int key, const char *arg)
{
    struct muc_cmd *mc = tool;
    int rc = 0;
    const char *why;
    switch (key) {
    case O_NICK:
        mc->m.nick = arg;
        rc = muc_check_nick(arg);
        break;
    case O_ROOM_PASSWORD_FILE: rc = muc_read_password(&mc->m, arg); break;
    case O_FIELD: rc = form_input_arg(&mc->fields, arg); break;
    case O_FORM: rc = form_input_file(&mc->fields, arg); break;
    case O_REASON: mc->reason = arg; break;
    case O_ALTERNATE:
        if ((why = jid_check(arg)))
            return fail(XE_DATA, "--alternate %s: invalid JID: %s", arg, why);
        mc->alternate = arg;
        break;
    default: return XE_USAGE;
    }
    return rc ? rc : OPTS_CONTINUE;
}

/* ---- subject ---- */

static void print_subject(struct muc_cmd *mc, struct muc_room *r)
{
    if (mc->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "subject");
        out_json_set(j, "room", r->jid);
        json_object_set_new(j, "subject", out_json_str(r->subject));
        out_json(stdout, j);
    } else if (mc->o->format == OUT_XML) {
        xmpp_stanza_t *m =
            xmpp_message_new(mc->s->ctx, "groupchat", NULL, NULL);
        xmpp_stanza_set_from(m, r->jid);
        stanza_add_text_child(m, "subject", r->subject ? r->subject : "");
        print_element(stdout, m, stream_ns(mc->s), OUT_XML);
        xmpp_stanza_release(m);
    } else if (r->subject) {
        out_text(stdout, r->subject);
        putchar('\n');
    }
}

/* §8.1: a groupchat message holding only <subject/>. The room may say
 * nothing when the subject does not change, so a round trip tells when
 * it has handled it. */
static int set_subject(struct muc_cmd *mc, struct muc_room *r, const char *text)
{
    char *id = session_id(mc->s);
    xmpp_stanza_t *m = xmpp_message_new(mc->s->ctx, "groupchat", r->jid, id);
    stanza_add_text_child(m, "subject", text);
    muc_expect(r, id);
    session_send(mc->s, m);
    xmpp_stanza_release(m);
    xmpp_free(mc->s->ctx, id);
    int rc = muc_round_trip(&mc->m, r);
    if (rc == XE_STANZA)
        fail(rc, "%s: cannot set the subject: %s", r->jid, r->why);
    return rc;
}

static int do_subject(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    struct muc_room *r = &mc->m.room[0];
    if (mc->nargs)
        return set_subject(mc, r, mc->args[0]);
    /* §7.2.15: the subject comes right after we are in. */
    while (!r->has_subject)
        if (session_step(s, 1000) != SESSION_RUNNING) {
            if (s->status == XE_TIMEOUT)
                fail(XE_TIMEOUT,
                     "%s: the room sent no subject by the "
                     "deadline",
                     r->jid);
            return s->status;
        }
    print_subject(mc, r);
    return 0;
}

/* ---- occupants ---- */

static void occupant_free(struct occupant *o)
{
    free(o->nick);
    free(o->role);
    free(o->affiliation);
    free(o->jid);
    if (o->presence)
        xmpp_stanza_release(o->presence);
}

static char *dup_attr(xmpp_stanza_t *st, const char *name)
{
    const char *v = st ? xmpp_stanza_get_attribute(st, name) : NULL;
    return v ? strdup(v) : NULL;
}

/* Keep the latest presence of each nick; drop those who left. */
static void on_occupant(struct muc *m, struct muc_room *r, xmpp_stanza_t *pres)
{
    struct muc_cmd *mc = m->ud;
    (void)r;
    const char *nick = strchr(xmpp_stanza_get_from(pres), '/') + 1;
    int i = 0;
    while (i < mc->nocc && strcmp(mc->occ[i].nick, nick))
        i++;
    if (i < mc->nocc) {
        occupant_free(&mc->occ[i]);
        mc->occ[i] = mc->occ[--mc->nocc];
    }
    const char *type = xmpp_stanza_get_type(pres);
    if (type && !strcmp(type, "unavailable"))
        return;
    struct occupant *o = realloc(mc->occ, (size_t)(mc->nocc + 1) * sizeof *o);
    if (!o)
        return;
    mc->occ = o;
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(pres, "x", NS_MUC_USER);
    xmpp_stanza_t *item = x ? xmpp_stanza_get_child_by_name(x, "item") : NULL;
    mc->occ[mc->nocc++] = (struct occupant){
        .nick = strdup(nick),
        .role = dup_attr(item, "role"),
        .affiliation = dup_attr(item, "affiliation"),
        .jid = dup_attr(item, "jid"),
        .presence = xmpp_stanza_copy(pres),
    };
}

static void print_occupant(struct muc_cmd *mc, struct occupant *o)
{
    if (mc->o->format == OUT_XML) {
        print_element(stdout, o->presence, stream_ns(mc->s), OUT_XML);
    } else if (mc->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "occupant");
        out_json_set(j, "room", mc->m.room[0].jid);
        out_json_set(j, "nick", o->nick);
        out_json_set(j, "role", o->role);
        out_json_set(j, "affiliation", o->affiliation);
        out_json_set(j, "jid", o->jid);
        out_json(stdout, j);
    } else {
        out_text(stdout, o->nick);
        putchar('\t');
        out_text(stdout, o->role);
        putchar('\t');
        out_text(stdout, o->affiliation);
        putchar('\t');
        out_text(stdout, o->jid);
        putchar('\n');
    }
}

static int by_nick(const void *a, const void *b)
{
    return strcmp(((const struct occupant *)a)->nick,
                  ((const struct occupant *)b)->nick);
}

static int do_occupants(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    (void)s;
    if (mc->nocc)
        qsort(mc->occ, (size_t)mc->nocc, sizeof *mc->occ, by_nick);
    for (int i = 0; i < mc->nocc; i++)
        print_occupant(mc, &mc->occ[i]);
    return 0;
}

/* ---- invite ---- */

/* §7.8.2: <message to=ROOM><x muc#user><invite to=JID/></x></message>,
 * one per invitee, all with one id so that a refusal of any is seen. */
static int do_invite(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    struct muc_room *r = &mc->m.room[0];
    char *id = session_id(s);
    muc_watch(&mc->m, s);
    muc_expect(r, id);
    for (int i = 0; i < mc->nargs; i++) {
        xmpp_stanza_t *m = xmpp_message_new(s->ctx, NULL, r->jid, id);
        xmpp_stanza_t *x = stanza_add_el(m, "x", NS_MUC_USER);
        xmpp_stanza_t *inv = stanza_add_el(x, "invite", NULL);
        xmpp_stanza_set_attribute(inv, "to", mc->args[i]);
        if (mc->reason)
            stanza_add_text_child(inv, "reason", mc->reason);
        session_send(s, m);
        xmpp_stanza_release(m);
    }
    xmpp_free(s->ctx, id);
    int rc = muc_round_trip(&mc->m, r);
    if (rc == XE_STANZA)
        fail(rc, "%s: invitation refused: %s", r->jid, r->why);
    return rc;
}

/* ---- create, config ---- */

/* Fill the owner form from --field/--form and submit it. */
static int configure(struct muc_cmd *mc, const char *room, bool creating)
{
    xmpp_stanza_t *reply, *form, *submit;
    int rc = muc_config_form(mc->s, room, &reply, &form);
    if (rc)
        return rc;
    /* Where the form has them: a room that outlives our leaving, and
     * the password from --room-password-file (XEP-0045 §16.5.3). */
    static const char *const defaults[][2] = {
        {"muc#roomconfig_persistentroom", "1"},
        {"muc#roomconfig_passwordprotectedroom", "1"},
        {"muc#roomconfig_roomsecret", NULL},
    };
    for (size_t i = 0; creating && i < 3; i++) {
        const char *v = defaults[i][1];
        if (i > 0 && !mc->m.password)
            break;
        if (form_has_field(form, defaults[i][0]))
            form_input_default(&mc->fields, defaults[i][0],
                               v ? v : mc->m.password);
    }
    char what[1100];
    snprintf(what, sizeof what, "%s", room);
    rc = form_fill(form, &mc->fields, true, what, &submit);
    xmpp_stanza_release(reply);
    if (!rc)
        rc = muc_config_submit(mc->s, room, submit);
    return rc;
}

static int do_create(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    struct muc_room *r = &mc->m.room[0];
    if (!r->created) {
        return fail(XE_STANZA,
                    "%s: already exists; see 'xmpp muc config' "
                    "to change it",
                    r->jid);
    }
    /* §10.1.3: a new room is locked until its owner configures it. */
    int rc = configure(mc, r->jid, true);
    if (rc && s->status == SESSION_RUNNING) {
        r->state = MUC_OUT; /* not "removed": we take it down */
        muc_destroy(s, r->jid, "configuration failed", NULL);
    }
    return rc;
}

static int do_config(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    const char *room = mc->m.room[0].jid;
    if (!form_input_empty(&mc->fields))
        return configure(mc, room, false);
    xmpp_stanza_t *reply, *form;
    int rc = muc_config_form(s, room, &reply, &form);
    if (rc)
        return rc;
    if (mc->o->format == OUT_XML) {
        print_element(stdout, form, NS_MUC_OWNER, OUT_XML);
    } else if (mc->o->format == OUT_JSON) {
        json_t *j = form_json(form);
        out_json_set(j, "kind", "form");
        json_object_set_new(j, "room", json_string(room));
        out_json(stdout, j);
    } else {
        form_print_text(stdout, form);
    }
    xmpp_stanza_release(reply);
    return 0;
}

/* ---- the job ---- */

static int do_destroy(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    return muc_destroy(s, mc->m.room[0].jid, mc->reason, mc->alternate);
}

/* Operands after ROOM: texts checked, JIDs for invite. */
static int check_args(struct muc_cmd *mc, const struct tool_sub *sub)
{
    for (int i = 0; i < mc->nargs; i++) {
        const char *a = mc->args[i];
        size_t at;
        const char *why = sub->run == do_invite ? jid_check(a)
                                                : utf8_check(a, strlen(a), &at);
        if (why)
            return fail(XE_DATA, "%s: %s", a, why);
    }
    if (mc->reason && utf8_check(mc->reason, strlen(mc->reason), &(size_t){0}))
        return fail(XE_DATA, "--reason: invalid UTF-8 or forbidden "
                             "characters");
    return 0;
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct muc_cmd *mc = tool;
    mc->o = o;
    mc->sub = a->sub;
    mc->args = a->argv + 1;
    mc->nargs = a->argc - 1;
    int rc = muc_add(&mc->m, a->argv[0]);
    return rc ? rc : check_args(mc, a->sub);
}

/* Those that act as an occupant: in the room first. */
static bool joins(const struct tool_sub *sub)
{
    return sub->run == do_subject || sub->run == do_occupants ||
           sub->run == do_create;
}

/* After a reconnect (--retry): a new session is in no room. */
static int rejoin(struct session *s, void *ud)
{
    struct muc_cmd *mc = ud;
    return joins(mc->sub) ? muc_join(&mc->m, s) : 0;
}

static int run(void *tool, struct session *s)
{
    struct muc_cmd *mc = tool;
    mc->s = s;
    s->renew = rejoin;
    s->renew_ud = mc;
    session_answer_iqs(s);
    mc->m.may_create = mc->sub->run == do_create;
    mc->m.on_presence = on_occupant;
    mc->m.ud = mc;
    int rc = joins(mc->sub) ? muc_join(&mc->m, s) : 0;
    if (!rc)
        rc = mc->sub->run(mc, s);
    muc_leave(&mc->m);
    if (!rc && s->status == SESSION_RUNNING)
        rc = session_confirm(s);
    fflush(stdout);
    for (int i = 0; i < mc->nocc; i++) /* before their ctx goes */
        occupant_free(&mc->occ[i]);
    free(mc->occ);
    mc->occ = NULL;
    mc->nocc = 0;
    return rc;
}

static void release(void *tool)
{
    struct muc_cmd *mc = tool;
    form_input_free(&mc->fields);
    muc_free(&mc->m);
}

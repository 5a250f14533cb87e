/* xmpp command: list and run ad-hoc commands (XEP-0050), filling their
 * data forms (XEP-0004) from the command line or a JSON file. */
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/net/session.h"
#include "common/xmpp/form.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/query.h"
#include "common/xmpp/stanza.h"

#define NS_COMMANDS    "http://jabber.org/protocol/commands"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* A command that keeps asking stops here (a loop, most likely). */
#define MAX_STAGES 32

enum { O_FIELD = 1000, O_FORM };

static const struct tool_opt opts[] = {
    {.help = "Options:"},
    {"field", O_FIELD, "VAR=VALUE",
     "a field's value; repeat for more fields, or for\n"
     "more values of a multi-valued field",
     OPT_REPEAT},
    {"form", O_FORM, "FILE",
     "field values from a JSON object file\n"
     "({\"VAR\": \"VALUE\" | [...] | true}; - for stdin)"},
    {.help = "Connection faults:"},
    OPTS_RETRY_ENTRY,
    {0},
};

static int do_list(void *tool, struct session *s);
static int do_show(void *tool, struct session *s);
static int do_run(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"list", "[JID]", 0, 1,
     "the commands JID offers (default: our\n"
     "server): NODE<TAB>NAME",
     "retry", do_list},
    {"show", "JID NODE", 2, 2,
     "print the form the command asks to fill in\n"
     "first, then cancel it",
     "retry", do_show},
    {"run", "JID NODE", 2, 2,
     "run the command: fill each form it sends from\n"
     "--field and --form (defaults elsewhere), print\n"
     "its notes and its result form",
     "field form retry", do_run},
    {0},
};

static const char notes[] =
    "Output: note<TAB>TYPE<TAB>TEXT and the form's lines (field<TAB>VAR<TAB>\n"
    "TYPE<TAB>VALUE<TAB>LABEL, ...; see xmpp-command(1)); --json: one object\n"
    "with jid, node, status, notes and form; --xml: the answer stanza.\n";

static int option(void *tool, int key, const char *arg);
static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static int run(void *tool, struct session *s);
static void release(void *tool);

struct command {
    struct session_opts *o;
    const struct tool_sub *sub;
    struct form_input fields;
    const char *jid, *node;
    struct session *s;
    char *sessionid;
    json_t *notes;    /* every note so far, for --json */
    char *error_note; /* the first note of type error */
    char what[1200];  /* "JID NODE", for messages */
};

const struct tool tool_command = {
    .name = "command",
    .summary = "List and run ad-hoc commands",
    .opts = opts,
    .subs = subs,
    .notes = notes,
    .size = sizeof(struct command),
    .option = option,
    .prepare = prepare,
    .run = run,
    .release = release,
};

static int option(void *tool, int key, const char *arg)
{
    struct command *cm = tool;
    int rc;
    switch (key) {
    case O_FIELD: rc = form_input_arg(&cm->fields, arg); break;
    case O_FORM: rc = form_input_file(&cm->fields, arg); break;
    default: return XE_USAGE;
    }
    return rc ? rc : OPTS_CONTINUE;
}

/* ---- list ---- */

static void print_item(struct command *cm, xmpp_stanza_t *item)
{
    const char *node = xmpp_stanza_get_attribute(item, "node");
    const char *name = xmpp_stanza_get_attribute(item, "name");
    if (cm->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "command");
        out_json_set(j, "jid", xmpp_stanza_get_attribute(item, "jid"));
        out_json_set(j, "node", node);
        out_json_set(j, "name", name);
        out_json(stdout, j);
        return;
    }
    out_text(stdout, node);
    putchar('\t');
    out_text(stdout, name);
    putchar('\n');
}

/* §3.2: the commands are the disco#items of the commands node. */
static int do_list(void *tool, struct session *s)
{
    struct command *cm = tool;
    xmpp_stanza_t *iq = xmpp_iq_new(s->ctx, "get", NULL);
    xmpp_stanza_set_to(iq, cm->jid);
    xmpp_stanza_t *q = stanza_add_el(iq, "query", NS_DISCO_ITEMS);
    xmpp_stanza_set_attribute(q, "node", NS_COMMANDS);
    xmpp_stanza_t *reply;
    int rc = session_iq(s, iq, &reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA) {
        char what[1100];
        snprintf(what, sizeof what, "%s: cannot list commands", cm->jid);
        rc = report_stanza_error(what, reply);
    }
    if (!rc && cm->o->format == OUT_XML) {
        print_element(stdout, reply, stream_ns(s), OUT_XML);
    } else if (!rc) {
        q = xmpp_stanza_get_child_by_name_and_ns(reply, "query",
                                                 NS_DISCO_ITEMS);
        for (xmpp_stanza_t *it = q ? xmpp_stanza_get_children(q) : NULL; it;
             it = xmpp_stanza_get_next(it))
            if (xmpp_stanza_is_tag(it) &&
                !strcmp(xmpp_stanza_get_name(it), "item"))
                print_item(cm, it);
    }
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

/* ---- run ---- */

/* <iq type='set'><command node action sessionid>[form]</command></iq>. */
static int execute(struct command *cm, const char *action, xmpp_stanza_t *x,
                   xmpp_stanza_t **reply)
{
    xmpp_stanza_t *iq = xmpp_iq_new(cm->s->ctx, "set", NULL);
    xmpp_stanza_set_to(iq, cm->jid);
    xmpp_stanza_t *c = stanza_add_el(iq, "command", NS_COMMANDS);
    xmpp_stanza_set_attribute(c, "node", cm->node);
    xmpp_stanza_set_attribute(c, "action", action);
    if (cm->sessionid)
        xmpp_stanza_set_attribute(c, "sessionid", cm->sessionid);
    if (x)
        xmpp_stanza_add_child_ex(c, x, 0);
    int rc = session_iq(cm->s, iq, reply);
    xmpp_stanza_release(iq);
    if (rc == XE_STANZA) {
        report_stanza_error(cm->what, *reply);
        xmpp_stanza_release(*reply);
        *reply = NULL;
    } else if (rc == XE_TIMEOUT) {
        fail(rc, "%s: no answer by the deadline", cm->what);
    }
    return rc;
}

/* §4.4: tell the command we are not going on. No answer is awaited
 * beyond what session_close() flushes. */
static void cancel(struct command *cm)
{
    if (!cm->sessionid || cm->s->status != SESSION_RUNNING)
        return;
    xmpp_stanza_t *iq = xmpp_iq_new(cm->s->ctx, "set", NULL);
    xmpp_stanza_set_to(iq, cm->jid);
    xmpp_stanza_t *c = stanza_add_el(iq, "command", NS_COMMANDS);
    xmpp_stanza_set_attribute(c, "node", cm->node);
    xmpp_stanza_set_attribute(c, "sessionid", cm->sessionid);
    xmpp_stanza_set_attribute(c, "action", "cancel");
    xmpp_stanza_t *reply;
    if (session_iq(cm->s, iq, &reply) != XE_TIMEOUT && reply)
        xmpp_stanza_release(reply);
    xmpp_stanza_release(iq);
}

/* §4.3 notes: info and warn are printed (text) or kept (JSON); the
 * first error note decides the exit status. */
static void take_notes(struct command *cm, xmpp_stanza_t *cmd)
{
    for (xmpp_stanza_t *n = xmpp_stanza_get_children(cmd); n;
         n = xmpp_stanza_get_next(n)) {
        if (!xmpp_stanza_is_tag(n) || strcmp(xmpp_stanza_get_name(n), "note"))
            continue;
        const char *type = xmpp_stanza_get_type(n);
        char *text = xmpp_stanza_get_text(n);
        if (!type)
            type = "info";
        json_t *note =
            json_pack("{s:s, s:s}", "type", type, "text", text ? text : "");
        if (note)
            json_array_append_new(cm->notes, note);
        if (!strcmp(type, "error") && !cm->error_note)
            cm->error_note = strdup(text ? text : "");
        else if (strcmp(type, "error") && cm->o->format == OUT_TEXT) {
            printf("note\t");
            out_text(stdout, type);
            putchar('\t');
            out_text(stdout, text);
            putchar('\n');
        }
        xmpp_free(cm->s->ctx, text);
    }
}

static void print_answer(struct command *cm, xmpp_stanza_t *reply,
                         xmpp_stanza_t *cmd)
{
    xmpp_stanza_t *form = form_find(cmd);
    if (cm->o->format == OUT_XML) {
        print_element(stdout, reply, stream_ns(cm->s), OUT_XML);
    } else if (cm->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "kind", "answer");
        json_object_set_new(j, "jid", json_string(cm->jid));
        json_object_set_new(j, "node", json_string(cm->node));
        const char *status = xmpp_stanza_get_attribute(cmd, "status");
        if (status)
            json_object_set_new(j, "status", json_string(status));
        json_object_set(j, "notes", cm->notes);
        if (form)
            json_object_set_new(j, "form", form_json(form));
        out_json(stdout, j);
    } else if (form) {
        form_print_text(stdout, form);
    }
}

/* The <command/> of an answer; remembers its session id. */
static xmpp_stanza_t *command_of(struct command *cm, xmpp_stanza_t *reply)
{
    xmpp_stanza_t *cmd =
        xmpp_stanza_get_child_by_name_and_ns(reply, "command", NS_COMMANDS);
    const char *sid = cmd ? xmpp_stanza_get_attribute(cmd, "sessionid") : NULL;
    if (sid && (!cm->sessionid || strcmp(sid, cm->sessionid))) {
        free(cm->sessionid);
        cm->sessionid = strdup(sid);
    }
    return cmd;
}

/* §3.4 actions: what to send next (the 'execute' default, else the
 * one way on that is offered), and whether this is the last form (no
 * "next" offered, or "complete" the default). */
static const char *next_action(xmpp_stanza_t *cmd, bool *last)
{
    xmpp_stanza_t *a = xmpp_stanza_get_child_by_name(cmd, "actions");
    const char *def = a ? xmpp_stanza_get_attribute(a, "execute") : NULL;
    bool next = a && xmpp_stanza_get_child_by_name(a, "next");
    *last = !next || (def && !strcmp(def, "complete"));
    if (def)
        return def;
    if (next)
        return "next";
    return a && xmpp_stanza_get_child_by_name(a, "complete") ? "complete"
                                                             : "execute";
}

/* One stage answered "executing": fill its form and send it on.
 * Returns 0 with *reply the next answer, or a status (printed). */
static int next_stage(struct command *cm, xmpp_stanza_t *cmd,
                      xmpp_stanza_t **reply)
{
    bool last;
    const char *action = next_action(cmd, &last);
    xmpp_stanza_t *form = form_find(cmd), *submit = NULL;
    int rc = form ? form_fill(form, &cm->fields, last, cm->what, &submit) : 0;
    if (rc)
        return rc;
    return execute(cm, action, submit, reply);
}

/* The final answer: completed (an error note makes it a failure) or
 * canceled by the other side. */
static int finished(struct command *cm, xmpp_stanza_t *reply,
                    xmpp_stanza_t *cmd, const char *status)
{
    print_answer(cm, reply, cmd);
    fflush(stdout); /* the answer, then what went wrong */
    if (cm->error_note)
        return fail(XE_STANZA, "%s: %s", cm->what, cm->error_note);
    if (!strcmp(status, "canceled"))
        return fail(XE_STANZA, "%s: the command was canceled", cm->what);
    char unused[512];
    if (form_input_unused(&cm->fields, unused, sizeof unused))
        warnx("%s: no form of the command had field %s", cm->what, unused);
    return 0;
}

static int run_stages(struct command *cm, bool show)
{
    xmpp_stanza_t *reply = NULL;
    int rc = execute(cm, "execute", NULL, &reply);
    for (int stage = 0; !rc; stage++) {
        xmpp_stanza_t *cmd = command_of(cm, reply);
        const char *status =
            cmd ? xmpp_stanza_get_attribute(cmd, "status") : NULL;
        if (!status) {
            rc = fail(XE_PROTOCOL, "%s: the answer holds no command status",
                      cm->what);
            break;
        }
        take_notes(cm, cmd);
        if (strcmp(status, "executing")) {
            rc = finished(cm, reply, cmd, status);
            break;
        }
        if (show) {
            print_answer(cm, reply, cmd);
            cancel(cm);
            break;
        }
        if (stage >= MAX_STAGES) {
            rc = fail(XE_PROTOCOL, "%s: still asking after %d forms; gave up",
                      cm->what, MAX_STAGES);
            break;
        }
        xmpp_stanza_t *next = NULL;
        if ((rc = next_stage(cm, cmd, &next)))
            cancel(cm);
        xmpp_stanza_release(reply);
        reply = next;
    }
    if (reply)
        xmpp_stanza_release(reply);
    return rc;
}

/* ---- the job ---- */

static int do_show(void *tool, struct session *s)
{
    (void)s;
    return run_stages(tool, true);
}

static int do_run(void *tool, struct session *s)
{
    (void)s;
    return run_stages(tool, false);
}

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct command *cm = tool;
    cm->o = o;
    cm->sub = a->sub;
    cm->jid = a->argc ? a->argv[0] : NULL;
    cm->node = a->argc > 1 ? a->argv[1] : NULL;
    const char *why = cm->jid ? jid_check(cm->jid) : NULL;
    if (why)
        return fail(XE_DATA, "%s: invalid JID: %s", cm->jid, why);
    size_t at;
    if (cm->node && (!*cm->node || utf8_check(cm->node, strlen(cm->node), &at)))
        return fail(XE_DATA, "'%s': not a command node", cm->node);
    if (!(cm->notes = json_array()))
        return fail_oom(NULL);
    snprintf(cm->what, sizeof cm->what, "%s %s", cm->jid ? cm->jid : "",
             cm->node ? cm->node : "");
    return 0;
}

/* Our server's domain, for list without a JID. */
static const char *server_of(struct session *s)
{
    static char domain[1100];
    const char *at = strchr(s->creds.jid, '@');
    const char *d = at ? at + 1 : s->creds.jid;
    snprintf(domain, sizeof domain, "%.*s", (int)jid_bare_len(d), d);
    return domain;
}

static int run(void *tool, struct session *s)
{
    struct command *cm = tool;
    cm->s = s;
    session_answer_iqs(s);
    if (!cm->jid)
        cm->jid = server_of(s);
    int rc = cm->sub->run(cm, s);
    fflush(stdout);
    return rc;
}

static void release(void *tool)
{
    struct command *cm = tool;
    json_decref(cm->notes);
    free(cm->error_note);
    free(cm->sessionid);
    form_input_free(&cm->fields);
}

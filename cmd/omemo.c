/* xmpp omemo: the account's OMEMO identity (XEP-0384 v0.3): publish it,
 * show its fingerprint, list and verify the devices of contacts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/output.h"
#include "common/net/session.h"
#include "common/omemo/omemo.h"
#include "common/xmpp/jid.h"

static int run_publish(void *tool, struct session *s);
static int run_fingerprint(void *tool, struct session *s);
static int run_devices(void *tool, struct session *s);
static int run_trust(void *tool, struct session *s);
static int run_distrust(void *tool, struct session *s);
static int run_remove(void *tool, struct session *s);

static const struct tool_sub subs[] = {
    {"publish", "", 0, 0,
     "make our identity if there is none and\n"
     "publish our device and bundles (OMEMO 0.3\n"
     "and 2); prints DEVICE<TAB>FINGERPRINT",
     "", run_publish},
    {"fingerprint", "", 0, 0, "our identity key as clients show it", "",
     run_fingerprint},
    {"devices", "[JID]", 0, 1,
     "the devices JID (default: us) announces:\n"
     "DEVICE<TAB>TRUST<TAB>FINGERPRINT<TAB>GENS\n"
     "(GENS: omemo, omemo2 or omemo,omemo2)",
     "", run_devices},
    {"trust", "JID FINGERPRINT", 2, 2,
     "mark a device verified (the fingerprint as\n"
     "'devices' shows it, spaces optional)",
     "", run_trust},
    {"distrust", "JID FINGERPRINT", 2, 2, "never encrypt for that device again",
     "", run_distrust},
    {"remove-device", "ID", 1, 1, "take one of our devices off our lists", "",
     run_remove},
    {0},
};

static const char notes[] =
    "Trust: a contact's devices are trusted blindly until one of them is\n"
    "verified with 'trust'; from then on only verified ones (xmpp-omemo(1)).\n"
    "Keys: $XDG_DATA_HOME/xmpp/omemo/JID.db (else ~/.local/share/...).\n";

struct omemo_cmd {
    struct session_opts *o;
    char **args;
    int nargs;
    struct omemo *om;
};

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a);
static void release(void *tool);

const struct tool tool_omemo = {
    .name = "omemo",
    .summary = "End-to-end encryption keys (OMEMO)",
    .subs = subs,
    .notes = notes,
    .size = sizeof(struct omemo_cmd),
    .prepare = prepare,
    .release = release,
};

static int prepare(void *tool, struct session_opts *o,
                   const struct tool_args *a)
{
    struct omemo_cmd *c = tool;
    c->o = o;
    c->args = a->argv;
    c->nargs = a->argc;
    if (o->component)
        return fail(XE_USAGE, "OMEMO needs a client account, not --component");
    if (!strcmp(a->sub->name, "remove-device")) {
        char *end;
        unsigned long id = strtoul(a->argv[0], &end, 10);
        if (*end || !id || id > 0x7fffffff)
            return fail(XE_USAGE, "%s: not a device id (1 to 2147483647)",
                        a->argv[0]);
    }
    for (int i = 0; i < a->argc && strcmp(a->sub->name, "remove-device"); i++) {
        const char *why = i == 0 ? jid_check(a->argv[0]) : NULL;
        if (why)
            return fail(XE_DATA, "%s: invalid JID: %s", a->argv[0], why);
    }
    return 0;
}

static int open_store(struct omemo_cmd *c, struct session *s, bool create)
{
    return omemo_open(&c->om, s->creds.jid, create);
}

/* One line: DEVICE<TAB>FINGERPRINT, or its JSON object. */
static void print_identity(struct omemo_cmd *c, struct session *s)
{
    char fpr[OMEMO_FPR_LEN], dev[16];
    omemo_own_fingerprint(c->om, fpr);
    snprintf(dev, sizeof dev, "%u", omemo_device_id(c->om));
    if (c->o->format == OUT_JSON) {
        json_t *j = json_object();
        out_json_set(j, "jid", s->creds.jid);
        json_object_set_new(j, "device", json_integer(omemo_device_id(c->om)));
        out_json_set(j, "fingerprint", fpr);
        out_json(stdout, j);
    } else {
        const char *f[] = {dev, fpr};
        print_fields(stdout, 2, f);
    }
}

static int run_publish(void *tool, struct session *s)
{
    struct omemo_cmd *c = tool;
    int rc = open_store(c, s, true);
    if (!rc && !(rc = omemo_publish(c->om, s)))
        print_identity(c, s);
    return rc;
}

static int run_fingerprint(void *tool, struct session *s)
{
    struct omemo_cmd *c = tool;
    char fpr[OMEMO_FPR_LEN];
    int rc = open_store(c, s, false);
    if (rc)
        return rc;
    if (c->o->format == OUT_JSON) {
        print_identity(c, s);
    } else {
        omemo_own_fingerprint(c->om, fpr);
        puts(fpr);
    }
    return 0;
}

static void print_device(struct omemo_cmd *c, const char *jid,
                         const struct omemo_device *d)
{
    char dev[16];
    const char *trust = d->own ? "own" : omemo_trust_name(d->trust);
    const char *gens = d->gens == (OMEMO_V03 | OMEMO_V2) ? "omemo,omemo2"
                       : d->gens == OMEMO_V2             ? "omemo2"
                                                         : "omemo";
    snprintf(dev, sizeof dev, "%u", d->id);
    if (c->o->format == OUT_JSON) {
        json_t *j = json_object(), *g = json_array();
        out_json_set(j, "jid", jid);
        json_object_set_new(j, "device", json_integer(d->id));
        out_json_set(j, "fingerprint", *d->fpr ? d->fpr : NULL);
        out_json_set(j, "trust", trust);
        json_object_set_new(j, "own", json_boolean(d->own));
        if (d->gens & OMEMO_V03)
            json_array_append_new(g, json_string("omemo"));
        if (d->gens & OMEMO_V2)
            json_array_append_new(g, json_string("omemo2"));
        json_object_set_new(j, "generations", g);
        out_json(stdout, j);
    } else {
        const char *f[] = {dev, trust, d->fpr, gens};
        print_fields(stdout, 4, f);
    }
}

static int run_devices(void *tool, struct session *s)
{
    struct omemo_cmd *c = tool;
    char *bare = strndup(c->nargs ? c->args[0] : s->creds.jid,
                         jid_bare_len(c->nargs ? c->args[0] : s->creds.jid));
    struct omemo_device *d = NULL;
    size_t n = 0;
    int rc = bare ? open_store(c, s, true) : fail_oom(NULL);
    if (!rc)
        rc = omemo_devices(c->om, s, bare, &d, &n);
    for (size_t i = 0; !rc && i < n; i++)
        print_device(c, bare, &d[i]);
    free(d);
    free(bare);
    return rc;
}

static int set_trust(struct omemo_cmd *c, struct session *s, enum omemo_trust t)
{
    int rc = open_store(c, s, true);
    return rc ? rc : omemo_set_trust(c->om, c->args[0], c->args[1], t);
}

static int run_trust(void *tool, struct session *s)
{
    return set_trust(tool, s, OMEMO_VERIFIED);
}

static int run_distrust(void *tool, struct session *s)
{
    return set_trust(tool, s, OMEMO_DISTRUSTED);
}

static int run_remove(void *tool, struct session *s)
{
    struct omemo_cmd *c = tool;
    int rc = open_store(c, s, false);
    return rc ? rc
              : omemo_remove_device(c->om, s,
                                    (uint32_t)strtoul(c->args[0], NULL, 10));
}

static void release(void *tool)
{
    struct omemo_cmd *c = tool;
    omemo_close(c->om);
}

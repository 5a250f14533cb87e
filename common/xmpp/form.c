#include "common/xmpp/form.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/io/input.h"
#include "common/io/output.h"
#include "common/io/utf8.h"
#include "common/xmpp/jid.h"
#include "common/xmpp/stanza.h"

/* ---- what the user gave ---- */

static struct form_value *find_value(struct form_input *in, const char *var)
{
    for (size_t i = 0; i < in->n; i++)
        if (!strcmp(in->f[i].var, var))
            return &in->f[i];
    return NULL;
}

static void clear_values(struct form_value *fv)
{
    for (size_t i = 0; i < fv->n; i++)
        free(fv->v[i]);
    free(fv->v);
    fv->v = NULL;
    fv->n = 0;
}

static struct form_value *new_value(struct form_input *in, const char *var)
{
    struct form_value *f = realloc(in->f, (in->n + 1) * sizeof *f);
    if (!f)
        return NULL;
    in->f = f;
    f = &in->f[in->n];
    *f = (struct form_value){.var = strdup(var)};
    if (!f->var)
        return NULL;
    in->n++;
    return f;
}

static int push_value(struct form_value *fv, const char *s)
{
    char **v = realloc(fv->v, (fv->n + 1) * sizeof *v);
    if (!v)
        return -1;
    fv->v = v;
    if (!(v[fv->n] = strdup(s)))
        return -1;
    fv->n++;
    return 0;
}

static int check_text(const char *what, const char *var, const char *s)
{
    size_t at;
    const char *why = utf8_check(s, strlen(s), &at);
    if (why)
        return fail(XE_DATA, "%s %s: %s at byte %zu", what, var, why, at);
    return 0;
}

int form_input_arg(struct form_input *in, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return fail(XE_USAGE, "--field %s: give VAR=VALUE", arg);
    char *var = strndup(arg, (size_t)(eq - arg));
    if (!var)
        return fail_oom(NULL);
    int rc =
        check_text("--field", var, var) || check_text("--field", var, eq + 1);
    struct form_value *fv = rc ? NULL : find_value(in, var);
    if (!rc && fv && fv->from_file) {
        clear_values(fv);
        fv->from_file = false;
    }
    if (!rc && !fv)
        fv = new_value(in, var);
    if (!rc && (!fv || push_value(fv, eq + 1) < 0))
        rc = fail_oom(NULL);
    free(var);
    return rc ? XE_DATA : 0;
}

/* A JSON scalar as field value text: booleans as XEP-0004 wants them. */
static const char *json_value_text(json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "1";
    if (json_is_false(v))
        return "0";
    if (json_is_integer(v))
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.17g", json_real_value(v));
    else
        return NULL;
    return buf;
}

static int add_json_field(struct form_input *in, const char *path,
                          const char *var, json_t *val)
{
    struct form_value *fv = find_value(in, var);
    if (fv) /* --field came first and wins */
        return 0;
    if (check_text(path, var, var) || !(fv = new_value(in, var)))
        return XE_DATA;
    fv->from_file = true;
    size_t n = json_is_array(val) ? json_array_size(val) : 1;
    for (size_t i = 0; !json_is_null(val) && i < n; i++) {
        json_t *item = json_is_array(val) ? json_array_get(val, i) : val;
        char num[64];
        const char *s = json_value_text(item, num, sizeof num);
        if (!s)
            return fail(XE_DATA,
                        "%s: field %s: give a string, number, "
                        "boolean, null or an array of them",
                        path, var);
        if (check_text(path, var, s))
            return XE_DATA;
        if (push_value(fv, s) < 0)
            return fail_oom(NULL);
    }
    return 0;
}

int form_input_file(struct form_input *in, const char *path)
{
    char *buf;
    size_t len;
    int rc = input_read(path, INPUT_MAX_DEFAULT, &buf, &len);
    if (rc)
        return rc;
    const char *name = strcmp(path, "-") ? path : "stdin";
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    free(buf);
    if (!root)
        return fail(XE_DATA, "%s: line %d, column %d: %s", name, err.line,
                    err.column, err.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(XE_DATA,
                    "%s: give a JSON object of field values "
                    "({\"VAR\": \"VALUE\"})",
                    name);
    }
    const char *var;
    json_t *val;
    json_object_foreach(root, var, val)
    {
        if ((rc = add_json_field(in, name, var, val)))
            break;
    }
    json_decref(root);
    return rc;
}

int form_input_default(struct form_input *in, const char *var,
                       const char *value)
{
    if (find_value(in, var))
        return 0;
    struct form_value *fv = new_value(in, var);
    if (!fv || push_value(fv, value) < 0)
        return fail_oom(NULL);
    return 0;
}

bool form_input_empty(const struct form_input *in)
{
    return in->n == 0;
}

void form_input_free(struct form_input *in)
{
    for (size_t i = 0; i < in->n; i++) {
        clear_values(&in->f[i]);
        free(in->f[i].var);
    }
    free(in->f);
    in->f = NULL;
    in->n = 0;
}

const char *form_input_unused(const struct form_input *in, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < in->n; i++)
        if (!in->f[i].used && used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%s",
                                     used ? ", " : "", in->f[i].var);
    return used ? buf : NULL;
}

/* ---- reading forms ---- */

xmpp_stanza_t *form_find(xmpp_stanza_t *parent)
{
    return parent ? xmpp_stanza_get_child_by_name_and_ns(parent, "x", NS_DATA)
                  : NULL;
}

static bool is_named(xmpp_stanza_t *st, const char *name)
{
    const char *n = xmpp_stanza_is_tag(st) ? xmpp_stanza_get_name(st) : NULL;
    return n && !strcmp(n, name);
}

/* XEP-0004 §3.3: a field without a type is text-single. */
static const char *field_type(xmpp_stanza_t *field)
{
    const char *t = xmpp_stanza_get_type(field);
    return t ? t : "text-single";
}

static bool single_valued(const char *type)
{
    return strcmp(type, "jid-multi") && strcmp(type, "list-multi") &&
           strcmp(type, "text-multi");
}

bool form_has_field(xmpp_stanza_t *form, const char *var)
{
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(form); f;
         f = xmpp_stanza_get_next(f)) {
        const char *v = xmpp_stanza_get_attribute(f, "var");
        if (is_named(f, "field") && v && !strcmp(v, var))
            return true;
    }
    return false;
}

/* ---- filling ---- */

/* XEP-0004 §3.3 boolean: accept what people type, send 1 or 0. */
static const char *boolean_value(const char *s)
{
    static const char *const yes[] = {"1", "true", "yes", "on", NULL};
    static const char *const no[] = {"0", "false", "no", "off", NULL};
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(s, yes[i]))
            return "1";
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(s, no[i]))
            return "0";
    return NULL;
}

static bool has_option(xmpp_stanza_t *field, const char *value, bool *any)
{
    *any = false;
    for (xmpp_stanza_t *o = xmpp_stanza_get_children(field); o;
         o = xmpp_stanza_get_next(o)) {
        if (!is_named(o, "option"))
            continue;
        *any = true;
        char *v = stanza_child_text(o, "value");
        bool same = v && !strcmp(v, value);
        xmpp_free(xmpp_stanza_get_context(field), v);
        if (same)
            return true;
    }
    return false;
}

/* The option values of a list field, as "a, b, c", for a message. */
static void list_options(xmpp_stanza_t *field, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (xmpp_stanza_t *o = xmpp_stanza_get_children(field); o && used < n;
         o = xmpp_stanza_get_next(o)) {
        if (!is_named(o, "option"))
            continue;
        char *v = stanza_child_text(o, "value");
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
                                 v ? v : "");
        xmpp_free(xmpp_stanza_get_context(field), v);
    }
}

/* Check one value against the field and append it to out. */
static int add_checked(xmpp_stanza_t *field, xmpp_stanza_t *out,
                       const char *what, const char *var, const char *v)
{
    const char *type = field_type(field);
    const char *why;
    bool any;
    char opts[512];
    if (!strcmp(type, "boolean")) {
        const char *b = boolean_value(v);
        if (!b)
            return fail(XE_DATA,
                        "%s: field %s: '%s' is not a boolean; give "
                        "true or false",
                        what, var, v);
        v = b;
    } else if (!strncmp(type, "jid-", 4) && (why = jid_check(v))) {
        return fail(XE_DATA, "%s: field %s: '%s' is not a JID: %s", what, var,
                    v, why);
    } else if (!strncmp(type, "list-", 5) && !has_option(field, v, &any) &&
               any) {
        list_options(field, opts, sizeof opts);
        return fail(XE_DATA, "%s: field %s: '%s' is not one of: %s", what, var,
                    v, opts);
    }
    stanza_add_text_child(out, "value", v);
    return 0;
}

/* text-multi: each line is a value of its own (§3.3). */
static int add_lines(xmpp_stanza_t *field, xmpp_stanza_t *out, const char *what,
                     const char *var, const char *v)
{
    char *copy = strdup(v), *save = NULL;
    int rc = copy ? 0 : fail_oom(NULL);
    const char *line = copy ? strtok_r(copy, "\n", &save) : NULL;
    for (; !rc && line; line = strtok_r(NULL, "\n", &save))
        rc = add_checked(field, out, what, var, line);
    free(copy);
    return rc;
}

/* Give the submitted field `out` the user's values for it. */
static int fill_user_values(xmpp_stanza_t *field, xmpp_stanza_t *out,
                            struct form_value *fv, const char *what)
{
    const char *type = field_type(field);
    if (fv->n > 1 && single_valued(type))
        return fail(XE_USAGE, "%s: field %s (%s) takes one value, not %zu",
                    what, fv->var, type, fv->n);
    fv->used = true;
    for (size_t i = 0; i < fv->n; i++) {
        int rc = !strcmp(type, "text-multi")
                     ? add_lines(field, out, what, fv->var, fv->v[i])
                     : add_checked(field, out, what, fv->var, fv->v[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* Copy the form's own values (its defaults) into out. */
static void fill_defaults(xmpp_stanza_t *field, xmpp_stanza_t *out)
{
    for (xmpp_stanza_t *v = xmpp_stanza_get_children(field); v;
         v = xmpp_stanza_get_next(v))
        if (is_named(v, "value"))
            xmpp_stanza_add_child_ex(out, xmpp_stanza_copy(v), 0);
}

static int missing_required(xmpp_stanza_t *field, const char *what,
                            const char *var)
{
    const char *label = xmpp_stanza_get_attribute(field, "label");
    return fail(XE_USAGE,
                "%s: field %s%s%s%s is required; give --field "
                "%s=VALUE",
                what, var, label ? " (" : "", label ? label : "",
                label ? ")" : "", var);
}

static int fill_field(xmpp_stanza_t *field, xmpp_stanza_t *x,
                      struct form_input *in, const char *what)
{
    const char *var = xmpp_stanza_get_attribute(field, "var");
    const char *type = field_type(field);
    if (!var || !strcmp(type, "fixed"))
        return 0;
    xmpp_stanza_t *out = stanza_add_el(x, "field", NULL);
    xmpp_stanza_set_attribute(out, "var", var);
    if (xmpp_stanza_get_type(field))
        xmpp_stanza_set_type(out, type);
    struct form_value *fv = find_value(in, var);
    int rc = 0;
    if (fv)
        rc = fill_user_values(field, out, fv, what);
    else
        fill_defaults(field, out);
    if (!rc && xmpp_stanza_get_child_by_name(field, "required") &&
        !xmpp_stanza_get_child_by_name(out, "value"))
        rc = missing_required(field, what, var);
    return rc;
}

int form_fill(xmpp_stanza_t *form, struct form_input *in, bool strict,
              const char *what, xmpp_stanza_t **out)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(form);
    xmpp_stanza_t *x = stanza_new_el(ctx, "x", NS_DATA);
    xmpp_stanza_set_type(x, "submit");
    int rc = 0;
    for (xmpp_stanza_t *f = xmpp_stanza_get_children(form); f && !rc;
         f = xmpp_stanza_get_next(f))
        if (is_named(f, "field"))
            rc = fill_field(f, x, in, what);
    char unused[512];
    if (!rc && strict && form_input_unused(in, unused, sizeof unused))
        rc = fail(XE_USAGE, "%s: the form has no field %s", what, unused);
    if (rc) {
        xmpp_stanza_release(x);
        x = NULL;
    }
    *out = x;
    return rc;
}

xmpp_stanza_t *form_submit_new(xmpp_ctx_t *ctx, const char *form_type)
{
    xmpp_stanza_t *x = stanza_new_el(ctx, "x", NS_DATA);
    xmpp_stanza_set_type(x, "submit");
    if (form_type) {
        form_add_value(x, "FORM_TYPE", form_type);
        xmpp_stanza_set_type(xmpp_stanza_get_child_by_name(x, "field"),
                             "hidden");
    }
    return x;
}

void form_add_value(xmpp_stanza_t *x, const char *var, const char *value)
{
    xmpp_stanza_t *f = stanza_add_el(x, "field", NULL);
    xmpp_stanza_set_attribute(f, "var", var);
    stanza_add_text_child(f, "value", value);
}

xmpp_stanza_t *form_from_input(xmpp_ctx_t *ctx, const char *form_type,
                               struct form_input *in)
{
    xmpp_stanza_t *x = form_submit_new(ctx, form_type);
    for (size_t i = 0; i < in->n; i++) {
        xmpp_stanza_t *f = stanza_add_el(x, "field", NULL);
        xmpp_stanza_set_attribute(f, "var", in->f[i].var);
        for (size_t j = 0; j < in->f[i].n; j++)
            stanza_add_text_child(f, "value", in->f[i].v[j]);
        in->f[i].used = true;
    }
    return x;
}

/* ---- printing ---- */

static void tab_text(FILE *f, const char *s)
{
    putc('\t', f);
    out_text(f, s);
}

static void print_child_lines(FILE *f, xmpp_stanza_t *x, const char *name)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c;
         c = xmpp_stanza_get_next(c)) {
        if (!is_named(c, name))
            continue;
        char *t = xmpp_stanza_get_text(c);
        fputs(name, f);
        tab_text(f, t ? t : "");
        putc('\n', f);
        xmpp_free(xmpp_stanza_get_context(x), t);
    }
}

static void print_field_line(FILE *f, xmpp_stanza_t *field, const char *v)
{
    const char *var = xmpp_stanza_get_attribute(field, "var");
    const char *label = xmpp_stanza_get_attribute(field, "label");
    fputs("field", f);
    tab_text(f, var ? var : "");
    tab_text(f, field_type(field));
    tab_text(f, v ? v : "");
    tab_text(f, label ? label : "");
    fputs(xmpp_stanza_get_child_by_name(field, "required") ? " (required)\n"
                                                           : "\n",
          f);
}

static void print_field(FILE *f, xmpp_stanza_t *field)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(field);
    const char *var = xmpp_stanza_get_attribute(field, "var");
    if (!strcmp(field_type(field), "hidden"))
        return;
    int values = 0;
    xmpp_stanza_t *c;
    for (c = xmpp_stanza_get_children(field); c; c = xmpp_stanza_get_next(c)) {
        if (!is_named(c, "value"))
            continue;
        char *v = xmpp_stanza_get_text(c);
        print_field_line(f, field, v);
        xmpp_free(ctx, v);
        values++;
    }
    if (!values)
        print_field_line(f, field, NULL);
    for (c = xmpp_stanza_get_children(field); c; c = xmpp_stanza_get_next(c)) {
        if (!is_named(c, "option"))
            continue;
        char *v = stanza_child_text(c, "value");
        const char *olabel = xmpp_stanza_get_attribute(c, "label");
        fputs("option", f);
        tab_text(f, var ? var : "");
        tab_text(f, v ? v : "");
        tab_text(f, olabel ? olabel : "");
        putc('\n', f);
        xmpp_free(ctx, v);
    }
}

static void print_items(FILE *f, xmpp_stanza_t *x)
{
    int n = 0;
    for (xmpp_stanza_t *item = xmpp_stanza_get_children(x); item;
         item = xmpp_stanza_get_next(item)) {
        if (!is_named(item, "item"))
            continue;
        n++;
        for (xmpp_stanza_t *fl = xmpp_stanza_get_children(item); fl;
             fl = xmpp_stanza_get_next(fl)) {
            if (!is_named(fl, "field"))
                continue;
            const char *var = xmpp_stanza_get_attribute(fl, "var");
            for (xmpp_stanza_t *v = xmpp_stanza_get_children(fl); v;
                 v = xmpp_stanza_get_next(v)) {
                if (!is_named(v, "value"))
                    continue;
                char *t = xmpp_stanza_get_text(v);
                fprintf(f, "item\t%d", n);
                tab_text(f, var ? var : "");
                tab_text(f, t ? t : "");
                putc('\n', f);
                xmpp_free(xmpp_stanza_get_context(x), t);
            }
        }
    }
}

void form_print_text(FILE *f, xmpp_stanza_t *x)
{
    print_child_lines(f, x, "title");
    print_child_lines(f, x, "instructions");
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c;
         c = xmpp_stanza_get_next(c))
        if (is_named(c, "field"))
            print_field(f, c);
    print_items(f, x);
}

/* A stanza's text as a new JSON string (NULL when it has none). */
static json_t *json_text(xmpp_stanza_t *st)
{
    char *t = st ? xmpp_stanza_get_text(st) : NULL;
    json_t *j = t ? json_string(t) : NULL;
    if (t)
        xmpp_free(xmpp_stanza_get_context(st), t);
    return j;
}

static void set_attr(json_t *o, const char *key, xmpp_stanza_t *st,
                     const char *attr)
{
    const char *v = xmpp_stanza_get_attribute(st, attr);
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static json_t *values_json(xmpp_stanza_t *field)
{
    json_t *a = json_array();
    for (xmpp_stanza_t *v = xmpp_stanza_get_children(field); v;
         v = xmpp_stanza_get_next(v)) {
        json_t *s = is_named(v, "value") ? json_text(v) : NULL;
        if (is_named(v, "value"))
            json_array_append_new(a, s ? s : json_string(""));
    }
    return a;
}

static json_t *field_json(xmpp_stanza_t *field, bool full)
{
    json_t *o = json_object();
    set_attr(o, "var", field, "var");
    json_object_set_new(o, "type", json_string(field_type(field)));
    set_attr(o, "label", field, "label");
    if (!full)
        return o;
    json_t *desc = json_text(xmpp_stanza_get_child_by_name(field, "desc"));
    if (desc)
        json_object_set_new(o, "desc", desc);
    json_object_set_new(
        o, "required",
        json_boolean(xmpp_stanza_get_child_by_name(field, "required")));
    json_object_set_new(o, "values", values_json(field));
    json_t *opts = json_array();
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(field); c;
         c = xmpp_stanza_get_next(c)) {
        if (!is_named(c, "option"))
            continue;
        json_t *opt = json_object();
        json_t *v = json_text(xmpp_stanza_get_child_by_name(c, "value"));
        json_object_set_new(opt, "value", v ? v : json_string(""));
        set_attr(opt, "label", c, "label");
        json_array_append_new(opts, opt);
    }
    if (json_array_size(opts))
        json_object_set_new(o, "options", opts);
    else
        json_decref(opts);
    return o;
}

static json_t *item_json(xmpp_stanza_t *item)
{
    json_t *o = json_object();
    for (xmpp_stanza_t *fl = xmpp_stanza_get_children(item); fl;
         fl = xmpp_stanza_get_next(fl)) {
        const char *var = xmpp_stanza_get_attribute(fl, "var");
        if (is_named(fl, "field") && var)
            json_object_set_new(o, var, values_json(fl));
    }
    return o;
}

/* The texts of every child called name, joined by newlines. */
static json_t *joined_text(xmpp_stanza_t *x, const char *name)
{
    json_t *acc = NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c;
         c = xmpp_stanza_get_next(c)) {
        json_t *t = is_named(c, name) ? json_text(c) : NULL;
        if (!t)
            continue;
        if (!acc) {
            acc = t;
            continue;
        }
        char *both = NULL;
        if (asprintf(&both, "%s\n%s", json_string_value(acc),
                     json_string_value(t)) >= 0)
            json_string_set(acc, both);
        free(both);
        json_decref(t);
    }
    return acc;
}

json_t *form_json(xmpp_stanza_t *x)
{
    json_t *o = json_object(), *fields = json_array(), *items = json_array();
    json_t *reported = NULL;
    set_attr(o, "type", x, "type");
    json_t *title = joined_text(x, "title");
    json_t *instr = joined_text(x, "instructions");
    if (title)
        json_object_set_new(o, "title", title);
    if (instr)
        json_object_set_new(o, "instructions", instr);
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c;
         c = xmpp_stanza_get_next(c)) {
        if (is_named(c, "field"))
            json_array_append_new(fields, field_json(c, true));
        else if (is_named(c, "item"))
            json_array_append_new(items, item_json(c));
        else if (is_named(c, "reported") && !reported) {
            reported = json_array();
            for (xmpp_stanza_t *f = xmpp_stanza_get_children(c); f;
                 f = xmpp_stanza_get_next(f))
                if (is_named(f, "field"))
                    json_array_append_new(reported, field_json(f, false));
        }
    }
    json_object_set_new(o, "fields", fields);
    if (reported)
        json_object_set_new(o, "reported", reported);
    if (json_array_size(items))
        json_object_set_new(o, "items", items);
    else
        json_decref(items);
    return o;
}

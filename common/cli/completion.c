#include "common/cli/completion.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"
#include "common/cli/options.h"
#include "common/cli/tool.h"
#include "common/cli/version.h"

/* One option as a shell sees it. */
struct spec {
    const char *lng;    /* "message"; NULL: short only */
    char shrt;          /* 'm'; 0: long only */
    bool arg;           /* takes a value */
    bool repeat;        /* may be given again */
    const char *values; /* the values it takes, space-separated; or NULL */
    char argname[24];   /* the placeholder: FILE, JID, ... */
    char desc[200];     /* its help on one line */
};

#define MAX_SPECS 96

static int add_table(struct spec *s, int n, const struct tool_opt *opts)
{
    for (const struct tool_opt *o = opts; o && (o->name || o->key || o->help);
         o++) {
        if (opts_is_heading(o) || n >= MAX_SPECS)
            continue;
        struct spec *sp = &s[n++];
        *sp = (struct spec){.lng = o->name,
                            .arg = o->arg != NULL,
                            .repeat = o->flags & OPT_REPEAT,
                            .values = o->values};
        if (o->key > 0 && o->key < 128 && isalnum(o->key))
            sp->shrt = (char)o->key;
        snprintf(sp->argname, sizeof sp->argname, "%s", o->arg ? o->arg : "");
        snprintf(sp->desc, sizeof sp->desc, "%s", o->help ? o->help : "");
        for (char *c = sp->desc; (c = strchr(c, '\n'));)
            *c = ' ';
    }
    return n;
}

static int tool_specs(const struct tool *t, struct spec *s)
{
    return add_table(s, add_table(s, 0, t->opts), opts_common());
}

/* What a value is, from its placeholder: f file, d directory, c
 * command, w one of the option's values, - anything (nothing to
 * offer). */
static char arg_kind(const struct spec *o)
{
    if (!o->arg)
        return 0;
    if (o->values)
        return 'w';
    if (strstr(o->argname, "FILE"))
        return 'f';
    if (strstr(o->argname, "DIR"))
        return 'd';
    if (!strcmp(o->argname, "CMD") || !strcmp(o->argname, "COMMAND"))
        return 'c';
    return '-';
}

/* The operand a synopsis names outside brackets ("JID" in "[options]
 * JID... [-m TEXT]"), into buf; false when it names none. */
static bool operand_name(const char *synopsis, char *buf, size_t n)
{
    int depth = 0;
    for (const char *p = synopsis; p && *p; p++) {
        if (*p == '[')
            depth++;
        else if (*p == ']')
            depth--;
        else if (depth == 0 && isalpha((unsigned char)*p) &&
                 (p == synopsis || p[-1] == ' ')) {
            size_t len = strcspn(p, " .[|");
            snprintf(buf, n, "%.*s", (int)len, p);
            return true;
        }
    }
    return false;
}

/* ---- bash ---- */

static void bash_opts(FILE *f, const struct tool *t, const struct spec *s,
                      int n)
{
    fprintf(f, "    %s) echo '", t->name);
    for (int i = 0; i < n; i++) {
        if (s[i].lng)
            fprintf(f, "%s--%s", i ? " " : "", s[i].lng);
        if (s[i].shrt)
            fprintf(f, " -%c", s[i].shrt);
    }
    fprintf(f, "' ;;\n");
}

static void bash_args(FILE *f, const struct tool *t, const struct spec *s,
                      int n)
{
    for (int i = 0; i < n; i++) {
        char kind = arg_kind(&s[i]);
        if (!kind)
            continue;
        fprintf(f, "    ");
        if (s[i].lng)
            fprintf(f, "%s:--%s", t->name, s[i].lng);
        if (s[i].shrt)
            fprintf(f, "%s%s:-%c", s[i].lng ? "|" : "", t->name, s[i].shrt);
        if (kind == 'w')
            fprintf(f, ") echo 'w %s' ;;\n", s[i].values);
        else
            fprintf(f, ") echo %c ;;\n", kind);
    }
}

/* The subcommands of tools that have them. */
static void bash_subs(FILE *f, const struct tool *t)
{
    if (!t->subs)
        return;
    fprintf(f, "    %s) echo '", t->name);
    for (const struct tool_sub *c = t->subs; c->name; c++)
        fprintf(f, "%s%s", c == t->subs ? "" : " ", c->name);
    fprintf(f, "' ;;\n");
}

static const char bash_main[] =
    "# Has a subcommand of tool $1 been typed before the current word?\n"
    "_xmpp_sub_given() {\n"
    "    local subs=\" $(_xmpp_subs \"$1\") \" i\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        [[ $subs == *\" ${COMP_WORDS[i]} \"* ]] && return 0\n"
    "    done\n"
    "    return 1\n"
    "}\n\n"
    "_xmpp() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev= tool\n"
    "    local cmd=${COMP_WORDS[0]##*/}\n"
    "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
    "    COMPREPLY=()\n"
    "    # --opt=VALUE: bash splits the word at '='.\n"
    "    if [[ $cur == = ]]; then\n"
    "        cur=\n"
    "    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
    "        prev=${COMP_WORDS[COMP_CWORD - 2]}\n"
    "    fi\n"
    "    if [[ $cmd == xmpp-* ]]; then\n"
    "        tool=${cmd#xmpp-}\n"
    "    elif ((COMP_CWORD == 1)); then\n"
    "        mapfile -t COMPREPLY < <(compgen -W \"$_xmpp_tools --help "
    "--version --completion\" -- \"$cur\")\n"
    "        return 0\n"
    "    else\n"
    "        tool=${COMP_WORDS[1]}\n"
    "    fi\n"
    "    if [[ $tool == --completion ]]; then\n"
    "        ((COMP_CWORD == 2)) &&\n"
    "            mapfile -t COMPREPLY < <(compgen -W 'bash zsh' -- \"$cur\")\n"
    "        return 0\n"
    "    fi\n"
    "    case $(_xmpp_arg \"$tool\" \"$prev\") in\n"
    "    f) compopt -o filenames 2>/dev/null\n"
    "       mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
    "    d) compopt -o filenames 2>/dev/null\n"
    "       mapfile -t COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
    "    c) mapfile -t COMPREPLY < <(compgen -c -- \"$cur\") ;;\n"
    "    w\\ *) local values=$(_xmpp_arg \"$tool\" \"$prev\")\n"
    "       mapfile -t COMPREPLY < <(compgen -W \"${values#w }\" -- \"$cur\") ;;\n"
    "    -) ;;\n"
    "    *) if [[ $cur == -* ]]; then\n"
    "           mapfile -t COMPREPLY < <(compgen -W \"$(_xmpp_opts "
    "\"$tool\")\" -- \"$cur\")\n"
    "       elif ! _xmpp_sub_given \"$tool\"; then\n"
    "           mapfile -t COMPREPLY < <(compgen -W \"$(_xmpp_subs "
    "\"$tool\")\" -- \"$cur\")\n"
    "       fi ;;\n"
    "    esac\n"
    "    return 0\n"
    "}\n";

static void print_bash(FILE *f)
{
    struct spec s[MAX_SPECS];
    fprintf(f,
            "# bash completion for xmpp %s, made by `xmpp --completion "
            "bash`\n# from the binary's own tool and option tables: do "
            "not edit.\n\n_xmpp_tools='",
            XMPP_VERSION);
    for (int i = 0; tools[i]; i++)
        fprintf(f, "%s%s", i ? " " : "", tools[i]->name);
    fprintf(f, "'\n\n# The options of tool $1.\n_xmpp_opts() {\n"
               "    case $1 in\n");
    for (int i = 0; tools[i]; i++)
        bash_opts(f, tools[i], s, tool_specs(tools[i], s));
    fprintf(f, "    esac\n}\n\n# What option $2 of tool $1 takes: f file, "
               "d directory, c command,\n# - another value; nothing for a "
               "flag.\n_xmpp_arg() {\n    case $1:$2 in\n");
    for (int i = 0; tools[i]; i++)
        bash_args(f, tools[i], s, tool_specs(tools[i], s));
    fprintf(f, "    esac\n}\n\n# The subcommands of tool $1.\n_xmpp_subs() {\n"
               "    case $1 in\n");
    for (int i = 0; tools[i]; i++)
        bash_subs(f, tools[i]);
    fprintf(f, "    esac\n}\n\n%s\ncomplete -F _xmpp xmpp", bash_main);
    for (int i = 0; tools[i]; i++)
        fprintf(f, " xmpp-%s", tools[i]->name);
    fputc('\n', f);
}

/* ---- zsh ---- */

/* Text inside a single-quoted _arguments spec, with the characters
 * that would end its part (']' of a description, ':') escaped. */
static void zsh_text(FILE *f, const char *s, const char *special)
{
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else if (strchr(special, *s))
            fprintf(f, "\\%c", *s);
        else
            putc(*s, f);
    }
}

static void zsh_spec(FILE *f, const struct spec *o)
{
    static const char *const action[] = {['f'] = "_files",
                                         ['d'] = "_files -/",
                                         ['c'] = "_command_names -e",
                                         ['-'] = " "};
    const char *rep = o->repeat ? "*" : "";
    fputs(" \\\n        ", f);
    if (o->lng && o->shrt && o->repeat)
        fprintf(f, "'*'{-%c%s,--%s%s}'", o->shrt, o->arg ? "+" : "", o->lng,
                o->arg ? "=" : "");
    else if (o->lng && o->shrt)
        fprintf(f, "'(-%c --%s)'{-%c%s,--%s%s}'", o->shrt, o->lng, o->shrt,
                o->arg ? "+" : "", o->lng, o->arg ? "=" : "");
    else if (o->lng)
        fprintf(f, "'%s--%s%s", rep, o->lng, o->arg ? "=" : "");
    else
        fprintf(f, "'%s-%c%s", rep, o->shrt, o->arg ? "+" : "");
    fputc('[', f);
    zsh_text(f, o->desc, "[]\\:");
    fputc(']', f);
    if (o->arg) {
        fputc(':', f);
        zsh_text(f, o->argname, "\\:");
        if (o->values) {
            fputs(":(", f);
            zsh_text(f, o->values, "\\:()");
            fputc(')', f);
        } else {
            fprintf(f, ":%s", action[(int)arg_kind(o)]);
        }
    }
    fputc('\'', f);
}

static void zsh_tool(FILE *f, const struct tool *t)
{
    struct spec s[MAX_SPECS];
    int n = tool_specs(t, s);
    char operand[32];
    fprintf(f, "_xmpp_%s() {\n    _arguments -s -S :", t->name);
    for (int i = 0; i < n; i++)
        zsh_spec(f, &s[i]);
    if (t->subs) {
        fputs(" \\\n        '1:command:(", f);
        for (const struct tool_sub *c = t->subs; c->name; c++)
            fprintf(f, "%s%s", c == t->subs ? "" : " ", c->name);
        fputs(")'", f);
    }
    if (operand_name(t->operands, operand, sizeof operand))
        fprintf(f, " \\\n        '*:%s: '", operand);
    else if (t->subs)
        fputs(" \\\n        '*:argument: '", f);
    fputs("\n}\n\n", f);
}

static void print_zsh(FILE *f)
{
    fputs("#compdef xmpp", f);
    for (int i = 0; tools[i]; i++)
        fprintf(f, " xmpp-%s", tools[i]->name);
    fprintf(f,
            "\n# zsh completion for xmpp %s, made by `xmpp --completion "
            "zsh`\n# from the binary's own tool and option tables: do "
            "not edit.\n\n",
            XMPP_VERSION);
    for (int i = 0; tools[i]; i++)
        zsh_tool(f, tools[i]);
    fputs("_xmpp() {\n    local tool\n    if [[ $service == xmpp-* ]]; "
          "then\n        tool=${service#xmpp-}\n    elif ((CURRENT == 2)); "
          "then\n        local -a tools=(\n",
          f);
    for (int i = 0; tools[i]; i++) {
        fprintf(f, "            '%s:", tools[i]->name);
        zsh_text(f, tools[i]->summary, "\\:");
        fputs("'\n", f);
    }
    fputs("        )\n        _describe -t tools 'xmpp tool' tools\n"
          "        [[ $PREFIX == -* ]] && compadd -- --help --version "
          "--completion\n"
          "        return\n    else\n        tool=$words[2]\n"
          "        shift words\n        ((CURRENT--))\n    fi\n"
          "    case $tool in\n",
          f);
    for (int i = 0; tools[i]; i++)
        fprintf(f, "    %s) _xmpp_%s ;;\n", tools[i]->name, tools[i]->name);
    fputs("    --completion) ((CURRENT == 2)) && compadd bash zsh ;;\n"
          "    esac\n}\n\n_xmpp \"$@\"\n",
          f);
}

int completion_print(FILE *f, const char *shell)
{
    if (shell && !strcmp(shell, "bash"))
        print_bash(f);
    else if (shell && !strcmp(shell, "zsh"))
        print_zsh(f);
    else
        return fail(XE_USAGE, "--completion: give bash or zsh");
    return 0;
}

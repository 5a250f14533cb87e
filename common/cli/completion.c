#include "common/cli/completion.h"

#include <ctype.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/config.h"
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
 * command, a an account of the config file, w one of the option's
 * values, - anything (nothing to offer). */
static char arg_kind(const struct spec *o)
{
    if (!o->arg)
        return 0;
    if (o->values)
        return 'w';
    if (o->lng && !strcmp(o->lng, "account"))
        return 'a';
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
    "    local cmd=${COMP_WORDS[0]##*/} bin=${COMP_WORDS[0]}\n"
    "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
    "    COMPREPLY=()\n"
    "    # --opt=VALUE: bash splits the word at '='.\n"
    "    if [[ $cur == = ]]; then\n"
    "        cur=\n"
    "    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
    "        prev=${COMP_WORDS[COMP_CWORD - 2]}\n"
    "    fi\n"
    "    if [[ $cmd == xmpp-* ]]; then\n"
    "        tool=${cmd#xmpp-} bin=${bin%-*}\n"
    "    elif ((COMP_CWORD == 1)); then\n"
    "        mapfile -t COMPREPLY < <(compgen -W \"$_xmpp_tools help --help "
    "--version --completion\" -- \"$cur\")\n"
    "        return 0\n"
    "    else\n"
    "        tool=${COMP_WORDS[1]}\n"
    "    fi\n"
    "    if [[ $tool == --completion ]]; then\n"
    "        ((COMP_CWORD == 2)) &&\n"
    "            mapfile -t COMPREPLY < <(compgen -W 'bash zsh fish' -- \"$cur\")\n"
    "        return 0\n"
    "    fi\n"
    "    case $(_xmpp_arg \"$tool\" \"$prev\") in\n"
    "    f) compopt -o filenames 2>/dev/null\n"
    "       mapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
    "    d) compopt -o filenames 2>/dev/null\n"
    "       mapfile -t COMPREPLY < <(compgen -d -- \"$cur\") ;;\n"
    "    c) mapfile -t COMPREPLY < <(compgen -c -- \"$cur\") ;;\n"
    "    a) mapfile -t COMPREPLY < <(compgen -W \"$(\"$bin\" --completion "
    "accounts 2>/dev/null)\" -- \"$cur\") ;;\n"
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
    fprintf(f, "    esac\n}\n\n# The subcommands of tool $1 (xmpp help "
               "TOOL: the tools).\n_xmpp_subs() {\n"
               "    case $1 in\n    help) echo \"$_xmpp_tools\" ;;\n");
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
                                         ['a'] = "_xmpp_accounts",
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
    fputs("# The sections of the config file, from the binary that reads it.\n"
          "_xmpp_accounts() {\n"
          "    local -a accounts\n"
          "    accounts=(${(f)\"$($bin --completion accounts 2>/dev/null)\"})\n"
          "    compadd -a accounts\n}\n\n",
          f);
    fputs(
        "_xmpp() {\n    local tool bin=$words[1]\n    if [[ $service == xmpp-* ]]; "
        "then\n        tool=${service#xmpp-} bin=${bin%-*}\n    elif ((CURRENT == 2)); "
        "then\n        local -a tools=(\n",
        f);
    for (int i = 0; tools[i]; i++) {
        fprintf(f, "            '%s:", tools[i]->name);
        zsh_text(f, tools[i]->summary, "\\:");
        fputs("'\n", f);
    }
    fputs("            'help:show a tool'\\''s options'\n", f);
    fputs("        )\n        _describe -t tools 'xmpp tool' tools\n"
          "        [[ $PREFIX == -* ]] && compadd -- --help --version "
          "--completion\n"
          "        return\n    else\n        tool=$words[2]\n"
          "        shift words\n        ((CURRENT--))\n    fi\n"
          "    case $tool in\n",
          f);
    for (int i = 0; tools[i]; i++)
        fprintf(f, "    %s) _xmpp_%s ;;\n", tools[i]->name, tools[i]->name);
    fputs("    help) ((CURRENT == 2)) && compadd --", f);
    for (int i = 0; tools[i]; i++)
        fprintf(f, " %s", tools[i]->name);
    fputs(" ;;\n", f);
    fputs("    --completion) ((CURRENT == 2)) && compadd bash zsh fish ;;\n"
          "    esac\n}\n\n_xmpp \"$@\"\n",
          f);
}

/* ---- fish ---- */

/* Text inside a single-quoted fish string. */
static void fish_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            putc('\\', f);
        putc(*s, f);
    }
}

/* -c xmpp -c xmpp-TOOL -n '__xmpp_is TOOL': the start of every line
 * for tool t, as `xmpp TOOL` and as `xmpp-TOOL`. */
static void fish_head(FILE *f, const struct tool *t)
{
    fprintf(f, "complete -c xmpp -c xmpp-%s -n '__xmpp_is %s", t->name,
            t->name);
}

static void fish_opt(FILE *f, const struct tool *t, const struct spec *o)
{
    static const char *const action[] = {
        ['f'] = " -r -F",
        ['d'] = " -x -a '(__fish_complete_directories)'",
        ['c'] = " -x -a '(__fish_complete_command)'",
        ['a'] = " -x -a '(__xmpp_accounts)'",
        ['-'] = " -x",
    };
    fish_head(f, t);
    fputc('\'', f);
    if (o->lng)
        fprintf(f, " -l %s", o->lng);
    if (o->shrt)
        fprintf(f, " -s %c", o->shrt);
    char kind = arg_kind(o);
    if (kind == 'w') {
        fputs(" -x -a '", f);
        fish_text(f, o->values);
        fputc('\'', f);
    } else if (kind) {
        fputs(action[(int)kind], f);
    }
    fputs(" -d '", f);
    fish_text(f, o->desc);
    fputs("'\n", f);
}

static void fish_tool(FILE *f, const struct tool *t)
{
    struct spec s[MAX_SPECS];
    int n = tool_specs(t, s);
    fprintf(f, "\n# %s\n", t->name);
    fputs("complete -c xmpp -n __xmpp_needs_tool -a ", f);
    fprintf(f, "%s -d '", t->name);
    fish_text(f, t->summary);
    fputs("'\n", f);
    for (int i = 0; i < n; i++)
        fish_opt(f, t, &s[i]);
    for (const struct tool_sub *c = t->subs; c && c->name; c++) {
        fish_head(f, t);
        fputs("; and not __xmpp_sub_given", f);
        for (const struct tool_sub *d = t->subs; d->name; d++)
            fprintf(f, " %s", d->name);
        fprintf(f, "' -a %s -d '", c->name);
        char help[200];
        snprintf(help, sizeof help, "%s", c->help);
        for (char *nl = help; (nl = strchr(nl, '\n'));)
            *nl = ' ';
        fish_text(f, help);
        fputs("'\n", f);
    }
}

static const char fish_main[] =
    "# The tool on the command line: xmpp TOOL or xmpp-TOOL.\n"
    "function __xmpp_tool\n"
    "    set -l words (commandline -opc)\n"
    "    set -l cmd (string replace -r '.*/' '' -- $words[1])\n"
    "    if string match -q 'xmpp-*' -- $cmd\n"
    "        string replace 'xmpp-' '' -- $cmd\n"
    "    else if set -q words[2]; and not string match -q -- '-*' "
    "$words[2]\n"
    "        echo $words[2]\n"
    "    else\n"
    "        return 1\n"
    "    end\n"
    "end\n\n"
    "function __xmpp_needs_tool\n"
    "    not __xmpp_tool >/dev/null\n"
    "end\n\n"
    "function __xmpp_is\n"
    "    set -l tool (__xmpp_tool); and test \"$tool\" = $argv[1]\n"
    "end\n\n"
    "# Is one of the subcommands $argv after the tool?\n"
    "function __xmpp_sub_given\n"
    "    for w in (commandline -opc)[2..-1]\n"
    "        contains -- $w $argv; and return 0\n"
    "    end\n"
    "    return 1\n"
    "end\n\n"
    "# The sections of the config file, from the binary that reads it.\n"
    "function __xmpp_accounts\n"
    "    set -l bin (commandline -opc)[1]\n"
    "    string match -q 'xmpp-*' -- (string replace -r '.*/' '' -- $bin)\n"
    "    and set bin (string replace -r -- '-[^-/]*$' '' $bin)\n"
    "    $bin --completion accounts 2>/dev/null\n"
    "end\n\n"
    "# Operands are JIDs, items, text: no file names unless an option "
    "takes one.\n"
    "complete -c xmpp -f\n"
    "complete -c xmpp -n __xmpp_needs_tool -l help -s h -d 'list the "
    "tools'\n"
    "complete -c xmpp -n __xmpp_needs_tool -l version -s V -d 'print "
    "the version'\n"
    "complete -c xmpp -n __xmpp_needs_tool -l completion -x -a 'bash zsh "
    "fish' -d 'print a shell completion script'\n"
    "complete -c xmpp -n __xmpp_needs_tool -a help -d 'show a tool\\'s "
    "options'\n";

/* xmpp help TOOL */
static void fish_help(FILE *f)
{
    fputs("complete -c xmpp -n '__xmpp_is help; and not __xmpp_sub_given", f);
    for (int i = 0; tools[i]; i++)
        fprintf(f, " %s", tools[i]->name);
    fputs("' -a '", f);
    for (int i = 0; tools[i]; i++)
        fprintf(f, "%s%s", i ? " " : "", tools[i]->name);
    fputs("'\n", f);
}

static void print_fish(FILE *f)
{
    fprintf(f,
            "# fish completion for xmpp %s, made by `xmpp --completion "
            "fish`\n# from the binary's own tool and option tables: do "
            "not edit.\n\n%s",
            XMPP_VERSION, fish_main);
    for (int i = 0; tools[i]; i++)
        fprintf(f, "complete -c xmpp-%s -f\n", tools[i]->name);
    fish_help(f);
    for (int i = 0; tools[i]; i++)
        fish_tool(f, tools[i]);
}

/* ---- the config file's accounts, for --account ---- */

struct accounts {
    FILE *out;
    char last[128];
};

/* A name the shells take as one plain word: the scripts hand it to
 * compgen -W, which would expand $(...) in it. */
static bool plain_word(const char *s)
{
    if (!*s || strlen(s) >= sizeof((struct accounts *)0)->last)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._@+-", *s))
            return false;
    return true;
}

static int on_key(void *ud, const char *section, const char *name,
                  const char *value)
{
    struct accounts *a = ud;
    (void)name, (void)value;
    if (plain_word(section) && strcmp(section, a->last)) {
        fprintf(a->out, "%s\n", section);
        snprintf(a->last, sizeof a->last, "%s", section);
    }
    return 1;
}

/* The sections of the config file, one a line; nothing when there is
 * no file. Completion is a hint: a bad line is skipped, not refused. */
static int print_accounts(FILE *f)
{
    char *path = config_path();
    FILE *in = path ? fopen(path, "r") : NULL;
    free(path);
    if (!in)
        return 0;
    struct accounts a = {.out = f};
    ini_parse_file(in, on_key, &a);
    fclose(in);
    return 0;
}

int completion_print(FILE *f, const char *shell)
{
    if (shell && !strcmp(shell, "bash"))
        print_bash(f);
    else if (shell && !strcmp(shell, "zsh"))
        print_zsh(f);
    else if (shell && !strcmp(shell, "fish"))
        print_fish(f);
    else if (shell && !strcmp(shell, "accounts"))
        return print_accounts(f);
    else
        return fail(XE_USAGE, "--completion: give bash, zsh or fish");
    return 0;
}

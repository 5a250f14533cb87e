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
    const char *lng;  /* "message"; NULL: short only */
    char shrt;        /* 'm'; 0: long only */
    bool arg;         /* takes a value */
    bool repeat;      /* its help says "repeatable" */
    char argname[24]; /* the help's placeholder: FILE, JID, ... */
    char desc[200];
};

#define MAX_SPECS 96

/* ---- reading the --help text ---- */

/* Is p, inside help, where an option line names flag ("  -m, --message
 * TEXT  the body")? Only spaces and a short flag may precede it. */
static bool at_option(const char *help, const char *p, size_t flen)
{
    char after = p[flen];
    if (after && after != ' ' && after != ',' && after != '\n')
        return false;
    const char *bol = p;
    while (bol > help && bol[-1] != '\n')
        bol--;
    if (p - bol > 12)
        return false;
    for (const char *q = bol; q < p; q++)
        if (*q != ' ' && *q != ',' && *q != '-' && !isalnum((unsigned char)*q))
            return false;
    return p == bol || p[-1] == ' ';
}

static void append_words(char *dst, size_t n, const char *s, size_t len)
{
    size_t have = strlen(dst);
    if (have && have + 1 < n)
        dst[have++] = ' ', dst[have] = '\0';
    if (len > n - 1 - have)
        len = n - 1 - have;
    memcpy(dst + have, s, len);
    dst[have + len] = '\0';
}

/* The description: the rest of the option's line, then continuation
 * lines (deeply indented, no option of their own). */
static void read_desc(struct spec *o, const char *q)
{
    for (;;) {
        while (*q == ' ')
            q++;
        size_t len = strcspn(q, "\n");
        append_words(o->desc, sizeof o->desc, q, len);
        if (q[len] != '\n' || strncmp(q + len + 1, "                    ", 20))
            break;
        q += len + 1;
    }
    if (strstr(o->desc, "repeatable"))
        o->repeat = true;
}

/* Fill o's placeholder and description from the help line naming
 * flag ("--message" or "-m"). Returns false when no line does. */
static bool from_help(struct spec *o, const char *help, const char *flag)
{
    size_t flen = strlen(flag);
    const char *p = help;
    while (p && (p = strstr(p, flag)) && !at_option(help, p, flen))
        p += flen;
    if (!p)
        return false;
    const char *q = p + flen;
    if (*q == ',') { /* "-m, --message": step over the long form */
        q++;
        while (*q == ' ')
            q++;
        q += strcspn(q, " \n");
    }
    if (o->arg && *q == ' ' && q[1] != ' ') {
        size_t len = strcspn(q + 1, " \n");
        snprintf(o->argname, sizeof o->argname, "%.*s", (int)len, q + 1);
        q += 1 + len;
    }
    read_desc(o, q);
    return true;
}

static void describe(struct spec *o, const char *own, const char *common)
{
    char flag[64];
    if (o->lng)
        snprintf(flag, sizeof flag, "--%s", o->lng);
    else
        snprintf(flag, sizeof flag, "-%c", o->shrt);
    if (!(own && from_help(o, own, flag)))
        from_help(o, common, flag);
    if (o->arg && !o->argname[0])
        snprintf(o->argname, sizeof o->argname, "VALUE");
}

/* ---- one tool's options: its own, then the shared ones ---- */

static bool takes_arg(const char *shortopts, char c)
{
    const char *p = strchr(shortopts, c);
    return p && p[1] == ':';
}

static int add_table(struct spec *s, int n, const struct option *opts,
                     const char *shortopts, const char *own, const char *common)
{
    for (const struct option *o = opts; o && o->name && n < MAX_SPECS; o++) {
        struct spec *sp = &s[n++];
        *sp = (struct spec){.lng = o->name, .arg = o->has_arg != no_argument};
        if (o->val > 0 && o->val < 128 && isalnum(o->val) &&
            strchr(shortopts, o->val))
            sp->shrt = (char)o->val;
        describe(sp, own, common);
    }
    /* Short options without a long name. */
    for (const char *c = shortopts; *c && n < MAX_SPECS; c++) {
        if (!isalnum((unsigned char)*c))
            continue;
        bool named = false;
        for (const struct option *o = opts; o && o->name; o++)
            named = named || o->val == *c;
        if (named)
            continue;
        s[n] = (struct spec){.shrt = *c, .arg = takes_arg(shortopts, *c)};
        describe(&s[n++], own, common);
    }
    return n;
}

static int tool_specs(const struct tool *t, struct spec *s)
{
    struct opts_table c = opts_common();
    int n = add_table(s, 0, t->options, t->shortopts ? t->shortopts : "",
                      t->help, c.help);
    return add_table(s, n, c.options, c.shortopts, NULL, c.help);
}

/* What a value is, from its placeholder: f file, d directory, c
 * command, - anything (nothing to offer). */
static char arg_kind(const struct spec *o)
{
    if (!o->arg)
        return 0;
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
        fprintf(f, ") echo %c ;;\n", kind);
    }
}

static const char bash_main[] =
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
    "    -) ;;\n"
    "    *) [[ $cur == -* ]] &&\n"
    "           mapfile -t COMPREPLY < <(compgen -W \"$(_xmpp_opts "
    "\"$tool\")\" -- \"$cur\") ;;\n"
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
        fprintf(f, ":%s", action[(int)arg_kind(o)]);
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
    if (operand_name(t->synopsis, operand, sizeof operand))
        fprintf(f, " \\\n        '*:%s: '", operand);
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

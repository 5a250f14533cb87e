#include "common/io/xmlin.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli/die.h"
#include "common/cli/exitcode.h"

/* Expat reports "URI<SEP>local<SEP>prefix"; 0xFF never occurs in UTF-8. */
#define NS_SEP '\xFF'
#define XML_NS "http://www.w3.org/XML/1998/namespace"

/* In stream mode the elements are children of this wrapper, fed first,
 * so that input line N is parser line N - base + 2. */
static const char wrapper_open[] = "<r>\n";
#define WRAP_LEN (sizeof wrapper_open - 1)

struct level {
    xmpp_stanza_t *st; /* NULL: the stream wrapper */
    const char *ns;    /* the namespace in effect; NULL: none */
    bool has_elements;
};

/* Builds stanzas from expat's events. Elements at depth `top` are the
 * ones handed to on_top: 0 for one element, 1 inside the wrapper. */
struct builder {
    xmpp_ctx_t *ctx;
    XML_Parser p;
    struct level *stack;
    size_t depth, cap, top;
    char *text;
    size_t tlen, tcap;
    size_t max;              /* cap on one top element in bytes; 0: none */
    const char *const *tops; /* names allowed at the top; NULL: any */
    long long top_start;     /* parser byte index where it began */
    unsigned long top_line, top_col;
    bool closing; /* we are closing the wrapper ourselves */
    bool failed;  /* a handler stopped the parser: */
    char why[256];
    bool oom; /* ...for want of memory (sticky) */
    unsigned long line, col;
    void (*on_top)(struct builder *b, xmpp_stanza_t *st);
    xmpp_stanza_t *result; /* one-element mode */
};

static void stop(struct builder *b, const char *why)
{
    if (b->failed)
        return;
    b->failed = true;
    snprintf(b->why, sizeof b->why, "%s", why);
    b->line = XML_GetCurrentLineNumber(b->p);
    b->col = XML_GetCurrentColumnNumber(b->p);
    XML_StopParser(b->p, XML_FALSE);
}

static void stop_oom(struct builder *b)
{
    b->oom = true;
    stop(b, "out of memory");
}

static bool all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

/* Attach pending text to the open element. Indentation between
 * elements is not content worth keeping; text-only content is. */
static void flush_text(struct builder *b, bool child_follows)
{
    if (!b->tlen)
        return;
    struct level *l = &b->stack[b->depth - 1];
    size_t n = b->tlen;
    b->tlen = 0;
    if (!l->st || ((child_follows || l->has_elements) && all_blank(b->text, n)))
        return;
    xmpp_stanza_t *t = xmpp_stanza_new(b->ctx);
    xmpp_stanza_set_text_with_size(t, b->text, n);
    xmpp_stanza_add_child_ex(l->st, t, 0);
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    struct builder *b = ud;
    if (b->failed || len <= 0)
        return;
    if (b->depth == b->top) { /* between stream elements */
        if (!all_blank(s, (size_t)len))
            stop(b, "text outside an element");
        return;
    }
    if (b->tlen + (size_t)len + 1 > b->tcap) {
        size_t cap = (b->tlen + (size_t)len + 1) * 2;
        char *t = realloc(b->text, cap);
        if (!t)
            return stop_oom(b);
        b->text = t;
        b->tcap = cap;
    }
    memcpy(b->text + b->tlen, s, (size_t)len);
    b->tlen += (size_t)len;
}

/* A malloc'd "prefix:local" or "local" from expat's triplet. */
static char *split_name(const char *triplet, const char **uri, size_t *urilen)
{
    const char *a = strchr(triplet, NS_SEP);
    if (!a) {
        *uri = NULL;
        *urilen = 0;
        return strdup(triplet);
    }
    *uri = triplet;
    *urilen = (size_t)(a - triplet);
    const char *local = a + 1, *b = strchr(local, NS_SEP);
    char *out;
    if (!b)
        return strdup(local);
    if (asprintf(&out, "%s:%.*s", b + 1, (int)(b - local), local) < 0)
        return NULL;
    return out;
}

static bool ns_equal(const char *uri, size_t n, const char *ns)
{
    if (!uri || !ns)
        return !uri && !ns;
    return strlen(ns) == n && !strncmp(uri, ns, n);
}

/* Attributes keep their prefix: xml:lang, or P:name with xmlns:P. */
static void set_attributes(xmpp_stanza_t *st, const XML_Char **atts)
{
    for (int i = 0; atts[i]; i += 2) {
        const char *uri;
        size_t urilen;
        char *name = split_name(atts[i], &uri, &urilen);
        if (!name)
            continue;
        if (uri && ns_equal(uri, urilen, XML_NS)) {
            char *colon = strchr(name, ':');
            char *full;
            if (asprintf(&full, "xml:%s", colon ? colon + 1 : name) >= 0) {
                xmpp_stanza_set_attribute(st, full, atts[i + 1]);
                free(full);
            }
        } else if (uri) {
            char decl[256], *colon = strchr(name, ':');
            snprintf(decl, sizeof decl, "xmlns:%.*s",
                     colon ? (int)(colon - name) : 0, name);
            char *u = strndup(uri, urilen);
            if (u)
                xmpp_stanza_set_attribute(st, decl, u);
            free(u);
            xmpp_stanza_set_attribute(st, name, atts[i + 1]);
        } else {
            xmpp_stanza_set_attribute(st, name, atts[i + 1]);
        }
        free(name);
    }
}

static bool push(struct builder *b, struct level l)
{
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct level *s = realloc(b->stack, cap * sizeof *s);
        if (!s)
            return false;
        b->stack = s;
        b->cap = cap;
    }
    b->stack[b->depth++] = l;
    return true;
}

/* Is `name` one of the elements allowed at the top? Stops if not. */
static bool top_allowed(struct builder *b, const char *name)
{
    if (!b->tops)
        return true;
    char why[128] = "";
    size_t n = 0;
    for (int i = 0; b->tops[i]; i++) {
        if (!strcmp(b->tops[i], name))
            return true;
        n += (size_t)snprintf(why + n, n < sizeof why ? sizeof why - n : 0,
                              "%s%s", i ? ", " : "", b->tops[i]);
    }
    char msg[200];
    snprintf(msg, sizeof msg, "<%.40s> is not allowed here (expected %s)", name,
             why);
    stop(b, msg);
    return false;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct builder *b = ud;
    if (b->failed)
        return;
    if (b->top && b->depth == 0) { /* the wrapper */
        if (!push(b, (struct level){0}))
            stop_oom(b);
        return;
    }
    struct level *parent = b->depth ? &b->stack[b->depth - 1] : NULL;
    if (parent) {
        flush_text(b, true);
        parent->has_elements = true;
    }
    if (b->depth == b->top) {
        b->top_start = XML_GetCurrentByteIndex(b->p);
        b->top_line = XML_GetCurrentLineNumber(b->p);
        b->top_col = XML_GetCurrentColumnNumber(b->p);
    }
    const char *uri;
    size_t urilen;
    char *qname = split_name(name, &uri, &urilen);
    if (!qname)
        return stop_oom(b);
    /* Namespaces in XML §3: the xml prefix is bound once and for all;
     * as a default namespace (all a stanza can say) it is an error. */
    if (uri && ns_equal(uri, urilen, XML_NS)) {
        free(qname);
        return stop(b, "an element cannot be in the xml namespace");
    }
    char *colon = strchr(qname, ':'); /* elements lose the prefix */
    if (b->depth == b->top && !top_allowed(b, colon ? colon + 1 : qname)) {
        free(qname);
        return;
    }
    xmpp_stanza_t *st = xmpp_stanza_new(b->ctx);
    xmpp_stanza_set_name(st, colon ? colon + 1 : qname);
    free(qname);
    const char *parent_ns = parent ? parent->ns : NULL;
    const char *ns = parent_ns;
    if (!ns_equal(uri, urilen, parent_ns)) {
        char *u = uri ? strndup(uri, urilen) : strdup("");
        if (u)
            xmpp_stanza_set_ns(st, u);
        free(u);
        ns = uri ? xmpp_stanza_get_ns(st) : NULL;
    }
    set_attributes(st, atts);
    if (parent && parent->st)
        xmpp_stanza_add_child_ex(parent->st, st, 0); /* parent owns it */
    if (!push(b, (struct level){.st = st, .ns = ns})) {
        if (!parent || !parent->st)
            xmpp_stanza_release(st);
        stop_oom(b);
    }
}

static void on_end(void *ud, const XML_Char *name)
{
    struct builder *b = ud;
    (void)name;
    if (b->failed || !b->depth)
        return;
    struct level *l = &b->stack[b->depth - 1];
    if (!l->st) { /* </r> from the input, not from us */
        if (!b->closing)
            stop(b, "end tag without a start tag");
        return;
    }
    flush_text(b, false);
    if (b->depth - 1 != b->top)
        return (void)b->depth--;
    if (b->max &&
        XML_GetCurrentByteIndex(b->p) - b->top_start > (long long)b->max) {
        char why[96];
        snprintf(why, sizeof why, "element larger than %zu bytes", b->max);
        stop(b, why);
        b->line = b->top_line; /* where it began */
        b->col = b->top_col;
        return;
    }
    b->depth--;
    b->on_top(b, l->st);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int internal)
{
    (void)name, (void)sysid, (void)pubid, (void)internal;
    stop(ud, "DTDs are not allowed in XMPP (RFC 6120 §11.1)");
}

static bool builder_start(struct builder *b)
{
    b->p = XML_ParserCreateNS("UTF-8", NS_SEP);
    if (!b->p)
        return false;
    XML_SetReturnNSTriplet(b->p, 1);
    XML_SetUserData(b->p, b);
    XML_SetElementHandler(b->p, on_start, on_end);
    XML_SetCharacterDataHandler(b->p, on_text);
    XML_SetStartDoctypeDeclHandler(b->p, on_doctype);
    return true;
}

/* Drop the parser and whatever half-built element it held. */
static void builder_reset(struct builder *b)
{
    if (b->depth > b->top && b->stack[b->top].st)
        xmpp_stanza_release(b->stack[b->top].st);
    if (b->p)
        XML_ParserFree(b->p);
    b->p = NULL;
    b->depth = b->tlen = 0;
    b->failed = b->closing = false;
}

static void builder_free(struct builder *b)
{
    builder_reset(b);
    free(b->stack);
    free(b->text);
}

/* The error's reason and parser position (1-based column). */
static const char *error_at(struct builder *b, unsigned long *line,
                            unsigned long *col)
{
    if (b->failed) {
        *line = b->line;
        *col = b->col + 1;
        return b->why;
    }
    *line = XML_GetCurrentLineNumber(b->p);
    *col = XML_GetCurrentColumnNumber(b->p) + 1;
    if (XML_GetErrorCode(b->p) == XML_ERROR_NO_MEMORY)
        b->oom = true;
    return XML_ErrorString(XML_GetErrorCode(b->p));
}

/* ---- one element ---- */

static void keep_result(struct builder *b, xmpp_stanza_t *st)
{
    b->result = st;
}

int xmlin_parse_one(xmpp_ctx_t *ctx, const char *what, const char *buf,
                    size_t len, xmpp_stanza_t **out)
{
    struct builder b = {.ctx = ctx, .on_top = keep_result};
    *out = NULL;
    if (len > (size_t)1 << 30)
        return fail(XE_DATA, "%s: larger than 1 GiB", what);
    if (!builder_start(&b))
        return fail_oom(what);
    int rc = 0;
    if (XML_Parse(b.p, buf, (int)len, 1) != XML_STATUS_OK || b.failed) {
        unsigned long line, col;
        const char *why = error_at(&b, &line, &col);
        rc = b.oom ? fail_oom(what)
                   : fail(XE_DATA, "%s: line %lu, column %lu: %s", what, line,
                          col, why);
        if (b.result)
            xmpp_stanza_release(b.result);
    } else {
        *out = b.result;
    }
    builder_free(&b);
    return rc;
}

/* ---- a stream of elements ---- */

struct xmlin {
    struct builder b; /* first: the builder's callbacks cast back */
    char *what;
    xmlin_fn fn;
    void *ud;
    bool started;    /* b.p is live */
    bool seeking;    /* after an error: looking for a resync line */
    bool skip_line;  /* after an error: dropping the rest of a line */
    bool seen_input; /* past a leading XML declaration */
    char *pending;   /* seeking: the current line so far */
    size_t plen, pcap;
    unsigned long lines; /* newlines consumed */
    unsigned long base;  /* input line of parser line 2 */
    long long fed;       /* bytes fed to b.p after the wrapper */
    int errors;
};

static void hand_on(struct builder *b, xmpp_stanza_t *st)
{
    struct xmlin *x = (struct xmlin *)b;
    x->fn(st, x->ud);
}

struct xmlin *xmlin_new(xmpp_ctx_t *ctx, const char *what, size_t max,
                        const char *const *tops, xmlin_fn fn, void *ud)
{
    struct xmlin *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->b = (struct builder){
        .ctx = ctx, .top = 1, .max = max, .tops = tops, .on_top = hand_on};
    x->what = strdup(what);
    x->fn = fn;
    x->ud = ud;
    if (!x->what) {
        free(x);
        return NULL;
    }
    return x;
}

bool xmlin_out_of_memory(const struct xmlin *x)
{
    return x->b.oom;
}

void xmlin_free(struct xmlin *x)
{
    if (!x)
        return;
    builder_free(&x->b);
    free(x->pending);
    free(x->what);
    free(x);
}

static unsigned long count_lines(const char *p, size_t n)
{
    unsigned long k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        k++;
    return k;
}

static bool start_parser(struct xmlin *x)
{
    builder_reset(&x->b);
    if (!builder_start(&x->b))
        return false;
    x->started = true;
    x->base = x->lines + 1;
    x->fed = 0;
    return XML_Parse(x->b.p, wrapper_open, (int)WRAP_LEN, 0) == XML_STATUS_OK;
}

static void report(struct xmlin *x, unsigned long line, unsigned long col,
                   const char *why)
{
    x->errors++;
    fail(XE_DATA, "%s: line %lu, column %lu: %s; skipped", x->what,
         x->base + line - 2, col, why);
}

/* Give up on the current element: drop the parser, and the input up to
 * the end of the line that `at` is on. */
static const char *abandon(struct xmlin *x, const char *at, const char *end)
{
    builder_reset(&x->b);
    x->started = false;
    const char *nl = memchr(at, '\n', (size_t)(end - at));
    if (!nl) {
        x->skip_line = true;
        return end;
    }
    x->lines++;
    x->seeking = true;
    return nl + 1;
}

/* Feed the parser; on an error report it and abandon its line. */
static const char *parse(struct xmlin *x, const char *p, const char *end)
{
    struct builder *b = &x->b;
    size_t n = (size_t)(end - p);
    long long before = x->fed;
    if (XML_Parse(b->p, p, (int)n, 0) != XML_STATUS_OK || b->failed) {
        unsigned long line, col;
        const char *why = error_at(b, &line, &col);
        report(x, line, col, why);
        long long at =
            XML_GetCurrentByteIndex(b->p) - (long long)WRAP_LEN - before;
        /* Expat may see an error only once more input comes: if it lies
         * on a line that ended in an earlier chunk, that line is gone
         * already; skipping to the next newline here would drop a line
         * that was never looked at. Look for a resync line from here. */
        if (at < 0 && line < x->lines - x->base + 3) {
            builder_reset(b);
            x->started = false;
            x->seeking = true;
            return p;
        }
        if (b->failed && at < 0)
            at = 0;
        if (at < 0 || at > (long long)n)
            at = at < 0 ? 0 : (long long)n;
        x->lines += count_lines(p, (size_t)at);
        return abandon(x, p + at, end);
    }
    x->fed += (long long)n;
    x->lines += count_lines(p, n);
    if (b->max && b->depth > b->top &&
        x->fed + (long long)WRAP_LEN - b->top_start > (long long)b->max) {
        char why[96];
        snprintf(why, sizeof why, "element larger than %zu bytes", b->max);
        report(x, b->top_line, b->top_col + 1, why);
        if (n && end[-1] == '\n') {
            x->lines--;
            return abandon(x, end - 1, end);
        }
        return abandon(x, end, end);
    }
    return end;
}

/* Does the line s[0..n) open an element we may resume at? 1 yes, 0 no,
 * -1 cannot tell yet (the line is incomplete). */
static int resync_here(const struct xmlin *x, const char *s, size_t n,
                       bool complete)
{
    size_t i = 0;
    while (i < n &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    if (i == n)
        return complete ? 0 : -1;
    if (s[i] != '<')
        return 0;
    size_t start = ++i;
    while (i < n && !strchr(" \t\r\n/>", s[i]))
        i++;
    if (i == n && !complete)
        return n > 1024 ? 0 : -1;
    if (i == start || strchr("!?", s[start]))
        return 0;
    if (!x->b.tops)
        return 1;
    const char *colon = memchr(s + start, ':', i - start);
    if (colon)
        start = (size_t)(colon - s) + 1;
    for (int k = 0; x->b.tops[k]; k++)
        if (strlen(x->b.tops[k]) == i - start &&
            !strncmp(x->b.tops[k], s + start, i - start))
            return 1;
    return 0;
}

/* After an error: collect the start of each line until one can be
 * resumed at; then start a parser there. */
static const char *seek(struct xmlin *x, const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl + 1 : end;
    size_t n = (size_t)(stop - p);
    if (x->plen + n + 1 > x->pcap) {
        size_t cap = (x->plen + n + 1) * 2;
        char *b = realloc(x->pending, cap);
        if (!b) {
            x->plen = 0;
            x->skip_line = !nl;
            return stop;
        }
        x->pending = b;
        x->pcap = cap;
    }
    memcpy(x->pending + x->plen, p, n);
    x->plen += n;
    int here = resync_here(x, x->pending, x->plen, nl != NULL);
    if (here < 0)
        return stop;
    size_t have = x->plen;
    x->plen = 0;
    if (here == 0) {
        if (nl)
            x->lines++;
        else
            x->skip_line = true;
        return stop;
    }
    x->seeking = false;
    if (!start_parser(x))
        return abandon(x, stop, stop);
    parse(x, x->pending, x->pending + have);
    return stop;
}

/* A leading <?xml ...?> cannot follow our wrapper: blank it out, so
 * that columns stay right. Returns -1 while the input so far could
 * still be the start of one, else 0 (blanked, or there was none). */
static int blank_declaration(char *buf, size_t len)
{
    static const char decl[] = "<?xml";
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", buf[i]))
        i++;
    size_t n = len - i < 5 ? len - i : 5;
    if (strncmp(buf + i, decl, n))
        return 0;
    if (len - i < 6)
        return -1;
    if (!strchr(" \t\r\n", buf[i + 5]))
        return 0;
    char *close = memmem(buf + i, len - i, "?>", 2);
    if (!close)
        return len > 4096 ? 0 : -1;
    for (char *c = buf + i; c < close + 2; c++)
        if (*c != '\n')
            *c = ' ';
    return 0;
}

/* Hold the first bytes until we know whether they are a declaration.
 * Returns the buffer to parse (malloc'd, *len set), or NULL for now. */
static char *take_prolog(struct xmlin *x, const char *buf, size_t *len,
                         bool final)
{
    if (x->plen + *len + 1 > x->pcap) {
        size_t cap = (x->plen + *len + 1) * 2;
        char *b = realloc(x->pending, cap);
        if (!b)
            return NULL;
        x->pending = b;
        x->pcap = cap;
    }
    memcpy(x->pending + x->plen, buf, *len);
    x->plen += *len;
    if (blank_declaration(x->pending, x->plen) < 0 && !final)
        return NULL;
    x->seen_input = true;
    char *out = x->pending;
    *len = x->plen;
    x->pending = NULL;
    x->plen = x->pcap = 0;
    return out;
}

static void finish(struct xmlin *x)
{
    struct builder *b = &x->b;
    if (!x->started || x->seeking || x->skip_line)
        return;
    b->closing = true;
    static const char close[] = "</r>";
    if (XML_Parse(b->p, close, (int)sizeof close - 1, 1) != XML_STATUS_OK ||
        b->failed) {
        unsigned long line, col;
        const char *why = error_at(b, &line, &col);
        if (b->depth > b->top) {
            line = b->top_line;
            col = b->top_col + 1;
            why = "input ended inside this element";
        }
        report(x, line, col, why);
    }
    builder_reset(b);
    x->started = false;
}

int xmlin_feed(struct xmlin *x, const char *buf, size_t len, bool final)
{
    int before = x->errors;
    char *copy = NULL;
    if (!x->seen_input) {
        if (!(copy = take_prolog(x, buf, &len, final)))
            return final ? 0 : x->errors - before;
        buf = copy;
    }
    const char *p = buf, *end = buf + len;
    if (!x->started && !x->seeking && !x->skip_line && len && !start_parser(x))
        p = abandon(x, p, end);
    while (p < end) {
        if (x->skip_line) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break;
            x->lines++;
            x->skip_line = false;
            x->seeking = true;
            p = nl + 1;
        } else if (x->seeking) {
            p = seek(x, p, end);
        } else {
            size_t n = (size_t)(end - p);
            if (n > (size_t)1 << 30)
                n = (size_t)1 << 30;
            p = parse(x, p, p + n);
        }
    }
    free(copy);
    if (final) {
        if (x->seeking && x->plen) { /* a last line without newline */
            const char *pend = x->pending;
            size_t have = x->plen;
            x->plen = 0;
            if (resync_here(x, pend, have, true) == 1 && start_parser(x)) {
                x->seeking = false;
                parse(x, pend, pend + have);
            }
        }
        finish(x);
    }
    return x->errors - before;
}

#include "common/io/xmlstream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io/utf8.h"

#define STREAMS_NS "http://etherx.jabber.org/streams"
#define LIMITS_NS  "urn:xmpp:stream-limits:0"

/* A run of text the library has not been given yet is freed, rather
 * than kept for the next one, when it grew past this. */
#define RUN_KEEP (64UL << 10)

/* Expat keeps every element, attribute and prefix name it meets until it
 * is reset: over a long stream, a server that names each stanza's
 * elements anew grows it without end (about 130 bytes a name). So at the
 * first stanza's end after this many bytes, the parser is reset and
 * primed with the stream's namespace declarations (renew). */
#define RENEW_BYTES (256UL << 10)

struct xmlstream {
    XML_Parser p;
    const struct xmlstream_limits *limits;
    /* The library's. */
    void *ud;
    XML_StartElementHandler start;
    XML_EndElementHandler end;
    XML_CharacterDataHandler text;
    /* Where the stream stands. An element's level is the number of its
     * open ancestors: the stream's root is 0, a stanza 1. */
    int depth;                                  /* open elements */
    unsigned children[XMLSTREAM_MAX_DEPTH + 1]; /* of the open ones */
    /* Positions in the stream (its bytes since it began). */
    long long fed;     /* the end of what expat was given */
    long long mark;    /* where the top-level element being read began */
    long long base;    /* where expat's byte 0 is (before its priming) */
    long long renewed; /* where expat was last renewed */
    long long cut;     /* where a stanza's end suspended expat; -1: none */
    char *prime; /* "<stream:stream xmlns='...' ...>", the root's start tag
                  * with only its declarations; NULL: no renewing */
    size_t prime_len;
    bool priming; /* expat is reading prime: nothing is passed on */
    struct utf8_stream utf8;
    char *run; /* text not handed on yet */
    size_t run_len, run_cap;
    int announcing; /* XEP-0478: levels of features/limits/max-bytes open */
    unsigned long announced;
    enum xmlstream_fault fault;
    char why[200];
};

__attribute__((format(printf, 3, 4))) static void
stop(struct xmlstream *x, enum xmlstream_fault f, const char *fmt, ...)
{
    if (x->fault)
        return;
    x->fault = f;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    XML_StopParser(x->p, XML_FALSE);
}

/* Expat's error, once it has one. */
static void stop_expat(struct xmlstream *x)
{
    enum XML_Error e = XML_GetErrorCode(x->p);
    if (e == XML_ERROR_NO_MEMORY)
        stop(x, XMLSTREAM_NOMEM, "out of memory");
    else
        stop(x, XMLSTREAM_MALFORMED,
             "malformed XML (%s after %lld bytes of the stream)",
             XML_ErrorString(e),
             x->base + (long long)XML_GetCurrentByteIndex(x->p));
}

/* RFC 6120 §11.1: none of these may appear in an XMPP stream. Entity
 * declarations exist only inside a DOCTYPE, which is refused when it
 * starts, before any of its declarations is read. */
static void restricted(struct xmlstream *x, const char *what)
{
    stop(x, XMLSTREAM_RESTRICTED, "%s, which XMPP forbids (RFC 6120 §11.1)",
         what);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                       const XML_Char *pubid, int internal)
{
    (void)name, (void)sysid, (void)pubid, (void)internal;
    restricted(ud, "a DOCTYPE");
}

static void on_comment(void *ud, const XML_Char *data)
{
    (void)data;
    restricted(ud, "a comment");
}

static void on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    (void)target, (void)data;
    restricted(ud, "a processing instruction");
}

/* Where the event being reported ends, in bytes of the stream. */
static long long event_end(const struct xmlstream *x)
{
    return x->base + (long long)XML_GetCurrentByteIndex(x->p) +
           XML_GetCurrentByteCount(x->p);
}

unsigned long xmlstream_max_bytes(const struct xmlstream *x)
{
    unsigned long max = x->limits->max_bytes;
    if (x->limits->exact || x->announced <= max)
        return max;
    /* XEP-0478: the server takes stanzas this big from its users, and
     * passes them on; a hostile one may not lift the limit for good. */
    return x->announced < XMLSTREAM_ANNOUNCED_CEILING
               ? x->announced
               : XMLSTREAM_ANNOUNCED_CEILING;
}

/* Expat reports "URI<sep>local", the separator being the library's. */
static bool is(const XML_Char *name, const char *ns, const char *local)
{
    size_t n = strlen(ns);
    return !strncmp(name, ns, n) && name[n] && !strcmp(name + n + 1, local);
}

/* XEP-0478 §2: <features><limits><max-bytes>N</max-bytes></limits>. */
static void announce_start(struct xmlstream *x, int level, const XML_Char *name)
{
    static const char *const path[][2] = {{STREAMS_NS, "features"},
                                          {LIMITS_NS, "limits"},
                                          {LIMITS_NS, "max-bytes"}};
    if (level >= 1 && level <= 3 && level == x->announcing + 1 &&
        is(name, path[level - 1][0], path[level - 1][1]))
        x->announcing = level;
}

/* The announced number, from the text of <max-bytes/>; a malformed one
 * is ignored. */
static void announce_end(struct xmlstream *x, int level)
{
    if (!level || level != x->announcing)
        return;
    x->announcing--;
    if (level != 3)
        return;
    unsigned long v = 0;
    size_t i = 0, n = x->run_len;
    while (i < n && strchr(" \t\r\n", x->run[i]))
        i++;
    while (n > i && strchr(" \t\r\n", x->run[n - 1]))
        n--;
    if (i == n || n - i > 12)
        return;
    for (; i < n; i++) {
        if (x->run[i] < '0' || x->run[i] > '9')
            return;
        v = v * 10 + (unsigned long)(x->run[i] - '0');
    }
    x->announced = v;
}

/* What a character of a namespace name is written as in prime: in an
 * attribute value, whitespace would be read back as a space. */
static const char *prime_escape(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '\'': return "&apos;";
    case '\t': return "&#9;";
    case '\n': return "&#10;";
    case '\r': return "&#13;";
    default: return NULL;
    }
}

/* Append s to the priming text, escaped when asked. */
static bool prime_add(struct xmlstream *x, const char *s, bool escape)
{
    size_t n = strlen(s), need = x->prime_len + 6 * n + 1;
    char *more = realloc(x->prime, need);
    if (!more) {
        stop(x, XMLSTREAM_NOMEM, "out of memory");
        return false;
    }
    x->prime = more;
    for (; *s; s++) {
        const char *e = escape ? prime_escape(*s) : NULL;
        size_t k = e ? strlen(e) : 1;
        memcpy(x->prime + x->prime_len, e ? e : s, k);
        x->prime_len += k;
    }
    x->prime[x->prime_len] = '\0';
    return true;
}

/* The stream root's namespace declarations, which every stanza's names
 * depend on (jabber:client, the stream: prefix), for renew(). */
static void on_ns(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
    struct xmlstream *x = ud;
    if (x->fault || x->priming || x->depth > 0)
        return;
    if (!prime_add(x, prefix ? " xmlns:" : " xmlns", false) ||
        !prime_add(x, prefix ? prefix : "", false) ||
        !prime_add(x, "='", false) || !prime_add(x, uri ? uri : "", true))
        return;
    prime_add(x, "'", false);
}

/* prime: the root's start tag as written (its name with the prefix, for
 * its end tag to match), with only the declarations. Expat reports the
 * name without its prefix; its input context holds the tag. Without one
 * (an expat built without XML_CONTEXT_BYTES), expat is not renewed. */
static void prime_root(struct xmlstream *x)
{
    int at, size;
    const char *in = XML_GetInputContext(x->p, &at, &size);
    size_t n = 0;
    while (in && at + 1 + (int)n < size && !strchr(" \t\r\n/>", in[at + 1 + n]))
        n++;
    char *tag = in && in[at] == '<' ? malloc(n + x->prime_len + 3) : NULL;
    if (tag) {
        tag[0] = '<';
        memcpy(tag + 1, in + at + 1, n);
        if (x->prime_len)
            memcpy(tag + 1 + n, x->prime, x->prime_len);
        memcpy(tag + 1 + n + x->prime_len, ">", 2);
        x->prime_len += n + 2;
    }
    free(x->prime);
    x->prime = tag;
    if (!tag)
        x->prime_len = 0;
}

/* The text collected so far, to the library in one piece: libstrophe
 * 0.12 joins pieces with strncat, which walks what it has each time. */
static void flush_text(struct xmlstream *x)
{
    if (!x->run_len)
        return;
    if (x->text)
        x->text(x->ud, x->run, (int)x->run_len);
    x->run_len = 0;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
    struct xmlstream *x = ud;
    if (x->fault)
        return;
    if (x->depth < 2) { /* between stanzas, where libstrophe drops it */
        x->mark = event_end(x);
        return;
    }
    size_t need = x->run_len + (size_t)len;
    if (need > x->run_cap) {
        size_t cap = x->run_cap ? x->run_cap : 256;
        while (cap < need)
            cap *= 2;
        char *more = realloc(x->run, cap);
        if (!more) {
            stop(x, XMLSTREAM_NOMEM, "out of memory");
            return;
        }
        x->run = more;
        x->run_cap = cap;
    }
    memcpy(x->run + x->run_len, s, (size_t)len);
    x->run_len = need;
}

/* Refuse what would make building the stanza in the library cost more
 * than linear time, or its recursive functions more than some stack. */
static bool too_complex(struct xmlstream *x, int level, const XML_Char **attrs)
{
    if (level > XMLSTREAM_MAX_DEPTH) {
        stop(x, XMLSTREAM_TOO_COMPLEX, "a stanza nested over %d elements deep",
             XMLSTREAM_MAX_DEPTH);
        return true;
    }
    if (level >= 2 && ++x->children[level - 1] > XMLSTREAM_MAX_CHILDREN) {
        stop(x, XMLSTREAM_TOO_COMPLEX, "an element with over %d children",
             XMLSTREAM_MAX_CHILDREN);
        return true;
    }
    size_t n = 0;
    while (attrs[n])
        n++;
    if (n / 2 > XMLSTREAM_MAX_ATTRS) {
        stop(x, XMLSTREAM_TOO_COMPLEX, "an element with over %d attributes",
             XMLSTREAM_MAX_ATTRS);
        return true;
    }
    return false;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct xmlstream *x = ud;
    int level = x->depth;
    if (x->priming || x->fault || too_complex(x, level, attrs))
        return;
    flush_text(x);
    x->children[level] = 0;
    announce_start(x, level, name);
    x->depth++;
    if (level == 0) { /* the stream's root: stanzas are measured after it */
        x->mark = event_end(x);
        prime_root(x);
    }
    if (x->start)
        x->start(x->ud, name, attrs);
}

static unsigned long renew_bytes(const struct xmlstream *x)
{
    return x->limits->renew_bytes ? x->limits->renew_bytes : RENEW_BYTES;
}

static void on_end(void *ud, const XML_Char *name)
{
    struct xmlstream *x = ud;
    if (x->fault)
        return;
    int level = --x->depth;
    announce_end(x, level);
    flush_text(x);
    if (level == 1) {
        long long end = event_end(x);
        unsigned long max = xmlstream_max_bytes(x);
        if (end - x->mark > (long long)max) {
            stop(x, XMLSTREAM_TOO_BIG, "a stanza over %lu bytes", max);
            return;
        }
        x->mark = end;
        if (x->run_cap > RUN_KEEP) {
            free(x->run);
            x->run = NULL;
            x->run_cap = 0;
        }
        if (x->prime && end - x->renewed >= (long long)renew_bytes(x)) {
            x->cut = end; /* feed() renews expat once this returns */
            XML_StopParser(x->p, XML_TRUE);
        }
    }
    if (x->end)
        x->end(x->ud, name);
}

struct xmlstream *xmlstream_new(XML_Parser p,
                                const struct xmlstream_limits *limits)
{
    struct xmlstream *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->p = p;
    x->limits = limits;
    x->cut = -1;
    return x;
}

void xmlstream_free(struct xmlstream *x)
{
    if (!x)
        return;
    free(x->run);
    free(x->prime);
    free(x);
}

void xmlstream_reset(struct xmlstream *x)
{
    XML_Parser p = x->p;
    const struct xmlstream_limits *limits = x->limits;
    free(x->run);
    free(x->prime);
    memset(x, 0, sizeof *x);
    x->p = p;
    x->limits = limits;
    x->cut = -1;
}

bool xmlstream_renewing(const struct xmlstream *x)
{
    return x->priming;
}

void xmlstream_set_user_data(struct xmlstream *x, void *ud)
{
    x->ud = ud;
}

/* Ours in front of the library's: called after every reset, which
 * clears them, when the library sets its handlers again. */
static void install(struct xmlstream *x)
{
    XML_Parser p = x->p;
    XML_SetUserData(p, x);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetStartNamespaceDeclHandler(p, on_ns);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetCommentHandler(p, on_comment);
    XML_SetProcessingInstructionHandler(p, on_pi);
    /* RFC 6120 §11.6: UTF-8, whatever an XML declaration or a byte order
     * mark says (expat would take UTF-16 from either). */
    XML_SetEncoding(p, "UTF-8");
}

void xmlstream_set_element_handlers(struct xmlstream *x,
                                    XML_StartElementHandler start,
                                    XML_EndElementHandler end)
{
    x->start = start;
    x->end = end;
    install(x);
}

void xmlstream_set_text_handler(struct xmlstream *x,
                                XML_CharacterDataHandler text)
{
    x->text = text;
}

/* A fresh expat in the middle of the stream, between two stanzas: reset
 * (which clears the names it kept, our handlers and its user data), and
 * given a root with the stream's namespace declarations, which is not
 * passed on. Stream positions go on from `at`, the stanza's end. */
static void renew(struct xmlstream *x, long long at)
{
    x->priming = true; /* the reset must not reach xmlstream_reset() */
    XML_ParserReset(x->p, NULL);
    install(x);
    void *buf = XML_GetBuffer(x->p, (int)x->prime_len);
    if (buf) {
        memcpy(buf, x->prime, x->prime_len);
        if (XML_ParseBuffer(x->p, (int)x->prime_len, 0) != XML_STATUS_OK)
            buf = NULL;
    }
    x->priming = false;
    if (!buf)
        stop_expat(x);
    x->base = at - (long long)x->prime_len;
    x->renewed = at;
}

/* Through XML_ParseBuffer, not XML_Parse: in the xmpp binary XML_Parse
 * is the library's way in (common/net/xmlhook.c), which leads here. When
 * a stanza's end suspended expat for renewal, what followed it in the
 * piece goes to the renewed parser. */
static void feed(struct xmlstream *x, const char *s, size_t n, bool final)
{
    while (!x->fault) {
        int piece = n > (1U << 20) ? 1 << 20 : (int)n;
        void *buf = XML_GetBuffer(x->p, piece);
        if (!buf) {
            stop_expat(x);
            return;
        }
        memcpy(buf, s, (size_t)piece);
        long long start = x->fed;
        x->fed += piece;
        enum XML_Status st =
            XML_ParseBuffer(x->p, piece, final && (size_t)piece == n);
        if (st == XML_STATUS_SUSPENDED && x->cut >= 0) {
            size_t used = (size_t)(x->cut - start);
            x->fed = x->cut;
            x->cut = -1;
            renew(x, x->fed);
            s += used;
            n -= used;
            if (!n && !final)
                return;
            continue;
        }
        if (st != XML_STATUS_OK && !x->fault)
            stop_expat(x);
        s += piece;
        n -= (size_t)piece;
        if (!n)
            return;
    }
}

void xmlstream_parse(struct xmlstream *x, const char *s, size_t n, bool final)
{
    if (x->fault)
        return;
    /* RFC 6120 §11.6. What comes before a bad byte is parsed first: a
     * stanza that arrived whole before it is not lost. */
    size_t good = utf8_stream_check(&x->utf8, s, n);
    if (good || (final && good == n))
        feed(x, s, good, final && good == n);
    if (x->fault)
        return;
    if (good < n || (final && !utf8_stream_done(&x->utf8))) {
        stop(x, XMLSTREAM_ENCODING,
             "invalid UTF-8 (after %lld bytes of the stream)", x->fed);
        return;
    }
    /* While reading: what expat holds of an unfinished stanza (or of a
     * tag, comment or text that never ends) stays within the limit. */
    unsigned long max = xmlstream_max_bytes(x);
    if (x->fed - x->mark > (long long)max)
        stop(x, XMLSTREAM_TOO_BIG, "a stanza over %lu bytes", max);
}

enum xmlstream_fault xmlstream_fault(const struct xmlstream *x,
                                     const char **why)
{
    if (why)
        *why = x->why;
    return x->fault;
}

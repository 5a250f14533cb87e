/* How we see the server's XML before libstrophe does: its calls to expat
 * come here first, and its stream parser gets the checks of
 * common/io/xmlstream.c in front of its handlers.
 *
 * libstrophe 0.12 offers no hook on what it receives: its log shows
 * stanzas only once parsed and built, and a parse error only as a debug
 * line. It reads 4 KiB at a time (SSL_read, or recv) and hands them to
 * expat with XML_Parse. Of the places we could stand:
 *  - its reads: interposing SSL_read and recv means telling its socket
 *    from libcurl's, a second parser on the same bytes, and no say in
 *    what libstrophe's own parser then does (its text joining and its
 *    sibling walks stay quadratic);
 *  - its expat calls (here): libstrophe calls XML_Parse, XML_Set*Handler,
 *    XML_ParserReset and XML_ParserFree through the dynamic linker, and a
 *    definition in the executable is found first (exported with
 *    --export-dynamic-symbol, see Makefile). We get exactly the bytes its
 *    parser gets, after TLS, on every transport; we sit between expat and
 *    its handlers, so a fault stops the parse before anything after it
 *    reaches the library, and text reaches it in whole runs; and nothing
 *    of libstrophe is copied or patched.
 * A parser is libstrophe's when the handlers it is given are not in our
 * executable: the only other users of expat in the process are our own
 * common/io/xmlin.c and xmljson.c. Their calls, and the checker's own,
 * go straight through to expat. */
#include "common/net/session_priv.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The process has one session at a time, and expat's calls carry no
 * context of ours: what is watched, under which limits, and the fault
 * the session has not taken yet live here. */
struct watched {
    XML_Parser p;
    struct xmlstream *x;
    bool told; /* its fault was passed on */
    struct watched *next;
};
static struct watched *watched;
static struct xmlstream_limits limits = {XMLSTREAM_DEFAULT_MAX, false, 0};
static struct {
    enum xmlstream_fault kind;
    char why[200];
} pending;

/* expat's own functions, behind ours. They cannot be missing: the
 * executable links libexpat (a static expat would clash with ours at
 * link time). */
static struct {
    enum XML_Status (*parse)(XML_Parser, const char *, int, int);
    void (*set_user_data)(XML_Parser, void *);
    void (*set_element)(XML_Parser, XML_StartElementHandler,
                        XML_EndElementHandler);
    void (*set_text)(XML_Parser, XML_CharacterDataHandler);
    XML_Bool (*reset)(XML_Parser, const XML_Char *);
    void (*free)(XML_Parser);
} expat;

static void resolve(void)
{
    if (expat.parse)
        return;
    *(void **)&expat.set_user_data = dlsym(RTLD_NEXT, "XML_SetUserData");
    *(void **)&expat.set_element = dlsym(RTLD_NEXT, "XML_SetElementHandler");
    *(void **)&expat.set_text = dlsym(RTLD_NEXT, "XML_SetCharacterDataHandler");
    *(void **)&expat.reset = dlsym(RTLD_NEXT, "XML_ParserReset");
    *(void **)&expat.free = dlsym(RTLD_NEXT, "XML_ParserFree");
    *(void **)&expat.parse = dlsym(RTLD_NEXT, "XML_Parse");
}

/* Is this handler the library's, not one of ours? */
static bool from_library(const void *fn)
{
    static void *self;
    Dl_info info;
    if (!self && dladdr((const void *)from_library, &info))
        self = info.dli_fbase;
    return fn && dladdr(fn, &info) && info.dli_fbase != self;
}

static struct watched *find(XML_Parser p)
{
    for (struct watched *w = watched; w; w = w->next)
        if (w->p == p)
            return w;
    return NULL;
}

/* Watch the library's parser p from now on; its user data is already
 * set (libstrophe sets it before its handlers). NULL when out of
 * memory: the session is told, and ends. */
static struct watched *watch(XML_Parser p)
{
    struct watched *w = find(p);
    if (w)
        return w;
    w = calloc(1, sizeof *w);
    if (w && !(w->x = xmlstream_new(p, &limits))) {
        free(w);
        w = NULL;
    }
    if (!w) {
        pending.kind = XMLSTREAM_NOMEM;
        snprintf(pending.why, sizeof pending.why, "out of memory");
        return NULL;
    }
    w->p = p;
    xmlstream_set_user_data(w->x, XML_GetUserData(p));
    w->next = watched;
    watched = w;
    return w;
}

/* Keep a new fault for the session (stream_fault). */
static void pass_on(struct watched *w)
{
    const char *why;
    enum xmlstream_fault f = xmlstream_fault(w->x, &why);
    if (!f || w->told)
        return;
    w->told = true;
    pending.kind = f;
    snprintf(pending.why, sizeof pending.why, "%s", why);
}

void stream_watch(unsigned long max_bytes)
{
    limits.max_bytes = max_bytes ? max_bytes : XMLSTREAM_DEFAULT_MAX;
    limits.exact = max_bytes != 0;
    pending.kind = XMLSTREAM_OK;
}

enum xmlstream_fault stream_fault(char *why, size_t n)
{
    enum xmlstream_fault f = pending.kind;
    if (f && why)
        snprintf(why, n, "%s", pending.why);
    pending.kind = XMLSTREAM_OK;
    return f;
}

/* ---- expat's API, as the library calls it ---- */

void XML_SetUserData(XML_Parser p, void *ud)
{
    resolve();
    struct watched *w = find(p);
    if (w && ud != (void *)w->x)
        xmlstream_set_user_data(w->x, ud);
    else
        expat.set_user_data(p, ud);
}

void XML_SetElementHandler(XML_Parser p, XML_StartElementHandler start,
                           XML_EndElementHandler end)
{
    resolve();
    struct watched *w = from_library((const void *)start) ? watch(p) : NULL;
    if (w)
        xmlstream_set_element_handlers(w->x, start, end);
    else
        expat.set_element(p, start, end);
}

void XML_SetCharacterDataHandler(XML_Parser p, XML_CharacterDataHandler text)
{
    resolve();
    struct watched *w = from_library((const void *)text) ? watch(p) : NULL;
    if (w)
        xmlstream_set_text_handler(w->x, text);
    else
        expat.set_text(p, text);
}

/* Always XML_STATUS_OK for the library's parser: on an error libstrophe
 * sends <invalid-xml/>, logs the chunk with %s although it is not
 * NUL-terminated, and carries on deaf. The session sees the fault after
 * the library's loop returns (stream_fault), and ends the stream. */
enum XML_Status XML_Parse(XML_Parser p, const char *s, int len, int final)
{
    resolve();
    struct watched *w = find(p);
    if (!w)
        return expat.parse(p, s, len, final);
    xmlstream_parse(w->x, s, len > 0 ? (size_t)len : 0, final);
    pass_on(w);
    return XML_STATUS_OK;
}

/* A new stream on the same parser (RFC 6120 §4.3.3: after TLS and SASL,
 * and on a reconnect); the library sets its handlers again next. */
XML_Bool XML_ParserReset(XML_Parser p, const XML_Char *encoding)
{
    resolve();
    XML_Bool ok = expat.reset(p, encoding);
    struct watched *w = find(p);
    if (w && !xmlstream_renewing(w->x)) {
        xmlstream_reset(w->x);
        w->told = false;
    }
    return ok;
}

void XML_ParserFree(XML_Parser p)
{
    resolve();
    for (struct watched **at = &watched; *at; at = &(*at)->next) {
        if ((*at)->p == p) {
            struct watched *w = *at;
            *at = w->next;
            xmlstream_free(w->x);
            free(w);
            break;
        }
    }
    expat.free(p);
}

/* The XML stream a server sends, checked while it is read, in front of
 * the library's own handlers on the library's own expat parser.
 *
 * libstrophe 0.12 parses the stream with expat and trusts it: a
 * malformed byte makes it answer <invalid-xml/> and then drop
 * everything without telling us; a DOCTYPE with entities is expanded; a
 * stanza of any size is built in memory, its text joined with strncat
 * (quadratic), its children appended by walking their list (quadratic
 * too). Here, every event passes through us first:
 *  - the bytes must be UTF-8 (RFC 6120 §11.6) and well-formed XML;
 *  - no DOCTYPE, entity declaration, comment or processing instruction
 *    (RFC 6120 §11.1);
 *  - a top-level element (stanza) may not grow past the size limit, and
 *    is refused as soon as it does, while being read: memory stays
 *    bounded by the limit, whatever the server sends;
 *  - nesting, children per element and attributes per element are
 *    bounded, so that building a stanza in the library stays linear in
 *    its size (and its recursive functions within the stack);
 *  - each run of text reaches the library as one piece, so that its
 *    strncat runs once per text node, not once per piece;
 *  - expat is renewed between stanzas now and then, as it keeps every
 *    name it meets until reset.
 * The first fault stops the parser for good: nothing after it reaches
 * the library. What to do about it (a stream error, closing the
 * connection, the exit status) is the session's: common/net/xmlhook.c
 * hands the fault to refuse_stream() in common/net/failure.c. */
#ifndef XMPP_XMLSTREAM_H
#define XMPP_XMLSTREAM_H

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest stanza accepted by default (--max-stanza). */
#define XMLSTREAM_DEFAULT_MAX (1UL << 20)
/* A server's XEP-0478 announcement raises the default up to this. */
#define XMLSTREAM_ANNOUNCED_CEILING (16UL << 20)
/* Elements nested in a stanza, the stanza included. */
#define XMLSTREAM_MAX_DEPTH 256
/* Children of one element inside a stanza. libstrophe 0.12 appends a
 * child by walking the list of its siblings, so n children cost n²/2
 * steps, whatever we do: with 10,000 the worst 1 MiB stanza (26 elements
 * of 10,000 empty children) costs libstrophe about 2.4 s of CPU here,
 * against 0.1 s for one of 100-children elements; and a roster of
 * 10,000 contacts, about what fits in 1 MiB, still arrives. */
#define XMLSTREAM_MAX_CHILDREN 10000
/* Attributes of one element; libstrophe keeps them in a hash table of
 * 8 buckets, walked on every insertion. */
#define XMLSTREAM_MAX_ATTRS 256

enum xmlstream_fault {
    XMLSTREAM_OK,
    XMLSTREAM_MALFORMED,   /* not well-formed XML */
    XMLSTREAM_ENCODING,    /* not UTF-8 */
    XMLSTREAM_RESTRICTED,  /* a DOCTYPE, comment, ... (RFC 6120 §11.1) */
    XMLSTREAM_TOO_BIG,     /* a stanza over the size limit */
    XMLSTREAM_TOO_COMPLEX, /* nesting, children or attributes */
    XMLSTREAM_NOMEM,
};

struct xmlstream_limits {
    unsigned long max_bytes; /* the largest stanza */
    bool exact; /* given by the user: a server's announcement is ignored */
    /* Renew expat after about this many bytes (see xmlstream.c); 0: the
     * default. Small for the fuzz target, so that it renews often. */
    unsigned long renew_bytes;
};

struct xmlstream;

/* Checks for the parser p, under limits (kept by pointer: they may
 * change, and apply from the next read on). NULL when out of memory. */
struct xmlstream *xmlstream_new(XML_Parser p,
                                const struct xmlstream_limits *limits);

void xmlstream_free(struct xmlstream *x);

/* The parser was reset (XML_ParserReset: a new stream, RFC 6120
 * §4.3.3): start again, and wait for the library's handlers. */
void xmlstream_reset(struct xmlstream *x);

/* Is the checker resetting expat itself (to renew it)? Then
 * XML_ParserReset is not the start of a new stream. */
bool xmlstream_renewing(const struct xmlstream *x);

/* The library's user data and handlers, put behind ours (which get the
 * checker as their user data). */
void xmlstream_set_user_data(struct xmlstream *x, void *ud);
void xmlstream_set_element_handlers(struct xmlstream *x,
                                    XML_StartElementHandler start,
                                    XML_EndElementHandler end);
void xmlstream_set_text_handler(struct xmlstream *x,
                                XML_CharacterDataHandler text);

/* Parse the next n bytes of the stream, passing events on to the
 * library's handlers until a fault; after one, bytes are ignored. */
void xmlstream_parse(struct xmlstream *x, const char *s, size_t n, bool final);

/* The first fault, or XMLSTREAM_OK; *why (when not NULL) gets what it
 * was in words: "malformed XML (mismatched tag at byte 120)", "a
 * stanza over 1048576 bytes". */
enum xmlstream_fault xmlstream_fault(const struct xmlstream *x,
                                     const char **why);

/* The limit in force: the user's, or the default raised by the
 * server's XEP-0478 announcement. */
unsigned long xmlstream_max_bytes(const struct xmlstream *x);

#endif

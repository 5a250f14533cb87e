/* Text we put into stanzas must be UTF-8 holding only characters that
 * XML 1.0 allows (§2.2 Char): anything else would be a stream error at
 * the server, after earlier stanzas were already sent. */
#ifndef XMPP_UTF8_H
#define XMPP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Decode the UTF-8 sequence at s (n bytes available; a NUL-terminated
 * string may pass 4: decoding stops at the first byte that does not
 * fit). Returns its length and sets *cp, or returns 0 for a malformed
 * sequence (overlong forms, surrogates and values above U+10FFFF
 * included). */
size_t utf8_decode(const char *s, size_t n, unsigned long *cp);

/* Returns NULL when s[0..len) is valid, else a reason, with *at set to
 * the byte offset of the first offending byte. */
const char *utf8_check(const char *s, size_t len, size_t *at);

/* A malloc'd copy of s[0..len) with each invalid sequence and each
 * forbidden character replaced by U+FFFD; NUL-terminated. */
char *utf8_sanitize(const char *s, size_t len, size_t *outlen);

/* The same, replacing only invalid sequences: for JSON, which can carry
 * any character (escaped) but must be UTF-8. */
char *utf8_repair(const char *s, size_t len, size_t *outlen);

/* Is cp a character that acts on a terminal or on the text around it
 * instead of showing: a C0 or C1 control, DEL, a bidirectional control
 * (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) or the line
 * and paragraph separators U+2028, U+2029? None of them may appear in
 * a JID (RFC 7622 §3: PRECIS, RFC 8264 §9: Controls and
 * IgnorableProperties are disallowed, and so are Zl and Zp). */
bool utf8_is_control(unsigned long cp);

/* Is s[0..n) valid UTF-8 without any character utf8_is_control names:
 * a name or value from the network that must stay one plain line? */
bool utf8_is_clean(const char *s, size_t n);

/* Where a UTF-8 sequence split across reads stands: the continuation
 * bytes still due and the range the next one must fall in (which rules
 * out overlong forms, surrogates and values above U+10FFFF). Zeroed: at
 * the start of a text. */
struct utf8_stream {
    unsigned char need, lo, hi;
};

/* Check the next n bytes of a text that arrives in pieces. Returns n
 * when they are valid so far (a sequence may stay open for the next
 * piece), else the offset of the first byte that cannot be UTF-8. */
size_t utf8_stream_check(struct utf8_stream *u, const char *s, size_t n);

/* Is the text complete: no sequence left open? */
bool utf8_stream_done(const struct utf8_stream *u);

#endif

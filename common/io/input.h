/* What users hand us: read whole, bounded, and checked before anything
 * is sent, so that bad input never leaves half a job done. */
#ifndef XMPP_INPUT_H
#define XMPP_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Default cap on one message body or stanza: 1 MiB. */
#define INPUT_MAX_DEFAULT (1024 * 1024)

/* Read all of path ("-" or NULL: stdin), at most max bytes, into a
 * malloc'd NUL-terminated buffer. Returns 0, XE_NOINPUT (unreadable) or
 * XE_DATA (too large), the message printed. */
int input_read(const char *path, size_t max, char **buf, size_t *len);

/* Stdin holds a secret (`by`: "--password-file -"): from now on a tool
 * that would read it as input is refused with a usage error. */
void input_reserve_stdin(const char *by);

/* For a tool about to read stdin as its input: 0, or XE_USAGE (printed)
 * when stdin holds a secret. input_read() checks this itself. */
int input_stdin_check(void);

/* Check text for invalid UTF-8 and XML-forbidden characters. With
 * sanitize, replace them with U+FFFD in place of failing (*buf may be
 * reallocated). `what` names the input in the message ("stdin line 3").
 * Returns 0 or XE_DATA, the message printed. */
int input_text(const char *what, char **buf, size_t *len, bool sanitize);

/* Read what fd has now, without waiting: bytes read, 0 at end of
 * input (or on a read error), -1 when nothing is there yet. For tools
 * that stream stdin while running the libstrophe loop. */
ssize_t input_available(int fd, char *buf, size_t room);

#endif

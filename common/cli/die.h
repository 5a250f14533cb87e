/* One-line diagnostics: "xmpp TOOL: message". */
#ifndef XMPP_DIE_H
#define XMPP_DIE_H

/* Set once by main() to the tool being run, for the message prefix. */
extern const char *progname;

/* Print "xmpp TOOL: fmt..." on stderr and return status, so that a
 * caller can write `return fail(XE_DATA, "...")`. */
int fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Out of memory: "xmpp TOOL: WHAT: out of memory" (just "out of memory"
 * when what is NULL). Returns XE_OSERR, the one status for it. */
int fail_oom(const char *what);

/* A warning: the same line, no status. Silent under --quiet. */
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set by --quiet: suppresses warnx and informational lines. */
extern int quiet;

#endif

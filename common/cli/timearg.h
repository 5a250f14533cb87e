/* Points in time given on the command line (history --since/--until). */
#ifndef XMPP_TIMEARG_H
#define XMPP_TIMEARG_H

#include <stddef.h>
#include <time.h>

/* What the parser takes, for usage errors. */
#define TIMEARG_FORMS                                                          \
    "ISO 8601 (2026-11-30, 2026-11-30T08:00, 2026-11-30T08:00:00Z,\n"          \
    "+01:00 zones; local time without a zone) or a time ago (30s, 10m,\n"      \
    "2h, 1d, 1w, 1h30m)"

/* Parse arg as ISO 8601 (a date, or a date and time with optional
 * seconds, fraction and zone: "Z", "+hh:mm", "+hhmm", "+hh"; without a
 * zone it is local time) or as a duration back from now: numbers with
 * units s, m, h, d, w ("10m", "1h30m"). Returns 0 with *out set, or -1
 * when arg is neither. */
int timearg_parse(const char *arg, time_t now, time_t *out);

/* t as an XEP-0082 DateTime in UTC ("2026-11-30T08:00:00Z") into buf,
 * which holds at least TIMEARG_XEP82_LEN bytes. */
#define TIMEARG_XEP82_LEN 32
void timearg_xep82(time_t t, char *buf, size_t n);

#endif

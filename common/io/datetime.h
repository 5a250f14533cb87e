/* Points in time as XMPP writes them (XEP-0082: the stamps of XEP-0203
 * delays) and as users give them (--since: ISO 8601, or a span back
 * from now). Times are seconds since the epoch, with fractions. */
#ifndef XMPP_DATETIME_H
#define XMPP_DATETIME_H

#include <stddef.h>

/* ISO 8601: DATE, or DATE[T ]hh:mm[:ss[.fff]] with an optional offset
 * (Z, +hh:mm, +hhmm, +hh); DATE is YYYY-MM-DD. Without an offset the
 * time is local. Returns 0, or -1 when s is not one. */
int datetime_parse(const char *s, double *t);

/* A span such as 30s, 10m, 2h, 1d, 1w or 1h30m (units s, m, h, d, w;
 * numbers may have fractions). Returns 0, or -1 when s is not one. */
int datetime_span(const char *s, double *secs);

/* What --since takes: a span back from now, or an ISO 8601 time.
 * Returns 0, or -1 when s is neither. */
int datetime_since(const char *s, double now, double *t);

/* t as XEP-0082 UTC, CCYY-MM-DDThh:mm:ssZ (truncated to the second),
 * into buf (21 bytes are enough). Returns buf. */
char *datetime_format(double t, char *buf, size_t n);

/* The wall clock now, as a time. */
double datetime_now(void);

#endif

#include "common/io/datetime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exactly n digits at *p, as a number; p moves past them. -1 if not. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

/* The offset at p: Z, +hh:mm, +hhmm or +hh, into *secs. Returns 0, or
 * -1 for anything else (the whole rest of the string must be it). */
static int parse_offset(const char *p, long *secs)
{
    if (!strcmp(p, "Z")) {
        *secs = 0;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return -1;
    int sign = *p++ == '-' ? -1 : 1;
    int h = digits(&p, 2), m = 0;
    if (*p == ':')
        p++;
    if (*p && (m = digits(&p, 2)) < 0)
        return -1;
    if (h < 0 || h > 23 || m > 59 || *p)
        return -1;
    *secs = sign * (h * 3600L + m * 60L);
    return 0;
}

/* hh:mm[:ss[.fff]] at *p into tm and *frac; p moves past it. */
static int parse_clock(const char **p, struct tm *tm, double *frac)
{
    if ((tm->tm_hour = digits(p, 2)) < 0 || *(*p)++ != ':' ||
        (tm->tm_min = digits(p, 2)) < 0)
        return -1;
    if (**p == ':') {
        (*p)++;
        if ((tm->tm_sec = digits(p, 2)) < 0)
            return -1;
        if (**p == '.' || **p == ',') {
            const char *start = *p + 1;
            size_t n = strspn(start, "0123456789");
            if (!n)
                return -1;
            char buf[32] = "0.";
            snprintf(buf + 2, sizeof buf - 2, "%.*s", n > 20 ? 20 : (int)n,
                     start);
            *frac = strtod(buf, NULL);
            *p = start + n;
        }
    }
    return tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60 ? -1 : 0;
}

int datetime_parse(const char *s, double *t)
{
    struct tm tm = {0};
    double frac = 0;
    const char *p = s;
    if ((tm.tm_year = digits(&p, 4)) < 0 || *p++ != '-' ||
        (tm.tm_mon = digits(&p, 2)) < 1 || tm.tm_mon > 12 || *p++ != '-' ||
        (tm.tm_mday = digits(&p, 2)) < 1 || tm.tm_mday > 31)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int mday = tm.tm_mday;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (parse_clock(&p, &tm, &frac) < 0)
            return -1;
    } else if (*p) {
        return -1;
    }
    long off = 0;
    time_t base;
    if (*p) {
        if (parse_offset(p, &off) < 0)
            return -1;
        base = timegm(&tm);
    } else {
        tm.tm_isdst = -1; /* no offset: the local time */
        base = mktime(&tm);
    }
    if (base == (time_t)-1 || tm.tm_mday != mday) /* 31 April rolled on */
        return -1;
    *t = (double)base - (double)off + frac;
    return 0;
}

int datetime_span(const char *s, double *secs)
{
    double total = 0;
    if (!*s)
        return -1;
    while (*s) {
        if (!isdigit((unsigned char)*s))
            return -1; /* no signs, no spaces, no bare units */
        char *end;
        double v = strtod(s, &end);
        if ((size_t)(end - s) != strspn(s, "0123456789."))
            return -1; /* no exponents, no hex */
        const char *unit = strchr("smhdw", *end);
        if (!*end || !unit)
            return -1;
        static const double scale[] = {1, 60, 3600, 86400, 604800};
        total += v * scale[unit - "smhdw"];
        s = end + 1;
    }
    if (!(total < 1e12)) /* some 30,000 years */
        return -1;
    *secs = total;
    return 0;
}

int datetime_since(const char *s, double now, double *t)
{
    double span;
    if (!datetime_span(s, &span)) {
        *t = now - span;
        return 0;
    }
    return datetime_parse(s, t);
}

char *datetime_format(double t, char *buf, size_t n)
{
    time_t secs = (time_t)t;
    if ((double)secs > t)
        secs--; /* truncated towards the past */
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) /* beyond what time_t holds */
        memset(&tm, 0, sizeof tm);
    /* Not strftime's %Y: XEP-0082 wants four digits in year 26 too. */
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

double datetime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

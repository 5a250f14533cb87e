#include "common/cli/timearg.h"

#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Exactly `digits` decimal digits at *p, as a number; advances *p. */
static bool digits_at(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += digits;
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_ok(int y, int mo, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1)
        return false;
    return d <= mdays[mo - 1] + (mo == 2 && leap(y));
}

/* "T08:00", "T08:00:00", "T08:00:00.123" (the fraction ignored). */
static bool clock_at(const char **p, struct tm *tm)
{
    if (**p != 'T' && **p != 't' && **p != ' ')
        return true; /* a date alone: midnight */
    (*p)++;
    if (!digits_at(p, 2, &tm->tm_hour) || *(*p)++ != ':' ||
        !digits_at(p, 2, &tm->tm_min))
        return false;
    if (**p == ':') {
        (*p)++;
        if (!digits_at(p, 2, &tm->tm_sec))
            return false;
        if (**p == '.' || **p == ',') {
            (*p)++;
            if (!isdigit((unsigned char)**p))
                return false;
            while (isdigit((unsigned char)**p))
                (*p)++;
        }
    }
    return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 61;
}

/* "Z", "+hh:mm", "+hhmm", "+hh": *offset seconds east of UTC; *zoned
 * false when there is none (local time). */
static bool zone_at(const char **p, bool *zoned, long *offset)
{
    *zoned = true;
    *offset = 0;
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return true;
    }
    if (**p != '+' && **p != '-') {
        *zoned = false;
        return true;
    }
    int sign = *(*p)++ == '-' ? -1 : 1, h, m = 0;
    if (!digits_at(p, 2, &h))
        return false;
    if (**p == ':')
        (*p)++;
    if (**p && !digits_at(p, 2, &m))
        return false;
    if (h > 23 || m > 59)
        return false;
    *offset = sign * (h * 3600L + m * 60L);
    return true;
}

static int parse_iso(const char *p, time_t *out)
{
    struct tm tm = {0};
    int y, mo, d;
    if (!digits_at(&p, 4, &y) || *p++ != '-' || !digits_at(&p, 2, &mo) ||
        *p++ != '-' || !digits_at(&p, 2, &d) || !date_ok(y, mo, d))
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    bool zoned;
    long offset;
    if (!clock_at(&p, &tm) || !zone_at(&p, &zoned, &offset) || *p)
        return -1;
    if (zoned) {
        *out = timegm(&tm) - offset;
    } else {
        tm.tm_isdst = -1;
        *out = mktime(&tm);
    }
    return *out < 0 ? -1 : 0; /* and mktime's error, (time_t)-1 */
}

/* "10m", "1h30m": seconds, or -1. */
static long long parse_ago(const char *p)
{
    long long total = 0;
    if (!*p)
        return -1;
    while (*p) {
        long long n = 0;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++)
            if ((n = n * 10 + (*p - '0')) > 100LL * 365 * 86400)
                return -1;
        const char *units = "smhdw";
        static const long long secs[] = {1, 60, 3600, 86400, 7 * 86400};
        const char *u = *p ? strchr(units, *p) : NULL;
        if (!u)
            return -1;
        total += n * secs[u - units];
        if (total > 100LL * 365 * 86400)
            return -1;
        p++;
    }
    return total;
}

int timearg_parse(const char *arg, time_t now, time_t *out)
{
    if (strlen(arg) >= 10 && arg[4] == '-')
        return parse_iso(arg, out);
    long long ago = parse_ago(arg);
    if (ago < 0 || ago > (long long)now)
        return -1;
    *out = now - (time_t)ago;
    return 0;
}

void timearg_xep82(time_t t, char *buf, size_t n)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "1970-01-01T00:00:00Z");
}

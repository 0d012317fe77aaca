/* timefmt.c - see timefmt.h. */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

static int fail(char *err, size_t errlen, const char *s, const char *why)
{
    if (errlen > 0)
        snprintf(err, errlen,
                 "invalid time '%.40s': %s (use 2026-11-25, 2026-11-25T10:00:00Z or "
                 "2026-11-25T19:00:00+09:00)",
                 s, why);
    return TMI_EINVAL;
}

/* n decimal digits at p into *out; 0 if any is not a digit. */
static int digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = y - (m <= 2);
    int64_t era = yy / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int time_parse(const char *s, int64_t *ns, char *err, size_t errlen)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t frac = 0, offset_s = 0;
    size_t n;
    const char *p;

    if (errlen > 0)
        err[0] = '\0';
    if (s == NULL)
        return fail(err, errlen, "", "empty");
    n = strlen(s);
    if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return fail(err, errlen, s, "expected a date YYYY-MM-DD");
    if (y < 1970 || y > 2261)
        return fail(err, errlen, s, "year out of range 1970..2261");
    if (mo < 1 || mo > 12)
        return fail(err, errlen, s, "month out of range");
    if (d < 1 || d > days_in_month(y, mo))
        return fail(err, errlen, s, "no such day in that month");
    p = s + 10;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't')
            return fail(err, errlen, s, "expected 'T' after the date");
        p++;
        if (strlen(p) < 9 || !digits(p, 2, &h) || p[2] != ':' || !digits(p + 3, 2, &mi) ||
            p[5] != ':' || !digits(p + 6, 2, &sec))
            return fail(err, errlen, s, "expected a time HH:MM:SS");
        if (h > 23 || mi > 59 || sec > 59)
            return fail(err, errlen, s, "time out of range");
        p += 8;
        if (*p == '.') {
            int nd = 0;
            p++;
            while (p[nd] >= '0' && p[nd] <= '9')
                nd++;
            if (nd == 0 || nd > 9)
                return fail(err, errlen, s, "1 to 9 digits expected after '.'");
            for (int i = 0; i < 9; i++)
                frac = frac * 10 + (i < nd ? p[i] - '0' : 0);
            p += nd;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
                om > 59)
                return fail(err, errlen, s, "bad UTC offset (expected +HH:MM)");
            offset_s = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            return fail(err, errlen, s, "missing time zone ('Z' for UTC)");
        }
        if (*p != '\0')
            return fail(err, errlen, s, "unexpected text after the time zone");
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
        return fail(err, errlen, s, "out of range");
    *ns = secs * 1000000000 + frac;
    return TMI_OK;
}

void time_to_civil(int64_t ns, time_civil *out)
{
    int64_t secs = ns > 0 ? ns / 1000000000LL : 0;
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = (int)(yoe + era * 400 + (out->month <= 2));
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem % 3600 / 60);
    out->second = (int)(rem % 60);
    out->millisecond = ns > 0 ? (int)(ns % 1000000000LL / 1000000LL) : 0;
    out->weekday = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday */
}

char *time_format_utc(int64_t ns, char *buf, size_t buflen)
{
    time_civil t;
    time_to_civil(ns, &t);
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.year, t.month, t.day, t.hour,
             t.minute, t.second, t.millisecond);
    return buf;
}

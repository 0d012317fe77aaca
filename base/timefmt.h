/*
 * timefmt.h - times as text: the RFC 3339 UTC form every JSON document and
 * table shows, the broken-down calendar time under it (no gmtime_r, so it is
 * the same on every platform), and parsing the times users give for ranges
 * (--since, --until, and the API's since/until).
 *
 * Times are int64_t nanoseconds since the Unix epoch, UTC.
 */
#ifndef TMI_TIMEFMT_H
#define TMI_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s strictly as one of
 *   YYYY-MM-DD                          midnight UTC of that day
 *   YYYY-MM-DDTHH:MM:SS[.F]Z            UTC; F is 1 to 9 digits
 *   YYYY-MM-DDTHH:MM:SS[.F]+HH:MM       (or -HH:MM) converted to UTC
 * ("T" and "Z" may be lower case, as RFC 3339 allows). Fields are range
 * checked (real calendar dates, leap years, hours 0-23, no leap second) and
 * the year must be 1970..2261 (nanoseconds since 1970 fit in 64 bits).
 * TMI_OK with *ns set, or TMI_EINVAL with a one-line reason in err.
 */
int time_parse(const char *s, int64_t *ns, char *err, size_t errlen);

/* A UTC time broken down (proleptic Gregorian calendar). */
typedef struct time_civil {
    int year, month, day; /* month 1..12, day 1..31 */
    int hour, minute, second, millisecond;
    int weekday; /* 0 Sunday .. 6 Saturday */
} time_civil;

/* Break ns down; a negative ns is taken as the epoch. */
void time_to_civil(int64_t ns, time_civil *out);

/* RFC 3339 UTC with milliseconds ("2026-11-25T10:59:50.123Z") into buf (at
 * least TIME_UTC_LEN bytes); returns buf. */
#define TIME_UTC_LEN 32
char *time_format_utc(int64_t ns, char *buf, size_t buflen);

#endif

/*
 * timefmt.h - parsing the times users give for ranges (--since, --until, and
 * the API's since/until): RFC 3339 timestamps and plain dates.
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

#endif

/*
 * test_clock.c - the platform's clocks: the local time zone's UTC offset
 * (daylight saving time included) checked against the C library's own
 * localtime()/gmtime() for the same instants, and the wall and monotonic
 * clocks moving forward. Runs on every backend (under wine too);
 * test_clock_posix.c adds named zones, set through TZ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <time.h>

#include "plat.h"

/* Minutes east of UTC at t, as the C library sees it. */
static int libc_offset_minutes(time_t t)
{
    struct tm l = *localtime(&t);
    struct tm g = *gmtime(&t);
    int days = l.tm_yday - g.tm_yday;
    if (l.tm_year != g.tm_year)
        days = l.tm_year > g.tm_year ? 1 : -1; /* across New Year */
    return days * 1440 + (l.tm_hour - g.tm_hour) * 60 + (l.tm_min - g.tm_min);
}

static void check_zone(void)
{
    /* midwinter and midsummer 2026, and now */
    const time_t when[] = {1768478400 /* 2026-01-15 12:00Z */, 1783944000 /* 2026-07-13 12:00Z */,
                           time(NULL)};
    for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
        int got = plat_utc_offset_minutes((int64_t)when[i] * 1000000000LL);
        int want = libc_offset_minutes(when[i]);
        if (got != want)
            fail_msg("at %lld: offset %d min, the C library says %d", (long long)when[i], got,
                     want);
    }
}

/* The system's zone. With TZ set, Windows' C runtime reads TZ in its own
 * format ("JST-9") while the Win32 zone follows the system, so the C library
 * is no reference there: skipped (test_clock_posix.c covers named zones). */
static void offset_follows_the_zone(void **state)
{
    (void)state;
    if (getenv("TZ") != NULL)
        skip();
    check_zone();
}

static void clocks_move_forward(void **state)
{
    (void)state;
    int64_t w0 = plat_now_ns(), m0 = plat_monotonic_ns();
    plat_sleep_ms(20);
    int64_t w1 = plat_now_ns(), m1 = plat_monotonic_ns();
    assert_true(m1 - m0 >= 15 * 1000000LL);
    assert_true(w1 > w0);
    /* the wall clock is in this century, in ns */
    assert_true(w0 > 1700000000LL * 1000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offset_follows_the_zone),
        cmocka_unit_test(clocks_move_forward),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}

/*
 * test_clock_posix.c - the UTC offset in named zones east and west of UTC,
 * with and without daylight saving time, chosen through TZ (POSIX only).
 */
#define _POSIX_C_SOURCE 200809L /* setenv, tzset */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <time.h>

#include "plat.h"

static void offset_in_named_zones(void **state)
{
    (void)state;
    static const struct {
        const char *tz;
        int winter, summer;
    } zones[] = {{"UTC", 0, 0},
                 {"Asia/Tokyo", 540, 540},
                 {"Europe/Berlin", 60, 120},
                 {"America/New_York", -300, -240},
                 {"Asia/Kolkata", 330, 330}};
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        setenv("TZ", zones[i].tz, 1);
        tzset();
        assert_int_equal(plat_utc_offset_minutes(1768478400LL * 1000000000LL), zones[i].winter);
        assert_int_equal(plat_utc_offset_minutes(1783944000LL * 1000000000LL), zones[i].summer);
    }
    unsetenv("TZ");
    tzset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offset_in_named_zones),
    };
    return cmocka_run_group_tests_name("clock-posix", tests, NULL, NULL);
}

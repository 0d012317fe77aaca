/* test_version.c - version parse/format/compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "version.h"

static void parses_four_parts(void **state)
{
    (void)state;
    tmi_version v;
    assert_int_equal(version_parse("1.12.0.1266", &v), TMI_OK);
    assert_int_equal(v.part[0], 1);
    assert_int_equal(v.part[1], 12);
    assert_int_equal(v.part[2], 0);
    assert_int_equal(v.part[3], 1266);
    assert_int_equal(version_parse("65535.65535.65535.65535", &v), TMI_OK);
    assert_int_equal(v.part[3], 65535);
    assert_int_equal(version_parse("0.0.0.0", &v), TMI_OK);
}

static void rejects_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "1",
        "1.2.3",
        "1.2.3.4.5",
        "1.2.3.65536",
        "1.2.3.-4",
        " 1.2.3.4",
        "1.2.3.4 ",
        "1..3.4",
        "a.b.c.d",
        "1.2.3.4x",
        "+1.2.3.4",
        "1.2.3.",
        "1.2.3.999999",
        "1,2,3,4",
        "1.2.3.0004444",
    };
    tmi_version v = {{7, 7, 7, 7}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(version_parse(bad[i], &v), TMI_EINVAL);
        assert_int_equal(v.part[0], 7); /* untouched on failure */
    }
    assert_int_equal(version_parse(NULL, &v), TMI_EINVAL);
}

static void formats_and_round_trips(void **state)
{
    (void)state;
    char buf[TMI_VERSION_STRLEN];
    tmi_version v = version_from_ms_ls(0x0001000C, 0x000004F2);
    assert_string_equal(version_format(&v, buf, sizeof(buf)), "1.12.0.1266");
    tmi_version max = {{65535, 65535, 65535, 65535}}, back;
    version_format(&max, buf, sizeof(buf));
    assert_string_equal(buf, "65535.65535.65535.65535");
    assert_int_equal(version_parse(buf, &back), TMI_OK);
    assert_memory_equal(&back, &max, sizeof(max));
}

static void compares_part_by_part(void **state)
{
    (void)state;
    tmi_version a, b;
    version_parse("1.12.0.1156", &a);
    version_parse("1.12.0.1266", &b);
    assert_true(version_compare(&a, &b) < 0);
    assert_true(version_compare(&b, &a) > 0);
    assert_int_equal(version_compare(&a, &a), 0);
    version_parse("1.13.0.0", &a);
    assert_true(version_compare(&a, &b) > 0); /* not a string compare */
    version_parse("2.0.0.0", &a);
    version_parse("10.0.0.0", &b);
    assert_true(version_compare(&a, &b) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_four_parts),
        cmocka_unit_test(rejects_malformed),
        cmocka_unit_test(formats_and_round_trips),
        cmocka_unit_test(compares_part_by_part),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}

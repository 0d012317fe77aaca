/* test_strutil.c - the base layer's string helpers: ASCII case-blind
 * comparison and the growing buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "strutil.h"

static void ascii_ieq_ignores_case_only(void **state)
{
    (void)state;
    assert_true(str_ascii_ieq("Content-Type", "content-type", 12));
    assert_true(str_ascii_ieq("TEXT/HTML;x", "text/html;y", 9)); /* only n bytes count */
    assert_false(str_ascii_ieq("text/html", "text/htmm", 9));
    assert_false(str_ascii_ieq("a[", "A{", 2));             /* '[' and '{' are not letters */
    assert_false(str_ascii_ieq("\xc3\xa9", "\xc3\x89", 2)); /* non-ASCII compared as bytes */
    assert_true(str_ascii_ieq("abc", "ABC", 10));           /* a shared NUL ends it, equal */
    assert_false(str_ascii_ieq("ab", "abc", 3));            /* one ends first */
    assert_true(str_ascii_ieq("x", "y", 0));
}

static void utf8_encode_each_length(void **state)
{
    (void)state;
    char b[4];
    assert_int_equal(str_utf8_encode(0x41, b), 1);
    assert_memory_equal(b, "A", 1);
    assert_int_equal(str_utf8_encode(0xE9, b), 2);
    assert_memory_equal(b, "\xc3\xa9", 2);
    assert_int_equal(str_utf8_encode(0x30C8, b), 3);
    assert_memory_equal(b, "\xe3\x83\x88", 3);
    assert_int_equal(str_utf8_encode(0x1F600, b), 4);
    assert_memory_equal(b, "\xf0\x9f\x98\x80", 4);
    assert_int_equal(str_utf8_encode(0x10FFFF, b), 4);
    assert_true(str_utf8_valid(b, 4));
}

static void buf_grows_and_stays_terminated(void **state)
{
    (void)state;
    str_buf b = {NULL, 0, 0, 1};
    char chunk[1000];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 50; i++)
        str_buf_add(&b, chunk, sizeof(chunk));
    str_buf_add(&b, "end", 3);
    str_buf_add(&b, "ignored", 0);
    assert_true(b.ok);
    assert_int_equal(b.len, 50 * sizeof(chunk) + 3);
    assert_true(b.cap > b.len);
    assert_int_equal(b.p[b.len], '\0');
    assert_memory_equal(b.p + b.len - 3, "end", 3);
    free(b.p);
}

static void buf_refuses_a_size_that_would_wrap(void **state)
{
    (void)state;
    str_buf b = {NULL, 0, 0, 1};
    str_buf_add(&b, "ab", 2);
    str_buf_add(&b, "cd", SIZE_MAX - 1); /* never read: refused before any copy */
    assert_false(b.ok);
    str_buf_add(&b, "ef", 2); /* a failed buffer stays failed */
    assert_int_equal(b.len, 2);
    assert_string_equal(b.p, "ab");
    free(b.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ascii_ieq_ignores_case_only),
        cmocka_unit_test(utf8_encode_each_length),
        cmocka_unit_test(buf_grows_and_stays_terminated),
        cmocka_unit_test(buf_refuses_a_size_that_would_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

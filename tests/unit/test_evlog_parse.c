/*
 * test_evlog_parse.c - EVENTLOGRECORD buffers built byte by byte from the
 * documented layout (core/plat/evlog_parse.h): a plain record, one whose
 * message is formatted from the provider's text, truncated ones, and
 * hostile lengths, offsets and counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "evlog_parse.h"

#define TEST(name, fn)                                                                             \
    {                                                                                              \
        name, fn, NULL, NULL, NULL                                                                 \
    }

/* A record being built: the fixed part, then names, strings, data. */
typedef struct rec {
    uint8_t b[16384];
    size_t n;
} rec;

static void w16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
    w16(p, v & 0xFFFF);
    w16(p + 2, v >> 16);
}

/* An ASCII or \uXXXX-free string as UTF-16LE with its NUL. */
static void add_wide(rec *r, const char *s)
{
    for (; *s != '\0'; s++) {
        w16(r->b + r->n, (uint8_t)*s);
        r->n += 2;
    }
    w16(r->b + r->n, 0);
    r->n += 2;
}

static void add_units(rec *r, const uint16_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        w16(r->b + r->n, u[i]);
        r->n += 2;
    }
}

/* The fixed part and the two names. */
static void begin(rec *r, uint32_t event_id, uint16_t type, const char *source)
{
    memset(r, 0, sizeof(*r));
    w32(r->b + 4, EVLOG_MAGIC);
    w32(r->b + 8, 4711);        /* RecordNumber */
    w32(r->b + 12, 1764590400); /* TimeGenerated: 2025-12-01T12:00:00Z */
    w32(r->b + 16, 1764590401); /* TimeWritten */
    w32(r->b + 20, event_id);
    w16(r->b + 24, type);
    w16(r->b + 28, 3); /* category */
    r->n = EVLOG_FIXED_LEN;
    add_wide(r, source);
    add_wide(r, "SRV-01");
    while (r->n % 4 != 0)
        r->b[r->n++] = 0;
}

/* The insertion strings from here on (NumStrings, StringOffset). */
static void strings(rec *r, const char *const *s, uint16_t n)
{
    w16(r->b + 26, n);
    w32(r->b + 36, (uint32_t)r->n);
    for (uint16_t i = 0; i < n; i++)
        add_wide(r, s[i]);
}

/* Padding, the closing Length, and Length at the start. */
static size_t end(rec *r)
{
    while (r->n % 4 != 0)
        r->b[r->n++] = 0;
    r->n += 4;
    w32(r->b, (uint32_t)r->n);
    w32(r->b + r->n - 4, (uint32_t)r->n);
    return r->n;
}

static const char *const fault[] = {"errcode=-107", "MRFServer.cpp", "1266"};

static void plain_record(void **state)
{
    static rec r;
    evlog_record e;
    char msg[256];
    (void)state;
    begin(&r, 0xC0000320u, 1, "TMI");
    strings(&r, fault, 3);
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(e.length, r.n);
    assert_int_equal(e.record_number, 4711);
    assert_int_equal(e.time_generated, 1764590400u);
    assert_int_equal(e.time_written, 1764590401u);
    assert_int_equal(e.event_id, 0xC0000320u);
    assert_int_equal(e.event_id & 0xFFFF, 800);
    assert_int_equal(e.category, 3);
    assert_int_equal(evlog_level(&e), 2);
    assert_string_equal(e.source, "TMI");
    assert_string_equal(e.computer, "SRV-01");
    assert_true(evlog_source_is(&e, "tmi"));
    assert_false(evlog_source_is(&e, "TMIX"));
    assert_false(evlog_source_is(&e, "TM"));
    assert_int_equal(e.num_strings, 3);
    assert_int_equal(e.n_strings, 3);
    assert_false(e.strings_cut);
    assert_string_equal(e.strings[0], "errcode=-107");
    assert_string_equal(e.strings[2], "1266");
    assert_int_equal(evlog_message(&e, NULL, msg, sizeof(msg)), TMI_OK);
    assert_string_equal(msg, "errcode=-107 MRFServer.cpp 1266");

    /* no strings at all: an empty message, StringOffset not looked at */
    begin(&r, 7, 4, "Service Control Manager");
    w32(r.b + 36, 0xFFFFFFFFu);
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(e.n_strings, 0);
    assert_int_equal(evlog_level(&e), 4);
    assert_int_equal(evlog_message(&e, NULL, msg, sizeof(msg)), TMI_OK);
    assert_string_equal(msg, "");
}

static void formatted_message(void **state)
{
    static rec r;
    evlog_record e;
    char msg[256];
    (void)state;
    begin(&r, 800, 1, "TMI");
    strings(&r, fault, 3);
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(evlog_message(&e,
                                   "MRF failed (%1) in %2, version %3!S!.%n"
                                   "100%% sure%. %4 is missing\r\n\r\n",
                                   msg, sizeof(msg)),
                     TMI_OK);
    assert_string_equal(msg, "MRF failed (errcode=-107) in MRFServer.cpp, version 1266.\n"
                             "100% sure. %4 is missing");
    /* %0 ends the text; %t %r; an insert twice; %10 is not %1 then 0 */
    assert_int_equal(evlog_message(&e, "%1%t%1%r|%10|%0 never", msg, sizeof(msg)), TMI_OK);
    assert_string_equal(msg, "errcode=-107\terrcode=-107\r|%10|");
    /* a lone % at the end, a format spec with no closing ! */
    assert_int_equal(evlog_message(&e, "a %2!x b%", msg, sizeof(msg)), TMI_OK);
    assert_string_equal(msg, "a MRFServer.cpp!x b%");
    /* UTF-8 in the template stays whole when the buffer is short */
    assert_int_equal(evlog_message(&e, "\xc3\xa9\xc3\xa9\xc3\xa9", msg, 6), TMI_ETOOBIG);
    assert_string_equal(msg, "\xc3\xa9\xc3\xa9");
    assert_int_equal(evlog_message(&e, NULL, msg, 10), TMI_ETOOBIG);
    assert_string_equal(msg, "errcode=-");
    assert_int_equal(evlog_message(&e, NULL, msg, 0), TMI_EINVAL);
    assert_int_equal(evlog_message(NULL, NULL, msg, sizeof(msg)), TMI_EINVAL);
}

static void utf16_text(void **state)
{
    static rec r;
    evlog_record e;
    /* "é", U+1F600 as a pair, a lone high then a lone low surrogate */
    const uint16_t s[] = {0x00E9, 0xD83D, 0xDE00, 0xD800, 0x0041, 0xDC00, 0};
    (void)state;
    begin(&r, 1, 2, "Prov");
    w16(r.b + 26, 1);
    w32(r.b + 36, (uint32_t)r.n);
    add_units(&r, s, sizeof(s) / sizeof(s[0]));
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(e.n_strings, 1);
    assert_string_equal(e.strings[0], "\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd"
                                      "A\xef\xbf\xbd");
    assert_int_equal(evlog_level(&e), 3);
}

static void truncated_records(void **state)
{
    static rec r;
    evlog_record e;
    (void)state;
    begin(&r, 800, 1, "TMI");
    strings(&r, fault, 3);
    end(&r);
    /* every cut of the buffer before the record's end is refused whole */
    for (size_t len = 0; len < r.n; len++) {
        memset(&e, 0x5A, sizeof(e));
        assert_int_equal(evlog_parse(r.b, len, &e), TMI_ECORRUPT);
        assert_int_equal(e.length, 0);
        assert_int_equal(e.n_strings, 0);
    }
    /* a record whose last string runs to its end without a NUL: kept, cut */
    begin(&r, 800, 1, "TMI");
    strings(&r, fault, 3);
    r.n -= 2; /* drop the last NUL */
    r.n += 4;
    w32(r.b, (uint32_t)r.n);
    r.b[r.n - 4] = 'x';
    r.b[r.n - 3] = 0;
    r.b[r.n - 2] = 'y';
    r.b[r.n - 1] = 0;
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(e.n_strings, 3);
    assert_true(e.strings_cut);
    assert_string_equal(e.strings[0], "errcode=-107");
    assert_string_equal(e.strings[2], "1266xy");
    assert_int_equal(evlog_parse(NULL, 100, &e), TMI_ECORRUPT);
    assert_int_equal(evlog_parse(r.b, r.n, NULL), TMI_EINVAL);
}

static void hostile_fields(void **state)
{
    static rec r;
    evlog_record e;
    char msg[64];
    size_t n;
    (void)state;
    begin(&r, 800, 1, "TMI");
    strings(&r, fault, 3);
    n = end(&r);

    /* Length: below the fixed part, past the buffer, wrapping, huge */
    const uint32_t lengths[] = {
        0, 4, EVLOG_FIXED_LEN - 1, EVLOG_FIXED_LEN, (uint32_t)n + 1, 0xFFFFFFFFu, 0x80000000u};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        w32(r.b, lengths[i]);
        assert_int_equal(evlog_parse(r.b, n, &e), TMI_ECORRUPT);
    }
    w32(r.b, (uint32_t)n);
    assert_int_equal(evlog_parse(r.b, n, &e), TMI_OK);

    /* not "LfLe" */
    w32(r.b + 4, 0x654C664Du);
    assert_int_equal(evlog_parse(r.b, n, &e), TMI_ECORRUPT);
    w32(r.b + 4, EVLOG_MAGIC);

    /* StringOffset inside the fixed part, at or past the end, wrapping */
    const uint32_t offsets[] = {0, 20, EVLOG_FIXED_LEN - 1, (uint32_t)n, 0xFFFFFFFEu};
    uint32_t good = 0;
    good = (uint32_t)r.b[36] | (uint32_t)r.b[37] << 8;
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        w32(r.b + 36, offsets[i]);
        assert_int_equal(evlog_parse(r.b, n, &e), TMI_ECORRUPT);
    }
    /* an odd offset: read as it lies, within bounds */
    w32(r.b + 36, good + 1);
    assert_int_equal(evlog_parse(r.b, n, &e), TMI_OK);
    w32(r.b + 36, good);

    /* NumStrings far beyond what is there: the strings present, then cut */
    w16(r.b + 26, 0xFFFF);
    assert_int_equal(evlog_parse(r.b, n, &e), TMI_OK);
    assert_int_equal(e.num_strings, 0xFFFF);
    assert_true(e.strings_cut);
    assert_true(e.n_strings >= 3 && e.n_strings <= EVLOG_STRINGS_MAX);
    assert_string_equal(e.strings[1], "MRFServer.cpp");
    assert_int_equal(evlog_message(&e, "%1/%99/%3", msg, sizeof(msg)), TMI_OK);
    assert_true(strncmp(msg, "errcode=-107/", 13) == 0);
    w16(r.b + 26, 3);

    /* a source name without its NUL: nothing can be trusted */
    begin(&r, 800, 1, "");
    r.n = EVLOG_FIXED_LEN;
    for (int i = 0; i < 8; i++) {
        w16(r.b + r.n, 'A');
        r.n += 2;
    }
    w32(r.b, (uint32_t)r.n);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_ECORRUPT);

    /* a source name longer than kept: cut, the record still read */
    begin(&r, 800, 1, "");
    r.n = EVLOG_FIXED_LEN;
    for (int i = 0; i < 600; i++) {
        w16(r.b + r.n, 'S');
        r.n += 2;
    }
    w16(r.b + r.n, 0);
    r.n += 2;
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(strlen(e.source), EVLOG_NAME_MAX - 1);
}

static void many_strings_are_bounded(void **state)
{
    static rec r;
    static char big[2100];
    const char *s[40];
    evlog_record e;
    (void)state;
    for (int i = 0; i < 40; i++)
        s[i] = "x";
    begin(&r, 1, 4, "P");
    strings(&r, s, 40);
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(e.n_strings, EVLOG_STRINGS_MAX);
    assert_true(e.strings_cut);

    /* two strings larger than the text together: the first kept */
    memset(big, 'b', sizeof(big) - 1);
    s[0] = big;
    s[1] = big;
    begin(&r, 1, 4, "P");
    strings(&r, s, 2);
    end(&r);
    assert_int_equal(evlog_parse(r.b, r.n, &e), TMI_OK);
    assert_int_equal(e.n_strings, 1);
    assert_int_equal(strlen(e.strings[0]), sizeof(big) - 1);
    assert_true(e.strings_cut);
}

static void walks_a_read_buffer(void **state)
{
    static rec a, b;
    static uint8_t buf[40000];
    evlog_record e;
    size_t off = 0, got, seen = 0;
    (void)state;
    begin(&a, 800, 1, "TMI");
    strings(&a, fault, 3);
    end(&a);
    begin(&b, 7036, 4, "Service Control Manager");
    strings(&b, fault + 1, 1);
    end(&b);
    memcpy(buf, a.b, a.n);
    memcpy(buf + a.n, b.b, b.n);
    got = a.n + b.n + 10; /* and a torn start of a third */
    memset(buf + a.n + b.n, 0xFF, 10);
    while (off < got && evlog_parse(buf + off, got - off, &e) == TMI_OK) {
        off += e.length;
        seen++;
    }
    assert_int_equal(seen, 2);
    assert_int_equal(off, a.n + b.n);
    assert_int_equal(e.length, 0); /* the torn one left nothing behind */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST("/plat/evlog/plain-record", plain_record),
        TEST("/plat/evlog/formatted-message", formatted_message),
        TEST("/plat/evlog/utf16-text", utf16_text),
        TEST("/plat/evlog/truncated-records", truncated_records),
        TEST("/plat/evlog/hostile-fields", hostile_fields),
        TEST("/plat/evlog/many-strings-are-bounded", many_strings_are_bounded),
        TEST("/plat/evlog/walks-a-read-buffer", walks_a_read_buffer),
    };
    return cmocka_run_group_tests_name("evlog_parse", tests, NULL, NULL);
}

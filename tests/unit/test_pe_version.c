/*
 * test_pe_version.c - the PE version reader: round trips through the fixture
 * writer, every truncation of a valid image, hostile headers and resource
 * trees, the version-resource rules documented in pe_version.c, and the
 * lookup of other resource types (pe_resource_find).
 *
 * Malformed inputs are made by building a valid fixture and then changing a
 * few bytes; the helpers below find the structures by walking the headers
 * the same way a reader would, so the tests do not depend on the fixture's
 * exact layout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pe_fixture.h"
#include "pe_version.h"
#include "version.h"

/* ---- helpers ---------------------------------------------------------- */

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | (rd16(p + 2) << 16);
}

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v & 0xFFFF);
    wr16(p + 2, v >> 16);
}

static tmi_version ver(const char *s)
{
    tmi_version v;
    assert_int_equal(version_parse(s, &v), TMI_OK);
    return v;
}

static void assert_version(const tmi_version *v, const char *expected)
{
    char buf[TMI_VERSION_STRLEN];
    assert_string_equal(version_format(v, buf, sizeof(buf)), expected);
}

/* A fixture spec like the real mrf.exe at the good version. */
static pe_fixture_spec default_spec(void)
{
    pe_fixture_spec s;
    memset(&s, 0, sizeof(s));
    s.file_version = ver("1.12.0.1266");
    s.product_version = ver("6.0.0.3");
    s.strings[PE_STR_COMPANY_NAME] = "Trend Micro Inc.";
    s.strings[PE_STR_FILE_DESCRIPTION] = "Management Infrastructure";
    s.strings[PE_STR_FILE_VERSION] = "1.12.0.1266";
    s.strings[PE_STR_PRODUCT_NAME] = "Trend Micro Management Infrastructure";
    s.strings[PE_STR_PRODUCT_VERSION] = "6.0";
    return s;
}

/* Build a fixture; the caller frees *img. */
static size_t build(const pe_fixture_spec *spec, uint8_t **img)
{
    size_t len = 0;
    assert_int_equal(pe_fixture_build(spec, img, &len), TMI_OK);
    assert_non_null(*img);
    return len;
}

static size_t build_default(uint8_t **img)
{
    pe_fixture_spec s = default_spec();
    return build(&s, img);
}

/* Read a copy of exactly len bytes, so that the sanitizers see any read
 * past the end. */
static int read_exact(const uint8_t *img, size_t len, pe_version_info *info)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, img, len);
    int rc = pe_version_read(copy, len, info);
    free(copy);
    return rc;
}

static void assert_format_error(const uint8_t *img, size_t len, const char *msg)
{
    pe_version_info info;
    assert_int_equal(read_exact(img, len, &info), TMI_EFORMAT);
    assert_non_null(info.error);
    assert_string_equal(info.error, msg);
    assert_int_equal(info.has_fixed, 0);
}

/* Offsets of the structures inside a fixture, found from its headers. */
typedef struct layout {
    size_t nt;       /* "PE\0\0" */
    size_t opt;      /* optional header */
    size_t dirs;     /* data directories */
    size_t sections; /* section table */
    unsigned nsections;
    size_t rsrc;       /* file offset of the resource root directory */
    size_t rsrc_sect;  /* section header of .rsrc */
    size_t vinfo;      /* file offset of VS_VERSIONINFO */
    size_t data_entry; /* file offset of the IMAGE_RESOURCE_DATA_ENTRY */
} layout;

/* Map an RVA through the section table (no checks: fixtures are valid). */
static size_t rva_to_off(const uint8_t *img, const layout *l, uint32_t rva)
{
    for (unsigned i = 0; i < l->nsections; i++) {
        const uint8_t *s = img + l->sections + 40 * i;
        uint32_t va = rd32(s + 12), size = rd32(s + 16);
        if (rva >= va && rva < va + size)
            return rd32(s + 20) + (rva - va);
    }
    fail_msg("RVA 0x%x is in no section", (unsigned)rva);
    return 0;
}

static layout find_layout(const uint8_t *img)
{
    layout l;
    memset(&l, 0, sizeof(l));
    l.nt = rd32(img + 0x3C);
    l.opt = l.nt + 24;
    l.dirs = l.opt + (rd16(img + l.opt) == 0x20B ? 112 : 96);
    l.nsections = rd16(img + l.nt + 6);
    l.sections = l.opt + rd16(img + l.nt + 20);
    uint32_t rsrc_rva = rd32(img + l.dirs + 16);
    if (rsrc_rva == 0)
        return l;
    l.rsrc = rva_to_off(img, &l, rsrc_rva);
    for (unsigned i = 0; i < l.nsections; i++) {
        if (memcmp(img + l.sections + 40 * i, ".rsrc", 5) == 0)
            l.rsrc_sect = l.sections + 40 * i;
    }
    /* root -> first entry -> first entry -> first entry -> data entry */
    size_t dir = l.rsrc;
    for (int level = 0; level < 3; level++) {
        uint32_t target = rd32(img + dir + 16 + 4);
        dir = l.rsrc + (target & 0x7FFFFFFF);
    }
    l.data_entry = dir;
    l.vinfo = rva_to_off(img, &l, rd32(img + l.data_entry));
    return l;
}

/* Offset of the first occurrence of the ASCII string s written as UTF-16LE
 * at or after from; fails the test when absent. */
static size_t find_utf16(const uint8_t *img, size_t len, size_t from, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = from; i + 2 * n <= len; i++) {
        size_t k = 0;
        while (k < n && img[i + 2 * k] == (uint8_t)s[k] && img[i + 2 * k + 1] == 0)
            k++;
        if (k == n)
            return i;
    }
    fail_msg("'%s' not found", s);
    return 0;
}

/* Start of the version block whose key is `key` (6 bytes before the key). */
static size_t find_block(const uint8_t *img, size_t len, const char *key)
{
    layout l = find_layout(img);
    return find_utf16(img, len, l.vinfo, key) - 6;
}

/* ---- round trips ------------------------------------------------------ */

static void round_trips_pe32_exe(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    size_t len = build(&s, &img);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_null(info.error);
    assert_int_equal(info.machine, 0x14C);
    assert_int_equal(info.is_pe32plus, 0);
    assert_int_equal(info.has_fixed, 1);
    assert_version(&info.file_version, "1.12.0.1266");
    assert_version(&info.product_version, "6.0.0.3");
    for (int k = 0; k < PE_STR_COUNT; k++) {
        assert_int_equal(info.has_string[k], 1);
        assert_string_equal(info.strings[k], s.strings[k]);
    }
    free(img);
}

static void round_trips_pe32plus_dll(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.pe32plus = 1;
    s.is_dll = 1;
    s.file_version = ver("1.12.0.1156");
    s.product_version = ver("65535.0.65535.1");
    size_t len = build(&s, &img);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.machine, 0x8664);
    assert_int_equal(info.is_pe32plus, 1);
    assert_int_equal(info.has_fixed, 1);
    assert_version(&info.file_version, "1.12.0.1156");
    assert_version(&info.product_version, "65535.0.65535.1");
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], "Trend Micro Inc.");
    free(img);
}

static void round_trips_every_kind_and_padding(void **state)
{
    (void)state;
    for (int kind = 0; kind < 8; kind++) {
        uint8_t *img;
        pe_fixture_spec s = default_spec();
        s.pe32plus = kind & 1;
        s.is_dll = (kind >> 1) & 1;
        s.pad_to = (kind & 4) ? 70000 : 0;
        s.seed = (uint32_t)kind;
        s.file_version = version_from_ms_ls(0x00010000u | (uint32_t)kind, 0x00020003u);
        size_t len = build(&s, &img);
        pe_version_info info;
        assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
        assert_int_equal(info.is_pe32plus, s.pe32plus);
        assert_int_equal(info.has_fixed, 1);
        assert_int_equal(version_compare(&info.file_version, &s.file_version), 0);
        assert_string_equal(info.strings[PE_STR_PRODUCT_NAME], s.strings[PE_STR_PRODUCT_NAME]);
        free(img);
    }
}

static void reports_no_version_resource_as_ok(void **state)
{
    (void)state;
    for (int plus = 0; plus < 2; plus++) {
        uint8_t *img;
        pe_fixture_spec s = default_spec();
        s.no_version_resource = 1;
        s.pe32plus = plus;
        size_t len = build(&s, &img);
        pe_version_info info;
        assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
        assert_null(info.error);
        assert_int_equal(info.has_fixed, 0);
        assert_int_equal(info.machine, plus ? 0x8664 : 0x14C);
        for (int k = 0; k < PE_STR_COUNT; k++)
            assert_int_equal(info.has_string[k], 0);
        free(img);
    }
}

static void reports_absent_strings(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    for (int k = 0; k < PE_STR_COUNT; k++)
        s.strings[k] = NULL;
    s.strings[PE_STR_PRODUCT_VERSION] = "";
    size_t len = build(&s, &img);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    for (int k = 0; k < PE_STR_PRODUCT_VERSION; k++) {
        assert_int_equal(info.has_string[k], 0);
        assert_string_equal(info.strings[k], "");
    }
    assert_int_equal(info.has_string[PE_STR_PRODUCT_VERSION], 1);
    assert_string_equal(info.strings[PE_STR_PRODUCT_VERSION], "");
    free(img);
}

static void reports_fixed_version_not_version_string(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.file_version = ver("1.12.0.1156");
    s.strings[PE_STR_FILE_VERSION] = "1.12.0.1266 (localised, wrong)";
    size_t len = build(&s, &img);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_version(&info.file_version, "1.12.0.1156");
    assert_string_equal(info.strings[PE_STR_FILE_VERSION], "1.12.0.1266 (localised, wrong)");
    free(img);
}

static void round_trips_non_ascii_strings(void **state)
{
    (void)state;
    static const char *const values[] = {
        "トレンドマイクロ株式会社",
        "Ünïcødé ÆØÅ",
        "\xF0\x9D\x84\x9E clef and \xF0\x9F\x98\x80 (surrogate pairs)",
        "Ελληνικά / Русский / עברית",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint8_t *img;
        pe_fixture_spec s = default_spec();
        s.strings[PE_STR_COMPANY_NAME] = values[i];
        size_t len = build(&s, &img);
        pe_version_info info;
        assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
        assert_string_equal(info.strings[PE_STR_COMPANY_NAME], values[i]);
        free(img);
    }
}

/* Check that a truncated value is the longest prefix of `full` that fits in
 * PE_STR_MAX - 1 bytes and ends on a character boundary. */
static void check_truncation(const char *unit, size_t repeat)
{
    size_t ulen = strlen(unit);
    char *full = malloc(ulen * repeat + 1);
    assert_non_null(full);
    for (size_t i = 0; i < repeat; i++)
        memcpy(full + i * ulen, unit, ulen);
    full[ulen * repeat] = '\0';

    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.strings[PE_STR_FILE_DESCRIPTION] = full;
    size_t len = build(&s, &img);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    const char *got = info.strings[PE_STR_FILE_DESCRIPTION];
    size_t expect = (PE_STR_MAX - 1) / ulen * ulen;
    assert_int_equal(strlen(got), expect);
    assert_memory_equal(got, full, expect);
    /* The other strings are untouched. */
    assert_string_equal(info.strings[PE_STR_PRODUCT_NAME], s.strings[PE_STR_PRODUCT_NAME]);
    free(img);
    free(full);
}

static void truncates_long_strings_at_character_boundary(void **state)
{
    (void)state;
    check_truncation("a", 1024);               /* 1 byte each: 255 kept */
    check_truncation("\xC3\xA9", 300);         /* 2 bytes: 127 kept (254 bytes) */
    check_truncation("\xE3\x83\x88", 300);     /* 3 bytes: 85 kept (255 bytes) */
    check_truncation("\xF0\x9D\x84\x9E", 200); /* 4 bytes, surrogate pair: 63 kept */
    check_truncation("ab\xE3\x83\x88", 100);   /* mixed: 51 units (255 bytes) */
}

static void keeps_a_string_of_exactly_the_maximum(void **state)
{
    (void)state;
    char full[PE_STR_MAX];
    memset(full, 'x', PE_STR_MAX - 1);
    full[PE_STR_MAX - 1] = '\0';
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.strings[PE_STR_COMPANY_NAME] = full;
    size_t len = build(&s, &img);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], full);
    free(img);
}

static void replaces_invalid_utf16_with_replacement_character(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.strings[PE_STR_COMPANY_NAME] = "AxBxCx";
    size_t len = build(&s, &img);
    size_t v = find_utf16(img, len, 0, "AxBxCx");
    wr16(img + v + 2, 0xD800);  /* high surrogate followed by 'B' */
    wr16(img + v + 6, 0xDC00);  /* lone low surrogate */
    wr16(img + v + 10, 0xDBFF); /* high surrogate at the end of the value */
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], "A\xEF\xBF\xBD"
                                                           "B\xEF\xBF\xBD"
                                                           "C\xEF\xBF\xBD");
    free(img);
}

static void first_duplicate_key_wins(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.strings[PE_STR_COMPANY_NAME] = "first";
    s.strings[PE_STR_PRODUCT_NAME] = "second";
    size_t len = build(&s, &img);
    /* "ProductName" and "CompanyName" have the same length: rename one. */
    size_t k = find_utf16(img, len, 0, "ProductName");
    for (int i = 0; i < 11; i++)
        img[k + 2 * i] = (uint8_t) "CompanyName"[i];
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], "first");
    assert_int_equal(info.has_string[PE_STR_PRODUCT_NAME], 0);
    free(img);
}

/* ---- truncation and garbage -------------------------------------------- */

static void check_every_truncation(const pe_fixture_spec *s)
{
    uint8_t *img;
    size_t len = build(s, &img);
    size_t ok_with_version = 0;
    for (size_t n = 0; n <= len; n++) {
        pe_version_info info;
        int rc = read_exact(img, n, &info);
        if (rc == TMI_EFORMAT) {
            assert_non_null(info.error);
            continue;
        }
        assert_int_equal(rc, TMI_OK);
        assert_null(info.error);
        if (info.has_fixed) {
            /* Whatever is reported must be the real thing. */
            assert_int_equal(version_compare(&info.file_version, &s->file_version), 0);
            ok_with_version++;
        }
    }
    assert_true(ok_with_version > 0); /* at least the full image */
    free(img);
}

static void survives_every_truncation_pe32(void **state)
{
    (void)state;
    pe_fixture_spec s = default_spec();
    check_every_truncation(&s);
}

static void survives_every_truncation_pe32plus(void **state)
{
    (void)state;
    pe_fixture_spec s = default_spec();
    s.pe32plus = 1;
    s.is_dll = 1;
    s.strings[PE_STR_COMPANY_NAME] = "トレンドマイクロ";
    check_every_truncation(&s);
}

static void rejects_truncation_inside_the_version_resource(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    /* Cut inside VS_FIXEDFILEINFO: the resource data runs past the file. */
    assert_format_error(img, l.vinfo + 60, "malformed version resource");
    /* Cut inside the resource directory. */
    assert_format_error(img, l.rsrc + 20, "malformed resource directory");
    (void)len;
    free(img);
}

static uint32_t xorshift(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void rejects_garbage(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    uint8_t buf[4096];
    for (int round = 0; round < 300; round++) {
        size_t n = xorshift(&seed) % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)xorshift(&seed);
        pe_version_info info;
        int rc = read_exact(buf, n, &info);
        if (!(n >= 2 && buf[0] == 'M' && buf[1] == 'Z')) {
            assert_int_equal(rc, TMI_EFORMAT);
            assert_string_equal(info.error, "not a PE file");
        }
    }
    /* Random bytes behind valid DOS and PE signatures: any verdict, no crash. */
    for (int round = 0; round < 2000; round++) {
        size_t n = 64 + xorshift(&seed) % (sizeof(buf) - 64);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)xorshift(&seed);
        buf[0] = 'M';
        buf[1] = 'Z';
        wr32(buf + 0x3C, 0x40);
        memcpy(buf + 0x40, "PE\0\0", 4);
        wr16(buf + 0x40 + 4 + 16, (round & 1) ? 0xE0 : 0xF0);
        wr16(buf + 0x40 + 24, (round & 2) ? 0x10B : 0x20B);
        pe_version_info info;
        int rc = read_exact(buf, n, &info);
        assert_true(rc == TMI_OK || rc == TMI_EFORMAT);
        assert_true((rc == TMI_OK) == (info.error == NULL));
    }
    pe_version_info info;
    assert_int_equal(pe_version_read(NULL, 0, &info), TMI_EFORMAT);
    assert_string_equal(info.error, "not a PE file");
}

static void rejects_mz_only(void **state)
{
    (void)state;
    static const uint8_t mz[2] = {'M', 'Z'};
    assert_format_error(mz, sizeof(mz), "not a PE file");
    uint8_t dos[64];
    memset(dos, 0, sizeof(dos));
    dos[0] = 'M';
    dos[1] = 'Z';
    assert_format_error(dos, sizeof(dos), "not a PE file");
}

static void rejects_e_lfanew_past_the_end(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    static const uint32_t bad[] = {0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, 0};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr32(img + 0x3C, bad[i]);
        assert_format_error(img, len, "not a PE file");
    }
    wr32(img + 0x3C, (uint32_t)len);
    assert_format_error(img, len, "not a PE file");
    wr32(img + 0x3C, (uint32_t)len - 2);
    assert_format_error(img, len, "not a PE file");
    free(img);
}

static void rejects_missing_pe_signature(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    img[l.nt + 2] = 'X';
    assert_format_error(img, len, "not a PE file");
    free(img);
}

static void rejects_truncated_headers(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    assert_format_error(img, l.nt + 4 + 10, "truncated headers");
    assert_format_error(img, l.opt + 1, "truncated headers");
    assert_format_error(img, l.opt + 100, "truncated headers");
    (void)len;
    free(img);
}

static void rejects_unsupported_optional_header(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    wr16(img + l.opt, 0x107); /* ROM image */
    assert_format_error(img, len, "unsupported optional header");
    wr16(img + l.opt, 0x10B);
    wr16(img + l.nt + 20, 64); /* SizeOfOptionalHeader shorter than the fixed part */
    assert_format_error(img, len, "malformed optional header");
    free(img);
}

static void rejects_huge_number_of_sections(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    wr16(img + l.nt + 6, 0xFFFF);
    assert_format_error(img, len, "truncated section table");
    free(img);
}

static void rejects_truncated_section_table(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    assert_format_error(img, l.sections + 40 + 12, "truncated section table");
    (void)len;
    free(img);
}

static void ignores_missing_resource_data_directory(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    /* Only two data directories: the resource one (index 2) is absent. */
    wr32(img + l.dirs - 4, 2);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 0);
    free(img);
}

static void accepts_pe_without_rt_version(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    wr32(img + l.rsrc + 16, 3); /* the only type becomes RT_ICON */
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_null(info.error);
    assert_int_equal(info.has_fixed, 0);
    free(img);
}

static void rounds_pointer_to_raw_data_down_like_the_loader(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    wr32(img + l.rsrc_sect + 20, rd32(img + l.rsrc_sect + 20) + 0x11);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_version(&info.file_version, "1.12.0.1266");
    free(img);
}

static void looks_past_a_section_whose_tail_overlaps_the_next(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    /* .text's virtual size now covers .rsrc's RVAs, but not with file data. */
    wr32(img + l.sections + 8, 0x00800000u);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_version(&info.file_version, "1.12.0.1266");
    free(img);
}

static void matches_rt_version_on_the_low_word_of_an_id(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    /* The loader reads an ID entry's ID as a WORD: the high WORD is ignored. */
    wr32(img + l.rsrc + 16, 0x7FFF0010u);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    /* With the high bit set it is a named entry, never RT_VERSION. */
    wr32(img + l.rsrc + 16, 0x80000010u);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 0);
    free(img);
}

/* ---- hostile resource directories -------------------------------------- */

static void rejects_resource_directory_loops(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    size_t type_entry = l.rsrc + 16;
    size_t names_dir = l.rsrc + (rd32(img + type_entry + 4) & 0x7FFFFFFF);
    size_t name_entry = names_dir + 16;
    size_t langs_dir = l.rsrc + (rd32(img + name_entry + 4) & 0x7FFFFFFF);
    size_t lang_entry = langs_dir + 16;
    uint32_t saved;

    /* RT_VERSION's subdirectory is the root itself. */
    saved = rd32(img + type_entry + 4);
    wr32(img + type_entry + 4, 0x80000000u);
    assert_format_error(img, len, "malformed resource directory");
    wr32(img + type_entry + 4, saved);

    /* The name directory points at itself. */
    saved = rd32(img + name_entry + 4);
    wr32(img + name_entry + 4, 0x80000000u | (uint32_t)(names_dir - l.rsrc));
    assert_format_error(img, len, "malformed resource directory");
    /* ... or back at the root. */
    wr32(img + name_entry + 4, 0x80000000u);
    assert_format_error(img, len, "malformed resource directory");
    wr32(img + name_entry + 4, saved);

    /* The language level points at a directory instead of a data entry. */
    wr32(img + lang_entry + 4, 0x80000000u | (uint32_t)(names_dir - l.rsrc));
    assert_format_error(img, len, "malformed resource directory");
    free(img);
}

static void rejects_resource_entries_out_of_bounds(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;

    /* 65535 + 65535 entries cannot fit in the section. */
    wr16(img + l.rsrc + 12, 0xFFFF);
    wr16(img + l.rsrc + 14, 0xFFFF);
    assert_format_error(img, len, "malformed resource directory");
    wr16(img + l.rsrc + 12, 0);
    wr16(img + l.rsrc + 14, 1);

    /* Subdirectory offset far outside the section. */
    uint32_t saved = rd32(img + l.rsrc + 20);
    wr32(img + l.rsrc + 20, 0xFFFFFFF0u);
    assert_format_error(img, len, "malformed resource directory");
    wr32(img + l.rsrc + 20, 0x7FFFFFF0u);
    assert_format_error(img, len, "malformed resource directory");
    wr32(img + l.rsrc + 20, saved);

    /* Resource RVA in no section at all. */
    saved = rd32(img + l.dirs + 16);
    wr32(img + l.dirs + 16, 0x00F00000u);
    assert_format_error(img, len, "malformed resource directory");
    wr32(img + l.dirs + 16, saved);

    /* Data entry pointing outside the image. */
    wr32(img + l.data_entry, 0x00F00000u);
    assert_format_error(img, len, "malformed version resource");

    /* A directory with no entries at the name level: no version, no error. */
    free(img);
    len = build_default(&img);
    l = find_layout(img);
    size_t names_dir = l.rsrc + (rd32(img + l.rsrc + 20) & 0x7FFFFFFF);
    wr16(img + names_dir + 14, 0);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 0);
    free(img);
}

/* ---- malformed VS_VERSIONINFO ------------------------------------------- */

static void rejects_version_info_with_zero_length(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    wr16(img + l.vinfo, 0);
    assert_format_error(img, len, "malformed version resource");
    wr16(img + l.vinfo, 5); /* shorter than its own header */
    assert_format_error(img, len, "malformed version resource");
    free(img);
}

static void rejects_version_info_longer_than_its_data(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    uint32_t size = rd32(img + l.data_entry + 4);
    wr16(img + l.vinfo, size + 4);
    assert_format_error(img, len, "malformed version resource");
    wr16(img + l.vinfo, size);
    /* The data entry claims more bytes than the section holds. */
    wr32(img + l.data_entry + 4, 0x100000);
    assert_format_error(img, len, "malformed version resource");
    /* ... or fewer than VS_VERSIONINFO needs. */
    wr32(img + l.data_entry + 4, 60);
    assert_format_error(img, len, "malformed version resource");
    free(img);
}

static void rejects_wrong_fixed_signature(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    size_t fixed = l.vinfo + 40;
    assert_int_equal(rd32(img + fixed), 0xFEEF04BDu);
    wr32(img + fixed, 0xFEEF04BCu);
    assert_format_error(img, len, "malformed version resource");
    free(img);
}

static void rejects_wrong_version_key(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    img[l.vinfo + 6 + 2 * 14] = 'X'; /* VS_VERSION_INF_X_ */
    assert_format_error(img, len, "malformed version resource");
    free(img);
}

static void rejects_short_fixed_info(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    wr16(img + l.vinfo + 2, 20);
    assert_format_error(img, len, "malformed version resource");
    wr16(img + l.vinfo + 2, 0xFFFF); /* longer than the block */
    assert_format_error(img, len, "malformed version resource");
    free(img);
}

static void accepts_version_info_without_fixed_info(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    wr16(img + l.vinfo + 2, 0); /* wValueLength 0: no VS_FIXEDFILEINFO */
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_null(info.error);
    assert_int_equal(info.has_fixed, 0);
    free(img);
}

static void keeps_fixed_version_when_string_table_is_malformed(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    pe_version_info info;

    /* A StringTable longer than its StringFileInfo. */
    size_t table = find_block(img, len, "040904B0");
    wr16(img + table, 0xFFF0);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    assert_version(&info.file_version, "1.12.0.1266");
    for (int k = 0; k < PE_STR_COUNT; k++)
        assert_int_equal(info.has_string[k], 0);
    free(img);

    /* A String in the middle whose length runs past the table: the strings
     * before it are kept, the walk stops there. */
    len = build_default(&img);
    size_t s = find_block(img, len, "FileVersion");
    wr16(img + s, 0x7FFF);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    assert_int_equal(info.has_string[PE_STR_COMPANY_NAME], 1);
    assert_int_equal(info.has_string[PE_STR_FILE_DESCRIPTION], 1);
    assert_int_equal(info.has_string[PE_STR_FILE_VERSION], 0);
    assert_int_equal(info.has_string[PE_STR_PRODUCT_NAME], 0);
    free(img);

    /* A String with wLength 0 ends the table without an endless loop. */
    len = build_default(&img);
    s = find_block(img, len, "CompanyName");
    wr16(img + s, 0);
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    assert_int_equal(info.has_string[PE_STR_COMPANY_NAME], 0);
    free(img);

    /* An unterminated key inside a String. */
    len = build_default(&img);
    s = find_block(img, len, "ProductVersion");
    wr16(img + s, 6 + 4); /* the block ends inside the key */
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_string[PE_STR_PRODUCT_VERSION], 0);
    assert_int_equal(info.has_string[PE_STR_PRODUCT_NAME], 1);
    free(img);
}

static void bounds_value_by_its_value_length(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = default_spec();
    s.strings[PE_STR_COMPANY_NAME] = "Trend Micro Inc.";
    size_t len = build(&s, &img);
    size_t blk = find_block(img, len, "CompanyName");
    pe_version_info info;
    wr16(img + blk + 2, 5); /* wValueLength: 5 UTF-16 units */
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], "Trend");
    wr16(img + blk + 2, 0xFFFF); /* past the block: bounded by the block */
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], "Trend Micro Inc.");
    free(img);
}

static void zeroes_output_on_error(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    layout l = find_layout(img);
    pe_version_info info;
    memset(&info, 0xA5, sizeof(info));
    wr32(img + l.vinfo + 40, 0);
    assert_int_equal(pe_version_read(img, len, &info), TMI_EFORMAT);
    assert_int_equal(info.has_fixed, 0);
    assert_int_equal(info.machine, 0);
    for (int k = 0; k < PE_STR_COUNT; k++) {
        assert_int_equal(info.has_string[k], 0);
        assert_string_equal(info.strings[k], "");
    }
    free(img);
}

/* ---- other resource types (pe_resource_find) --------------------------- */

static const char test_manifest[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<assembly xmlns=\"urn:schemas-microsoft-com:asm.v1\" manifestVersion=\"1.0\"/>\n";

static pe_fixture_spec manifest_spec(void)
{
    pe_fixture_spec s = default_spec();
    s.manifest = test_manifest;
    return s;
}

/* pe_resource_find on an exact-size copy (the sanitizers see overreads). */
static int find_exact(const uint8_t *img, size_t len, uint16_t type, pe_resource *res)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, img, len);
    int rc = pe_resource_find(copy, len, type, res);
    free(copy);
    return rc;
}

/* The root directory's entry for resource type `type` (fails when absent). */
static size_t type_entry(const uint8_t *img, const layout *l, uint32_t type)
{
    unsigned n = rd16(img + l->rsrc + 12) + rd16(img + l->rsrc + 14);
    for (unsigned i = 0; i < n; i++) {
        if (rd32(img + l->rsrc + 16 + 8 * i) == type)
            return l->rsrc + 16 + 8 * i;
    }
    fail_msg("no type %u in the root directory", (unsigned)type);
    return 0;
}

/* The data entry of type `type` (its first name, first language). */
static size_t type_data_entry(const uint8_t *img, const layout *l, uint32_t type)
{
    size_t dir = l->rsrc + (rd32(img + type_entry(img, l, type) + 4) & 0x7FFFFFFF);
    dir = l->rsrc + (rd32(img + dir + 16 + 4) & 0x7FFFFFFF);
    return l->rsrc + rd32(img + dir + 16 + 4);
}

static void finds_the_manifest_beside_the_version(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = manifest_spec();
    size_t len = build(&s, &img);
    layout l = find_layout(img);
    pe_resource res;
    pe_version_info info;

    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_OK);
    assert_null(res.error);
    assert_int_equal(res.size, strlen(test_manifest));
    assert_true(res.offset + res.size <= len);
    assert_memory_equal(img + res.offset, test_manifest, res.size);

    /* The same walk finds RT_VERSION where the version reader reads it. */
    assert_int_equal(find_exact(img, len, PE_RT_VERSION, &res), TMI_OK);
    assert_int_equal(res.offset, l.vinfo);
    assert_int_equal(res.size, rd32(img + l.data_entry + 4));
    assert_int_equal(read_exact(img, len, &info), TMI_OK);
    assert_version(&info.file_version, "1.12.0.1266");
    assert_string_equal(info.strings[PE_STR_COMPANY_NAME], "Trend Micro Inc.");
    free(img);
}

static void reports_absent_resource_types(void **state)
{
    (void)state;
    uint8_t *img;
    size_t len = build_default(&img);
    pe_resource res;

    memset(&res, 0xA5, sizeof(res));
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_ENOENT);
    assert_null(res.error);
    assert_int_equal(res.offset, 0);
    assert_int_equal(res.size, 0);
    assert_int_equal(find_exact(img, len, 11 /* RT_MESSAGETABLE */, &res), TMI_ENOENT);
    assert_int_equal(find_exact(img, len, PE_RT_VERSION, &res), TMI_OK);
    free(img);

    pe_fixture_spec s = default_spec();
    s.no_version_resource = 1;
    len = build(&s, &img);
    assert_int_equal(find_exact(img, len, PE_RT_VERSION, &res), TMI_ENOENT);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_ENOENT);
    free(img);
}

static void resource_find_shares_the_header_checks(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = manifest_spec();
    size_t len = build(&s, &img);
    layout l = find_layout(img);
    pe_resource res;
    pe_version_info info;

    assert_int_equal(find_exact(img, 0x40, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "not a PE file");
    assert_int_equal(pe_resource_find(NULL, 0, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "not a PE file");
    assert_int_equal(find_exact(img, l.sections + 40 + 12, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "truncated section table");
    wr16(img + l.opt, 0x107);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "unsupported optional header");
    assert_int_equal(read_exact(img, len, &info), TMI_EFORMAT);
    assert_string_equal(info.error, res.error);
    free(img);
}

static void rejects_resource_data_outside_the_file(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = manifest_spec();
    size_t len = build(&s, &img);
    layout l = find_layout(img);
    size_t data = type_data_entry(img, &l, PE_RT_MANIFEST);
    uint32_t rva = rd32(img + data), size = rd32(img + data + 4);
    pe_resource res;
    pe_version_info info;

    /* One byte more than the section holds. */
    uint32_t room = rd32(img + l.rsrc_sect + 16) - (rva - rd32(img + l.rsrc_sect + 12));
    wr32(img + data + 4, room + 1);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "resource data outside the file");
    /* Exactly what the section holds is fine. */
    wr32(img + data + 4, room);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_OK);
    assert_true(res.offset + res.size <= len);
    /* A size that wraps, an RVA in no section. */
    wr32(img + data + 4, 0xFFFFFFFFu);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    wr32(img + data + 4, size);
    wr32(img + data, 0x00F00000u);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "resource data outside the file");
    /* The other type's damage does not touch the version. */
    assert_int_equal(read_exact(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    wr32(img + data, rva);

    /* The type entry points straight at a data entry: not a tree. */
    size_t te = type_entry(img, &l, PE_RT_MANIFEST);
    wr32(img + te + 4, (uint32_t)(data - l.rsrc));
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "malformed resource directory");
    /* ... or back at the root: refused, not followed. */
    wr32(img + te + 4, 0x80000000u);
    assert_int_equal(find_exact(img, len, PE_RT_MANIFEST, &res), TMI_EFORMAT);
    assert_string_equal(res.error, "malformed resource directory");
    free(img);
}

static void resource_find_survives_every_truncation(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = manifest_spec();
    s.pe32plus = 1;
    size_t len = build(&s, &img);
    size_t found = 0;
    for (size_t n = 0; n <= len; n++) {
        pe_resource res;
        int rc = find_exact(img, n, PE_RT_MANIFEST, &res);
        if (rc == TMI_EFORMAT) {
            assert_non_null(res.error);
            continue;
        }
        assert_null(res.error);
        if (rc == TMI_ENOENT)
            continue;
        assert_int_equal(rc, TMI_OK);
        assert_true(res.offset + res.size <= n);
        /* Whatever is reported must be the real thing. */
        assert_int_equal(res.size, strlen(test_manifest));
        assert_memory_equal(img + res.offset, test_manifest, res.size);
        found++;
    }
    assert_true(found > 0);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_pe32_exe),
        cmocka_unit_test(round_trips_pe32plus_dll),
        cmocka_unit_test(round_trips_every_kind_and_padding),
        cmocka_unit_test(reports_no_version_resource_as_ok),
        cmocka_unit_test(reports_absent_strings),
        cmocka_unit_test(reports_fixed_version_not_version_string),
        cmocka_unit_test(round_trips_non_ascii_strings),
        cmocka_unit_test(truncates_long_strings_at_character_boundary),
        cmocka_unit_test(keeps_a_string_of_exactly_the_maximum),
        cmocka_unit_test(replaces_invalid_utf16_with_replacement_character),
        cmocka_unit_test(first_duplicate_key_wins),
        cmocka_unit_test(survives_every_truncation_pe32),
        cmocka_unit_test(survives_every_truncation_pe32plus),
        cmocka_unit_test(rejects_truncation_inside_the_version_resource),
        cmocka_unit_test(rejects_garbage),
        cmocka_unit_test(rejects_mz_only),
        cmocka_unit_test(rejects_e_lfanew_past_the_end),
        cmocka_unit_test(rejects_missing_pe_signature),
        cmocka_unit_test(rejects_truncated_headers),
        cmocka_unit_test(rejects_unsupported_optional_header),
        cmocka_unit_test(rejects_huge_number_of_sections),
        cmocka_unit_test(rejects_truncated_section_table),
        cmocka_unit_test(ignores_missing_resource_data_directory),
        cmocka_unit_test(accepts_pe_without_rt_version),
        cmocka_unit_test(rounds_pointer_to_raw_data_down_like_the_loader),
        cmocka_unit_test(looks_past_a_section_whose_tail_overlaps_the_next),
        cmocka_unit_test(matches_rt_version_on_the_low_word_of_an_id),
        cmocka_unit_test(rejects_resource_directory_loops),
        cmocka_unit_test(rejects_resource_entries_out_of_bounds),
        cmocka_unit_test(rejects_version_info_with_zero_length),
        cmocka_unit_test(rejects_version_info_longer_than_its_data),
        cmocka_unit_test(rejects_wrong_fixed_signature),
        cmocka_unit_test(rejects_wrong_version_key),
        cmocka_unit_test(rejects_short_fixed_info),
        cmocka_unit_test(accepts_version_info_without_fixed_info),
        cmocka_unit_test(keeps_fixed_version_when_string_table_is_malformed),
        cmocka_unit_test(bounds_value_by_its_value_length),
        cmocka_unit_test(zeroes_output_on_error),
        cmocka_unit_test(finds_the_manifest_beside_the_version),
        cmocka_unit_test(reports_absent_resource_types),
        cmocka_unit_test(resource_find_shares_the_header_checks),
        cmocka_unit_test(rejects_resource_data_outside_the_file),
        cmocka_unit_test(resource_find_survives_every_truncation),
    };
    return cmocka_run_group_tests_name("pe_version", tests, NULL, NULL);
}

/*
 * test_pe_fixture.c - the PE fixture writer: header fields a loader checks
 * (alignment, sizes, section table, checksum), the version resource's
 * VS_FIXEDFILEINFO fields, padding and its seed, and spec validation.
 * The parse-back direction is covered by test_pe_version.c.
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

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | (rd16(p + 2) << 16);
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static pe_fixture_spec spec_for(int pe32plus, int is_dll)
{
    pe_fixture_spec s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(version_parse("1.12.0.1266", &s.file_version), TMI_OK);
    assert_int_equal(version_parse("6.0.0.3", &s.product_version), TMI_OK);
    s.pe32plus = pe32plus;
    s.is_dll = is_dll;
    s.strings[PE_STR_COMPANY_NAME] = "Trend Micro Inc.";
    s.strings[PE_STR_FILE_VERSION] = "1.12.0.1266";
    return s;
}

static size_t build(const pe_fixture_spec *spec, uint8_t **img)
{
    size_t len = 0;
    assert_int_equal(pe_fixture_build(spec, img, &len), TMI_OK);
    assert_non_null(*img);
    return len;
}

/* The checksum as CheckSumMappedFile computes it, written independently of
 * the writer: 32-bit words with end-around carry, folded to 16 bits. */
static uint32_t reference_checksum(const uint8_t *img, size_t len, size_t checksum_off)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint8_t w[4] = {0, 0, 0, 0};
        if (i == checksum_off)
            continue;
        memcpy(w, img + i, len - i < 4 ? len - i : 4);
        sum += rd32(w);
        if (sum >= 0x100000000ull)
            sum = (sum & 0xFFFFFFFFu) + (sum >> 32);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = sum + (sum >> 16);
    return (uint32_t)(sum & 0xFFFF) + (uint32_t)len;
}

static void writes_loader_valid_headers(void **state)
{
    (void)state;
    for (int kind = 0; kind < 4; kind++) {
        const int plus = kind & 1, dll = kind >> 1;
        uint8_t *img;
        pe_fixture_spec s = spec_for(plus, dll);
        size_t len = build(&s, &img);

        assert_memory_equal(img, "MZ", 2);
        size_t nt = rd32(img + 0x3C);
        assert_true(nt >= 0x40 && nt % 8 == 0);
        assert_memory_equal(img + nt, "PE\0\0", 4);
        const uint8_t *fh = img + nt + 4;
        assert_int_equal(rd16(fh), plus ? 0x8664 : 0x14C);
        assert_int_equal(rd16(fh + 2), 2);
        uint32_t ch = rd16(fh + 18);
        assert_true(ch & 0x0002);                  /* EXECUTABLE_IMAGE */
        assert_int_equal((ch & 0x2000) != 0, dll); /* DLL */
        assert_int_equal(rd16(fh + 16), plus ? 0xF0 : 0xE0);

        const uint8_t *opt = fh + 20;
        assert_int_equal(rd16(opt), plus ? 0x20B : 0x10B);
        uint32_t sect_align = rd32(opt + 32), file_align = rd32(opt + 36);
        assert_int_equal(sect_align, 0x1000);
        assert_int_equal(file_align, 0x200);
        uint32_t size_of_image = rd32(opt + 56), size_of_headers = rd32(opt + 60);
        assert_int_equal(size_of_image % sect_align, 0);
        assert_int_equal(size_of_headers % file_align, 0);
        uint64_t image_base = plus ? rd64(opt + 24) : rd32(opt + 28);
        assert_int_equal(image_base % 0x10000, 0);
        size_t dirs = plus ? 112 : 96;
        assert_int_equal(rd32(opt + dirs - 4), 16);

        /* Sections: aligned, in order, inside the file and the image. */
        const uint8_t *sec = opt + rd16(fh + 16);
        assert_true((size_t)(sec + 2 * 40 - img) <= size_of_headers);
        uint32_t prev_end = sect_align;
        uint32_t entry = rd32(opt + 16);
        int entry_in_text = 0;
        for (int i = 0; i < 2; i++) {
            const uint8_t *sh = sec + 40 * i;
            uint32_t vsize = rd32(sh + 8), va = rd32(sh + 12);
            uint32_t raw_size = rd32(sh + 16), raw_ptr = rd32(sh + 20);
            assert_int_equal(va % sect_align, 0);
            assert_true(va >= prev_end);
            assert_int_equal(raw_ptr % file_align, 0);
            assert_int_equal(raw_size % file_align, 0);
            assert_true(vsize <= raw_size);
            assert_true(raw_ptr >= size_of_headers);
            assert_true((size_t)raw_ptr + raw_size <= len);
            prev_end = va + (vsize + sect_align - 1) / sect_align * sect_align;
            if (memcmp(sh, ".text", 6) == 0 && entry >= va && entry < va + vsize)
                entry_in_text = 1;
        }
        assert_int_equal(size_of_image, prev_end);
        assert_true(entry_in_text);

        /* The resource directory is the .rsrc section. */
        assert_int_equal(rd32(opt + dirs + 16), rd32(sec + 40 + 12));
        assert_int_equal(rd32(opt + dirs + 20), rd32(sec + 40 + 8));
        assert_memory_equal(sec + 40, ".rsrc\0\0\0", 8);

        /* Checksum. */
        size_t csum_off = (size_t)(opt + 64 - img);
        assert_int_equal(rd32(opt + 64), reference_checksum(img, len, csum_off));
        free(img);
    }
}

/* Find VS_FIXEDFILEINFO by its signature (4-aligned). */
static const uint8_t *find_fixed(const uint8_t *img, size_t len)
{
    for (size_t i = 0; i + 52 <= len; i += 4) {
        if (rd32(img + i) == 0xFEEF04BDu)
            return img + i;
    }
    fail_msg("no VS_FIXEDFILEINFO");
    return NULL;
}

static void writes_fixed_file_info_fields(void **state)
{
    (void)state;
    for (int dll = 0; dll < 2; dll++) {
        uint8_t *img;
        pe_fixture_spec s = spec_for(0, dll);
        size_t len = build(&s, &img);
        const uint8_t *f = find_fixed(img, len);
        assert_int_equal(rd32(f + 4), 0x00010000);   /* dwStrucVersion */
        assert_int_equal(rd32(f + 8), 0x0001000C);   /* 1.12 */
        assert_int_equal(rd32(f + 12), 0x000004F2);  /* 0.1266 */
        assert_int_equal(rd32(f + 16), 0x00060000);  /* 6.0 */
        assert_int_equal(rd32(f + 20), 0x00000003);  /* 0.3 */
        assert_int_equal(rd32(f + 24), 0x3F);        /* dwFileFlagsMask */
        assert_int_equal(rd32(f + 28), 0);           /* dwFileFlags */
        assert_int_equal(rd32(f + 32), 0x00040004);  /* VOS_NT_WINDOWS32 */
        assert_int_equal(rd32(f + 36), dll ? 2 : 1); /* VFT_DLL / VFT_APP */
        free(img);
    }
}

static void writes_string_table_and_translation(void **state)
{
    (void)state;
    static const uint8_t table_key[] = {'0', 0,   '4', 0,   '0', 0,   '9', 0, '0',
                                        0,   '4', 0,   'B', 0,   '0', 0,   0, 0};
    static const uint8_t translation[] = {'T', 0, 'r', 0, 'a', 0, 'n', 0, 's', 0, 'l', 0,
                                          'a', 0, 't', 0, 'i', 0, 'o', 0, 'n', 0, 0,   0};
    uint8_t *img;
    pe_fixture_spec s = spec_for(1, 1);
    size_t len = build(&s, &img);
    int have_table = 0, have_translation = 0;
    for (size_t i = 0; i + sizeof(translation) + 6 <= len; i++) {
        if (memcmp(img + i, table_key, sizeof(table_key)) == 0)
            have_table = 1;
        if (memcmp(img + i, translation, sizeof(translation)) == 0) {
            /* Key at 6, padded to 32 bits: value at 32; wValueLength 4. */
            assert_int_equal(rd16(img + i - 6 + 2), 4);
            assert_int_equal(rd32(img + i - 6 + 32), 0x04B00409);
            have_translation = 1;
        }
    }
    assert_true(have_table);
    assert_true(have_translation);
    free(img);
}

static void writes_no_resource_section_without_version(void **state)
{
    (void)state;
    uint8_t *img;
    pe_fixture_spec s = spec_for(0, 0);
    s.no_version_resource = 1;
    size_t len = build(&s, &img);
    size_t nt = rd32(img + 0x3C);
    assert_int_equal(rd16(img + nt + 6), 1);
    const uint8_t *opt = img + nt + 24;
    assert_int_equal(rd32(opt + 96 + 16), 0);
    assert_int_equal(rd32(opt + 96 + 20), 0);
    assert_int_equal(rd32(opt + 56), 0x2000);
    for (size_t i = 0; i + 4 <= len; i++)
        assert_false(rd32(img + i) == 0xFEEF04BDu);
    pe_version_info info;
    assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 0);
    free(img);
}

static void pads_with_seeded_bytes(void **state)
{
    (void)state;
    uint8_t *a, *b, *c, *plain;
    pe_fixture_spec s = spec_for(0, 0);
    size_t plain_len = build(&s, &plain);
    s.pad_to = 100000;
    s.seed = 1;
    size_t la = build(&s, &a);
    size_t lc = build(&s, &c);
    s.seed = 2;
    size_t lb = build(&s, &b);
    assert_int_equal(la, 100000);
    assert_int_equal(lb, 100000);
    /* Deterministic for one seed, different across seeds, image unchanged
     * apart from the checksum. */
    assert_int_equal(lc, la);
    assert_memory_equal(a, c, la);
    assert_memory_not_equal(a + plain_len, b + plain_len, la - plain_len);
    size_t csum = rd32(plain + 0x3C) + 24 + 64;
    assert_memory_equal(a, plain, csum);
    assert_memory_equal(a + csum + 4, plain + csum + 4, plain_len - csum - 4);
    /* The overlay is not all one byte value. */
    size_t zeros = 0;
    for (size_t i = plain_len; i < la; i++)
        zeros += a[i] == 0;
    assert_true(zeros < (la - plain_len) / 64);

    pe_version_info info;
    assert_int_equal(pe_version_read(b, lb, &info), TMI_OK);
    assert_int_equal(info.has_fixed, 1);
    free(a);
    free(b);
    free(c);
    free(plain);
}

static void ignores_pad_smaller_than_image(void **state)
{
    (void)state;
    uint8_t *a, *b;
    pe_fixture_spec s = spec_for(1, 0);
    size_t la = build(&s, &a);
    s.pad_to = la - 1;
    s.seed = 99;
    size_t lb = build(&s, &b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

static void rejects_impossible_specs(void **state)
{
    (void)state;
    uint8_t *img = (uint8_t *)1;
    size_t len = 1;
    pe_fixture_spec s = spec_for(0, 0);
    char big[1026];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    s.strings[PE_STR_PRODUCT_NAME] = big; /* 1025 bytes */
    assert_int_equal(pe_fixture_build(&s, &img, &len), TMI_EINVAL);
    big[1024] = '\0'; /* 1024 bytes: the largest allowed */
    assert_int_equal(pe_fixture_build(&s, &img, &len), TMI_OK);
    free(img);

    s = spec_for(0, 0);
    s.pad_to = (size_t)256 * 1024 * 1024 + 1;
    assert_int_equal(pe_fixture_build(&s, &img, &len), TMI_EINVAL);

    static const char *const bad_utf8[] = {
        "\xFF", "\xC3", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ok\xE3\x83",
    };
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        s = spec_for(0, 0);
        s.strings[PE_STR_COMPANY_NAME] = bad_utf8[i];
        assert_int_equal(pe_fixture_build(&s, &img, &len), TMI_EINVAL);
    }

    s = spec_for(0, 0);
    assert_int_equal(pe_fixture_build(NULL, &img, &len), TMI_EINVAL);
    assert_int_equal(pe_fixture_build(&s, NULL, &len), TMI_EINVAL);
    assert_int_equal(pe_fixture_build(&s, &img, NULL), TMI_EINVAL);
}

static void writes_five_maximal_strings(void **state)
{
    (void)state;
    /* Five 1024-byte values of 4-byte characters and five of ASCII: both
     * must fit the resource's 16-bit block lengths. */
    char wide[1025], narrow[1025];
    for (size_t i = 0; i < 1024; i += 4)
        memcpy(wide + i, "\xF0\x9F\x98\x80", 4);
    wide[1024] = '\0';
    memset(narrow, 'n', 1024);
    narrow[1024] = '\0';
    for (int variant = 0; variant < 2; variant++) {
        uint8_t *img;
        pe_fixture_spec s = spec_for(variant, 0);
        for (int k = 0; k < PE_STR_COUNT; k++)
            s.strings[k] = variant ? wide : narrow;
        size_t len = build(&s, &img);
        pe_version_info info;
        assert_int_equal(pe_version_read(img, len, &info), TMI_OK);
        for (int k = 0; k < PE_STR_COUNT; k++)
            assert_int_equal(info.has_string[k], 1);
        free(img);
    }
}

static void writes_a_manifest_of_the_maximum_size(void **state)
{
    (void)state;
    /* Five 1024-byte ASCII values (the largest version resource) and an
     * 8 KiB manifest fit; one byte more of manifest is refused, and so is a
     * manifest without the resource section. */
    static char manifest[8 * 1024 + 2];
    char narrow[1025];
    uint8_t *img = NULL;
    size_t len = 0;
    pe_resource res;
    memset(manifest, 'm', sizeof(manifest) - 1);
    manifest[sizeof(manifest) - 1] = '\0';
    memset(narrow, 'n', 1024);
    narrow[1024] = '\0';
    pe_fixture_spec s = spec_for(1, 0);
    for (int k = 0; k < PE_STR_COUNT; k++)
        s.strings[k] = narrow;
    s.manifest = manifest;
    assert_int_equal(pe_fixture_build(&s, &img, &len), TMI_EINVAL);
    manifest[8 * 1024] = '\0';
    len = build(&s, &img);
    assert_int_equal(pe_resource_find(img, len, PE_RT_MANIFEST, &res), TMI_OK);
    assert_int_equal(res.size, 8 * 1024);
    assert_memory_equal(img + res.offset, manifest, res.size);
    free(img);

    s = spec_for(0, 0);
    s.manifest = "<assembly/>";
    s.no_version_resource = 1;
    assert_int_equal(pe_fixture_build(&s, &img, &len), TMI_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_loader_valid_headers),
        cmocka_unit_test(writes_fixed_file_info_fields),
        cmocka_unit_test(writes_string_table_and_translation),
        cmocka_unit_test(writes_no_resource_section_without_version),
        cmocka_unit_test(pads_with_seeded_bytes),
        cmocka_unit_test(ignores_pad_smaller_than_image),
        cmocka_unit_test(rejects_impossible_specs),
        cmocka_unit_test(writes_five_maximal_strings),
        cmocka_unit_test(writes_a_manifest_of_the_maximum_size),
    };
    return cmocka_run_group_tests_name("pe_fixture", tests, NULL, NULL);
}

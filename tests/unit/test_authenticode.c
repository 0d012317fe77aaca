/*
 * test_authenticode.c - the Authenticode reader: the certificate table and
 * the way into the PKCS#7 (on synthetic signatures built here), the image
 * digest (against a reference computed here), the JSON form, the name
 * helpers of the backends, and - when TMI_SIG_FIXTURES names the folder
 * tests/tools/sig_fixtures.sh made - the verdict on every signed fixture:
 * valid, tampered, untrusted root, expired with and without a timestamp,
 * wrong key usage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "authenticode.h"
#include "err.h"
#include "pe_fixture.h"
#include "pe_headers.h"
#include "plat.h"
#include "plat_sig_int.h"
#include "testutil.h"

/* ---- a synthetic signature: just enough DER for the portable parser ---- */

static const uint8_t OID_SIGNED_DATA[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};
static const uint8_t OID_SPC_INDIRECT[] = {0x2B, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x01, 0x04};
static const uint8_t OID_SPC_PE_IMAGE[] = {0x2B, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x01, 0x0F};
static const uint8_t OID_SHA256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t OID_MD5[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x05};
static const uint8_t OID_OTHER[] = {0x2A, 0x03, 0x04};

typedef struct der {
    uint8_t b[4096];
    size_t n;
} der;

/* out = TAG LEN parts... (the parts concatenated), definite length. */
static void tlv(der *out, unsigned tag, const der *const *parts, size_t nparts)
{
    size_t len = 0, o = 0;
    for (size_t i = 0; i < nparts; i++)
        len += parts[i]->n;
    assert_true(len < 65536 && len + 4 <= sizeof(out->b));
    uint8_t tmp[sizeof(out->b)];
    tmp[o++] = (uint8_t)tag;
    if (len < 0x80) {
        tmp[o++] = (uint8_t)len;
    } else {
        tmp[o++] = 0x82;
        tmp[o++] = (uint8_t)(len >> 8);
        tmp[o++] = (uint8_t)len;
    }
    for (size_t i = 0; i < nparts; i++) {
        memcpy(tmp + o, parts[i]->b, parts[i]->n);
        o += parts[i]->n;
    }
    memcpy(out->b, tmp, o);
    out->n = o;
}

static void prim(der *out, unsigned tag, const uint8_t *v, size_t n)
{
    der d;
    if (n > 0)
        memcpy(d.b, v, n);
    d.n = n;
    const der *p[] = {&d};
    tlv(out, tag, p, 1);
}

typedef struct sig_spec {
    const uint8_t *alg;
    size_t alg_len;
    size_t digest_len;
    uint8_t digest_byte;
    const uint8_t *content_type; /* SPC_INDIRECT unless set */
    size_t content_type_len;
} sig_spec;

/* ContentInfo(signedData, [0] SignedData(1, {}, ContentInfo(content_type,
 * [0] SpcIndirectDataContent(SpcPeImageData, DigestInfo)), {})). */
static void make_pkcs7(const sig_spec *s, der *out)
{
    der oid_pe, data, oid_alg, null, algid, digest, info, content, iwrap, oid_ct, inner, ver,
        empty_set, sd, wrap, oid_sd;
    uint8_t dbytes[64], one = 1;
    memset(dbytes, s->digest_byte, sizeof(dbytes));
    prim(&oid_pe, 0x06, OID_SPC_PE_IMAGE, sizeof(OID_SPC_PE_IMAGE));
    tlv(&data, 0x30, (const der *[]){&oid_pe}, 1);
    prim(&oid_alg, 0x06, s->alg, s->alg_len);
    prim(&null, 0x05, NULL, 0);
    tlv(&algid, 0x30, (const der *[]){&oid_alg, &null}, 2);
    prim(&digest, 0x04, dbytes, s->digest_len);
    tlv(&info, 0x30, (const der *[]){&algid, &digest}, 2);
    tlv(&content, 0x30, (const der *[]){&data, &info}, 2);
    tlv(&iwrap, 0xA0, (const der *[]){&content}, 1);
    if (s->content_type != NULL)
        prim(&oid_ct, 0x06, s->content_type, s->content_type_len);
    else
        prim(&oid_ct, 0x06, OID_SPC_INDIRECT, sizeof(OID_SPC_INDIRECT));
    tlv(&inner, 0x30, (const der *[]){&oid_ct, &iwrap}, 2);
    prim(&ver, 0x02, &one, 1);
    prim(&empty_set, 0x31, NULL, 0);
    tlv(&sd, 0x30, (const der *[]){&ver, &empty_set, &inner, &empty_set}, 4);
    tlv(&wrap, 0xA0, (const der *[]){&sd}, 1);
    prim(&oid_sd, 0x06, OID_SIGNED_DATA, sizeof(OID_SIGNED_DATA));
    tlv(out, 0x30, (const der *[]){&oid_sd, &wrap}, 2);
}

static sig_spec sha256_spec(void)
{
    sig_spec s = {OID_SHA256, sizeof(OID_SHA256), 32, 0xAB, NULL, 0};
    return s;
}

/* ---- PE images with a certificate table ---- */

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

typedef struct image {
    uint8_t *b;
    size_t n;
    pe_headers h;
} image;

static void image_free(image *img)
{
    free(img->b);
    img->b = NULL;
}

static void unsigned_image(image *img, int pe32plus, size_t pad)
{
    pe_fixture_spec spec;
    const char *error;
    memset(&spec, 0, sizeof(spec));
    spec.file_version.part[0] = 1;
    spec.product_version.part[0] = 1;
    spec.pe32plus = pe32plus;
    spec.pad_to = pad;
    spec.seed = 7;
    assert_int_equal(pe_fixture_build(&spec, &img->b, &img->n), TMI_OK);
    assert_int_equal(pe_headers_read(img->b, img->n, &img->h, &error), TMI_OK);
}

/* Append a WIN_CERTIFICATE (revision, type) holding body[0..n) plus extra
 * padding bytes pad, 8-aligned, and point data directory 4 at it. */
static void attach(image *img, const uint8_t *body, size_t n, uint16_t rev, uint16_t type,
                   const uint8_t *pad, size_t padlen)
{
    size_t off = (img->n + 7) & ~(size_t)7;
    size_t entry = 8 + n + padlen;
    size_t table = (entry + 7) & ~(size_t)7;
    uint8_t *b = realloc(img->b, off + table);
    assert_non_null(b);
    memset(b + img->n, 0, off + table - img->n);
    wr32(b + off, (uint32_t)entry);
    wr16(b + off + 4, rev);
    wr16(b + off + 6, type);
    memcpy(b + off + 8, body, n);
    if (padlen > 0)
        memcpy(b + off + 8 + n, pad, padlen);
    size_t dir = pe_headers_dir_offset(&img->h, PE_DIR_SECURITY);
    wr32(b + dir, (uint32_t)off);
    wr32(b + dir + 4, (uint32_t)table);
    img->b = b;
    img->n = off + table;
}

static void signed_image_pad(image *img, const sig_spec *s, size_t pad)
{
    der p7;
    make_pkcs7(s, &p7);
    unsigned_image(img, 0, pad);
    attach(img, p7.b, p7.n, 0x0200, 0x0002, NULL, 0);
}

static void signed_image(image *img, const sig_spec *s)
{
    signed_image_pad(img, s, 3000);
}

/* ac_parse's verdict on img: TMI_EINVAL and the reason, or TMI_OK. */
static int parse(const image *img, ac_embedded *emb, sig_reason *reason, const char **error)
{
    int found = 0;
    int rc = ac_parse(img->b, img->n, emb, &found, reason, error);
    assert_int_equal(found, 1);
    return rc;
}

static void assert_malformed(const image *img, const char *want)
{
    ac_embedded emb;
    sig_reason reason;
    const char *error = NULL;
    assert_int_equal(parse(img, &emb, &reason, &error), TMI_EINVAL);
    assert_int_equal(reason, SIG_REASON_MALFORMED);
    assert_non_null(error);
    if (strstr(error, want) == NULL)
        fail_msg("error '%s' does not say '%s'", error, want);
}

/* ---- the certificate table ---- */

static void test_unsigned(void **state)
{
    (void)state;
    image img;
    ac_embedded emb;
    sig_reason reason;
    const char *error;
    sig_result res;
    int found = 1;
    unsigned_image(&img, 1, 5000);
    assert_int_equal(ac_parse(img.b, img.n, &emb, &found, &reason, &error), TMI_OK);
    assert_int_equal(found, 0);
    assert_int_equal(authenticode_check("x.dll", img.b, img.n, NULL, &res), TMI_OK);
    assert_int_equal(res.status, SIG_UNSIGNED);
    assert_int_equal(res.source, SIG_SOURCE_NONE);
    assert_int_equal(authenticode_check("x.txt", (const uint8_t *)"hello", 5, NULL, &res),
                     TMI_EFORMAT);
    assert_int_equal(res.status, SIG_UNSIGNED);
    image_free(&img);
}

static void test_parse_signed(void **state)
{
    (void)state;
    image img;
    ac_embedded emb;
    sig_reason reason;
    const char *error;
    sig_spec s = sha256_spec();
    signed_image(&img, &s);
    assert_int_equal(parse(&img, &emb, &reason, &error), TMI_OK);
    assert_int_equal(emb.alg, SIG_ALG_SHA256);
    assert_int_equal(emb.entries, 1);
    for (int i = 0; i < 32; i++)
        assert_int_equal(emb.digest[i], 0xAB);
    assert_ptr_equal(emb.pkcs7, img.b + emb.table_off + 8);
    assert_int_equal(emb.table_off + emb.table_len, img.n);
    /* the content is the SpcIndirectDataContent TLV inside the PKCS#7 */
    assert_true(emb.content > emb.pkcs7 &&
                emb.content + emb.content_len <= emb.pkcs7 + emb.pkcs7_len);
    assert_int_equal(emb.content[0], 0x30);
    image_free(&img);
}

static void test_table_bounds(void **state)
{
    (void)state;
    image img;
    sig_spec s = sha256_spec();
    size_t dir;

    signed_image(&img, &s); /* offset without a size, and the other way round */
    dir = pe_headers_dir_offset(&img.h, PE_DIR_SECURITY);
    wr32(img.b + dir + 4, 0);
    assert_malformed(&img, "offset or a size");
    image_free(&img);

    signed_image(&img, &s); /* the file cut inside the table */
    img.n -= 16;
    assert_malformed(&img, "past the end");
    image_free(&img);

    signed_image(&img, &s); /* data after it */
    img.b = realloc(img.b, img.n + 8);
    memset(img.b + img.n, 'x', 8);
    img.n += 8;
    assert_malformed(&img, "data after the certificate table");
    image_free(&img);

    signed_image(&img, &s); /* larger than the cap */
    dir = pe_headers_dir_offset(&img.h, PE_DIR_SECURITY);
    wr32(img.b + dir + 4, AC_CERT_TABLE_MAX + 8);
    assert_malformed(&img, "larger than the limit");
    image_free(&img);

    signed_image(&img, &s); /* starts inside the headers */
    dir = pe_headers_dir_offset(&img.h, PE_DIR_SECURITY);
    wr32(img.b + dir, 0x40);
    wr32(img.b + dir + 4, (uint32_t)(img.n - 0x40));
    assert_malformed(&img, "overlaps the headers");
    image_free(&img);

    /* not 8-byte aligned: move the table by 4 bytes */
    signed_image(&img, &s);
    dir = pe_headers_dir_offset(&img.h, PE_DIR_SECURITY);
    size_t off = img.b[dir] | (size_t)img.b[dir + 1] << 8 | (size_t)img.b[dir + 2] << 16;
    size_t size = img.n - off;
    img.b = realloc(img.b, img.n + 4);
    memmove(img.b + off + 4, img.b + off, size);
    img.n += 4;
    wr32(img.b + dir, (uint32_t)(off + 4));
    assert_malformed(&img, "not 8-byte aligned");
    image_free(&img);
}

static void test_entries(void **state)
{
    (void)state;
    image img;
    der p7;
    sig_spec s = sha256_spec();
    const uint8_t zeros[7] = {0}, junk[3] = {0, 1, 0}, eight[8] = {0};
    make_pkcs7(&s, &p7);

    unsigned_image(&img, 0, 2000); /* an X.509 entry only */
    attach(&img, p7.b, p7.n, 0x0200, 0x0001, NULL, 0);
    assert_malformed(&img, "no PKCS#7 SignedData entry");
    image_free(&img);

    unsigned_image(&img, 0, 2000); /* revision 1.0 is not used */
    attach(&img, p7.b, p7.n, 0x0100, 0x0002, NULL, 0);
    assert_malformed(&img, "no PKCS#7 SignedData entry");
    image_free(&img);

    unsigned_image(&img, 0, 2000); /* padding: under 8 zero bytes is fine */
    attach(&img, p7.b, p7.n, 0x0200, 0x0002, zeros, sizeof(zeros));
    ac_embedded emb;
    sig_reason reason;
    const char *error;
    assert_int_equal(parse(&img, &emb, &reason, &error), TMI_OK);
    image_free(&img);

    unsigned_image(&img, 0, 2000); /* non-zero padding (MS13-098) */
    attach(&img, p7.b, p7.n, 0x0200, 0x0002, junk, sizeof(junk));
    assert_malformed(&img, "non-zero padding");
    image_free(&img);

    unsigned_image(&img, 0, 2000); /* 8 bytes or more after the DER */
    attach(&img, p7.b, p7.n, 0x0200, 0x0002, eight, sizeof(eight));
    assert_malformed(&img, "data after the PKCS#7");
    image_free(&img);

    /* dwLength below the header, and past the table */
    signed_image(&img, &s);
    parse(&img, &emb, &reason, &error);
    wr32(img.b + emb.table_off, 4);
    assert_malformed(&img, "WIN_CERTIFICATE length");
    wr32(img.b + emb.table_off, (uint32_t)emb.table_len + 8);
    assert_malformed(&img, "WIN_CERTIFICATE length");
    image_free(&img);
}

static void test_too_many_entries(void **state)
{
    (void)state;
    image img;
    uint8_t small[8] = {0};
    unsigned_image(&img, 0, 2000);
    /* AC_MAX_ENTRIES + 1 empty X.509 entries (8-byte header + 8 bytes each) */
    size_t off = (img.n + 7) & ~(size_t)7, each = 16, n = AC_MAX_ENTRIES + 1;
    img.b = realloc(img.b, off + n * each);
    memset(img.b + img.n, 0, off + n * each - img.n);
    for (size_t i = 0; i < n; i++) {
        wr32(img.b + off + i * each, 16);
        wr16(img.b + off + i * each + 4, 0x0200);
        wr16(img.b + off + i * each + 6, 0x0001);
        memcpy(img.b + off + i * each + 8, small, 8);
    }
    size_t dir = pe_headers_dir_offset(&img.h, PE_DIR_SECURITY);
    wr32(img.b + dir, (uint32_t)off);
    wr32(img.b + dir + 4, (uint32_t)(n * each));
    img.n = off + n * each;
    assert_malformed(&img, "too many");
    image_free(&img);
}

static void test_pkcs7_shapes(void **state)
{
    (void)state;
    image img;
    ac_embedded emb;
    sig_reason reason;
    const char *error;
    sig_spec s = sha256_spec();

    s.alg = OID_MD5, s.alg_len = sizeof(OID_MD5), s.digest_len = 16;
    signed_image(&img, &s);
    assert_int_equal(parse(&img, &emb, &reason, &error), TMI_EINVAL);
    assert_int_equal(reason, SIG_REASON_UNSUPPORTED);
    assert_non_null(strstr(error, "MD5"));
    image_free(&img);

    s.alg = OID_OTHER, s.alg_len = sizeof(OID_OTHER);
    signed_image(&img, &s);
    assert_int_equal(parse(&img, &emb, &reason, &error), TMI_EINVAL);
    assert_int_equal(reason, SIG_REASON_UNSUPPORTED);
    image_free(&img);

    s = sha256_spec(); /* a digest of the wrong length */
    s.digest_len = 20;
    signed_image(&img, &s);
    assert_malformed(&img, "wrong length");
    image_free(&img);

    s = sha256_spec(); /* a SignedData of something else */
    s.content_type = OID_OTHER, s.content_type_len = sizeof(OID_OTHER);
    signed_image(&img, &s);
    assert_malformed(&img, "SpcIndirectDataContent");
    image_free(&img);

    /* an indefinite length (BER) where DER is required */
    der p7;
    s = sha256_spec();
    make_pkcs7(&s, &p7);
    p7.b[1] = 0x80;
    unsigned_image(&img, 0, 2000);
    attach(&img, p7.b, p7.n, 0x0200, 0x0002, NULL, 0);
    assert_malformed(&img, "malformed PKCS#7");
    image_free(&img);

    /* every truncation of the DER is refused, none read past its end */
    for (size_t cut = 1; cut < p7.n; cut += 7) {
        make_pkcs7(&s, &p7);
        unsigned_image(&img, 0, 2000);
        uint8_t *copy = malloc(cut);
        memcpy(copy, p7.b, cut);
        attach(&img, copy, cut, 0x0200, 0x0002, NULL, 0);
        free(copy);
        assert_int_equal(parse(&img, &emb, &reason, &error), TMI_EINVAL);
        if (strstr(error, "malformed") == NULL)
            fail_msg("cut at %zu: '%s'", cut, error);
        image_free(&img);
    }
}

/* A forged signature: the portable parser accepts it, the backend must
 * refuse it (no signer, no certificates) as malformed, never valid. */
static void test_forged_signature(void **state)
{
    (void)state;
    image img;
    sig_result res;
    sig_spec s = sha256_spec();
    ac_options opt = {0};
    char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX];
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(path, sizeof(path), dir, "forged.exe");
    signed_image(&img, &s);
    tu_write(path, img.b, img.n);
    assert_int_equal(authenticode_check(path, img.b, img.n, &opt, &res), TMI_OK);
    assert_int_equal(res.status, SIG_INVALID);
    assert_int_equal(res.source, SIG_SOURCE_EMBEDDED);
    /* the digest is checked first: 0xAB... is not this file's */
    assert_int_equal(res.reason, SIG_REASON_DIGEST_MISMATCH);
    assert_true(res.has_digest && res.has_signed_digest);

    /* now with the right digest: the backend still refuses it */
    ac_embedded emb;
    uint8_t digest[32];
    sig_reason reason;
    const char *error;
    assert_int_equal(parse(&img, &emb, &reason, &error), TMI_OK);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, digest), TMI_OK);
    memcpy((uint8_t *)emb.content + emb.content_len - 32, digest, 32);
    tu_write(path, img.b, img.n);
    assert_int_equal(authenticode_check(path, img.b, img.n, &opt, &res), TMI_OK);
    assert_int_equal(res.status, SIG_INVALID);
    assert_int_equal(res.reason, SIG_REASON_MALFORMED);
    assert_int_equal(res.has_signer, 0);
    image_free(&img);
}

/* ---- the image digest ---- */

/* SHA-256 of b[0..n) without [a1,a1+4) [a2,a2+8), cut at end. */
static void reference_digest(const uint8_t *b, size_t end, size_t checksum, size_t dir,
                             uint8_t out[32])
{
    plat_digest_ctx *ctx;
    assert_int_equal(plat_digest_init(&ctx, SIG_ALG_SHA256), TMI_OK);
    assert_int_equal(plat_digest_update(ctx, b, checksum), TMI_OK);
    assert_int_equal(plat_digest_update(ctx, b + checksum + 4, dir - checksum - 4), TMI_OK);
    assert_int_equal(plat_digest_update(ctx, b + dir + 8, end - dir - 8), TMI_OK);
    assert_int_equal(plat_digest_final(ctx, out), TMI_OK);
}

static void test_image_digest(void **state)
{
    (void)state;
    for (int plus = 0; plus <= 1; plus++) {
        image img;
        ac_embedded emb;
        sig_reason reason;
        const char *error;
        uint8_t want[32], spec[32], every[32];
        der p7;
        sig_spec s = sha256_spec();
        make_pkcs7(&s, &p7);
        unsigned_image(&img, plus, 9000 + (size_t)plus * 13);
        attach(&img, p7.b, p7.n, 0x0200, 0x0002, NULL, 0);
        assert_int_equal(parse(&img, &emb, &reason, &error), TMI_OK);
        size_t dir = pe_headers_dir_offset(&img.h, PE_DIR_SECURITY);
        /* the checksum sits at the same place in PE32 and PE32+, the
         * directory 16 bytes further in PE32+ */
        assert_int_equal(dir - img.h.checksum, plus ? 80 : 64);
        reference_digest(img.b, emb.table_off, img.h.checksum, dir, want);
        assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, spec), TMI_OK);
        assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 1, every), TMI_OK);
        assert_memory_equal(spec, want, 32);
        assert_memory_equal(every, want, 32);

        /* the checksum and the directory entry are not hashed */
        img.b[img.h.checksum] ^= 1;
        img.b[dir + 5] ^= 1;
        assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, spec), TMI_OK);
        assert_memory_equal(spec, want, 32);
        img.b[dir + 5] ^= 1;
        /* every other byte before the table is */
        img.b[emb.table_off - 1] ^= 1;
        assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, spec), TMI_OK);
        assert_memory_not_equal(spec, want, 32);
        image_free(&img);
    }
}

/* A gap between two sections: hashed in the every-byte form only. */
static void test_digest_gap(void **state)
{
    (void)state;
    image img;
    ac_embedded emb;
    sig_reason reason;
    const char *error;
    uint8_t a[32], b[32], c[32], d[32];
    der p7;
    sig_spec s = sha256_spec();
    make_pkcs7(&s, &p7);
    unsigned_image(&img, 0, 9000);
    uint8_t *sect = img.b + img.h.sections;
    uint32_t raw = sect[16] | (uint32_t)sect[17] << 8;
    assert_true(img.h.nsections >= 2 && raw >= 0x100);
    wr32(sect + 16, raw / 2); /* the second half of the first section becomes a gap */
    attach(&img, p7.b, p7.n, 0x0200, 0x0002, NULL, 0);
    sect = img.b + img.h.sections; /* attach moved the buffer */
    assert_int_equal(parse(&img, &emb, &reason, &error), TMI_OK);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, a), TMI_OK);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 1, b), TMI_OK);
    assert_memory_not_equal(a, b, 32);
    size_t gap = (sect[20] | (size_t)sect[21] << 8) + raw / 2 + 4;
    img.b[gap] ^= 0x40;
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, c), TMI_OK);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 1, d), TMI_OK);
    assert_memory_equal(a, c, 32);     /* the specification does not see it */
    assert_memory_not_equal(b, d, 32); /* the every-byte form does */
    image_free(&img);
}

static void test_digest_bounds(void **state)
{
    (void)state;
    image img;
    ac_embedded emb;
    sig_reason reason;
    const char *error;
    uint8_t out[64];
    sig_spec s = sha256_spec();

    signed_image(&img, &s); /* a section whose raw data runs into the table */
    parse(&img, &emb, &reason, &error);
    wr32(img.b + img.h.sections + 16, (uint32_t)img.n);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, out), TMI_EFORMAT);
    image_free(&img);

    /* more sections than the loader takes (the section table still fits the file) */
    signed_image_pad(&img, &s, 20000);
    parse(&img, &emb, &reason, &error);
    uint8_t *nsect = img.b + img.h.opt - 20 + 2;
    assert_int_equal(nsect[0] | nsect[1] << 8, img.h.nsections);
    memset(img.b + img.h.sections + 2 * 40, 0, (AC_MAX_SECTIONS - 2) * 40); /* no raw data */
    wr16(nsect, AC_MAX_SECTIONS);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, out), TMI_OK);
    wr16(nsect, AC_MAX_SECTIONS + 1);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, out), TMI_EFORMAT);
    image_free(&img);

    /* three sections over the whole file: over twice the file to hash */
    signed_image_pad(&img, &s, 20000);
    parse(&img, &emb, &reason, &error);
    nsect = img.b + img.h.opt - 20 + 2;
    for (unsigned i = 0; i < 3; i++) {
        wr32(img.b + img.h.sections + i * 40 + 16, (uint32_t)(emb.table_off - 0x200));
        wr32(img.b + img.h.sections + i * 40 + 20, 0x200);
    }
    wr16(nsect, 2);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, out), TMI_OK);
    wr16(nsect, 3);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, out), TMI_EFORMAT);
    image_free(&img);

    signed_image(&img, &s); /* SizeOfHeaders past the table */
    parse(&img, &emb, &reason, &error);
    wr32(img.b + img.h.opt + 60, (uint32_t)img.n);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_SHA256, 0, out), TMI_EFORMAT);
    assert_int_equal(ac_image_digest(img.b, img.n, &emb, SIG_ALG_MD5, 1, out), TMI_ENOTSUP);
    image_free(&img);
}

/* ---- JSON and names ---- */

static void test_json(void **state)
{
    (void)state;
    sig_result r;
    memset(&r, 0, sizeof(r));
    cJSON *j = authenticode_to_json(&r);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "unsigned");
    const char *nulls[] = {"reason",        "detail", "source", "digest_algorithm", "digest",
                           "signed_digest", "signer", "root",   "signing_time",     "timestamp"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, nulls[i])));
    cJSON_Delete(j);

    r.status = SIG_INVALID;
    sig_fail(&r, SIG_REASON_UNTRUSTED_ROOT, "the chain ends at '%s'", "CN=X");
    sig_fail(&r, SIG_REASON_EXPIRED, "ignored: the first reason stays");
    r.source = SIG_SOURCE_EMBEDDED;
    r.digest_alg = SIG_ALG_SHA1;
    r.has_digest = 1;
    memset(r.digest, 0xA5, 20);
    r.has_signer = 1;
    strcpy(r.signer_o, "Trend Micro, Inc.");
    strcpy(r.signer_cn, "Trend Micro, Inc.");
    memset(r.thumb_sha1, 0x01, 20);
    r.not_before = 1420070400; /* 2015-01-01 */
    r.has_signing_time = 1;
    r.signing_time = 1464739200;
    r.time_source = SIG_TIME_COUNTERSIGNATURE;
    j = authenticode_to_json(&r);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "invalid");
    assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring, "untrusted_root");
    assert_string_equal(cJSON_GetObjectItem(j, "detail")->valuestring, "the chain ends at 'CN=X'");
    assert_string_equal(cJSON_GetObjectItem(j, "digest_algorithm")->valuestring, "sha1");
    assert_string_equal(cJSON_GetObjectItem(j, "digest")->valuestring,
                        "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5");
    cJSON *signer = cJSON_GetObjectItem(j, "signer");
    assert_string_equal(cJSON_GetObjectItem(signer, "organization")->valuestring,
                        "Trend Micro, Inc.");
    assert_string_equal(cJSON_GetObjectItem(signer, "thumbprint_sha1")->valuestring,
                        "0101010101010101010101010101010101010101");
    assert_string_equal(cJSON_GetObjectItem(signer, "not_before")->valuestring,
                        "2015-01-01T00:00:00.000Z");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(signer, "subject")));
    assert_string_equal(cJSON_GetObjectItem(j, "signing_time")->valuestring,
                        "2016-06-01T00:00:00.000Z");
    assert_string_equal(cJSON_GetObjectItem(j, "timestamp")->valuestring, "countersignature");
    cJSON_Delete(j);
}

static void test_names(void **state)
{
    (void)state;
    char dn[SIG_DN_MAX] = "", small[16] = "", text[8];
    sig_dn_append(dn, sizeof(dn), "2.5.4.3", "Publisher, Inc.", 15, 1);
    sig_dn_append(dn, sizeof(dn), "2.5.4.10", "A+B \"q\"", 7, 1);
    sig_dn_append(dn, sizeof(dn), "1.2.3.4", "x", 1, 0);
    assert_string_equal(dn, "CN=Publisher\\, Inc., O=A\\+B \\\"q\\\"+1.2.3.4=x");
    /* an attribute that does not fit is dropped whole */
    sig_dn_append(small, sizeof(small), "2.5.4.3", "short", 5, 1);
    sig_dn_append(small, sizeof(small), "2.5.4.10", "much too long", 13, 1);
    assert_string_equal(small, "CN=short");
    /* invalid UTF-8 and control characters become U+FFFD; cut at a boundary */
    sig_text_copy(text, sizeof(text), "a\x01\xC3(z", 5);
    assert_string_equal(text, "a\xEF\xBF\xBD\xEF\xBF\xBD");
    sig_text_copy(text, sizeof(text), "\xE3\x83\x88\xE3\x83\xAC\xE3\x83\xB3", 9);
    assert_string_equal(text, "\xE3\x83\x88\xE3\x83\xAC");
    assert_string_equal(sig_reason_name(SIG_REASON_WRONG_USAGE), "wrong_key_usage");
    assert_null(sig_reason_name(SIG_REASON_NONE));
    assert_int_equal(sig_digest_size(SIG_ALG_SHA384), 48);
}

/* ---- the signed fixtures (tests/tools/sig_fixtures.sh) ---- */

static const char *fixtures_dir(void)
{
    const char *d = getenv("TMI_SIG_FIXTURES");
    return d != NULL && d[0] != '\0' ? d : NULL;
}

/* Check the fixture name with the test trust store (or trust_pem) at now. */
static int check_fixture(const char *name, const char *trust, int64_t now, sig_result *res)
{
    char path[PLAT_PATH_MAX], trust_path[PLAT_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    ac_options opt = {0};
    tu_join(path, sizeof(path), fixtures_dir(), name);
    tu_join(trust_path, sizeof(trust_path), fixtures_dir(), "trust.pem");
    opt.trust_pem = trust != NULL ? trust : trust_path;
    opt.now = now;
    assert_int_equal(plat.read_file(path, 64u << 20, &buf, &len), TMI_OK);
    int rc = authenticode_check(path, buf, len, &opt, res);
    free(buf);
    return rc;
}

typedef struct expect {
    const char *name;
    sig_status status;
    sig_reason reason;
    const char *signer_cn; /* NULL: no signer details expected */
    const char *root;      /* root_dn, or NULL for "" */
    sig_time_source ts;
    int64_t signing_time;
} expect;

#define PUB     "TMI Test Publisher"
#define ROOT    "CN=TMI Test Root CA, O=tmi-console tests"
#define OTHER   "CN=TMI Other Root CA, O=elsewhere tests"
#define T2016   1464739200
#define T2023   1700000000
#define VALID   SIG_VALID, SIG_REASON_NONE
#define INVALID SIG_INVALID

static const expect expected[] = {
    {"unsigned.exe", SIG_UNSIGNED, SIG_REASON_NONE, NULL, NULL, SIG_TIME_NONE, 0},
    {"unsigned64.dll", SIG_UNSIGNED, SIG_REASON_NONE, NULL, NULL, SIG_TIME_NONE, 0},
    {"signed.exe", VALID, PUB, ROOT, SIG_TIME_NONE, 0},
    {"signed64.dll", VALID, PUB, ROOT, SIG_TIME_NONE, 0},
    {"signed-sha1.dll", VALID, PUB, ROOT, SIG_TIME_NONE, 0},
    {"signed-sha512.exe", VALID, PUB, ROOT, SIG_TIME_NONE, 0},
    {"signed-ts.exe", VALID, PUB, ROOT, SIG_TIME_RFC3161, T2023},
    {"signed-md5.exe", INVALID, SIG_REASON_UNSUPPORTED, NULL, NULL, SIG_TIME_NONE, 0},
    {"checksum-changed.exe", VALID, PUB, ROOT, SIG_TIME_NONE, 0},
    {"tampered-body.exe", INVALID, SIG_REASON_DIGEST_MISMATCH, PUB, ROOT, SIG_TIME_NONE, 0},
    {"tampered-header.dll", INVALID, SIG_REASON_DIGEST_MISMATCH, PUB, ROOT, SIG_TIME_NONE, 0},
    {"tampered-sig.exe", INVALID, SIG_REASON_BAD_SIGNATURE, PUB, NULL, SIG_TIME_NONE, 0},
    {"moved.exe", INVALID, SIG_REASON_DIGEST_MISMATCH, PUB, ROOT, SIG_TIME_NONE, 0},
    {"transplanted.exe", INVALID, SIG_REASON_DIGEST_MISMATCH, PUB, ROOT, SIG_TIME_NONE, 0},
    {"truncated.exe", INVALID, SIG_REASON_MALFORMED, NULL, NULL, SIG_TIME_NONE, 0},
    {"trailing.exe", INVALID, SIG_REASON_MALFORMED, NULL, NULL, SIG_TIME_NONE, 0},
    {"unknown-root.exe", INVALID, SIG_REASON_UNTRUSTED_ROOT, "Elsewhere Publisher", OTHER,
     SIG_TIME_NONE, 0},
    {"unknown-root-inc.dll", INVALID, SIG_REASON_UNTRUSTED_ROOT, "Elsewhere Publisher", OTHER,
     SIG_TIME_NONE, 0},
    {"noeku.exe", INVALID, SIG_REASON_WRONG_USAGE, "TMI Test Web Server", ROOT, SIG_TIME_NONE, 0},
    {"expired.exe", INVALID, SIG_REASON_EXPIRED, PUB " 2015", NULL, SIG_TIME_NONE, 0},
    {"expired-ts.exe", VALID, PUB " 2015", ROOT, SIG_TIME_RFC3161, T2016},
    {"expired-cs.exe", VALID, PUB " 2015", ROOT, SIG_TIME_COUNTERSIGNATURE, T2016},
    {"ts-before-leaf.exe", INVALID, SIG_REASON_EXPIRED, PUB, NULL, SIG_TIME_RFC3161, T2016},
    {"ts-tampered.exe", INVALID, SIG_REASON_BAD_TIMESTAMP, PUB, NULL, SIG_TIME_NONE, 0},
    {"gap.exe", VALID, PUB, ROOT, SIG_TIME_NONE, 0},
    {"gap-tampered.exe", INVALID, SIG_REASON_DIGEST_MISMATCH, PUB, ROOT, SIG_TIME_NONE, 0},
};

static void test_fixtures(void **state)
{
    (void)state;
    if (fixtures_dir() == NULL)
        skip();
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        const expect *e = &expected[i];
        sig_result r;
        assert_int_equal(check_fixture(e->name, NULL, 0, &r), TMI_OK);
        if (r.status != e->status || r.reason != e->reason)
            fail_msg("%s: status %d reason %s (%s), expected %d %s", e->name, r.status,
                     sig_reason_name(r.reason), r.detail, e->status, sig_reason_name(e->reason));
        assert_int_equal(r.source,
                         e->status == SIG_UNSIGNED ? SIG_SOURCE_NONE : SIG_SOURCE_EMBEDDED);
        assert_int_equal(r.status == SIG_INVALID, r.detail[0] != '\0');
        if (e->signer_cn != NULL) {
            if (!r.has_signer || strcmp(r.signer_cn, e->signer_cn) != 0)
                fail_msg("%s: signer '%s'", e->name, r.signer_cn);
            const char *o = strncmp(e->signer_cn, "TMI", 3) == 0 ? "TMI Test Publisher, Inc."
                                                                 : "Elsewhere Software";
            assert_string_equal(r.signer_o, o);
        } else {
            assert_int_equal(r.has_signer, 0);
        }
        if (strcmp(r.root_dn, e->root != NULL ? e->root : "") != 0)
            fail_msg("%s: root '%s'", e->name, r.root_dn);
        assert_int_equal(r.time_source, e->ts);
        assert_int_equal(r.has_signing_time, e->ts != SIG_TIME_NONE);
        if (e->ts != SIG_TIME_NONE)
            assert_int_equal(r.signing_time, e->signing_time);
        /* the 2015 files hold only through their timestamps */
        assert_int_equal(r.valid_by_timestamp,
                         e->status == SIG_VALID && strncmp(e->name, "expired-", 8) == 0);
        if (r.has_signed_digest)
            assert_int_equal(r.has_digest, 1);
        if (e->status == SIG_VALID)
            assert_memory_equal(r.digest, r.signed_digest, sig_digest_size(r.digest_alg));
    }
}

/* The details the tests name: the expired signer's details and the missing
 * root; the thumbprint is the certificate's. */
static void test_fixture_details(void **state)
{
    (void)state;
    if (fixtures_dir() == NULL)
        skip();
    sig_result r;
    assert_int_equal(check_fixture("expired.exe", NULL, 0, &r), TMI_OK);
    assert_non_null(strstr(r.detail, "has expired and the signature has no timestamp"));
    assert_string_equal(r.issuer_dn, "CN=TMI Test Code Signing CA 2010, O=tmi-console tests");
    assert_int_equal(r.not_after, 1514764800); /* 2018-01-01 */
    assert_int_equal(check_fixture("ts-before-leaf.exe", NULL, 0, &r), TMI_OK);
    assert_non_null(strstr(r.detail, "was not yet valid at the time of the timestamp"));
    assert_int_equal(check_fixture("unknown-root.exe", NULL, 0, &r), TMI_OK);
    assert_non_null(strstr(r.detail, OTHER));
    assert_int_equal(check_fixture("signed.exe", NULL, 0, &r), TMI_OK);
    assert_string_equal(r.signer_dn, "CN=TMI Test Publisher, O=TMI Test Publisher\\, Inc., C=JP");
    assert_int_equal(r.digest_alg, SIG_ALG_SHA256);

    /* the thumbprint is the SHA-1 of the leaf certificate's DER */
    char leaf[PLAT_PATH_MAX];
    uint8_t *buf = NULL, cert[4096], sha1[20];
    size_t len = 0, n = 0;
    tu_join(leaf, sizeof(leaf), fixtures_dir(), "pki/leaf.der");
    if (plat.read_file(leaf, 1 << 20, &buf, &len) == TMI_OK) {
        assert_true(len <= sizeof(cert));
        memcpy(cert, buf, len);
        n = len;
        free(buf);
        plat_digest_ctx *ctx;
        assert_int_equal(plat_digest_init(&ctx, SIG_ALG_SHA1), TMI_OK);
        assert_int_equal(plat_digest_update(ctx, cert, n), TMI_OK);
        assert_int_equal(plat_digest_final(ctx, sha1), TMI_OK);
        assert_memory_equal(r.thumb_sha1, sha1, 20);
    } else {
        fail_msg("pki/leaf.der is missing");
    }
}

/* The verification time and the trust store. */
static void test_fixture_time_and_trust(void **state)
{
    (void)state;
    if (fixtures_dir() == NULL)
        skip();
    sig_result r;
    assert_int_equal(check_fixture("signed.exe", NULL, 2524608000, &r), TMI_OK); /* 2050 */
    assert_int_equal(r.reason, SIG_REASON_EXPIRED);
    assert_int_equal(check_fixture("signed.exe", NULL, 1546300800, &r), TMI_OK); /* 2019 */
    assert_int_equal(r.reason, SIG_REASON_EXPIRED);
    /* a timestamp makes the date irrelevant, within the TSA's own validity */
    assert_int_equal(check_fixture("expired-ts.exe", NULL, 2208988800, &r), TMI_OK); /* 2040 */
    assert_int_equal(r.status, SIG_VALID);

    /* the system store does not hold the test root */
    char path[PLAT_PATH_MAX], bad[PLAT_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    tu_join(path, sizeof(path), fixtures_dir(), "signed.exe");
    assert_int_equal(plat.read_file(path, 1 << 24, &buf, &len), TMI_OK);
    ac_options opt = {0};
    assert_int_equal(authenticode_check(path, buf, len, &opt, &r), TMI_OK);
    assert_int_equal(r.reason, SIG_REASON_UNTRUSTED_ROOT);
    assert_string_equal(r.root_dn, ROOT);
    /* a trust file that is missing, or holds no certificate: an error, no verdict */
    tu_join(bad, sizeof(bad), fixtures_dir(), "no-such.pem");
    opt.trust_pem = bad;
    assert_int_equal(authenticode_check(path, buf, len, &opt, &r), TMI_ENOENT);
    assert_int_equal(r.status, SIG_UNSIGNED);
    assert_int_equal(plat_sig_trust_check(bad), TMI_ENOENT);
    tu_join(bad, sizeof(bad), fixtures_dir(), "fixtures.txt");
    opt.trust_pem = bad;
    assert_int_equal(authenticode_check(path, buf, len, &opt, &r), TMI_EFORMAT);
    assert_int_equal(plat_sig_trust_check(bad), TMI_EFORMAT);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsigned),
        cmocka_unit_test(test_parse_signed),
        cmocka_unit_test(test_table_bounds),
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_too_many_entries),
        cmocka_unit_test(test_pkcs7_shapes),
        cmocka_unit_test(test_forged_signature),
        cmocka_unit_test(test_image_digest),
        cmocka_unit_test(test_digest_gap),
        cmocka_unit_test(test_digest_bounds),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_fixture_details),
        cmocka_unit_test(test_fixture_time_and_trust),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

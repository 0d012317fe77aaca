/*
 * authenticode.c - the portable half of the Authenticode check (see
 * authenticode.h for the contract): the certificate table, the way into the
 * PKCS#7 SignedData as far as the signed digest, the image digest, the
 * verdict's assembly and its JSON form.
 *
 * The DER walk reads one TLV at a time at known positions of a fixed path;
 * it accepts definite lengths only (Authenticode signatures are DER) and
 * checks every length against its parent before stepping in.
 */
#include "authenticode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "hex.h"
#include "pe_headers.h"
#include "plat.h"
#include "timefmt.h"

#define WIN_CERT_HEADER           8
#define WIN_CERT_REVISION_2_0     0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED 0x0002
#define AC_ALIGN8(x)              (((x) + 7) & ~(size_t)7)
#define AC_MAX_RANGES             (AC_MAX_SECTIONS + 4)

/* ---- DER, one TLV at a time ---- */

#define DER_SEQUENCE 0x30
#define DER_SET      0x31
#define DER_OID      0x06
#define DER_OCTETS   0x04
#define DER_INTEGER  0x02
#define DER_NULL     0x05
#define DER_CTX0     0xA0 /* [0] EXPLICIT, constructed */

typedef struct der_tlv {
    unsigned tag;
    size_t start; /* first byte of the tag */
    size_t value; /* first byte of the value */
    size_t len;   /* value length */
    size_t end;   /* value + len */
} der_tlv;

/*
 * Read the TLV at buf[pos..limit). Single-byte tags only (the high-tag form
 * is refused), definite lengths of at most four length bytes, the value
 * inside limit. Returns 1 on success, 0 otherwise.
 */
static int der_read(const uint8_t *buf, size_t pos, size_t limit, der_tlv *t)
{
    if (pos >= limit || limit - pos < 2)
        return 0;
    t->start = pos;
    t->tag = buf[pos];
    if ((t->tag & 0x1F) == 0x1F)
        return 0;
    size_t p = pos + 1;
    size_t n = buf[p++];
    if (n & 0x80) {
        size_t bytes = n & 0x7F;
        if (bytes == 0 || bytes > 4 || limit - p < bytes)
            return 0; /* indefinite length, or too long */
        n = 0;
        for (size_t i = 0; i < bytes; i++)
            n = (n << 8) | buf[p++];
    }
    if (n > limit - p)
        return 0;
    t->value = p;
    t->len = n;
    t->end = p + n;
    return 1;
}

/* Read the TLV at pos and require its tag. */
static int der_expect(const uint8_t *buf, size_t pos, size_t limit, unsigned tag, der_tlv *t)
{
    return der_read(buf, pos, limit, t) && t->tag == tag;
}

/* 1 when the OID TLV t holds exactly the encoded bytes oid[0..n). */
static int der_oid_is(const uint8_t *buf, const der_tlv *t, const uint8_t *oid, size_t n)
{
    return t->tag == DER_OID && t->len == n && memcmp(buf + t->value, oid, n) == 0;
}

static const uint8_t OID_SIGNED_DATA[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};
static const uint8_t OID_SPC_INDIRECT[] = {0x2B, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x01, 0x04};
static const uint8_t OID_SPC_PE_IMAGE[] = {0x2B, 0x06, 0x01, 0x04, 0x01,
                                           0x82, 0x37, 0x02, 0x01, 0x0F};

static const struct {
    uint8_t oid[9];
    size_t len;
    sig_digest_alg alg;
} digest_oids[] = {
    {{0x2B, 0x0E, 0x03, 0x02, 0x1A}, 5, SIG_ALG_SHA1},
    {{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}, 9, SIG_ALG_SHA256},
    {{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02}, 9, SIG_ALG_SHA384},
    {{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03}, 9, SIG_ALG_SHA512},
    {{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x05}, 8, SIG_ALG_MD5},
};

/*
 * SpcIndirectDataContent ::= SEQUENCE {
 *   data SEQUENCE { type OID (SPC_PE_IMAGE_DATA), value ANY OPTIONAL },
 *   messageDigest SEQUENCE { SEQUENCE { algorithm OID, parameters ANY OPTIONAL },
 *                            digest OCTET STRING } }
 * at the TLV c. Fills emb->alg and emb->digest.
 */
static int parse_indirect(const uint8_t *b, const der_tlv *c, ac_embedded *emb, sig_reason *reason,
                          const char **error)
{
    der_tlv data, type, info, algid, oid, digest;
    *reason = SIG_REASON_MALFORMED;
    *error = "malformed SpcIndirectDataContent";
    if (!der_expect(b, c->value, c->end, DER_SEQUENCE, &data) ||
        !der_expect(b, data.value, data.end, DER_OID, &type) ||
        !der_expect(b, data.end, c->end, DER_SEQUENCE, &info) ||
        !der_expect(b, info.value, info.end, DER_SEQUENCE, &algid) ||
        !der_expect(b, algid.value, algid.end, DER_OID, &oid) ||
        !der_expect(b, algid.end, info.end, DER_OCTETS, &digest))
        return TMI_EINVAL;
    if (!der_oid_is(b, &type, OID_SPC_PE_IMAGE, sizeof(OID_SPC_PE_IMAGE))) {
        *error = "the signature is not for a PE image (SpcPeImageData)";
        return TMI_EINVAL;
    }
    emb->alg = SIG_ALG_NONE;
    for (size_t i = 0; i < sizeof(digest_oids) / sizeof(digest_oids[0]); i++) {
        if (der_oid_is(b, &oid, digest_oids[i].oid, digest_oids[i].len))
            emb->alg = digest_oids[i].alg;
    }
    if (emb->alg == SIG_ALG_NONE || emb->alg == SIG_ALG_MD5) {
        *reason = SIG_REASON_UNSUPPORTED;
        *error = emb->alg == SIG_ALG_MD5 ? "MD5 image digest (too weak to be trusted)"
                                         : "unknown image digest algorithm";
        return TMI_EINVAL;
    }
    if (digest.len != sig_digest_size(emb->alg)) {
        *error = "the signed digest has the wrong length for its algorithm";
        return TMI_EINVAL;
    }
    memcpy(emb->digest, b + digest.value, digest.len);
    return TMI_OK;
}

/*
 * ContentInfo { signedData, [0] SignedData { version, digestAlgorithms,
 * ContentInfo { SPC_INDIRECT_DATA, [0] SpcIndirectDataContent }, ... } }
 * in der[0..avail). Sets emb->pkcs7_len to the outer TLV's length.
 */
static int parse_pkcs7(const uint8_t *der, size_t avail, ac_embedded *emb, sig_reason *reason,
                       const char **error)
{
    der_tlv ci, type, wrap, sd, ver, algs, inner, itype, iwrap, content;
    *reason = SIG_REASON_MALFORMED;
    *error = "malformed PKCS#7 SignedData";
    if (!der_expect(der, 0, avail, DER_SEQUENCE, &ci) ||
        !der_expect(der, ci.value, ci.end, DER_OID, &type) ||
        !der_expect(der, type.end, ci.end, DER_CTX0, &wrap) ||
        !der_expect(der, wrap.value, wrap.end, DER_SEQUENCE, &sd) ||
        !der_expect(der, sd.value, sd.end, DER_INTEGER, &ver) ||
        !der_expect(der, ver.end, sd.end, DER_SET, &algs) ||
        !der_expect(der, algs.end, sd.end, DER_SEQUENCE, &inner) ||
        !der_expect(der, inner.value, inner.end, DER_OID, &itype))
        return TMI_EINVAL;
    if (!der_oid_is(der, &type, OID_SIGNED_DATA, sizeof(OID_SIGNED_DATA))) {
        *error = "the certificate table entry is not a PKCS#7 SignedData";
        return TMI_EINVAL;
    }
    if (!der_oid_is(der, &itype, OID_SPC_INDIRECT, sizeof(OID_SPC_INDIRECT))) {
        *error = "the SignedData does not hold Authenticode content (SpcIndirectDataContent)";
        return TMI_EINVAL;
    }
    if (!der_expect(der, itype.end, inner.end, DER_CTX0, &iwrap) ||
        !der_expect(der, iwrap.value, iwrap.end, DER_SEQUENCE, &content))
        return TMI_EINVAL;
    /* The padding after the SignedData: fewer than 8 zero bytes (MS13-098). */
    if (avail - ci.end >= 8) {
        *error = "data after the PKCS#7 SignedData in the certificate table entry";
        return TMI_EINVAL;
    }
    for (size_t i = ci.end; i < avail; i++) {
        if (der[i] != 0) {
            *error = "non-zero padding after the PKCS#7 SignedData";
            return TMI_EINVAL;
        }
    }
    emb->pkcs7_len = ci.end;
    emb->content = der + content.start;
    emb->content_len = content.end - content.start;
    return parse_indirect(der, &content, emb, reason, error);
}

/* ---- the certificate table ---- */

/*
 * Walk the WIN_CERTIFICATE entries of buf[off..off+size) (already inside
 * the file); the first revision-2.0 PKCS#7 entry is the signature.
 */
static int parse_entries(const uint8_t *buf, size_t off, size_t size, ac_embedded *emb,
                         sig_reason *reason, const char **error)
{
    size_t pos = 0;
    const uint8_t *first = NULL;
    size_t first_len = 0;
    *reason = SIG_REASON_MALFORMED;
    while (pos < size) {
        if (size - pos < WIN_CERT_HEADER) {
            *error = "truncated WIN_CERTIFICATE entry";
            return TMI_EINVAL;
        }
        const uint8_t *e = buf + off + pos;
        size_t length = pe_rd32(e);
        if (length < WIN_CERT_HEADER || length > size - pos) {
            *error = "WIN_CERTIFICATE length outside the certificate table";
            return TMI_EINVAL;
        }
        if (++emb->entries > AC_MAX_ENTRIES) {
            *error = "too many WIN_CERTIFICATE entries";
            return TMI_EINVAL;
        }
        if (first == NULL && pe_rd16(e + 4) == WIN_CERT_REVISION_2_0 &&
            pe_rd16(e + 6) == WIN_CERT_TYPE_PKCS_SIGNED) {
            first = e + WIN_CERT_HEADER;
            first_len = length - WIN_CERT_HEADER;
        }
        size_t next = AC_ALIGN8(length);
        for (size_t i = length; i < next && pos + i < size; i++) {
            if (e[i] != 0) {
                *error = "non-zero bytes between WIN_CERTIFICATE entries";
                return TMI_EINVAL;
            }
        }
        pos = next > size - pos ? size : pos + next;
    }
    if (first == NULL) {
        *error = "no PKCS#7 SignedData entry (revision 2.0) in the certificate table";
        return TMI_EINVAL;
    }
    emb->pkcs7 = first;
    return parse_pkcs7(first, first_len, emb, reason, error);
}

int ac_parse(const uint8_t *buf, size_t len, ac_embedded *emb, int *found, sig_reason *reason,
             const char **error)
{
    pe_headers h;
    uint32_t off, size;
    memset(emb, 0, sizeof(*emb));
    *found = 0;
    *reason = SIG_REASON_NONE;
    *error = NULL;
    if (pe_headers_read(buf, len, &h, error) != TMI_OK)
        return TMI_EFORMAT;
    if (!pe_headers_dir(&h, buf, PE_DIR_SECURITY, &off, &size) || (off == 0 && size == 0))
        return TMI_OK;
    *found = 1;
    *reason = SIG_REASON_MALFORMED;
    emb->table_off = off;
    emb->table_len = size;
    if (off == 0 || size == 0)
        *error = "the certificate table directory has an offset or a size, not both";
    else if (size > AC_CERT_TABLE_MAX)
        *error = "the certificate table is larger than the limit";
    else if (!pe_fits(off, size, len))
        *error = "the certificate table runs past the end of the file";
    else if ((size_t)off + size != len)
        *error = "data after the certificate table (it must end the file)";
    else if (off % 8 != 0)
        *error = "the certificate table is not 8-byte aligned";
    else if (off < pe_headers_dir_offset(&h, PE_DIR_SECURITY) + PE_DIR_SIZE ||
             off < h.sections + (size_t)h.nsections * PE_SECTION_SIZE)
        *error = "the certificate table overlaps the headers";
    if (*error != NULL)
        return TMI_EINVAL;
    if (parse_entries(buf, off, size, emb, reason, error) != TMI_OK)
        return TMI_EINVAL;
    *reason = SIG_REASON_NONE;
    return TMI_OK;
}

/* ---- the image digest ---- */

typedef struct ac_range {
    size_t off, len;
} ac_range;

/* Append [from, to) to r (empty ranges are dropped); 0 when full. */
static int add_range(ac_range *r, size_t *n, size_t from, size_t to)
{
    if (to <= from)
        return 1;
    if (*n >= AC_MAX_RANGES)
        return 0;
    r[*n].off = from;
    r[*n].len = to - from;
    (*n)++;
    return 1;
}

/* The sections with raw data, sorted by PointerToRawData, each inside
 * [0, sig_end). Returns the count, or -1 when they do not fit. */
static int sorted_sections(const uint8_t *buf, const pe_headers *h, size_t sig_end, ac_range *out)
{
    int n = 0;
    if (h->nsections > AC_MAX_SECTIONS)
        return -1;
    for (unsigned i = 0; i < h->nsections; i++) {
        const uint8_t *s = buf + h->sections + (size_t)i * PE_SECTION_SIZE;
        size_t raw_size = pe_rd32(s + 16), raw_ptr = pe_rd32(s + 20);
        if (raw_size == 0)
            continue;
        if (!pe_fits(raw_ptr, raw_size, sig_end))
            return -1;
        int j = n++;
        while (j > 0 && out[j - 1].off > raw_ptr) { /* insertion sort: stable, n <= 96 */
            out[j] = out[j - 1];
            j--;
        }
        out[j].off = raw_ptr;
        out[j].len = raw_size;
    }
    return n;
}

/* The ranges to hash, in order. Returns TMI_OK or TMI_EFORMAT. */
static int image_ranges(const uint8_t *buf, size_t len, const pe_headers *h, size_t sig_end,
                        int every_byte, ac_range *r, size_t *n)
{
    size_t dir = pe_headers_dir_offset(h, PE_DIR_SECURITY);
    size_t hdr_end = every_byte ? sig_end : h->size_of_headers;
    ac_range sect[AC_MAX_SECTIONS];
    *n = 0;
    if (hdr_end < dir + PE_DIR_SIZE || hdr_end > sig_end)
        return TMI_EFORMAT;
    add_range(r, n, 0, h->checksum);
    add_range(r, n, h->checksum + 4, dir);
    add_range(r, n, dir + PE_DIR_SIZE, hdr_end);
    if (every_byte)
        return TMI_OK;
    int ns = sorted_sections(buf, h, sig_end, sect);
    if (ns < 0)
        return TMI_EFORMAT;
    size_t end = hdr_end, total = hdr_end;
    for (int i = 0; i < ns; i++) {
        add_range(r, n, sect[i].off, sect[i].off + sect[i].len);
        if (sect[i].off + sect[i].len > end)
            end = sect[i].off + sect[i].len;
        total += sect[i].len;
    }
    add_range(r, n, end, sig_end);
    if (total > 2 * (uint64_t)len)
        return TMI_EFORMAT; /* overlapping sections: bounded work */
    return TMI_OK;
}

int ac_image_digest(const uint8_t *buf, size_t len, const ac_embedded *emb, sig_digest_alg alg,
                    int every_byte, uint8_t *out)
{
    pe_headers h;
    const char *error;
    ac_range r[AC_MAX_RANGES];
    size_t n = 0;
    plat_digest_ctx *ctx = NULL;
    int rc;
    if (pe_headers_read(buf, len, &h, &error) != TMI_OK || h.ndirs <= PE_DIR_SECURITY)
        return TMI_EFORMAT;
    size_t sig_end = emb != NULL ? emb->table_off : len;
    if (sig_end > len)
        return TMI_EFORMAT;
    rc = image_ranges(buf, len, &h, sig_end, every_byte, r, &n);
    if (rc != TMI_OK)
        return rc;
    rc = plat_digest_init(&ctx, alg);
    for (size_t i = 0; rc == TMI_OK && i < n; i++)
        rc = plat_digest_update(ctx, buf + r[i].off, r[i].len);
    if (rc != TMI_OK) {
        plat_digest_free(ctx);
        return rc;
    }
    return plat_digest_final(ctx, out);
}

/* ---- the verdict ---- */

/*
 * Recompute the digest and compare it with the signed one: on a mismatch
 * (after the every-byte form too) the result is invalid. The digest reported
 * is the one that matched, else the every-byte one (a fingerprint of every
 * byte outside the three places, as osslsigncode reports it). With a known
 * digest (ac_options), that is the digest reported: it was computed this
 * way from the same bytes, so the comparison comes out as it did then.
 */
static void check_digest(const uint8_t *buf, size_t len, const ac_embedded *emb,
                         const ac_options *opt, sig_result *res)
{
    size_t dlen = sig_digest_size(emb->alg);
    int rc;
    if (opt != NULL && opt->known_digest != NULL && opt->known_alg == emb->alg) {
        memcpy(res->digest, opt->known_digest, dlen);
        res->digest_cached = 1;
        rc = TMI_OK;
    } else {
        rc = ac_image_digest(buf, len, emb, emb->alg, 0, res->digest);
        if (rc == TMI_OK && memcmp(res->digest, emb->digest, dlen) != 0)
            rc = ac_image_digest(buf, len, emb, emb->alg, 1, res->digest);
    }
    if (rc == TMI_EFORMAT) {
        sig_fail(res, SIG_REASON_MALFORMED,
                 "the section table does not fit the file before the certificate table");
        return;
    }
    if (rc != TMI_OK) {
        sig_fail(res, SIG_REASON_MALFORMED, "the image digest cannot be computed: %s",
                 tmi_strerror(rc));
        return;
    }
    res->has_digest = 1;
    if (memcmp(res->digest, emb->digest, dlen) != 0)
        sig_fail(res, SIG_REASON_DIGEST_MISMATCH,
                 "the file was changed after it was signed: its %s image digest differs from "
                 "the signed one",
                 sig_digest_name(emb->alg));
}

/* What authenticode_end needs once the file's bytes are gone: a copy of the
 * PKCS#7 blob (the SpcIndirectDataContent at content_off inside it), or a
 * catalog lookup. The blob follows the struct in the same allocation. */
struct ac_pending {
    int catalog; /* 1: no embedded signature, look in the catalogs */
    size_t pkcs7_len, content_off, content_len;
    uint8_t pkcs7[];
};

int authenticode_begin(const uint8_t *buf, size_t len, const ac_options *opt, sig_result *res,
                       ac_pending **out)
{
    ac_embedded emb;
    int found = 0;
    sig_reason reason;
    const char *error = NULL;
    ac_pending *p;
    memset(res, 0, sizeof(*res));
    *out = NULL;

    int rc = ac_parse(buf, len, &emb, &found, &reason, &error);
    if (rc == TMI_EFORMAT)
        return TMI_EFORMAT;
    if (!found) {
        if (opt != NULL && opt->no_catalog)
            return TMI_OK;
        p = calloc(1, sizeof(*p));
        if (p == NULL)
            return TMI_ENOMEM;
        p->catalog = 1;
        *out = p;
        return TMI_OK;
    }
    res->source = SIG_SOURCE_EMBEDDED;
    if (rc != TMI_OK) {
        sig_fail(res, reason, "%s", error);
        return TMI_OK;
    }
    res->digest_alg = emb.alg;
    memcpy(res->signed_digest, emb.digest, sig_digest_size(emb.alg));
    res->has_signed_digest = 1;
    check_digest(buf, len, &emb, opt, res);

    /* ac_parse bounds the blob by AC_CERT_TABLE_MAX and finds the content
     * inside it */
    p = malloc(sizeof(*p) + emb.pkcs7_len);
    if (p == NULL) {
        memset(res, 0, sizeof(*res));
        return TMI_ENOMEM;
    }
    p->catalog = 0;
    p->pkcs7_len = emb.pkcs7_len;
    p->content_off = (size_t)(emb.content - emb.pkcs7);
    p->content_len = emb.content_len;
    memcpy(p->pkcs7, emb.pkcs7, emb.pkcs7_len);
    *out = p;
    return TMI_OK;
}

int authenticode_end(ac_pending *p, const char *path, const ac_options *opt, sig_result *res)
{
    plat_sig_request req;
    int rc;
    memset(&req, 0, sizeof(req));
    req.path = path;
    req.trust_pem = opt != NULL ? opt->trust_pem : NULL;
    req.trust = opt != NULL ? opt->trust : NULL;
    req.now = opt != NULL && opt->now != 0 ? opt->now : plat_now_ns() / 1000000000;
    if (p->catalog) {
        free(p);
        rc = plat_sig_catalog(&req, res);
        if (rc == TMI_OK && res->status != SIG_INVALID)
            res->status = SIG_VALID;
        if (rc == TMI_OK || rc == TMI_ENOENT || rc == TMI_ENOTSUP)
            return TMI_OK;
        memset(res, 0, sizeof(*res));
        return rc;
    }
    req.pkcs7 = p->pkcs7;
    req.pkcs7_len = p->pkcs7_len;
    req.content = p->pkcs7 + p->content_off;
    req.content_len = p->content_len;
    rc = plat_sig_verify(&req, res);
    free(p);
    if (rc != TMI_OK) {
        memset(res, 0, sizeof(*res));
        return rc;
    }
    if (res->status != SIG_INVALID)
        res->status = SIG_VALID;
    return TMI_OK;
}

int authenticode_check(const char *path, const uint8_t *buf, size_t len, const ac_options *opt,
                       sig_result *res)
{
    ac_pending *p;
    int rc = authenticode_begin(buf, len, opt, res, &p);
    if (rc != TMI_OK || p == NULL)
        return rc;
    return authenticode_end(p, path, opt, res);
}

/* ---- JSON ---- */

static const char *status_name(sig_status s)
{
    switch (s) {
    case SIG_VALID:
        return "valid";
    case SIG_INVALID:
        return "invalid";
    default:
        return "unsigned";
    }
}

static const char *source_name(sig_source s)
{
    switch (s) {
    case SIG_SOURCE_EMBEDDED:
        return "embedded";
    case SIG_SOURCE_CATALOG:
        return "catalog";
    default:
        return NULL;
    }
}

static const char *time_source_name(sig_time_source s)
{
    switch (s) {
    case SIG_TIME_COUNTERSIGNATURE:
        return "countersignature";
    case SIG_TIME_RFC3161:
        return "rfc3161";
    default:
        return NULL;
    }
}

/* Add key: value, or key: null when value is NULL or "". */
static void add_text(cJSON *o, const char *key, const char *value)
{
    if (value != NULL && value[0] != '\0')
        cJSON_AddStringToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

/* Lower-case hex of bytes[0..n) (n <= SIG_DIGEST_MAX) under key. */
static void add_hex(cJSON *o, const char *key, const uint8_t *bytes, size_t n)
{
    char hex[2 * SIG_DIGEST_MAX + 1];
    cJSON_AddStringToObject(o, key, hex_encode(bytes, n, hex));
}

/* RFC 3339 text of a time in seconds; null when absent or outside what the
 * text form holds (1970 to 2261: a certificate may say 9999). */
static void add_time(cJSON *o, const char *key, int has, int64_t seconds)
{
    char buf[TIME_UTC_LEN];
    if (has && seconds >= 0 && seconds <= INT64_MAX / 1000000000)
        cJSON_AddStringToObject(o, key, time_format_utc(seconds * 1000000000, buf, sizeof(buf)));
    else
        cJSON_AddNullToObject(o, key);
}

static cJSON *signer_json(const sig_result *res)
{
    cJSON *s = cJSON_CreateObject();
    if (s == NULL)
        return NULL;
    add_text(s, "organization", res->signer_o);
    add_text(s, "common_name", res->signer_cn);
    add_text(s, "subject", res->signer_dn);
    add_text(s, "issuer", res->issuer_dn);
    add_hex(s, "thumbprint_sha1", res->thumb_sha1, sizeof(res->thumb_sha1));
    add_hex(s, "thumbprint_sha256", res->thumb_sha256, sizeof(res->thumb_sha256));
    add_time(s, "not_before", 1, res->not_before);
    add_time(s, "not_after", 1, res->not_after);
    return s;
}

cJSON *authenticode_to_json(const sig_result *res)
{
    size_t dlen = sig_digest_size(res->digest_alg);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "status", status_name(res->status));
    add_text(o, "reason", sig_reason_name(res->reason));
    add_text(o, "detail", res->detail);
    add_text(o, "source", source_name(res->source));
    add_text(o, "digest_algorithm", sig_digest_name(res->digest_alg));
    if (res->has_digest && dlen > 0)
        add_hex(o, "digest", res->digest, dlen);
    else
        cJSON_AddNullToObject(o, "digest");
    if (res->has_signed_digest && dlen > 0)
        add_hex(o, "signed_digest", res->signed_digest, dlen);
    else
        cJSON_AddNullToObject(o, "signed_digest");
    if (res->has_signer)
        cJSON_AddItemToObject(o, "signer", signer_json(res));
    else
        cJSON_AddNullToObject(o, "signer");
    add_text(o, "root", res->root_dn);
    add_time(o, "signing_time", res->has_signing_time, res->signing_time);
    add_text(o, "timestamp", time_source_name(res->time_source));
    cJSON_AddBoolToObject(o, "valid_by_timestamp", res->valid_by_timestamp);
    cJSON_AddBoolToObject(o, "digest_cached", res->digest_cached);
    if (cJSON_GetObjectItem(o, "digest_cached") == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

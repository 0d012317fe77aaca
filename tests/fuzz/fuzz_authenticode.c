/*
 * fuzz_authenticode.c - libFuzzer target for the Authenticode reader: the
 * certificate table, the DER walk to the signed digest, the image digest and
 * the backend's PKCS#7 path (OpenSSL: the signer, timestamps, the chain).
 *
 * An input that starts with "MZ" is a whole PE file; any other input is the
 * body of a WIN_CERTIFICATE (a PKCS#7 SignedData, DER) attached to a small
 * PE image built once, so that mutations of a signature reach the PKCS#7
 * path without first breaking the file around it. TMI_FUZZ_TRUST names the
 * trust store (run_smoke.sh sets it to the test root); unset, the system's.
 *
 * Besides the sanitizers' checks it asserts the contract: the result is
 * TMI_OK or TMI_EFORMAT; invalid exactly when a reason is set; valid only
 * when the recomputed digest equals the signed one; every string
 * NUL-terminated valid UTF-8 without control characters; the JSON form
 * builds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "authenticode.h"
#include "err.h"
#include "pe_fixture.h"
#include "pe_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *template_pe;
static size_t template_len;

static void build_template(void)
{
    pe_fixture_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.file_version.part[0] = 1;
    spec.pad_to = 1500;
    if (pe_fixture_build(&spec, &template_pe, &template_len) != TMI_OK)
        abort();
    template_len = (template_len + 7) & ~(size_t)7;
    template_pe = realloc(template_pe, template_len);
    if (template_pe == NULL)
        abort();
}

/* The template with a certificate table holding body[0..n). */
static uint8_t *wrap(const uint8_t *body, size_t n, size_t *len)
{
    pe_headers h;
    const char *error;
    size_t entry = 8 + n, table = (entry + 7) & ~(size_t)7;
    uint8_t *b = calloc(1, template_len + table);
    if (b == NULL || pe_headers_read(template_pe, template_len, &h, &error) != TMI_OK)
        abort();
    memcpy(b, template_pe, template_len);
    uint8_t *e = b + template_len;
    e[0] = (uint8_t)entry, e[1] = (uint8_t)(entry >> 8), e[2] = (uint8_t)(entry >> 16);
    e[5] = 0x02; /* revision 2.0 */
    e[6] = 0x02; /* PKCS_SIGNED_DATA */
    memcpy(e + 8, body, n);
    uint8_t *d = b + pe_headers_dir_offset(&h, PE_DIR_SECURITY);
    uint32_t off = (uint32_t)template_len, sz = (uint32_t)table;
    for (int i = 0; i < 4; i++) {
        d[i] = (uint8_t)(off >> (8 * i));
        d[4 + i] = (uint8_t)(sz >> (8 * i));
    }
    *len = template_len + table;
    return b;
}

/* 1 when s is NUL-terminated within cap and valid UTF-8 without controls. */
static int clean_text(const char *s, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = memchr(p, '\0', cap);
    if (end == NULL)
        return 0;
    while (p < end) {
        unsigned c = *p;
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xC2) || c > 0xF4 || (size_t)(end - p) < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[k] & 0xC0) != 0x80)
                return 0;
        }
        p += len;
    }
    return 1;
}

/* A trust handle kept across inputs, as a scan keeps one across files: its
 * certificate cache must never change a verdict. */
static plat_sig_trust *trust;
static int trust_tried;

static void check_with_handle(const char *path, const uint8_t *buf, size_t len,
                              const ac_options *opt, int rc, const sig_result *r)
{
    sig_result r2;
    ac_options o2 = *opt;
    if (!trust_tried) {
        trust_tried = 1;
        if (plat_sig_trust_open(opt->trust_pem, &trust) != TMI_OK)
            trust = NULL;
    }
    if (trust == NULL)
        return;
    o2.trust = trust;
    int rc2 = authenticode_check(path, buf, len, &o2, &r2);
    if (rc2 != rc || r2.status != r->status || r2.reason != r->reason ||
        r2.has_signer != r->has_signer ||
        memcmp(r2.thumb_sha256, r->thumb_sha256, sizeof(r->thumb_sha256)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sig_result r;
    ac_options opt = {0};
    uint8_t *owned = NULL;
    const uint8_t *buf = data;
    size_t len = size;
    if (template_pe == NULL)
        build_template();
    if (size > 1 << 20)
        return 0;
    if (size < 2 || data[0] != 'M' || data[1] != 'Z') {
        owned = wrap(data, size, &len);
        buf = owned;
    }
    opt.trust_pem = getenv("TMI_FUZZ_TRUST");
    opt.no_catalog = 1;
    int rc = authenticode_check("fuzz.exe", buf, len, &opt, &r);
    if (rc != TMI_OK && rc != TMI_EFORMAT)
        abort();
    check_with_handle("fuzz.exe", buf, len, &opt, rc, &r);
    if ((r.status == SIG_INVALID) != (r.reason != SIG_REASON_NONE))
        abort();
    if (r.status == SIG_VALID &&
        (!r.has_digest || memcmp(r.digest, r.signed_digest, sig_digest_size(r.digest_alg)) != 0))
        abort();
    if (!clean_text(r.detail, sizeof(r.detail)) || !clean_text(r.signer_o, sizeof(r.signer_o)) ||
        !clean_text(r.signer_cn, sizeof(r.signer_cn)) ||
        !clean_text(r.signer_dn, sizeof(r.signer_dn)) ||
        !clean_text(r.issuer_dn, sizeof(r.issuer_dn)) || !clean_text(r.root_dn, sizeof(r.root_dn)))
        abort();
    cJSON *j = authenticode_to_json(&r);
    if (j == NULL)
        abort();
    cJSON_Delete(j);
    free(owned);
    return 0;
}

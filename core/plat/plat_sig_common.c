/*
 * plat_sig_common.c - the parts of the signature backends that are the same
 * on every platform: names of algorithms and reasons, sig_fail, and the
 * helpers of plat_sig_int.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "plat_sig.h"
#include "plat_sig_int.h"

size_t sig_digest_size(sig_digest_alg alg)
{
    switch (alg) {
    case SIG_ALG_MD5:
        return 16;
    case SIG_ALG_SHA1:
        return 20;
    case SIG_ALG_SHA256:
        return 32;
    case SIG_ALG_SHA384:
        return 48;
    case SIG_ALG_SHA512:
        return 64;
    default:
        return 0;
    }
}

const char *sig_digest_name(sig_digest_alg alg)
{
    switch (alg) {
    case SIG_ALG_MD5:
        return "md5";
    case SIG_ALG_SHA1:
        return "sha1";
    case SIG_ALG_SHA256:
        return "sha256";
    case SIG_ALG_SHA384:
        return "sha384";
    case SIG_ALG_SHA512:
        return "sha512";
    default:
        return NULL;
    }
}

const char *sig_reason_name(sig_reason r)
{
    switch (r) {
    case SIG_REASON_MALFORMED:
        return "malformed";
    case SIG_REASON_DIGEST_MISMATCH:
        return "digest_mismatch";
    case SIG_REASON_BAD_SIGNATURE:
        return "bad_signature";
    case SIG_REASON_UNTRUSTED_ROOT:
        return "untrusted_root";
    case SIG_REASON_EXPIRED:
        return "expired";
    case SIG_REASON_WRONG_USAGE:
        return "wrong_key_usage";
    case SIG_REASON_BAD_TIMESTAMP:
        return "bad_timestamp";
    case SIG_REASON_UNSUPPORTED:
        return "unsupported_algorithm";
    case SIG_REASON_REVOKED:
        return "revoked";
    case SIG_REASON_BAD_CHAIN:
        return "bad_chain";
    default:
        return NULL;
    }
}

void sig_fail(sig_result *r, sig_reason reason, const char *fmt, ...)
{
    char buf[SIG_DETAIL_MAX];
    va_list ap;
    if (r->status == SIG_INVALID && r->reason != SIG_REASON_NONE)
        return;
    r->status = SIG_INVALID;
    r->reason = reason;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sig_text_copy(r->detail, sizeof(r->detail), buf, strlen(buf));
}

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when it is not
 * one (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp, min;
    size_t len;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/*
 * The safe form of src[0..len) appended at dst[*o..cap), escaping the RFC
 * 4514 specials when escape is set. Returns 0 (and writes nothing more)
 * when all of it does not fit and whole is set; otherwise cuts at a
 * character boundary. dst stays NUL-terminated.
 */
static int put_text(char *dst, size_t cap, size_t *o, const char *src, size_t len, int escape,
                    int whole)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    const unsigned char *s = (const unsigned char *)src;
    size_t start = *o;
    size_t i = 0;
    while (i < len) {
        char tmp[5];
        size_t n = utf8_seq(s + i, len - i);
        const char *out = (const char *)s + i;
        size_t outlen = n;
        if (n == 0 || s[i] < 0x20 || s[i] == 0x7F) {
            out = replacement;
            outlen = 3;
            n = n == 0 ? 1 : n;
        } else if (escape && n == 1 && strchr(",+\"\\<>;", s[i]) != NULL) {
            tmp[0] = '\\';
            tmp[1] = (char)s[i];
            out = tmp;
            outlen = 2;
        }
        if (outlen >= cap - *o) {
            if (whole) {
                *o = start;
                dst[start] = '\0';
                return 0;
            }
            break;
        }
        memcpy(dst + *o, out, outlen);
        *o += outlen;
        i += n;
    }
    dst[*o] = '\0';
    return 1;
}

void sig_text_copy(char *dst, size_t cap, const char *src, size_t len)
{
    size_t o = 0;
    dst[0] = '\0';
    put_text(dst, cap, &o, src, len, 0, 0);
}

static const struct {
    const char *oid;
    const char *name;
} dn_names[] = {
    {"2.5.4.3", "CN"},
    {"2.5.4.10", "O"},
    {"2.5.4.11", "OU"},
    {"2.5.4.6", "C"},
    {"2.5.4.7", "L"},
    {"2.5.4.8", "ST"},
    {"2.5.4.9", "STREET"},
    {"2.5.4.5", "SERIALNUMBER"},
    {"2.5.4.17", "PostalCode"},
    {"1.2.840.113549.1.9.1", "E"},
    {"0.9.2342.19200300.100.1.25", "DC"},
    {"1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"},
    {"2.5.4.15", "businessCategory"},
};

void sig_dn_append(char *dn, size_t cap, const char *oid, const char *value, size_t len,
                   int next_rdn)
{
    size_t o = strlen(dn);
    size_t start = o;
    const char *key = NULL;
    for (size_t i = 0; i < sizeof(dn_names) / sizeof(dn_names[0]); i++) {
        if (strcmp(dn_names[i].oid, oid) == 0)
            key = dn_names[i].name;
    }
    if (key == NULL)
        key = oid;
    const char *sep = o == 0 ? "" : next_rdn ? ", " : "+";
    if (put_text(dn, cap, &o, sep, strlen(sep), 0, 1) &&
        put_text(dn, cap, &o, key, strlen(key), 1, 1) && put_text(dn, cap, &o, "=", 1, 0, 1) &&
        put_text(dn, cap, &o, value, len, 1, 1))
        return;
    dn[start] = '\0';
}

int sig_thumbprints(const uint8_t *der, size_t len, sig_result *r)
{
    plat_digest_ctx *ctx = NULL;
    int rc = plat_digest_init(&ctx, SIG_ALG_SHA1);
    if (rc == TMI_OK)
        rc = plat_digest_update(ctx, der, len);
    if (rc == TMI_OK) {
        rc = plat_digest_final(ctx, r->thumb_sha1);
        ctx = NULL;
    }
    plat_digest_free(ctx);
    if (rc != TMI_OK)
        return rc;
    rc = plat_digest_init(&ctx, SIG_ALG_SHA256);
    if (rc == TMI_OK)
        rc = plat_digest_update(ctx, der, len);
    if (rc == TMI_OK)
        return plat_digest_final(ctx, r->thumb_sha256);
    plat_digest_free(ctx);
    return rc;
}

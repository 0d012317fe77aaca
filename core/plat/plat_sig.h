/*
 * plat_sig.h - the signature backends: message digests and the verification
 * of an Authenticode PKCS#7 SignedData (the trust decision, the signer, the
 * timestamp). Backends: plat_sig_posix.c (OpenSSL's libcrypto) and
 * plat_sig_win32.c (WinVerifyTrust and CryptoAPI), chosen by CMake.
 *
 * The portable half - the certificate table, the SpcIndirectDataContent,
 * the image digest, the JSON form - is core/authenticode.h, which fills the
 * sig_result below with the backends' help. The result type lives here
 * because the backends fill most of it.
 *
 * Every string in a sig_result is NUL-terminated, valid UTF-8 without
 * control characters (a certificate's bytes are untrusted: anything else is
 * replaced by U+FFFD) and cut at a character boundary when too long.
 */
#ifndef TMI_PLAT_SIG_H
#define TMI_PLAT_SIG_H

#include <stddef.h>
#include <stdint.h>

/* ---- message digests ---- */

typedef enum sig_digest_alg {
    SIG_ALG_NONE = 0,
    SIG_ALG_MD5, /* recognised in signatures, never computed: refused as weak */
    SIG_ALG_SHA1,
    SIG_ALG_SHA256,
    SIG_ALG_SHA384,
    SIG_ALG_SHA512,
} sig_digest_alg;

#define SIG_DIGEST_MAX 64 /* bytes of the longest digest (SHA-512) */

/* Digest size in bytes (0 for SIG_ALG_NONE), and the lower-case name
 * ("sha256"; NULL for SIG_ALG_NONE). */
size_t sig_digest_size(sig_digest_alg alg);
const char *sig_digest_name(sig_digest_alg alg);

/* Incremental digest: SHA-1, SHA-256, SHA-384, SHA-512 (TMI_ENOTSUP for
 * MD5 and NONE). The context is heap-allocated by init; final writes
 * sig_digest_size(alg) bytes and frees it; free releases it on error paths
 * (NULL is fine). TMI_EIO when the crypto library fails. */
typedef struct plat_digest_ctx plat_digest_ctx;
int plat_digest_init(plat_digest_ctx **ctx, sig_digest_alg alg);
int plat_digest_update(plat_digest_ctx *ctx, const void *data, size_t len);
int plat_digest_final(plat_digest_ctx *ctx, uint8_t *out);
void plat_digest_free(plat_digest_ctx *ctx);

/* ---- the result ---- */

typedef enum sig_status {
    SIG_UNSIGNED = 0, /* no embedded signature and no catalog entry */
    SIG_VALID,        /* digest, signature, chain, usage and time all check */
    SIG_INVALID,      /* a signature is there but fails: see reason */
} sig_status;

/* Why a signature is invalid. The JSON names are sig_reason_name(). */
typedef enum sig_reason {
    SIG_REASON_NONE = 0,
    SIG_REASON_MALFORMED,       /* "malformed": certificate table or PKCS#7 broken */
    SIG_REASON_DIGEST_MISMATCH, /* "digest_mismatch": the file changed after signing */
    SIG_REASON_BAD_SIGNATURE,   /* "bad_signature": the signer's signature fails */
    SIG_REASON_UNTRUSTED_ROOT,  /* "untrusted_root": the chain ends outside the trust store */
    SIG_REASON_EXPIRED,         /* "expired": a certificate of the chain is not valid at the
                                   signing time (no trusted timestamp: now) */
    SIG_REASON_WRONG_USAGE,     /* "wrong_key_usage": no code-signing EKU / key usage */
    SIG_REASON_BAD_TIMESTAMP,   /* "bad_timestamp": a timestamp is there but fails */
    SIG_REASON_UNSUPPORTED,     /* "unsupported_algorithm": MD5 or an unknown digest */
    SIG_REASON_REVOKED,         /* "revoked": a certificate is revoked (Windows, from cache) */
    SIG_REASON_BAD_CHAIN,       /* "bad_chain": another chain fault (a CA's signature,
                                   constraints, an explicitly distrusted certificate) */
} sig_reason;

typedef enum sig_source {
    SIG_SOURCE_NONE = 0,
    SIG_SOURCE_EMBEDDED, /* the file's own certificate table */
    SIG_SOURCE_CATALOG,  /* a system catalog (.cat) that lists the file's digest (Windows) */
} sig_source;

typedef enum sig_time_source {
    SIG_TIME_NONE = 0,
    SIG_TIME_COUNTERSIGNATURE, /* PKCS#9 countersignature (1.2.840.113549.1.9.6) */
    SIG_TIME_RFC3161,          /* RFC 3161 token (1.3.6.1.4.1.311.3.3.1) */
} sig_time_source;

#define SIG_TEXT_MAX   256 /* a name attribute (O, CN) */
#define SIG_DN_MAX     512 /* a distinguished name, "CN=..., O=..., C=..." */
#define SIG_DETAIL_MAX 512

typedef struct sig_result {
    sig_status status;
    sig_reason reason;              /* SIG_REASON_NONE unless status is SIG_INVALID */
    char detail[SIG_DETAIL_MAX];    /* one sentence on the reason; "" unless invalid */
    sig_source source;              /* where the decision came from */
    sig_digest_alg digest_alg;      /* the signature's digest algorithm */
    uint8_t digest[SIG_DIGEST_MAX]; /* the digest recomputed from the file */
    int has_digest;
    int digest_cached;                     /* digest is an earlier check's of the same bytes
                                              (ac_options.known_digest), not recomputed */
    uint8_t signed_digest[SIG_DIGEST_MAX]; /* the digest the signature holds */
    int has_signed_digest;
    int has_signer;                /* the fields below describe the leaf (signing) certificate */
    char signer_o[SIG_TEXT_MAX];   /* subject O, "" when absent */
    char signer_cn[SIG_TEXT_MAX];  /* subject CN, "" when absent */
    char signer_dn[SIG_DN_MAX];    /* the whole subject */
    char issuer_dn[SIG_DN_MAX];    /* the leaf's issuer */
    uint8_t thumb_sha1[20];        /* SHA-1 of the certificate's DER */
    uint8_t thumb_sha256[32];      /* SHA-256 of the certificate's DER */
    int64_t not_before, not_after; /* validity, seconds since the Unix epoch */
    char root_dn[SIG_DN_MAX];      /* the chain's root: the trusted anchor when valid,
                                      the missing or untrusted one for untrusted_root;
                                      "" when unknown */
    int has_signing_time;          /* set only from a verified timestamp */
    int64_t signing_time;          /* seconds since the Unix epoch */
    sig_time_source time_source;
    int valid_by_timestamp; /* valid only through the timestamp: a certificate
                               of the chain has expired since (the 2015 files
                               under a CA that expired in 2020) */
} sig_result;

/* "malformed", "digest_mismatch", ...; NULL for SIG_REASON_NONE. */
const char *sig_reason_name(sig_reason r);

/* Mark r invalid with reason and a detail sentence (printf-style, cut to
 * SIG_DETAIL_MAX). A reason already set is kept: the first fault found wins. */
void sig_fail(sig_result *r, sig_reason reason, const char *fmt, ...)
#if defined(__MINGW32__)
    __attribute__((format(gnu_printf, 3, 4)));
#elif defined(__GNUC__)
    __attribute__((format(printf, 3, 4)));
#else
    ;
#endif

/* ---- verification ---- */

/*
 * A trust store loaded once for many verifications (a scan checks up to
 * dozens of files; the system's bundle takes milliseconds to parse). POSIX:
 * the roots of trust_pem, or the system's when NULL. Windows: the system
 * decides, so trust_pem must be NULL (else TMI_ENOTSUP) and *out is NULL.
 * Errors as plat_sig_trust_check. The handle also keeps the certificates
 * of the signatures it has checked, decoded (at most 32: the files of a set
 * share their chain). One handle serves one thread at a time; free with
 * plat_sig_trust_free (NULL is fine).
 */
typedef struct plat_sig_trust plat_sig_trust;
int plat_sig_trust_open(const char *trust_pem, plat_sig_trust **out);
void plat_sig_trust_free(plat_sig_trust *t);

typedef struct plat_sig_request {
    const char *path;       /* the file (the Windows backend opens it by name) */
    const uint8_t *pkcs7;   /* the embedded PKCS#7 SignedData (DER), or NULL */
    size_t pkcs7_len;       /* its length (the WIN_CERTIFICATE's bCertificate) */
    const uint8_t *content; /* the SpcIndirectDataContent TLV inside pkcs7 as the */
    size_t content_len;     /* portable parser found it (the bytes the signer signed) */
    const char *trust_pem;  /* PEM bundle of trusted roots, NULL: the system store */
    int64_t now;            /* verification time, seconds since the Unix epoch */
    plat_sig_trust *trust;  /* a store loaded before (then trust_pem is not read;
                               it also keeps the certificates it has decoded), or
                               NULL: load trust_pem for this call */
} plat_sig_request;

/*
 * Verify the embedded signature of req->pkcs7 (which must be non-NULL): the
 * signer's signature over the content, the timestamp when there is one, the
 * chain to a trusted root at the signing time (the timestamp's, else
 * req->now), the code-signing usage; fill the signer fields of *res.
 *
 * The image digest is the caller's (core/authenticode.c compares it before
 * this is called); the Windows backend, whose decision is WinVerifyTrust's,
 * checks it again on the file at req->path.
 *
 * Faults are recorded with sig_fail() only (the first reason stays, and an
 * invalid result is never made valid again); the caller marks a result
 * without a fault valid. Returns TMI_OK with the verdict so recorded;
 * TMI_ENOENT / TMI_EACCES / TMI_EIO when req->trust_pem cannot be read,
 * TMI_EFORMAT when it holds no certificate, TMI_ENOTSUP when the platform
 * cannot use a trust file (Windows: the system store decides), TMI_ENOMEM.
 * After an error the caller discards *res.
 */
int plat_sig_verify(const plat_sig_request *req, sig_result *res);

/*
 * Check that trust_pem can serve as the trust store before any file is
 * read: TMI_OK, or the error plat_sig_verify would give for it (TMI_ENOENT,
 * TMI_EACCES, TMI_EIO, TMI_EFORMAT; TMI_ENOTSUP on Windows, where the
 * system store decides). NULL (the system store) is TMI_OK.
 */
int plat_sig_trust_check(const char *trust_pem);

/*
 * Look the file at req->path up in the system's catalogs (Windows:
 * CryptCATAdmin*, SHA-256 then SHA-1 catalogs) and, when a catalog lists
 * it, let WinVerifyTrust decide on that catalog's signature. Returns TMI_OK
 * with res->source = SIG_SOURCE_CATALOG and a verdict; TMI_ENOENT when no
 * catalog lists the file (res unchanged); TMI_ENOTSUP on POSIX, which has no
 * catalogs.
 */
int plat_sig_catalog(const plat_sig_request *req, sig_result *res);

/* 1 when plat_sig_catalog can find anything (Windows): the check of an
 * unsigned file then hashes it too. 0 on POSIX. */
int plat_sig_has_catalogs(void);

#endif

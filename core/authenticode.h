/*
 * authenticode.h - the Authenticode signature of a PE file: is it signed,
 * by whom, and does the signature still hold?
 *
 * The portable half lives here: the certificate table (data directory 4,
 * WIN_CERTIFICATE entries), the SpcIndirectDataContent inside the PKCS#7
 * SignedData (digest algorithm and signed digest), the Authenticode image
 * digest recomputed from the file, and the JSON form of the result. The
 * cryptographic half - the signer's signature, the timestamp, the chain to
 * a trusted root, the catalogs - is the platform backend's (plat_sig.h):
 * OpenSSL on POSIX, WinVerifyTrust and CryptoAPI on Windows.
 *
 * Input is untrusted. Bounds: the file is the caller's buffer (read with the
 * caller's size cap); the certificate table is at most AC_CERT_TABLE_MAX
 * bytes and AC_MAX_ENTRIES entries; at most AC_MAX_SECTIONS sections; the
 * bytes hashed at most twice the file. The DER walk follows a fixed path
 * (ContentInfo -> SignedData -> ContentInfo -> SpcIndirectDataContent ->
 * DigestInfo), never recursing on the input's nesting; OpenSSL's own ASN.1
 * decoder (backend) stops at its fixed nesting limit of 30.
 *
 * The image digest follows the Authenticode specification: the headers up
 * to SizeOfHeaders without the CheckSum field and the certificate-table
 * directory entry, then each section's raw data in PointerToRawData order,
 * then what follows the last section up to the certificate table. For the
 * usual layout (sections back to back) that is every byte of the file
 * outside those three places, which is what osslsigncode and wine hash; for
 * a file with gaps between its sections (which the specification leaves
 * unhashed) a signed digest equal to the every-byte digest is accepted too.
 * The certificate table must end the file (as Windows requires since
 * MS12-024), and the padding after the PKCS#7 blob in its entry must be
 * under 8 zero bytes (MS13-098): anything else is malformed.
 */
#ifndef TMI_AUTHENTICODE_H
#define TMI_AUTHENTICODE_H

#include <stddef.h>
#include <stdint.h>

#include "plat_sig.h"

#define AC_CERT_TABLE_MAX (1024 * 1024) /* bytes in the certificate table */
#define AC_MAX_ENTRIES    16            /* WIN_CERTIFICATE entries */
#define AC_MAX_SECTIONS   96            /* sections (the Windows loader's own limit) */

typedef struct ac_options {
    const char *trust_pem; /* PEM bundle of trusted roots; NULL: the system store.
                              Windows uses the system store only (TMI_ENOTSUP). */
    int64_t now;           /* verification time, seconds since the Unix epoch; 0: now */
    int no_catalog;        /* 1: do not look in the system catalogs (Windows) */
    plat_sig_trust *trust; /* trust_pem loaded once (plat_sig_trust_open) for
                                    many checks, or NULL: loaded by each check */
    /* The image digest an earlier check reported (sig_result.digest) for
     * these very bytes - the caller vouches for that, e.g. by their SHA-256 -
     * under algorithm known_alg; NULL: the digest is computed. Used only when
     * known_alg is the signature's algorithm; the result says so
     * (digest_cached). */
    const uint8_t *known_digest;
    sig_digest_alg known_alg;
} ac_options;

/* The embedded signature as the certificate table holds it (pointers into
 * the caller's buffer). */
typedef struct ac_embedded {
    size_t table_off, table_len;    /* the certificate table */
    unsigned entries;               /* WIN_CERTIFICATE entries in it */
    const uint8_t *pkcs7;           /* the first PKCS#7 entry's DER, NULL if none */
    size_t pkcs7_len;               /* DER length (without the entry's zero padding) */
    const uint8_t *content;         /* the SpcIndirectDataContent TLV */
    size_t content_len;             /* its length */
    sig_digest_alg alg;             /* its DigestInfo's algorithm */
    uint8_t digest[SIG_DIGEST_MAX]; /* and digest */
} ac_embedded;

/*
 * Find and parse the embedded signature of the PE image buf[0..len).
 * Returns:
 *   TMI_OK       - *found = 1 and *emb filled, or *found = 0 (no certificate
 *                  table: unsigned);
 *   TMI_EFORMAT  - not a PE image (*error is pe_headers_read's message);
 *   TMI_EINVAL   - a certificate table that cannot be trusted: *error says
 *                  why in a short static sentence, *reason is
 *                  SIG_REASON_MALFORMED or SIG_REASON_UNSUPPORTED (an MD5 or
 *                  unknown digest algorithm).
 * Never allocates.
 */
int ac_parse(const uint8_t *buf, size_t len, ac_embedded *emb, int *found, sig_reason *reason,
             const char **error);

/*
 * The Authenticode digest of buf[0..len) with alg (SHA-1/256/384/512) into
 * out (sig_digest_size(alg) bytes). emb gives the certificate table to leave
 * out (NULL: the file has none, hashed to its end). With every_byte = 0 the
 * specification's section walk, with 1 the every-byte form (see the file
 * comment). TMI_EFORMAT for headers whose ranges do not fit the file (a
 * section past the certificate table or the end, more than AC_MAX_SECTIONS
 * sections, more than twice the file to hash), TMI_ENOTSUP for another alg,
 * TMI_EIO when hashing fails.
 */
int ac_image_digest(const uint8_t *buf, size_t len, const ac_embedded *emb, sig_digest_alg alg,
                    int every_byte, uint8_t *out);

/*
 * Check the signature of the PE file path whose bytes are buf[0..len) (read
 * by the caller with its file-size cap). *res gets the verdict:
 * SIG_UNSIGNED, SIG_VALID, or SIG_INVALID with a reason and detail.
 * Returns TMI_OK whenever there is a verdict (an invalid signature is a
 * verdict, not an error); TMI_EFORMAT when buf is not a PE image (*res says
 * unsigned); a trust-store error of plat_sig_verify (TMI_ENOENT, TMI_EIO,
 * TMI_EFORMAT for a trust file without certificates, TMI_ENOTSUP) or
 * TMI_ENOMEM, with *res reset to unsigned.
 */
int authenticode_check(const char *path, const uint8_t *buf, size_t len, const ac_options *opt,
                       sig_result *res);

/*
 * authenticode_check in two steps, for a caller that reuses the file's
 * buffer before the second: authenticode_begin does what needs the bytes
 * (the certificate table parsed, the image digest recomputed and compared,
 * the PKCS#7 blob copied out), authenticode_end the rest (the signature and
 * the chain, from the copy; or the catalogs, which read the file at path).
 *
 * authenticode_begin returns what authenticode_check would (TMI_EFORMAT,
 * TMI_ENOMEM) or TMI_OK with either *out NULL, the verdict being final in
 * *res (unsigned with no_catalog, malformed), or *out set: then *res holds
 * the digest half of the verdict, and authenticode_end(*out, ...) must
 * follow (it frees what begin made). opt->trust is
 * not used by begin, so begin may run on one thread and end on another.
 * authenticode_end frees p and returns what authenticode_check would.
 */
typedef struct ac_pending ac_pending;
int authenticode_begin(const uint8_t *buf, size_t len, const ac_options *opt, sig_result *res,
                       ac_pending **out);
int authenticode_end(ac_pending *p, const char *path, const ac_options *opt, sig_result *res);

struct cJSON;

/*
 * The JSON form of res (the "signature" object of inspect and, later, of
 * every scanned file): {status, reason, detail, source, digest_algorithm,
 * digest, signed_digest, signer: {organization, common_name, subject,
 * issuer, thumbprint_sha1, thumbprint_sha256, not_before, not_after} | null,
 * root, signing_time, timestamp, valid_by_timestamp, digest_cached (booleans)}. Absent
 * values are null; times are RFC 3339 UTC (null outside 1970..2261, which a
 * certificate may name); digests and thumbprints lower-case hex. Caller
 * frees with cJSON_Delete(); NULL on no memory.
 */
struct cJSON *authenticode_to_json(const sig_result *res);

#endif

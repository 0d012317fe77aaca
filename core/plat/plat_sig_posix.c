/*
 * plat_sig_posix.c - the signature backend on POSIX: OpenSSL's libcrypto.
 *
 * plat_sig_verify() decodes the PKCS#7 SignedData a second time (with
 * d2i_PKCS7) and requires the SpcIndirectDataContent it finds to be the very
 * bytes the portable parser found, so that the digest compared in
 * authenticode.c is the one whose signature is checked here. Then, in this
 * order, the first fault deciding the reason:
 *   1. one signer, whose certificate is in the signature        (malformed)
 *   2. its signature over the content (Authenticode hashes the
 *      SEQUENCE's content octets, not its tag and length)       (bad_signature)
 *   3. a timestamp, when there is one: an RFC 3161 token
 *      (1.3.6.1.4.1.311.3.3.1, checked with OpenSSL's TS_* over
 *      the signer's encrypted digest, its TSA chain at the
 *      token's time) or else a PKCS#9 countersignature (its
 *      messageDigest over the encrypted digest, its signature,
 *      its signer's timeStamping usage and chain at its
 *      signingTime)                                             (bad_timestamp)
 *   4. the chain from the signer to a trusted root at the
 *      timestamp's time, else at req->now                        (untrusted_root,
 *                                                                 expired, bad_chain)
 *   5. codeSigning in the signer's extended key usage when it
 *      has one (and in every CA's that has one), digitalSignature
 *      in its key usage when it has one                         (wrong_key_usage)
 * Certificate revocation is not checked (no CRLs, no network). Only the
 * primary signature is read: nested signatures (1.3.6.1.4.1.311.2.4.1) do not
 * take part, as in WinVerifyTrust's default; page hashes are not checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "plat_sig.h"
#include "plat_sig_int.h"

#define OID_SPC_INDIRECT "1.3.6.1.4.1.311.2.1.4"
#define OID_RFC3161_TS   "1.3.6.1.4.1.311.3.3.1"

/* ---- digests ---- */

struct plat_digest_ctx {
    EVP_MD_CTX *md;
};

static const EVP_MD *evp_md(sig_digest_alg alg)
{
    switch (alg) {
    case SIG_ALG_SHA1:
        return EVP_sha1();
    case SIG_ALG_SHA256:
        return EVP_sha256();
    case SIG_ALG_SHA384:
        return EVP_sha384();
    case SIG_ALG_SHA512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

int plat_digest_init(plat_digest_ctx **ctx, sig_digest_alg alg)
{
    const EVP_MD *md = evp_md(alg);
    *ctx = NULL;
    if (md == NULL)
        return TMI_ENOTSUP;
    plat_digest_ctx *c = malloc(sizeof(*c));
    if (c == NULL)
        return TMI_ENOMEM;
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, md, NULL) != 1) {
        EVP_MD_CTX_free(c->md);
        free(c);
        return TMI_EIO;
    }
    *ctx = c;
    return TMI_OK;
}

int plat_digest_update(plat_digest_ctx *ctx, const void *data, size_t len)
{
    return EVP_DigestUpdate(ctx->md, data, len) == 1 ? TMI_OK : TMI_EIO;
}

int plat_digest_final(plat_digest_ctx *ctx, uint8_t *out)
{
    unsigned n = 0;
    int ok = EVP_DigestFinal_ex(ctx->md, out, &n) == 1;
    plat_digest_free(ctx);
    return ok ? TMI_OK : TMI_EIO;
}

void plat_digest_free(plat_digest_ctx *ctx)
{
    if (ctx == NULL)
        return;
    EVP_MD_CTX_free(ctx->md);
    free(ctx);
}

/* ---- names, times, the trust store ---- */

/* Seconds since the Unix epoch of an ASN1_TIME; 0 when it cannot be read. */
static int64_t asn1_epoch(const ASN1_TIME *t)
{
    int days = 0, secs = 0;
    int64_t out = 0;
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    if (epoch != NULL && t != NULL && ASN1_TIME_diff(&days, &secs, epoch, t) == 1)
        out = (int64_t)days * 86400 + secs;
    ASN1_TIME_free(epoch);
    return out;
}

/* The name as "CN=..., O=..., C=..." (most specific first) into dn[cap]. */
static void name_dn(const X509_NAME *name, char *dn, size_t cap)
{
    int n = X509_NAME_entry_count(name);
    int prev_set = -1;
    dn[0] = '\0';
    for (int i = n - 1; i >= 0; i--) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        char oid[80];
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 1) > 0 && len >= 0)
            sig_dn_append(dn, cap, oid, (const char *)utf8, (size_t)len,
                          X509_NAME_ENTRY_set(e) != prev_set);
        prev_set = X509_NAME_ENTRY_set(e);
        OPENSSL_free(utf8);
    }
}

/* The first attribute nid of name as safe UTF-8 into out[cap] ("" if none). */
static void name_attr(const X509_NAME *name, int nid, char *out, size_t cap)
{
    unsigned char *utf8 = NULL;
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    out[0] = '\0';
    if (i < 0)
        return;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (len >= 0)
        sig_text_copy(out, cap, (const char *)utf8, (size_t)len);
    OPENSSL_free(utf8);
}

/* The leaf's fields of res. */
static void describe_signer(X509 *leaf, sig_result *res)
{
    unsigned char *der = NULL;
    int len = i2d_X509(leaf, &der);
    const X509_NAME *subject = X509_get_subject_name(leaf);
    name_attr(subject, NID_organizationName, res->signer_o, sizeof(res->signer_o));
    name_attr(subject, NID_commonName, res->signer_cn, sizeof(res->signer_cn));
    name_dn(subject, res->signer_dn, sizeof(res->signer_dn));
    name_dn(X509_get_issuer_name(leaf), res->issuer_dn, sizeof(res->issuer_dn));
    res->not_before = asn1_epoch(X509_get0_notBefore(leaf));
    res->not_after = asn1_epoch(X509_get0_notAfter(leaf));
    if (len > 0 && sig_thumbprints(der, (size_t)len, res) == TMI_OK)
        res->has_signer = 1;
    OPENSSL_free(der);
}

/*
 * A new store with the roots of trust_pem, or the system's (its default
 * paths, read lazily) when trust_pem is NULL. TMI_ENOENT / TMI_EACCES /
 * TMI_EIO when the file cannot be read, TMI_EFORMAT when it holds no
 * certificate, TMI_ENOMEM.
 */
static int load_store(const char *trust_pem, X509_STORE **out)
{
    X509_STORE *store = X509_STORE_new();
    *out = NULL;
    if (store == NULL)
        return TMI_ENOMEM;
    if (trust_pem == NULL) {
        if (X509_STORE_set_default_paths(store) != 1) {
            X509_STORE_free(store);
            return TMI_EIO;
        }
        *out = store;
        return TMI_OK;
    }
    FILE *f = fopen(trust_pem, "rb");
    if (f == NULL) {
        int e = errno;
        X509_STORE_free(store);
        return e == ENOENT ? TMI_ENOENT : e == EACCES ? TMI_EACCES : TMI_EIO;
    }
    fclose(f);
    if (X509_STORE_load_file(store, trust_pem) != 1) {
        X509_STORE_free(store);
        return TMI_EFORMAT;
    }
    *out = store;
    return TMI_OK;
}

#define CERT_CACHE_MAX 32 /* distinct certificates kept decoded per handle */

struct plat_sig_trust {
    X509_STORE *store;
    int system; /* the system's roots (default paths) */
    /* the certificates of the signatures checked so far, decoded once: the
     * files of a set share their chain, and OpenSSL 3 takes far longer to
     * decode a certificate's public key than to check a signature */
    struct {
        uint8_t sha256[32]; /* of the certificate's DER */
        X509 *x;
    } certs[CERT_CACHE_MAX];
    size_t n_certs;
};

int plat_sig_trust_open(const char *trust_pem, plat_sig_trust **out)
{
    plat_sig_trust *t = calloc(1, sizeof(*t));
    int rc;
    *out = NULL;
    if (t == NULL)
        return TMI_ENOMEM;
    rc = load_store(trust_pem, &t->store);
    ERR_clear_error();
    if (rc != TMI_OK) {
        free(t);
        return rc;
    }
    t->system = trust_pem == NULL;
    *out = t;
    return TMI_OK;
}

void plat_sig_trust_free(plat_sig_trust *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_certs; i++)
        X509_free(t->certs[i].x);
    X509_STORE_free(t->store);
    free(t);
}

/* ---- the PKCS#7 decoded with the handle's certificates ---- */

/* One DER TLV at *pos within [*pos, end): single-byte tag, definite length.
 * 1 with tag, the content's start and end, and *pos past it; 0 otherwise. */
static int der_tlv(const uint8_t **pos, const uint8_t *end, int *tag, const uint8_t **c0,
                   const uint8_t **c1)
{
    const uint8_t *p = *pos;
    size_t n = 0;
    if (end - p < 2)
        return 0;
    *tag = p[0];
    if ((p[1] & 0x80) == 0) {
        n = p[1];
        p += 2;
    } else {
        size_t k = p[1] & 0x7f;
        if (k == 0 || k > 4 || (size_t)(end - p) < 2 + k)
            return 0;
        for (size_t i = 0; i < k; i++)
            n = (n << 8) | p[2 + i];
        p += 2 + k;
    }
    if ((size_t)(end - p) < n)
        return 0;
    *c0 = p;
    *c1 = p + n;
    *pos = p + n;
    return 1;
}

/* A DER header for tag and content length n at out; its length. */
static size_t der_header(uint8_t *out, int tag, size_t n)
{
    size_t k = 0;
    out[0] = (uint8_t)tag;
    if (n < 0x80) {
        out[1] = (uint8_t)n;
        return 2;
    }
    for (size_t v = n; v > 0; v >>= 8)
        k++;
    out[1] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        out[2 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
    return 2 + k;
}

/* The certificate with this DER, decoded once per handle (a new reference),
 * or NULL when it does not decode. */
static X509 *cached_cert(plat_sig_trust *t, const uint8_t *der, size_t len)
{
    uint8_t sha[32];
    unsigned int n = 0;
    const unsigned char *p = der;
    if (EVP_Digest(der, len, sha, &n, EVP_sha256(), NULL) != 1)
        return NULL;
    for (size_t i = 0; i < t->n_certs; i++) {
        if (memcmp(t->certs[i].sha256, sha, 32) == 0)
            return X509_up_ref(t->certs[i].x) == 1 ? t->certs[i].x : NULL;
    }
    X509 *x = len <= 0x7FFFFFFF ? d2i_X509(NULL, &p, (long)len) : NULL;
    if (x == NULL || p != der + len) {
        X509_free(x);
        return NULL;
    }
    if (t->n_certs < CERT_CACHE_MAX && X509_up_ref(x) == 1) {
        memcpy(t->certs[t->n_certs].sha256, sha, 32);
        t->certs[t->n_certs++].x = x;
    }
    return x;
}

/* The spans of a ContentInfo { OID, [0] { SignedData } } whose SignedData
 * holds a certificates [0] element: offsets of the SignedData's content and
 * of that element. 0 when the DER is anything else. */
typedef struct p7_spans {
    const uint8_t *oid0, *oid1;   /* the contentType TLV */
    const uint8_t *sd0, *sd1;     /* the SignedData's content */
    const uint8_t *cert0, *cert1; /* the certificates TLV within it */
    const uint8_t *certc0;        /* its content */
} p7_spans;

static int p7_find_certs(const uint8_t *der, size_t len, p7_spans *sp)
{
    const uint8_t *end = der + len, *p = der, *c0, *c1, *q;
    int tag;
    if (!der_tlv(&p, end, &tag, &c0, &c1) || tag != 0x30 || p != end)
        return 0;
    q = c0;
    sp->oid0 = q;
    if (!der_tlv(&q, c1, &tag, &c0, &c0) || tag != 0x06)
        return 0;
    sp->oid1 = q;
    if (!der_tlv(&q, c1, &tag, &c0, &end) || tag != 0xA0 || q != c1)
        return 0;
    q = c0;
    if (!der_tlv(&q, end, &tag, &sp->sd0, &sp->sd1) || tag != 0x30 || q != end)
        return 0;
    q = sp->sd0;
    for (int i = 0; i < 3; i++) { /* version, digestAlgorithms, contentInfo */
        if (!der_tlv(&q, sp->sd1, &tag, &c0, &c1))
            return 0;
    }
    sp->cert0 = q;
    return der_tlv(&q, sp->sd1, &tag, &sp->certc0, &sp->cert1) && tag == 0xA0;
}

/* The PKCS#7 of req decoded without its certificates, which come from the
 * handle's cache: NULL when there is no handle or the DER has another shape
 * (the caller decodes it as it is). */
static PKCS7 *decode_cached(const plat_sig_request *req)
{
    p7_spans sp;
    uint8_t *buf;
    if (req->trust == NULL || !p7_find_certs(req->pkcs7, req->pkcs7_len, &sp))
        return NULL;
    size_t sd_len = (size_t)(sp.sd1 - sp.sd0) - (size_t)(sp.cert1 - sp.cert0);
    size_t oid_len = (size_t)(sp.oid1 - sp.oid0);
    uint8_t h_sd[8], h_ex[8], h_ci[8];
    size_t n_sd = der_header(h_sd, 0x30, sd_len);
    size_t n_ex = der_header(h_ex, 0xA0, n_sd + sd_len);
    size_t n_ci = der_header(h_ci, 0x30, oid_len + n_ex + n_sd + sd_len);
    size_t total = n_ci + oid_len + n_ex + n_sd + sd_len;
    buf = malloc(total);
    if (buf == NULL)
        return NULL;
    uint8_t *w = buf;
    memcpy(w, h_ci, n_ci), w += n_ci;
    memcpy(w, sp.oid0, oid_len), w += oid_len;
    memcpy(w, h_ex, n_ex), w += n_ex;
    memcpy(w, h_sd, n_sd), w += n_sd;
    memcpy(w, sp.sd0, (size_t)(sp.cert0 - sp.sd0)), w += sp.cert0 - sp.sd0;
    memcpy(w, sp.cert1, (size_t)(sp.sd1 - sp.cert1));
    const unsigned char *p = buf;
    PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)total);
    int ok = p7 != NULL && p == buf + total && PKCS7_type_is_signed(p7);
    free(buf);
    for (const uint8_t *q = sp.certc0; ok && q < sp.cert1;) {
        const uint8_t *x0 = q, *c0, *c1;
        int tag;
        X509 *x = NULL;
        ok = der_tlv(&q, sp.cert1, &tag, &c0, &c1) && tag == 0x30 &&
             (x = cached_cert(req->trust, x0, (size_t)(q - x0))) != NULL &&
             PKCS7_add_certificate(p7, x) == 1;
        X509_free(x); /* the PKCS#7 holds its own reference */
    }
    if (!ok) {
        PKCS7_free(p7);
        ERR_clear_error();
        return NULL;
    }
    return p7;
}

/* The store for one check: the request's loaded one (a new reference), or
 * trust_pem loaded now. */
static int request_store(const plat_sig_request *req, X509_STORE **out)
{
    if (req->trust == NULL)
        return load_store(req->trust_pem, out);
    if (X509_STORE_up_ref(req->trust->store) != 1)
        return TMI_ENOMEM;
    *out = req->trust->store;
    return TMI_OK;
}

/* A store of its own with the request's roots, for a verifier that changes
 * or takes over its store (RFC 3161): the loaded store's certificates are
 * shared, the system's certificate folder is looked up as before. */
static int private_store(const plat_sig_request *req, X509_STORE **out)
{
    X509_STORE *store;
    STACK_OF(X509_OBJECT) * objs;
    if (req->trust == NULL)
        return load_store(req->trust_pem, out);
    store = X509_STORE_new();
    if (store == NULL)
        return TMI_ENOMEM;
    objs = X509_STORE_get0_objects(req->trust->store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *c = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (c != NULL && X509_STORE_add_cert(store, c) != 1) {
            X509_STORE_free(store);
            return TMI_ENOMEM;
        }
    }
    if (req->trust->system) {
        X509_LOOKUP *dir = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
        if (dir == NULL ||
            X509_LOOKUP_add_dir(dir, X509_get_default_cert_dir(), X509_FILETYPE_PEM) != 1) {
            X509_STORE_free(store);
            return TMI_EIO;
        }
    }
    *out = store;
    return TMI_OK;
}

/* 1 when cert is its own issuer (a root). */
static int self_issued(X509 *cert)
{
    return X509_check_issued(cert, cert) == X509_V_OK;
}

/* ---- the chain ---- */

/* The reason for an X509_V_ERR_* code. */
static sig_reason chain_reason(int err)
{
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SIG_REASON_UNTRUSTED_ROOT;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SIG_REASON_EXPIRED;
    case X509_V_ERR_INVALID_PURPOSE:
        return SIG_REASON_WRONG_USAGE;
    case X509_V_ERR_CERT_REVOKED:
        return SIG_REASON_REVOKED;
    default:
        return SIG_REASON_BAD_CHAIN;
    }
}

/*
 * Explain a failed chain in res (the main signature's chain, or the
 * timestamp's when ts is set). ctx holds the partial chain.
 */
static void chain_fail(X509_STORE_CTX *ctx, int ts, int timestamped, sig_result *res)
{
    int err = X509_STORE_CTX_get_error(ctx);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    char who[SIG_DN_MAX], root[SIG_DN_MAX];
    sig_reason reason = ts ? SIG_REASON_BAD_TIMESTAMP : chain_reason(err);
    const char *prefix = ts ? "the timestamp's certificate chain: " : "";
    who[0] = root[0] = '\0';
    if (cur != NULL)
        name_dn(X509_get_subject_name(cur), who, sizeof(who));
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    if (n > 0) {
        X509 *top = sk_X509_value(chain, n - 1);
        name_dn(self_issued(top) ? X509_get_subject_name(top) : X509_get_issuer_name(top), root,
                sizeof(root));
    }
    if (!ts && reason == SIG_REASON_UNTRUSTED_ROOT)
        memcpy(res->root_dn, root, sizeof(root));
    if (chain_reason(err) == SIG_REASON_UNTRUSTED_ROOT)
        sig_fail(res, reason, "%sthe chain ends at '%s', which is not in the trust store", prefix,
                 root);
    else if (chain_reason(err) == SIG_REASON_EXPIRED && timestamped)
        sig_fail(res, reason, "%s'%s' %s at the time of the timestamp", prefix, who,
                 err == X509_V_ERR_CERT_NOT_YET_VALID ? "was not yet valid" : "had expired");
    else if (chain_reason(err) == SIG_REASON_EXPIRED)
        sig_fail(res, reason, "%s'%s' %s and the signature has no timestamp", prefix, who,
                 err == X509_V_ERR_CERT_NOT_YET_VALID ? "is not yet valid" : "has expired");
    else
        sig_fail(res, reason, "%s'%s': %s", prefix, who, X509_verify_cert_error_string(err));
}

/*
 * Build and check the chain of leaf at time t against store (extra
 * certificates from untrusted). On success the root's name goes to
 * res->root_dn (unless ts) and *built (when not NULL) gets a copy of the
 * chain, which the caller frees with sk_X509_pop_free(*built, X509_free).
 * Returns 1 when the chain holds, 0 after sig_fail.
 */
static int check_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) * untrusted, int64_t t, int ts,
                       int timestamped, sig_result *res, STACK_OF(X509) * *built)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        sig_fail(res, SIG_REASON_BAD_CHAIN, "cannot check the certificate chain");
        goto out;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)t);
    if (X509_verify_cert(ctx) != 1) {
        chain_fail(ctx, ts, timestamped, res);
        goto out;
    }
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    if (!ts)
        name_dn(X509_get_subject_name(sk_X509_value(chain, sk_X509_num(chain) - 1)), res->root_dn,
                sizeof(res->root_dn));
    if (built != NULL)
        *built = X509_STORE_CTX_get1_chain(ctx);
    ok = 1;
out:
    X509_STORE_CTX_free(ctx);
    return ok;
}

/* ---- the timestamp ---- */

/* The unauthenticated attribute oid (dotted) of si as a SEQUENCE, or NULL. */
static const ASN1_STRING *unauth_seq(PKCS7_SIGNER_INFO *si, const char *oid)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    const ASN1_STRING *out = NULL;
    int i = obj != NULL ? X509at_get_attr_by_OBJ(si->unauth_attr, obj, -1) : -1;
    if (i >= 0) {
        ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(X509at_get_attr(si->unauth_attr, i), 0);
        if (v != NULL && v->type == V_ASN1_SEQUENCE)
            out = v->value.sequence;
    }
    ASN1_OBJECT_free(obj);
    return out;
}

/* RFC 3161: the token's imprint is over the signer's encrypted digest. */
static int rfc3161_time(const ASN1_STRING *seq, PKCS7_SIGNER_INFO *si, const plat_sig_request *req,
                        sig_result *res, int64_t *t)
{
    const unsigned char *p = seq->data;
    PKCS7 *token = d2i_PKCS7(NULL, &p, seq->length);
    TS_TST_INFO *tst = token != NULL ? PKCS7_to_TS_TST_INFO(token) : NULL;
    TS_VERIFY_CTX *v = NULL;
    X509_STORE *store = NULL;
    BIO *data = NULL;
    int ok = 0;
    if (tst == NULL) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the RFC 3161 timestamp cannot be decoded");
        goto out;
    }
    *t = asn1_epoch(TS_TST_INFO_get_time(tst));
    v = TS_VERIFY_CTX_new();
    data = BIO_new_mem_buf(si->enc_digest->data, si->enc_digest->length);
    if (v == NULL || data == NULL || private_store(req, &store) != TMI_OK) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "cannot check the RFC 3161 timestamp");
        goto out;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), (time_t)*t);
    TS_VERIFY_CTX_set_flags(v, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
    TS_VERIFY_CTX_set_data(v, data); /* v owns data and store from here */
    data = NULL;
    TS_VERIFY_CTX_set_store(v, store);
    store = NULL;
    if (TS_RESP_verify_token(v, token) != 1) {
        unsigned long e = ERR_peek_last_error();
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the RFC 3161 timestamp does not verify: %s",
                 e != 0 ? ERR_reason_error_string(e) : "unknown error");
        goto out;
    }
    res->time_source = SIG_TIME_RFC3161;
    ok = 1;
out:
    BIO_free(data);
    X509_STORE_free(store);
    TS_VERIFY_CTX_free(v);
    TS_TST_INFO_free(tst);
    PKCS7_free(token);
    return ok;
}

/* The countersigner's signature and its signingTime. */
static int countersig_check(PKCS7 *p7, PKCS7_SIGNER_INFO *si, PKCS7_SIGNER_INFO *csi, X509 *tsa,
                            sig_result *res, int64_t *t)
{
    const EVP_MD *md = EVP_get_digestbyobj(csi->digest_alg->algorithm);
    BIO *mdb = md != NULL ? BIO_new(BIO_f_md()) : NULL;
    BIO *sink = BIO_new(BIO_s_null());
    int ok = 0;
    if (mdb == NULL || sink == NULL || BIO_set_md(mdb, md) != 1) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the countersignature's digest is not supported");
        goto out;
    }
    BIO_push(mdb, sink);
    sink = NULL;
    if (BIO_write(mdb, si->enc_digest->data, si->enc_digest->length) != si->enc_digest->length ||
        PKCS7_signatureVerify(mdb, p7, csi, tsa) != 1) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the countersignature does not verify");
        goto out;
    }
    ASN1_TYPE *st = PKCS7_get_signed_attribute(csi, NID_pkcs9_signingTime);
    if (st == NULL || (st->type != V_ASN1_UTCTIME && st->type != V_ASN1_GENERALIZEDTIME)) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the countersignature has no signing time");
        goto out;
    }
    *t = asn1_epoch((const ASN1_TIME *)st->value.utctime);
    ok = 1;
out:
    BIO_free_all(mdb);
    BIO_free(sink);
    return ok;
}

/* PKCS#9 countersignature: a SignerInfo over the signer's encrypted digest. */
static int countersig_time(PKCS7 *p7, PKCS7_SIGNER_INFO *si, const ASN1_STRING *seq,
                           const plat_sig_request *req, sig_result *res, int64_t *t)
{
    const unsigned char *p = seq->data;
    PKCS7_SIGNER_INFO *csi = d2i_PKCS7_SIGNER_INFO(NULL, &p, seq->length);
    X509_STORE *store = NULL;
    X509 *tsa = NULL;
    int ok = 0;
    if (csi == NULL || csi->issuer_and_serial == NULL) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the countersignature cannot be decoded");
        goto out;
    }
    tsa = X509_find_by_issuer_and_serial(p7->d.sign->cert, csi->issuer_and_serial->issuer,
                                         csi->issuer_and_serial->serial);
    if (tsa == NULL) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the countersigner's certificate is missing");
        goto out;
    }
    if (!countersig_check(p7, si, csi, tsa, res, t))
        goto out;
    if ((X509_get_extension_flags(tsa) & EXFLAG_XKUSAGE) == 0 ||
        (X509_get_extended_key_usage(tsa) & XKU_TIMESTAMP) == 0) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP,
                 "the countersigner is not a timestamping authority");
        goto out;
    }
    if (request_store(req, &store) != TMI_OK) {
        sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "cannot check the countersigner's chain");
        goto out;
    }
    if (!check_chain(store, tsa, p7->d.sign->cert, *t, 1, 1, res, NULL))
        goto out;
    res->time_source = SIG_TIME_COUNTERSIGNATURE;
    ok = 1;
out:
    X509_STORE_free(store);
    PKCS7_SIGNER_INFO_free(csi);
    return ok;
}

/*
 * The signing time from a timestamp. Returns 1 with *t set (and
 * res->has_signing_time) when one verifies, 0 when there is none, -1 after
 * sig_fail when one is there but fails.
 */
static int timestamp(PKCS7 *p7, PKCS7_SIGNER_INFO *si, const plat_sig_request *req, sig_result *res,
                     int64_t *t)
{
    const ASN1_STRING *seq = unauth_seq(si, OID_RFC3161_TS);
    int ok;
    if (seq != NULL) {
        ok = rfc3161_time(seq, si, req, res, t);
    } else {
        ASN1_TYPE *cs = PKCS7_get_attribute(si, NID_pkcs9_countersignature);
        if (cs == NULL)
            return 0;
        if (cs->type != V_ASN1_SEQUENCE) {
            sig_fail(res, SIG_REASON_BAD_TIMESTAMP, "the countersignature cannot be decoded");
            return -1;
        }
        ok = countersig_time(p7, si, cs->value.sequence, req, res, t);
    }
    if (!ok)
        return -1;
    res->has_signing_time = 1;
    res->signing_time = *t;
    return 1;
}

/* ---- usage ---- */

/* codeSigning in every extended key usage of the chain that has one;
 * digitalSignature in the leaf's key usage if it has one. */
static void check_usage(STACK_OF(X509) * chain, sig_result *res)
{
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        uint32_t flags = X509_get_extension_flags(c);
        uint32_t xku = X509_get_extended_key_usage(c);
        if ((flags & EXFLAG_XKUSAGE) && !(xku & (XKU_CODE_SIGN | XKU_ANYEKU))) {
            char who[SIG_DN_MAX];
            name_dn(X509_get_subject_name(c), who, sizeof(who));
            sig_fail(res, SIG_REASON_WRONG_USAGE,
                     "'%s' is not for code signing (its extended key usage lacks codeSigning)",
                     who);
            return;
        }
        if (i == 0 && (flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(c) & KU_DIGITAL_SIGNATURE)) {
            sig_fail(res, SIG_REASON_WRONG_USAGE,
                     "the signing certificate's key usage lacks digitalSignature");
            return;
        }
    }
}

/* ---- the signature ---- */

/* The checks of step 1; *si and *leaf on success. */
static int check_structure(PKCS7 *p7, const plat_sig_request *req, sig_result *res,
                           PKCS7_SIGNER_INFO **si, X509 **leaf)
{
    char oid[80];
    if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL || p7->d.sign->contents == NULL ||
        OBJ_obj2txt(oid, sizeof(oid), p7->d.sign->contents->type, 1) <= 0 ||
        strcmp(oid, OID_SPC_INDIRECT) != 0 || p7->d.sign->contents->d.other == NULL ||
        p7->d.sign->contents->d.other->type != V_ASN1_SEQUENCE) {
        sig_fail(res, SIG_REASON_MALFORMED, "the PKCS#7 SignedData holds no Authenticode content");
        return 0;
    }
    const ASN1_STRING *seq = p7->d.sign->contents->d.other->value.sequence;
    if ((size_t)seq->length != req->content_len ||
        memcmp(seq->data, req->content, req->content_len) != 0) {
        sig_fail(res, SIG_REASON_MALFORMED, "ambiguous SpcIndirectDataContent");
        return 0;
    }
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
    if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) != 1) {
        sig_fail(res, SIG_REASON_MALFORMED, "the signature has %d signers (Authenticode has one)",
                 sis != NULL ? sk_PKCS7_SIGNER_INFO_num(sis) : 0);
        return 0;
    }
    *si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
    *leaf = (*si)->issuer_and_serial == NULL
                ? NULL
                : X509_find_by_issuer_and_serial(p7->d.sign->cert, (*si)->issuer_and_serial->issuer,
                                                 (*si)->issuer_and_serial->serial);
    if (*leaf == NULL) {
        sig_fail(res, SIG_REASON_MALFORMED, "the signer's certificate is not in the signature");
        return 0;
    }
    return 1;
}

/*
 * Step 2: the signer's signature over the content octets of the
 * SpcIndirectDataContent (what PKCS7_verify does with PKCS7_NOVERIFY, done by
 * hand: OpenSSL 3.0's PKCS7_verify leaks its copy of a memory BIO when
 * PKCS7_dataInit fails, which a damaged digest algorithm list makes happen).
 */
static int check_signature(PKCS7 *p7, PKCS7_SIGNER_INFO *si, X509 *leaf, sig_result *res)
{
    const ASN1_STRING *seq = p7->d.sign->contents->d.other->value.sequence;
    const unsigned char *p = seq->data;
    long len = 0;
    int tag = 0, cls = 0, ok = 0;
    char sink[4096];
    if (ASN1_get_object(&p, &len, &tag, &cls, seq->length) & 0x80) {
        sig_fail(res, SIG_REASON_MALFORMED, "malformed SpcIndirectDataContent");
        return 0;
    }
    BIO *content = BIO_new_mem_buf(p, (int)(seq->length - (p - seq->data)));
    BIO *chain = content != NULL ? PKCS7_dataInit(p7, content) : NULL;
    if (chain == NULL) {
        BIO_free(content); /* PKCS7_dataInit takes it only on success */
    } else {
        while (BIO_read(chain, sink, sizeof(sink)) > 0)
            ;
        ok = PKCS7_signatureVerify(chain, p7, si, leaf) == 1;
        BIO_free_all(chain);
    }
    if (!ok)
        sig_fail(res, SIG_REASON_BAD_SIGNATURE,
                 "the signer's signature does not match the signed content");
    return ok;
}

int plat_sig_verify(const plat_sig_request *req, sig_result *res)
{
    X509_STORE *store = NULL;
    PKCS7 *p7 = NULL;
    PKCS7_SIGNER_INFO *si = NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    int64_t t = req->now;
    int rc = request_store(req, &store);
    if (rc != TMI_OK)
        return rc;
    const unsigned char *p = req->pkcs7 + req->pkcs7_len;
    p7 = decode_cached(req);
    if (p7 == NULL) {
        p = req->pkcs7;
        p7 = req->pkcs7_len <= 0x7FFFFFFF ? d2i_PKCS7(NULL, &p, (long)req->pkcs7_len) : NULL;
    }
    if (p7 == NULL || p != req->pkcs7 + req->pkcs7_len) {
        sig_fail(res, SIG_REASON_MALFORMED, "the PKCS#7 SignedData cannot be decoded");
        goto out;
    }
    if (!check_structure(p7, req, res, &si, &leaf))
        goto out;
    describe_signer(leaf, res);
    if (!check_signature(p7, si, leaf, res))
        goto out;
    int ts = timestamp(p7, si, req, res, &t);
    if (ts < 0)
        goto out;
    if (!check_chain(store, leaf, p7->d.sign->cert, t, 0, ts > 0, res, &chain))
        goto out;
    check_usage(chain, res);
    for (int i = 0; ts > 0 && i < sk_X509_num(chain); i++) {
        if (asn1_epoch(X509_get0_notAfter(sk_X509_value(chain, i))) < req->now)
            res->valid_by_timestamp = 1;
    }
out:
    sk_X509_pop_free(chain, X509_free);
    PKCS7_free(p7);
    X509_STORE_free(store);
    ERR_clear_error();
    return TMI_OK;
}

int plat_sig_trust_check(const char *trust_pem)
{
    X509_STORE *store = NULL;
    int rc = trust_pem != NULL ? load_store(trust_pem, &store) : TMI_OK;
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

int plat_sig_catalog(const plat_sig_request *req, sig_result *res)
{
    (void)req;
    (void)res;
    return TMI_ENOTSUP;
}

int plat_sig_has_catalogs(void)
{
    return 0;
}

/*
 * plat_sig_win32.c - the signature backend on Windows: the system decides.
 *
 * Trust is WinVerifyTrust's (WINTRUST_ACTION_GENERIC_VERIFY_V2, no UI): it
 * checks the digest, the signature, the timestamp and the chain against the
 * machine's own stores. It runs twice: first without revocation checking
 * (the verdict), then - only for a signature that passed - with revocation
 * from the URL cache alone (WTD_CACHE_ONLY_URL_RETRIEVAL: never the
 * network), where only a positive "revoked" counts: an offline server that
 * has no cached CRL is not failed for it.
 *
 * The signer's details come from CryptoAPI on the very PKCS#7 bytes the
 * portable parser found (CryptQueryObject, CryptMsgGetParam,
 * CertGetNameStringW, CertGetCertificateContextProperty); the chain's root
 * and the timestamp's time from WinVerifyTrust's provider data.
 *
 * A file without an embedded signature is looked up in the system catalogs
 * (CryptCATAdmin*: SHA-256 catalogs where the system has them - Windows 8
 * and later, looked up at run time so that Windows 7 still starts - then
 * SHA-1), and a catalog that lists it is verified by WinVerifyTrust
 * (WTD_CHOICE_CATALOG).
 *
 * Digests: CNG (BCrypt*). A trust file (--trust) is not supported here:
 * TMI_ENOTSUP.
 */
#include "plat_win32_int.h"

#include <bcrypt.h>
#include <mscat.h>
#include <softpub.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wincrypt.h>
#include <wintrust.h>

#include "err.h"
#include "plat_sig.h"
#include "plat_sig_int.h"

#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#endif
#define ENCODING         (X509_ASN_ENCODING | PKCS_7_ASN_ENCODING)
#define EPOCH_DIFF_100NS 116444736000000000LL
#define OID_RFC3161_TS   "1.3.6.1.4.1.311.3.3.1"
#ifndef WTD_REVOCATION_CHECK_NONE /* not in every mingw-w64 wintrust.h */
#define WTD_REVOCATION_CHECK_NONE 0x00000010
#endif

/* ---- digests (CNG) ---- */

struct plat_digest_ctx {
    BCRYPT_ALG_HANDLE alg;
    BCRYPT_HASH_HANDLE hash;
    size_t size;
};

static const wchar_t *cng_name(sig_digest_alg alg)
{
    switch (alg) {
    case SIG_ALG_SHA1:
        return BCRYPT_SHA1_ALGORITHM;
    case SIG_ALG_SHA256:
        return BCRYPT_SHA256_ALGORITHM;
    case SIG_ALG_SHA384:
        return BCRYPT_SHA384_ALGORITHM;
    case SIG_ALG_SHA512:
        return BCRYPT_SHA512_ALGORITHM;
    default:
        return NULL;
    }
}

int plat_digest_init(plat_digest_ctx **ctx, sig_digest_alg alg)
{
    const wchar_t *name = cng_name(alg);
    *ctx = NULL;
    if (name == NULL)
        return TMI_ENOTSUP;
    plat_digest_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TMI_ENOMEM;
    c->size = sig_digest_size(alg);
    if (BCryptOpenAlgorithmProvider(&c->alg, name, NULL, 0) != STATUS_SUCCESS) {
        free(c);
        return TMI_EIO;
    }
    if (BCryptCreateHash(c->alg, &c->hash, NULL, 0, NULL, 0, 0) != STATUS_SUCCESS) {
        BCryptCloseAlgorithmProvider(c->alg, 0);
        free(c);
        return TMI_EIO;
    }
    *ctx = c;
    return TMI_OK;
}

int plat_digest_update(plat_digest_ctx *ctx, const void *data, size_t len)
{
    const UCHAR *p = data;
    while (len > 0) {
        ULONG n = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        if (BCryptHashData(ctx->hash, (PUCHAR)p, n, 0) != STATUS_SUCCESS)
            return TMI_EIO;
        p += n;
        len -= n;
    }
    return TMI_OK;
}

int plat_digest_final(plat_digest_ctx *ctx, uint8_t *out)
{
    int ok = BCryptFinishHash(ctx->hash, out, (ULONG)ctx->size, 0) == STATUS_SUCCESS;
    plat_digest_free(ctx);
    return ok ? TMI_OK : TMI_EIO;
}

void plat_digest_free(plat_digest_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->hash != NULL)
        BCryptDestroyHash(ctx->hash);
    if (ctx->alg != NULL)
        BCryptCloseAlgorithmProvider(ctx->alg, 0);
    free(ctx);
}

/* ---- names and times ---- */

static int64_t filetime_epoch(const FILETIME *ft)
{
    int64_t t = ((int64_t)ft->dwHighDateTime << 32) | ft->dwLowDateTime;
    return (t - EPOCH_DIFF_100NS) / 10000000;
}

/* A CERT_NAME_BLOB as "CN=..., O=..., C=..." into dn[cap]. */
static void blob_dn(const CERT_NAME_BLOB *blob, char *dn, size_t cap)
{
    CERT_NAME_INFO *info = NULL;
    DWORD size = 0;
    dn[0] = '\0';
    if (!CryptDecodeObjectEx(ENCODING, X509_NAME, blob->pbData, blob->cbData,
                             CRYPT_DECODE_ALLOC_FLAG, NULL, &info, &size))
        return;
    for (DWORD i = info->cRDN; i-- > 0;) {
        const CERT_RDN *rdn = &info->rgRDN[i];
        for (DWORD j = 0; j < rdn->cRDNAttr; j++) {
            const CERT_RDN_ATTR *a = &rdn->rgRDNAttr[j];
            wchar_t value[SIG_TEXT_MAX];
            char utf8[SIG_TEXT_MAX * 3];
            CertRDNValueToStrW(a->dwValueType, (PCERT_RDN_VALUE_BLOB)&a->Value, value,
                               SIG_TEXT_MAX);
            int n = WideCharToMultiByte(CP_UTF8, 0, value, -1, utf8, sizeof(utf8), NULL, NULL);
            if (n > 0)
                sig_dn_append(dn, cap, a->pszObjId, utf8, (size_t)n - 1, j == 0);
        }
    }
    LocalFree(info);
}

/* The first attribute oid of the certificate's subject into out[cap]. */
static void cert_attr(PCCERT_CONTEXT cert, const char *oid, char *out, size_t cap)
{
    wchar_t w[SIG_TEXT_MAX];
    char utf8[SIG_TEXT_MAX * 3];
    out[0] = '\0';
    DWORD n = CertGetNameStringW(cert, CERT_NAME_ATTR_TYPE, 0, (void *)oid, w, SIG_TEXT_MAX);
    if (n <= 1)
        return;
    int len = WideCharToMultiByte(CP_UTF8, 0, w, -1, utf8, sizeof(utf8), NULL, NULL);
    if (len > 0)
        sig_text_copy(out, cap, utf8, (size_t)len - 1);
}

/* The leaf's fields of res. */
static void describe_cert(PCCERT_CONTEXT cert, sig_result *res)
{
    DWORD n = sizeof(res->thumb_sha1);
    cert_attr(cert, szOID_ORGANIZATION_NAME, res->signer_o, sizeof(res->signer_o));
    cert_attr(cert, szOID_COMMON_NAME, res->signer_cn, sizeof(res->signer_cn));
    blob_dn(&cert->pCertInfo->Subject, res->signer_dn, sizeof(res->signer_dn));
    blob_dn(&cert->pCertInfo->Issuer, res->issuer_dn, sizeof(res->issuer_dn));
    res->not_before = filetime_epoch(&cert->pCertInfo->NotBefore);
    res->not_after = filetime_epoch(&cert->pCertInfo->NotAfter);
    /* the certificate's own properties; computed here where the system has
     * no SHA-256 property (before Windows 8) */
    int ok = sig_thumbprints(cert->pbCertEncoded, cert->cbCertEncoded, res) == TMI_OK;
    uint8_t sha1[20];
    if (CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, sha1, &n) && n == 20)
        ok = ok && memcmp(sha1, res->thumb_sha1, 20) == 0;
    res->has_signer = ok;
}

/* The signer of a PKCS#7 message (an embedded signature or a catalog). */
static void describe_msg(HCRYPTMSG msg, HCERTSTORE store, sig_result *res)
{
    DWORD size = 0;
    CERT_INFO *info = NULL;
    if (!CryptMsgGetParam(msg, CMSG_SIGNER_CERT_INFO_PARAM, 0, NULL, &size))
        return;
    info = malloc(size);
    if (info == NULL)
        return;
    if (CryptMsgGetParam(msg, CMSG_SIGNER_CERT_INFO_PARAM, 0, info, &size)) {
        PCCERT_CONTEXT cert =
            CertFindCertificateInStore(store, ENCODING, 0, CERT_FIND_SUBJECT_CERT, info, NULL);
        if (cert != NULL) {
            describe_cert(cert, res);
            CertFreeCertificateContext(cert);
        }
    }
    free(info);
}

/* CryptQueryObject on a blob (the embedded signature) or a file (a catalog). */
static void describe_object(DWORD type, const void *object, sig_result *res)
{
    HCERTSTORE store = NULL;
    HCRYPTMSG msg = NULL;
    if (CryptQueryObject(type, object, CERT_QUERY_CONTENT_FLAG_ALL, CERT_QUERY_FORMAT_FLAG_BINARY,
                         0, NULL, NULL, NULL, &store, &msg, NULL) &&
        msg != NULL && store != NULL)
        describe_msg(msg, store, res);
    if (msg != NULL)
        CryptMsgClose(msg);
    if (store != NULL)
        CertCloseStore(store, 0);
}

/* ---- WinVerifyTrust ---- */

/* The reason for a WinVerifyTrust result (never called with 0). */
static sig_reason trust_reason(LONG hr, const char **what)
{
    switch ((DWORD)hr) {
    case (DWORD)TRUST_E_BAD_DIGEST:
        *what = "the file was changed after it was signed (TRUST_E_BAD_DIGEST)";
        return SIG_REASON_DIGEST_MISMATCH;
    case (DWORD)CERT_E_UNTRUSTEDROOT:
    case (DWORD)CERT_E_CHAINING:
    case (DWORD)CERT_E_UNTRUSTEDTESTROOT:
    case (DWORD)CERT_E_UNTRUSTEDCA:
        *what = "is not a root this system trusts";
        return SIG_REASON_UNTRUSTED_ROOT;
    case (DWORD)CERT_E_EXPIRED:
    case (DWORD)CERT_E_VALIDITYPERIODNESTING:
        *what = "a certificate of the chain is not valid at the signing time (CERT_E_EXPIRED)";
        return SIG_REASON_EXPIRED;
    case (DWORD)CERT_E_WRONG_USAGE:
        *what = "a certificate of the chain is not for code signing (CERT_E_WRONG_USAGE)";
        return SIG_REASON_WRONG_USAGE;
    case (DWORD)TRUST_E_TIME_STAMP:
        *what = "the timestamp does not verify (TRUST_E_TIME_STAMP)";
        return SIG_REASON_BAD_TIMESTAMP;
    case (DWORD)CERT_E_REVOKED:
    case (DWORD)CRYPT_E_REVOKED:
        *what = "a certificate of the chain is revoked";
        return SIG_REASON_REVOKED;
    case (DWORD)TRUST_E_NOSIGNATURE:
    case (DWORD)TRUST_E_SUBJECT_FORM_UNKNOWN:
    case (DWORD)CRYPT_E_ASN1_BADTAG:
    case (DWORD)CRYPT_E_BAD_MSG:
        *what = "Windows cannot read the signature";
        return SIG_REASON_MALFORMED;
    case (DWORD)NTE_BAD_SIGNATURE:
    case (DWORD)CRYPT_E_HASH_VALUE:
    case (DWORD)TRUST_E_NO_SIGNER_CERT:
        *what = "the signer's signature does not match the signed content";
        return SIG_REASON_BAD_SIGNATURE;
    case (DWORD)TRUST_E_CERT_SIGNATURE: /* the signer's or a certificate's (wine: the signer's) */
        *what = "a signature of the signer or of its chain does not verify "
                "(TRUST_E_CERT_SIGNATURE)";
        return SIG_REASON_BAD_SIGNATURE;
    case (DWORD)TRUST_E_EXPLICIT_DISTRUST:
        *what = "a certificate of the chain is explicitly distrusted on this system";
        return SIG_REASON_BAD_CHAIN;
    default:
        *what = NULL;
        return SIG_REASON_BAD_CHAIN;
    }
}

/* The chain's root (as the provider saw it), the timestamp's time, and
 * whether the chain holds only through it (a certificate expired by now). */
static void provider_details(HANDLE state, sig_result *res, int want_root, int64_t now)
{
    CRYPT_PROVIDER_DATA *pd = WTHelperProvDataFromStateData(state);
    CRYPT_PROVIDER_SGNR *sg = pd != NULL ? WTHelperGetProvSignerFromChain(pd, 0, FALSE, 0) : NULL;
    if (sg == NULL)
        return;
    if (want_root && sg->csCertChain > 0 && sg->pasCertChain != NULL &&
        sg->pasCertChain[sg->csCertChain - 1].pCert != NULL) {
        PCCERT_CONTEXT top = sg->pasCertChain[sg->csCertChain - 1].pCert;
        int self =
            CertCompareCertificateName(ENCODING, &top->pCertInfo->Subject, &top->pCertInfo->Issuer);
        blob_dn(self ? &top->pCertInfo->Subject : &top->pCertInfo->Issuer, res->root_dn,
                sizeof(res->root_dn));
    }
    if (sg->csCounterSigners == 0 || sg->psSigner == NULL)
        return;
    res->has_signing_time = 1;
    res->signing_time = filetime_epoch(&sg->sftVerifyAsOf);
    res->time_source = SIG_TIME_COUNTERSIGNATURE;
    for (DWORD i = 0; i < sg->psSigner->UnauthAttrs.cAttr; i++) {
        if (strcmp(sg->psSigner->UnauthAttrs.rgAttr[i].pszObjId, OID_RFC3161_TS) == 0)
            res->time_source = SIG_TIME_RFC3161;
    }
    for (DWORD i = 0; want_root && i < sg->csCertChain && sg->pasCertChain != NULL; i++) {
        PCCERT_CONTEXT c = sg->pasCertChain[i].pCert;
        if (c != NULL && filetime_epoch(&c->pCertInfo->NotAfter) < now)
            res->valid_by_timestamp = 1;
    }
}

/*
 * One WinVerifyTrust call on data (its union already filled); with
 * revocation from the cache when revocation is set. Returns the result; the
 * provider's details go to res when details is set.
 */
static LONG verify_trust(WINTRUST_DATA *wd, int revocation, sig_result *res, int details,
                         int64_t now)
{
    GUID action = WINTRUST_ACTION_GENERIC_VERIFY_V2;
    wd->cbStruct = sizeof(*wd);
    wd->dwUIChoice = WTD_UI_NONE;
    wd->fdwRevocationChecks = revocation ? WTD_REVOKE_WHOLECHAIN : WTD_REVOKE_NONE;
    wd->dwStateAction = WTD_STATEACTION_VERIFY;
    wd->dwProvFlags =
        WTD_CACHE_ONLY_URL_RETRIEVAL |
        (revocation ? WTD_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT : WTD_REVOCATION_CHECK_NONE);
    wd->hWVTStateData = NULL;
    LONG hr = WinVerifyTrust((HWND)INVALID_HANDLE_VALUE, &action, wd);
    const char *unused;
    int want_root = hr == 0 || trust_reason(hr, &unused) == SIG_REASON_UNTRUSTED_ROOT;
    if (details && wd->hWVTStateData != NULL)
        provider_details(wd->hWVTStateData, res, want_root, now);
    wd->dwStateAction = WTD_STATEACTION_CLOSE;
    WinVerifyTrust((HWND)INVALID_HANDLE_VALUE, &action, wd);
    return hr;
}

/* Both passes on wd; the verdict into res. */
static void decide(WINTRUST_DATA *wd, sig_result *res, int64_t now)
{
    const char *what = NULL;
    LONG hr = verify_trust(wd, 0, res, 1, now);
    if (hr == 0) {
        LONG rev = verify_trust(wd, 1, res, 0, now);
        if (rev == CERT_E_REVOKED || rev == CRYPT_E_REVOKED)
            sig_fail(res, SIG_REASON_REVOKED, "a certificate of the chain is revoked (cached CRL)");
        return;
    }
    sig_reason reason = trust_reason(hr, &what);
    if (reason == SIG_REASON_UNTRUSTED_ROOT && res->root_dn[0] != '\0')
        sig_fail(res, reason, "the chain ends at '%s', which %s", res->root_dn, what);
    else if (reason == SIG_REASON_UNTRUSTED_ROOT)
        sig_fail(res, reason, "the chain does not end at a root this system trusts");
    else if (what != NULL)
        sig_fail(res, reason, "%s", what);
    else
        sig_fail(res, reason, "WinVerifyTrust refuses the signature (0x%08lX)", (unsigned long)hr);
}

int plat_sig_trust_check(const char *trust_pem)
{
    return trust_pem == NULL ? TMI_OK : TMI_ENOTSUP;
}

/* The system's stores decide: nothing to load. */
int plat_sig_trust_open(const char *trust_pem, plat_sig_trust **out)
{
    *out = NULL;
    return trust_pem == NULL ? TMI_OK : TMI_ENOTSUP;
}

void plat_sig_trust_free(plat_sig_trust *t)
{
    (void)t;
}

int plat_sig_verify(const plat_sig_request *req, sig_result *res)
{
    WINTRUST_FILE_INFO fi;
    WINTRUST_DATA wd;
    CRYPT_DATA_BLOB blob;
    wchar_t *wpath = NULL;
    if (req->trust_pem != NULL)
        return TMI_ENOTSUP;
    int rc = win32_path(req->path, &wpath);
    if (rc != TMI_OK)
        return rc;
    blob.pbData = (BYTE *)req->pkcs7;
    blob.cbData = (DWORD)req->pkcs7_len;
    describe_object(CERT_QUERY_OBJECT_BLOB, &blob, res);
    memset(&fi, 0, sizeof(fi));
    fi.cbStruct = sizeof(fi);
    fi.pcwszFilePath = wpath;
    memset(&wd, 0, sizeof(wd));
    wd.dwUnionChoice = WTD_CHOICE_FILE;
    wd.pFile = &fi;
    decide(&wd, res, req->now);
    free(wpath);
    return TMI_OK;
}

/* ---- catalogs ---- */

typedef BOOL(WINAPI *acquire2_fn)(HCATADMIN *, const GUID *, const WCHAR *,
                                  const CERT_STRONG_SIGN_PARA *, DWORD);
typedef BOOL(WINAPI *hash2_fn)(HCATADMIN, HANDLE, DWORD *, BYTE *, DWORD);

/* A catalog admin context for alg and the file's hash in it; 1 when a
 * catalog lists the file (*info then set). */
static int catalog_lookup(HANDLE file, sig_digest_alg alg, HCATADMIN *admin, HCATINFO *info,
                          BYTE *hash, DWORD *hlen)
{
    HMODULE wt = GetModuleHandleW(L"wintrust.dll");
    acquire2_fn acquire2 =
        wt ? (acquire2_fn)(void *)GetProcAddress(wt, "CryptCATAdminAcquireContext2") : NULL;
    hash2_fn hash2 =
        wt ? (hash2_fn)(void *)GetProcAddress(wt, "CryptCATAdminCalcHashFromFileHandle2") : NULL;
    *admin = NULL;
    *info = NULL;
    *hlen = SIG_DIGEST_MAX;
    if (alg == SIG_ALG_SHA256) {
        if (acquire2 == NULL || hash2 == NULL ||
            !acquire2(admin, NULL, BCRYPT_SHA256_ALGORITHM, NULL, 0))
            return 0;
        if (!hash2(*admin, file, hlen, hash, 0))
            goto none;
    } else {
        if (!CryptCATAdminAcquireContext(admin, NULL, 0))
            return 0;
        if (!CryptCATAdminCalcHashFromFileHandle(file, hlen, hash, 0))
            goto none;
    }
    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    *info = CryptCATAdminEnumCatalogFromHash(*admin, hash, *hlen, 0, NULL);
    if (*info != NULL)
        return 1;
none:
    CryptCATAdminReleaseContext(*admin, 0);
    *admin = NULL;
    return 0;
}

/* WINTRUST_CATALOG_INFO as Windows 8 extended it: the admin context that
 * computed a SHA-256 member hash (mingw-w64's header stops before it). */
typedef struct catalog_info_v2 {
    WINTRUST_CATALOG_INFO base;
    HCATADMIN hCatAdmin;
} catalog_info_v2;

/* WinVerifyTrust on the catalog that lists the file. */
static void catalog_decide(HANDLE file, const wchar_t *wpath, HCATADMIN admin, HCATINFO info,
                           const BYTE *hash, DWORD hlen, int64_t now, sig_result *res)
{
    CATALOG_INFO ci;
    catalog_info_v2 wc;
    WINTRUST_DATA wd;
    wchar_t tag[2 * SIG_DIGEST_MAX + 1];
    memset(&ci, 0, sizeof(ci));
    ci.cbStruct = sizeof(ci);
    if (!CryptCATCatalogInfoFromContext(info, &ci, 0)) {
        sig_fail(res, SIG_REASON_MALFORMED, "the catalog that lists the file cannot be read");
        return;
    }
    for (DWORD i = 0; i < hlen; i++)
        swprintf(tag + 2 * i, 3, L"%02X", hash[i]);
    describe_object(CERT_QUERY_OBJECT_FILE, ci.wszCatalogFile, res);
    memset(&wc, 0, sizeof(wc));
    wc.base.cbStruct = sizeof(wc);
    wc.base.pcwszCatalogFilePath = ci.wszCatalogFile;
    wc.base.pcwszMemberFilePath = wpath;
    wc.base.pcwszMemberTag = tag;
    wc.base.hMemberFile = file;
    wc.base.pbCalculatedFileHash = (BYTE *)hash;
    wc.base.cbCalculatedFileHash = hlen;
    wc.hCatAdmin = admin;
    memset(&wd, 0, sizeof(wd));
    wd.dwUnionChoice = WTD_CHOICE_CATALOG;
    wd.pCatalog = &wc.base;
    decide(&wd, res, now);
}

int plat_sig_has_catalogs(void)
{
    return 1;
}

int plat_sig_catalog(const plat_sig_request *req, sig_result *res)
{
    wchar_t *wpath = NULL;
    BYTE hash[SIG_DIGEST_MAX];
    DWORD hlen = 0;
    HCATADMIN admin = NULL;
    HCATINFO info = NULL;
    sig_digest_alg alg = SIG_ALG_SHA256;
    int rc = win32_path(req->path, &wpath);
    if (rc != TMI_OK)
        return rc;
    HANDLE file = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        free(wpath);
        return TMI_ENOENT; /* nothing to look up: the caller read it, then it went */
    }
    SetFilePointer(file, 0, NULL, FILE_BEGIN);
    if (!catalog_lookup(file, alg, &admin, &info, hash, &hlen)) {
        alg = SIG_ALG_SHA1;
        SetFilePointer(file, 0, NULL, FILE_BEGIN);
        SetFilePointer(file, 0, NULL, FILE_BEGIN);
        if (!catalog_lookup(file, alg, &admin, &info, hash, &hlen)) {
            CloseHandle(file);
            free(wpath);
            return TMI_ENOENT;
        }
    }
    res->source = SIG_SOURCE_CATALOG;
    res->digest_alg = alg;
    memcpy(res->digest, hash, hlen);
    res->has_digest = hlen == sig_digest_size(alg);
    catalog_decide(file, wpath, admin, info, hash, hlen, req->now, res);
    CryptCATAdminReleaseCatalogContext(admin, info, 0);
    CryptCATAdminReleaseContext(admin, 0);
    CloseHandle(file);
    free(wpath);
    return TMI_OK;
}

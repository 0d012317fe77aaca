/*
 * countersign.c - `countersign`: add a PKCS#9 countersignature (the old
 * Authenticode timestamp, 1.2.840.113549.1.9.6) to a PKCS#7 SignedData, for
 * the signature fixtures. osslsigncode makes RFC 3161 timestamps with its
 * built-in TSA but asks a server over HTTP for the old kind; this makes one
 * offline, as such a server would:
 *
 *   countersign IN.der OUT.der TSA_CERT.pem TSA_KEY.pem UNIX_TIME
 *
 * IN.der is a signature (osslsigncode extract-signature); the countersigner
 * signs contentType (data), signingTime (UNIX_TIME) and messageDigest (the
 * SHA-256 of the signer's encrypted digest), and its certificate is added to
 * the SignedData's certificates. OUT.der goes back with osslsigncode
 * attach-signature. Exit status: 0 written, 1 failure, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

static int fail(const char *what)
{
    fprintf(stderr, "countersign: %s\n", what);
    ERR_print_errors_fp(stderr);
    return 1;
}

/* The countersignature SignerInfo over the signer's encrypted digest. */
static PKCS7_SIGNER_INFO *make_countersignature(PKCS7_SIGNER_INFO *si, X509 *cert, EVP_PKEY *key,
                                                time_t when)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    PKCS7_SIGNER_INFO *cs = PKCS7_SIGNER_INFO_new();
    ASN1_OCTET_STRING *digest = ASN1_OCTET_STRING_new();
    ASN1_UTCTIME *t = ASN1_UTCTIME_set(NULL, when);
    int ok = cs != NULL && digest != NULL && t != NULL &&
             PKCS7_SIGNER_INFO_set(cs, cert, key, EVP_sha256()) == 1 &&
             EVP_Digest(si->enc_digest->data, (size_t)si->enc_digest->length, md, &mdlen,
                        EVP_sha256(), NULL) == 1 &&
             ASN1_OCTET_STRING_set(digest, md, (int)mdlen) == 1 &&
             PKCS7_add_signed_attribute(cs, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                        OBJ_nid2obj(NID_pkcs7_data)) == 1 &&
             PKCS7_add_signed_attribute(cs, NID_pkcs9_signingTime, V_ASN1_UTCTIME, t) == 1;
    if (ok) {
        t = NULL; /* owned by cs now */
        ok = PKCS7_add_signed_attribute(cs, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, digest) ==
             1;
    }
    if (ok) {
        digest = NULL;
        ok = PKCS7_SIGNER_INFO_sign(cs) == 1;
    }
    ASN1_UTCTIME_free(t);
    ASN1_OCTET_STRING_free(digest);
    if (!ok) {
        PKCS7_SIGNER_INFO_free(cs);
        return NULL;
    }
    return cs;
}

static int add_countersignature(PKCS7 *p7, X509 *cert, EVP_PKEY *key, time_t when)
{
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(p7);
    if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
        return 0;
    PKCS7_SIGNER_INFO *si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
    PKCS7_SIGNER_INFO *cs = make_countersignature(si, cert, key, when);
    unsigned char *der = NULL;
    int len = cs != NULL ? i2d_PKCS7_SIGNER_INFO(cs, &der) : -1;
    PKCS7_SIGNER_INFO_free(cs);
    if (len <= 0)
        return 0;
    ASN1_STRING *seq = ASN1_STRING_new();
    int ok = seq != NULL && ASN1_STRING_set(seq, der, len) == 1 &&
             PKCS7_add_attribute(si, NID_pkcs9_countersignature, V_ASN1_SEQUENCE, seq) == 1;
    if (!ok)
        ASN1_STRING_free(seq);
    OPENSSL_free(der);
    return ok && PKCS7_add_certificate(p7, cert) == 1;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fputs("usage: countersign IN.der OUT.der TSA_CERT.pem TSA_KEY.pem UNIX_TIME\n", stderr);
        return 2;
    }
    char *end = NULL;
    errno = 0;
    long long when = strtoll(argv[5], &end, 10);
    if (errno != 0 || end == argv[5] || *end != '\0' || when < 0) {
        fputs("countersign: UNIX_TIME must be a whole number of seconds\n", stderr);
        return 2;
    }
    int rc = 1;
    PKCS7 *p7 = NULL;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    FILE *f = fopen(argv[1], "rb");
    if (f != NULL) {
        p7 = d2i_PKCS7_fp(f, NULL);
        fclose(f);
    }
    f = fopen(argv[3], "rb");
    if (f != NULL) {
        cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    f = fopen(argv[4], "rb");
    if (f != NULL) {
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (p7 == NULL || cert == NULL || key == NULL) {
        rc = fail("cannot read the signature, the certificate or the key");
        goto out;
    }
    if (!add_countersignature(p7, cert, key, (time_t)when)) {
        rc = fail("cannot add the countersignature");
        goto out;
    }
    f = fopen(argv[2], "wb");
    if (f == NULL || i2d_PKCS7_fp(f, p7) != 1) {
        if (f != NULL)
            fclose(f);
        rc = fail("cannot write the output");
        goto out;
    }
    rc = fclose(f) == 0 ? 0 : fail("cannot write the output");
out:
    PKCS7_free(p7);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/*
 * sig_digests.h - the Authenticode image digests of the signed files the
 * scans have read, keyed by the SHA-256 of each file's bytes: the store's
 * side of scan_digest_cache (detect.h).
 *
 * A scan hashes every file anyway (its SHA-256 is the file's identity in
 * the history); checking a signed file's signature takes a second pass for
 * the image digest. That digest depends on the bytes alone, so a file whose
 * SHA-256 was seen before needs no second pass: the digest is taken from
 * here, and the signature, chain and trust are still checked anew.
 *
 * Trust: a digest here is believed. The store lives in the data folder,
 * which only administrators (and SYSTEM) may write; whoever can write it can
 * also rewrite the history. The repair's own scans take no digests from
 * here (repair.c), so what is copied is always checked from its bytes.
 *
 * One row per distinct (file content, algorithm): a few dozen rows on a
 * server, growing only when a patch brings new files.
 */
#ifndef TMI_SIG_DIGESTS_H
#define TMI_SIG_DIGESTS_H

#include <stdint.h>

#include "detect.h"
#include "store.h"

/* 1 and digest filled when a digest under alg is kept for sha256; 0 when
 * none is, or the store cannot say (an error is not a reason to fail the
 * scan: the digest is then computed). */
int sig_digests_lookup(store *s, const uint8_t sha256[32], sig_digest_alg alg,
                       uint8_t digest[SIG_DIGEST_MAX]);

/* A scan_digest_cache over s (s must outlive the scans that use it, and be
 * used by one thread at a time: the scanning thread calls lookup). */
void sig_digests_cache(store *s, scan_digest_cache *out);

/* Keep the digest f's check computed (a signed file whose digest was not
 * taken from the cache; anything else: nothing to keep). Called for every
 * file of a scan in scans_record_from's transaction. */
int sig_digests_keep(store *s, const scan_file *f);

#endif

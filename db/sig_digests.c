/* sig_digests.c - the digests of the signed files scanned (sig_digests.h). */
#include "sig_digests.h"

#include <string.h>

#include "err.h"
#include "store_int.h"

int sig_digests_lookup(store *s, const uint8_t sha256[32], sig_digest_alg alg,
                       uint8_t digest[SIG_DIGEST_MAX])
{
    const char *name = sig_digest_name(alg);
    size_t dlen = sig_digest_size(alg);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (s == NULL || name == NULL || dlen == 0 ||
        store_stmt(s, STMT_SIGDIG_GET,
                   "SELECT digest FROM sig_digests WHERE sha256 = ? AND alg = ?", &st) != TMI_OK)
        return 0;
    sqlite3_bind_blob(st, 1, sha256, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == dlen) {
        memcpy(digest, sqlite3_column_blob(st, 0), dlen);
        found = 1;
    }
    store_stmt_release(st);
    return found;
}

static int lookup(void *ctx, const uint8_t sha256[32], sig_digest_alg alg,
                  uint8_t digest[SIG_DIGEST_MAX])
{
    return sig_digests_lookup(ctx, sha256, alg, digest);
}

void sig_digests_cache(store *s, scan_digest_cache *out)
{
    out->lookup = lookup;
    out->ctx = s;
}

int sig_digests_keep(store *s, const scan_file *f)
{
    const sig_result *g = &f->sig;
    const char *name = sig_digest_name(g->digest_alg);
    size_t dlen = sig_digest_size(g->digest_alg);
    sqlite3_stmt *st = NULL;
    if (!f->has_sha256 || !f->has_sig || !g->has_digest || !g->has_signed_digest ||
        g->digest_cached || name == NULL || dlen == 0)
        return TMI_OK;
    int rc =
        store_stmt(s, STMT_SIGDIG_PUT,
                   "INSERT OR IGNORE INTO sig_digests (sha256, alg, digest) VALUES (?, ?, ?)", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_blob(st, 1, f->sha256, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, g->digest, (int)dlen, SQLITE_STATIC);
    int src = sqlite3_step(st);
    store_stmt_release(st);
    return src == SQLITE_DONE ? TMI_OK : store_fail_sqlite(s, src, "cannot keep a file's digest");
}

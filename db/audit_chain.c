/*
 * audit_chain.c - the chain's building blocks (audit.h): the hash of a row,
 * the head as text, a row read back in its canonical form, the last row, and
 * the rule for the short words (action, outcome, auth).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit_int.h"
#include "err.h"
#include "hex.h"

#define HASH_TAG "TMIA1"

const uint8_t audit_zero_hash[32];

/* ---- the hash ---- */

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static int hash_field(plat_sha256_ctx *ctx, const char *s)
{
    uint8_t len[4];
    if (s == NULL) {
        memset(len, 0xff, sizeof(len));
        return plat_sha256_update(ctx, len, sizeof(len));
    }
    size_t n = strlen(s);
    if (n > 0x7fffffffu)
        return TMI_ETOOBIG;
    len[0] = (uint8_t)(n >> 24);
    len[1] = (uint8_t)(n >> 16);
    len[2] = (uint8_t)(n >> 8);
    len[3] = (uint8_t)n;
    int rc = plat_sha256_update(ctx, len, sizeof(len));
    if (rc == TMI_OK && n > 0)
        rc = plat_sha256_update(ctx, s, n);
    return rc;
}

int audit_hash(const uint8_t prev_hash[32], const audit_fields *f, uint8_t out[32])
{
    plat_sha256_ctx *ctx = NULL;
    uint8_t num[8];
    int rc = plat_sha256_init(&ctx);
    if (rc != TMI_OK)
        return rc;
    rc = plat_sha256_update(ctx, prev_hash, 32);
    if (rc == TMI_OK)
        rc = plat_sha256_update(ctx, HASH_TAG, strlen(HASH_TAG));
    if (rc == TMI_OK) {
        be64(num, (uint64_t)f->seq);
        rc = plat_sha256_update(ctx, num, sizeof(num));
    }
    if (rc == TMI_OK) {
        be64(num, (uint64_t)f->time_ns);
        rc = plat_sha256_update(ctx, num, sizeof(num));
    }
    const char *fields[] = {f->actor,  f->auth,    f->action, f->target,
                            f->params, f->outcome, f->details};
    for (size_t i = 0; rc == TMI_OK && i < sizeof(fields) / sizeof(fields[0]); i++)
        rc = hash_field(ctx, fields[i]);
    if (rc != TMI_OK) {
        plat_sha256_free(ctx);
        return rc;
    }
    return plat_sha256_final(ctx, out);
}

/* ---- head text ---- */

char *audit_head_format(const audit_head *h, char *buf, size_t buflen)
{
    char hex[65];
    hex_encode(h->hash, 32, hex);
    snprintf(buf, buflen, "%" PRId64 ":%s", h->seq, hex);
    return buf;
}

int audit_parse_seq(const char *p, size_t n, int64_t *out)
{
    int64_t v = 0;
    if (n == 0 || n > 18)
        return TMI_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return TMI_EINVAL;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return TMI_OK;
}

int audit_head_parse(const char *text, audit_head *out)
{
    const char *colon = text != NULL ? strchr(text, ':') : NULL;
    audit_head h;
    if (colon == NULL)
        return TMI_EINVAL;
    if (audit_parse_seq(text, (size_t)(colon - text), &h.seq) != TMI_OK || h.seq < 1)
        return TMI_EINVAL;
    if (strlen(colon + 1) != 64 || hex_decode(colon + 1, 64, h.hash) != TMI_OK)
        return TMI_EINVAL;
    *out = h;
    return TMI_OK;
}

/* ---- a row read back in canonical form ---- */

static const char *col_text(sqlite3_stmt *st, int col, int *bad, int nullable)
{
    int t = sqlite3_column_type(st, col);
    if (t == SQLITE_NULL) {
        if (!nullable)
            *bad = 1;
        return NULL;
    }
    if (t != SQLITE_TEXT) {
        *bad = 1;
        return NULL;
    }
    const char *text = (const char *)sqlite3_column_text(st, col);
    /* the hash covers the text up to its length as a C string: a NUL inside
     * (never written by the console) would hide the bytes after it */
    if (text == NULL || strlen(text) != (size_t)sqlite3_column_bytes(st, col)) {
        *bad = 1;
        return NULL;
    }
    return text;
}

void audit_chain_row(sqlite3_stmt *st, audit_fields *f, const uint8_t **hash, int *bad)
{
    *bad = 0;
    if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
        sqlite3_column_type(st, 1) != SQLITE_INTEGER)
        *bad = 1;
    f->seq = sqlite3_column_int64(st, 0);
    f->time_ns = sqlite3_column_int64(st, 1);
    f->actor = col_text(st, 2, bad, 0);
    f->auth = col_text(st, 3, bad, 0);
    f->action = col_text(st, 4, bad, 0);
    f->target = col_text(st, 5, bad, 1);
    f->params = col_text(st, 6, bad, 1);
    f->outcome = col_text(st, 7, bad, 0);
    f->details = col_text(st, 8, bad, 1);
    *hash = NULL;
    if (sqlite3_column_type(st, 9) == SQLITE_BLOB && sqlite3_column_bytes(st, 9) == 32)
        *hash = sqlite3_column_blob(st, 9);
}

/* ---- the last row ---- */

int audit_read_last(store *s, audit_head *last, int64_t *time_ns)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_AUDIT_LAST,
                        "SELECT seq, hash, time_ns FROM audit_log ORDER BY seq DESC LIMIT 1", &st);
    if (rc != TMI_OK)
        return rc;
    memset(last, 0, sizeof(*last));
    if (time_ns != NULL)
        *time_ns = 0;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        last->seq = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(last->hash, sqlite3_column_blob(st, 1), 32);
        if (time_ns != NULL)
            *time_ns = sqlite3_column_int64(st, 2);
        src = SQLITE_DONE;
    }
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit chain");
    store_stmt_release(st);
    return rc;
}

int audit_head_get(store *s, audit_head *out)
{
    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    return audit_read_last(s, out, NULL);
}

/* ---- the short words ---- */

int audit_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int audit_word_valid(const char *w)
{
    size_t n = w != NULL ? strlen(w) : 0;
    if (n == 0 || n > AUDIT_MAX_WORD)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!audit_word_char(w[i]))
            return 0;
    }
    return 1;
}

int audit_check_word(store *s, const char *what, const char *w)
{
    if (w == NULL || w[0] == '\0')
        return store_fail(s, TMI_EINVAL, "audit: %s is required", what);
    if (strlen(w) > AUDIT_MAX_WORD)
        return store_fail(s, TMI_ETOOBIG, "audit: %s longer than %d bytes", what, AUDIT_MAX_WORD);
    if (!audit_word_valid(w))
        return store_fail(s, TMI_EINVAL, "audit: %s must match [a-z0-9_.-]+", what);
    return TMI_OK;
}

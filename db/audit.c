/*
 * audit.c - append, list and verify the hash-chained audit trail, and keep
 * its head anchored in a file outside the database (see audit.h).
 */
#include "audit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "store_int.h"
#include "hex.h"
#include "strutil.h"

#define HEAD_FILE_MAX 512
#define HEAD_MAGIC    "tmi-console audit head v1"
#define HASH_TAG      "TMIA1"

static const uint8_t zero_hash[32];

const char *audit_break_name(audit_break why)
{
    switch (why) {
    case AUDIT_INTACT:
        return "intact";
    case AUDIT_BAD_ROW:
        return "malformed row";
    case AUDIT_SEQ_GAP:
        return "seq gap";
    case AUDIT_BAD_PREV:
        return "prev_hash mismatch";
    case AUDIT_BAD_HASH:
        return "hash mismatch";
    case AUDIT_TAIL_MISSING:
        return "missing rows at the end";
    case AUDIT_HEAD_MISMATCH:
        return "head mismatch";
    case AUDIT_ANCHOR_MISSING:
        return "anchor missing";
    case AUDIT_ANCHOR_MISMATCH:
        return "anchor mismatch";
    }
    return "unknown";
}

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

static int parse_seq(const char *p, size_t n, int64_t *out)
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
    if (parse_seq(text, (size_t)(colon - text), &h.seq) != TMI_OK || h.seq < 1)
        return TMI_EINVAL;
    if (strlen(colon + 1) != 64 || hex_decode(colon + 1, 64, h.hash) != TMI_OK)
        return TMI_EINVAL;
    *out = h;
    return TMI_OK;
}

/* ---- the anchor file ---- */

typedef enum anchor_state { ANCHOR_NONE, ANCHOR_OK, ANCHOR_BAD } anchor_state;

/* Read the anchor file. ANCHOR_NONE when absent; ANCHOR_BAD when unreadable
 * or malformed (*rc_out carries the read error, if any). */
static anchor_state anchor_read(store *s, audit_head *h, int *rc_out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    anchor_state st = ANCHOR_BAD;
    char text[HEAD_FILE_MAX + 1];
    char hex[65];
    int rc = plat.read_file(s->head_path, HEAD_FILE_MAX, &buf, &len);
    *rc_out = rc;
    if (rc == TMI_ENOENT)
        return ANCHOR_NONE;
    if (rc != TMI_OK)
        return ANCHOR_BAD;
    memcpy(text, buf, len);
    text[len] = '\0';
    free(buf);
    /* "tmi-console audit head v1\nseq N\nhash HEX\n" */
    const char *p = text;
    size_t magic = strlen(HEAD_MAGIC);
    if (strncmp(p, HEAD_MAGIC "\nseq ", magic + 5) != 0)
        return ANCHOR_BAD;
    p += magic + 5;
    const char *nl = strchr(p, '\n');
    if (nl == NULL || parse_seq(p, (size_t)(nl - p), &h->seq) != TMI_OK || h->seq < 0)
        return ANCHOR_BAD;
    p = nl + 1;
    if (strncmp(p, "hash ", 5) != 0)
        return ANCHOR_BAD;
    p += 5;
    if (strlen(p) != 65 || p[64] != '\n')
        return ANCHOR_BAD;
    memcpy(hex, p, 64);
    hex[64] = '\0';
    /* seq 0 is the empty chain's anchor: its hash is the zero hash */
    if (hex_decode(hex, 64, h->hash) == TMI_OK &&
        (h->seq > 0 || memcmp(h->hash, zero_hash, 32) == 0))
        st = ANCHOR_OK;
    return st;
}

static int anchor_write(store *s, const audit_head *h)
{
    char text[HEAD_FILE_MAX];
    char hex[65];
    hex_encode(h->hash, 32, hex);
    int n = snprintf(text, sizeof(text), HEAD_MAGIC "\nseq %" PRId64 "\nhash %s\n", h->seq, hex);
    int rc = plat.write_file(s->head_tmp_path, text, (size_t)n);
    if (rc == TMI_OK)
        rc = plat.rename_replace(s->head_tmp_path, s->head_path);
    if (rc != TMI_OK) {
        plat.remove_file(s->head_tmp_path);
        return store_fail(s, rc, "cannot write the audit head anchor %s: %s", s->head_path,
                          tmi_strerror(rc));
    }
    return TMI_OK;
}

/* The last row's seq and hash, and (time_ns may be NULL) its time. */
static int read_last_row(store *s, audit_head *last, int64_t *time_ns)
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

static int read_last(store *s, audit_head *last)
{
    return read_last_row(s, last, NULL);
}

/* The first row at or after seq `from`: *found 0 when there is none. */
static int probe(store *s, int64_t from, int *found, int64_t *seq, int64_t *time_ns)
{
    sqlite3_stmt *st = NULL;
    int rc =
        store_stmt(s, STMT_AUDIT_PROBE,
                   "SELECT seq, time_ns FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 1", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, from);
    *found = 0;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *found = 1;
        *seq = sqlite3_column_int64(st, 0);
        *time_ns = sqlite3_column_int64(st, 1);
        src = SQLITE_DONE;
    }
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit trail");
    store_stmt_release(st);
    return rc;
}

/* The seq of the first row (in seq order) whose time is >= t; *found 0 when
 * none. A binary search over seq, as time never goes backwards along seq:
 * about log2(rows) lookups by primary key, and no time index. */
static int first_at_or_after(store *s, int64_t t, int *found, int64_t *seq)
{
    audit_head last;
    int64_t lo, hi, r_seq = 0, r_time = 0;
    int any = 0;
    int rc = read_last(s, &last);
    *found = 0;
    if (rc == TMI_OK)
        rc = probe(s, INT64_MIN, &any, &lo, &r_time);
    if (rc != TMI_OK || !any)
        return rc;
    hi = last.seq;
    /* Invariant: the answer, if any, lies in [lo, hi] or is *seq already. */
    while (lo <= hi) {
        int64_t mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
        rc = probe(s, mid, &any, &r_seq, &r_time);
        if (rc != TMI_OK || !any)
            return rc;
        if (r_time >= t) {
            *found = 1;
            *seq = r_seq;
            if (mid == lo)
                break;
            hi = mid - 1;
        } else {
            if (r_seq >= hi)
                break;
            lo = r_seq + 1;
        }
    }
    return TMI_OK;
}

int audit_seq_range(store *s, int has_since, int64_t since_ns, int has_until, int64_t until_ns,
                    int64_t *lo, int64_t *hi)
{
    int64_t a = 0, b = 0;
    int found = 0;
    int rc = TMI_OK;
    *lo = 1;
    *hi = INT64_MAX;
    if (has_since) {
        rc = first_at_or_after(s, since_ns, &found, &a);
        if (rc != TMI_OK)
            return rc;
        *lo = found ? a : INT64_MAX; /* nothing that late: empty */
    }
    if (has_until) {
        rc = first_at_or_after(s, until_ns, &found, &b);
        if (rc != TMI_OK)
            return rc;
        /* the rows before the first one at or after `until` (all when none is) */
        *hi = !found ? INT64_MAX : b > INT64_MIN ? b - 1 : INT64_MIN;
    }
    return TMI_OK;
}

/* ---- reading rows back in canonical form ---- */

/* The columns of the view `audit` that are hashed (and the hash), in this
 * order; chain_row() reads them. */
#define CHAIN_COLUMNS "seq, time_ns, actor, auth, action, target, params, outcome, details, hash"

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

/* A CHAIN_COLUMNS row into *f (strings owned by st until the next step) and
 * *hash (NULL unless 32 bytes). *bad when a field is NULL where it may not
 * be, or of the wrong type. */
static void chain_row(sqlite3_stmt *st, audit_fields *f, const uint8_t **hash, int *bad)
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

/*
 * Do rows (from.seq, last] continue the chain from `from`: contiguous seq,
 * and each row's hash recomputed from its fields and the hash before it? *ok
 * 1 if so. This guards the anchor's move (usually over the one row just
 * appended); audit_verify() checks the whole chain.
 */
static int chain_continues(store *s, const audit_head *from, int *ok)
{
    sqlite3_stmt *st = NULL;
    uint8_t prev[32], calc[32];
    int64_t expect = from->seq + 1;
    int rc =
        store_prepare(s, "SELECT " CHAIN_COLUMNS " FROM audit WHERE seq > ? ORDER BY seq", &st);
    *ok = 0;
    if (rc != TMI_OK)
        return rc;
    memcpy(prev, from->hash, 32);
    sqlite3_bind_int64(st, 1, from->seq);
    int src;
    int good = 1;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        audit_fields f;
        const uint8_t *h = NULL;
        int bad = 0;
        chain_row(st, &f, &h, &bad);
        if (bad || h == NULL || f.seq != expect) {
            good = 0;
            src = SQLITE_DONE;
            break;
        }
        rc = audit_hash(prev, &f, calc);
        if (rc != TMI_OK)
            break;
        if (memcmp(calc, h, 32) != 0) {
            good = 0;
            src = SQLITE_DONE;
            break;
        }
        memcpy(prev, h, 32);
        expect++;
    }
    if (rc == TMI_OK && src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit chain");
    else if (rc == TMI_OK)
        *ok = good;
    sqlite3_finalize(st);
    return rc;
}

int audit_anchor_init(store *s)
{
    audit_head last, anchor;
    int read_rc = TMI_OK, rc;
    if (anchor_read(s, &anchor, &read_rc) != ANCHOR_NONE)
        return TMI_OK; /* present (or damaged: evidence, left alone) */
    int src = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return store_fail_sqlite(s, src, "cannot lock the audit chain to anchor it");
    /* under the write lock, as every anchor write: no row can slip in */
    rc = read_last(s, &last);
    if (rc == TMI_OK && last.seq == 0 && anchor_read(s, &anchor, &read_rc) == ANCHOR_NONE)
        rc = anchor_write(s, &last);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int audit_anchor_sync(store *s, int adopt)
{
    audit_head last, anchor, at;
    int read_rc = TMI_OK, ok = 0;
    int rc;
    int src = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return store_fail_sqlite(s, src, "cannot lock the audit chain to anchor it");
    /* Under the write lock: anchors are written in seq order by every process. */
    rc = read_last(s, &last);
    if (rc != TMI_OK || last.seq == 0)
        goto out;
    switch (anchor_read(s, &anchor, &read_rc)) {
    case ANCHOR_NONE:
        /* Made while the chain was still empty (audit_anchor_init); gone
         * now, it was deleted: never made again silently, which would erase
         * the evidence. verify reports it until an operator runs
         * audit_reanchor(). */
        if (adopt)
            rc = anchor_write(s, &last);
        else
            rc = store_fail(s, TMI_ECORRUPT,
                            "the audit head anchor %s is missing; not recreated (see "
                            "'tmi-console audit reanchor')",
                            s->head_path);
        goto out;
    case ANCHOR_BAD:
        /* Keep a damaged anchor as evidence; verify reports it. */
        rc = store_fail(s, TMI_ECORRUPT, "the audit head anchor %s is unreadable; left as is",
                        s->head_path);
        goto out;
    case ANCHOR_OK:
        break;
    }
    if (anchor.seq >= last.seq)
        goto out; /* up to date, or rows missing: leave the evidence */
    at = anchor;
    rc = chain_continues(s, &at, &ok);
    if (rc != TMI_OK)
        goto out;
    if (!ok) {
        rc = store_fail(s, TMI_ECORRUPT,
                        "the audit chain does not continue from its anchor (seq %" PRId64
                        "); anchor left as is",
                        anchor.seq);
        goto out;
    }
    rc = anchor_write(s, &last);
out:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- append ---- */

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int check_word(store *s, const char *what, const char *w)
{
    if (w == NULL || w[0] == '\0')
        return store_fail(s, TMI_EINVAL, "audit: %s is required", what);
    if (strlen(w) > AUDIT_MAX_WORD)
        return store_fail(s, TMI_ETOOBIG, "audit: %s longer than %d bytes", what, AUDIT_MAX_WORD);
    for (const char *p = w; *p != '\0'; p++) {
        if (!is_word_char(*p))
            return store_fail(s, TMI_EINVAL, "audit: %s must match [a-z0-9_.-]+", what);
    }
    return TMI_OK;
}

static int check_text(store *s, const char *what, const char *t, size_t max)
{
    if (t == NULL)
        return TMI_OK;
    size_t n = strlen(t);
    if (n > max)
        return store_fail(s, TMI_ETOOBIG, "audit: %s longer than %zu bytes", what, max);
    if (!str_utf8_valid(t, n))
        return store_fail(s, TMI_EINVAL, "audit: %s is not valid UTF-8", what);
    return TMI_OK;
}

static int check_json(store *s, const char *what, const char *t)
{
    int rc = check_text(s, what, t, AUDIT_MAX_JSON);
    if (rc != TMI_OK || t == NULL)
        return rc;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(t, &end, 1);
    int ok = j != NULL && (cJSON_IsObject(j) || cJSON_IsArray(j));
    cJSON_Delete(j);
    if (!ok)
        return store_fail(s, TMI_EINVAL, "audit: %s is not a JSON object or array", what);
    return TMI_OK;
}

static int check_auth(store *s, const char *auth)
{
    static const char *const known[] = {"cli", "token", "session", "system", "none"};
    int rc = check_word(s, "auth", auth);
    if (rc != TMI_OK)
        return rc;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(auth, known[i]) == 0)
            return TMI_OK;
    }
    return store_fail(s, TMI_EINVAL, "audit: auth must be cli, token, session, system or none");
}

/* ---- the stored form (audit.h, "Canonical fields and their stored form") ---- */

/* The id of text t in audit_text, added when new. */
static int text_id(store *s, const char *t, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_AUDIT_TEXT_GET, "SELECT id FROM audit_text WHERE text = ?", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    store_stmt_release(st);
    if (src == SQLITE_ROW)
        return TMI_OK;
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot read the audit texts");
    rc = store_stmt(s, STMT_AUDIT_TEXT_ADD, "INSERT INTO audit_text (text) VALUES (?)", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot add to the audit texts");
    *id = sqlite3_last_insert_rowid(s->db);
    return TMI_OK;
}

/* A non-negative decimal count at p; the end of it, or NULL. */
static const char *parse_count(const char *p, int64_t *out)
{
    const char *start = p;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
        p++;
    }
    if (p == start)
        return NULL;
    *out = v;
    return p;
}

typedef struct scan_summary {
    int64_t scan_id;
    char verdict[AUDIT_MAX_WORD + 1];
    int64_t changed;
} scan_summary;

#define SUMMARY_FMT "{\"scan_id\":%" PRId64 ",\"verdict\":\"%s\",\"changed\":%" PRId64 "}"

/* Is d exactly a scan summary, as SUMMARY_FMT (and the view `audit`) would
 * render it back? Then *sum holds its parts. */
static int as_scan_summary(const char *d, scan_summary *sum)
{
    static const char k1[] = "{\"scan_id\":", k2[] = ",\"verdict\":\"", k3[] = "\",\"changed\":";
    char again[sizeof(sum->verdict) + 80];
    const char *p;
    size_t n = 0;
    if (d == NULL || strncmp(d, k1, sizeof(k1) - 1) != 0)
        return 0;
    p = parse_count(d + sizeof(k1) - 1, &sum->scan_id);
    if (p == NULL || strncmp(p, k2, sizeof(k2) - 1) != 0)
        return 0;
    p += sizeof(k2) - 1;
    while (n < AUDIT_MAX_WORD && is_word_char(p[n]))
        n++;
    if (n == 0 || strncmp(p + n, k3, sizeof(k3) - 1) != 0)
        return 0;
    memcpy(sum->verdict, p, n);
    sum->verdict[n] = '\0';
    p = parse_count(p + n + sizeof(k3) - 1, &sum->changed);
    if (p == NULL || strcmp(p, "}") != 0)
        return 0;
    /* byte for byte what is rendered back: no leading zeros, nothing else */
    snprintf(again, sizeof(again), SUMMARY_FMT, sum->scan_id, sum->verdict, sum->changed);
    return strcmp(again, d) == 0;
}

/* Store row f with its hash, and move the head table to it. */
static int insert_row(store *s, const audit_fields *f, const uint8_t hash[32])
{
    sqlite3_stmt *st = NULL;
    scan_summary sum;
    int64_t actor = 0, auth = 0, action = 0, target = 0, outcome = 0, verdict = 0;
    int summary = as_scan_summary(f->details, &sum);
    int rc = text_id(s, f->actor, &actor);
    if (rc == TMI_OK)
        rc = text_id(s, f->auth, &auth);
    if (rc == TMI_OK)
        rc = text_id(s, f->action, &action);
    if (rc == TMI_OK && f->target != NULL)
        rc = text_id(s, f->target, &target);
    if (rc == TMI_OK)
        rc = text_id(s, f->outcome, &outcome);
    if (rc == TMI_OK && summary)
        rc = text_id(s, sum.verdict, &verdict);
    if (rc == TMI_OK)
        rc = store_stmt(s, STMT_AUDIT_INSERT,
                        "INSERT INTO audit_log (seq, time_ns, actor, auth, action, target,"
                        " outcome, params, details, scan_back, verdict, changed, hash)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, f->seq);
    sqlite3_bind_int64(st, 2, f->time_ns);
    sqlite3_bind_int64(st, 3, actor);
    sqlite3_bind_int64(st, 4, auth);
    sqlite3_bind_int64(st, 5, action);
    if (f->target != NULL)
        sqlite3_bind_int64(st, 6, target);
    sqlite3_bind_int64(st, 7, outcome);
    store_bind_text(st, 8, f->params);
    if (summary) {
        /* seq >= 1 and scan_id >= 0: no overflow */
        sqlite3_bind_int64(st, 10, f->seq - sum.scan_id);
        sqlite3_bind_int64(st, 11, verdict);
        sqlite3_bind_int64(st, 12, sum.changed);
    } else {
        store_bind_text(st, 9, f->details);
    }
    sqlite3_bind_blob(st, 13, hash, 32, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot append to the audit trail");
    store_stmt_release(st);
    if (rc != TMI_OK)
        return rc;
    rc = store_stmt(s, STMT_AUDIT_HEAD_SET,
                    "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?)"
                    " ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                    &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, f->seq);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot update the audit head");
    store_stmt_release(st);
    return rc;
}

int audit_append(store *s, const audit_actor *actor, const audit_event *ev, int64_t *seq)
{
    char user[AUDIT_MAX_USER + 1];
    audit_fields f;
    audit_head last;
    int64_t last_time = 0;
    uint8_t hash[32];
    int rc;

    if (s == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    if (actor == NULL || ev == NULL)
        return store_fail(s, TMI_EINVAL, "audit: actor and event are required");
    rc = check_auth(s, actor->auth);
    if (rc == TMI_OK)
        rc = check_word(s, "action", ev->action);
    if (rc == TMI_OK)
        rc = check_word(s, "outcome", ev->outcome);
    if (rc == TMI_OK)
        rc = check_text(s, "actor", actor->user, AUDIT_MAX_USER);
    if (rc == TMI_OK)
        rc = check_text(s, "target", ev->target, AUDIT_MAX_TARGET);
    if (rc == TMI_OK)
        rc = check_json(s, "params", ev->params);
    if (rc == TMI_OK)
        rc = check_json(s, "details", ev->details);
    if (rc != TMI_OK)
        return rc;
    if (actor->user != NULL) {
        snprintf(user, sizeof(user), "%s", actor->user);
    } else if (plat_user_name(user, sizeof(user)) != TMI_OK ||
               !str_utf8_valid(user, strlen(user))) {
        snprintf(user, sizeof(user), "unknown");
    }
    if (user[0] == '\0')
        return store_fail(s, TMI_EINVAL, "audit: empty actor name");

    rc = store_begin(s);
    if (rc != TMI_OK)
        return rc;
    rc = read_last_row(s, &last, &last_time);
    if (rc != TMI_OK)
        goto out;
    memset(&f, 0, sizeof(f));
    f.seq = last.seq + 1;
    /* Taken under the write lock; never earlier than the row before, so that
     * time order is seq order even when the clock steps back. */
    f.time_ns = plat_now_ns();
    if (f.time_ns < last_time)
        f.time_ns = last_time;
    f.actor = user;
    f.auth = actor->auth;
    f.action = ev->action;
    f.target = ev->target;
    f.params = ev->params;
    f.outcome = ev->outcome;
    f.details = ev->details;
    rc = audit_hash(last.hash, &f, hash);
    if (rc != TMI_OK) {
        store_fail(s, rc, "audit: cannot compute the hash");
        goto out;
    }
    rc = insert_row(s, &f, hash);
out:
    if (rc != TMI_OK) {
        char saved[sizeof(s->errmsg)];
        memcpy(saved, s->errmsg, sizeof(saved));
        store_rollback(s);
        memcpy(s->errmsg, saved, sizeof(saved));
        return rc;
    }
    s->audit_pending = 1;
    rc = store_commit(s);
    if (rc == TMI_OK && seq != NULL)
        *seq = f.seq;
    return rc;
}

/* ---- list ---- */

void audit_rows_free(audit_rows *rows)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < rows->count; i++) {
        audit_row *r = &rows->rows[i];
        free(r->time);
        free(r->actor);
        free(r->auth);
        free(r->action);
        free(r->target);
        free(r->params);
        free(r->outcome);
        free(r->details);
    }
    free(rows->rows);
    rows->rows = NULL;
    rows->count = 0;
}

static int read_row(sqlite3_stmt *st, audit_row *r)
{
    int rc = TMI_OK;
    memset(r, 0, sizeof(*r));
    r->seq = sqlite3_column_int64(st, 0);
    r->time_ns = sqlite3_column_int64(st, 1);
    char **cols[] = {&r->time,   &r->actor,  &r->auth,    &r->action,
                     &r->target, &r->params, &r->outcome, &r->details};
    for (size_t i = 0; rc == TMI_OK && i < sizeof(cols) / sizeof(cols[0]); i++)
        rc = store_col_strdup(st, (int)i + 2, cols[i]);
    if (sqlite3_column_bytes(st, 10) == 32)
        memcpy(r->prev_hash, sqlite3_column_blob(st, 10), 32);
    if (sqlite3_column_bytes(st, 11) == 32)
        memcpy(r->hash, sqlite3_column_blob(st, 11), 32);
    return rc;
}

int audit_list(store *s, const audit_query *q, audit_rows *out)
{
    char sql[512];
    const char *action_sql;
    sqlite3_stmt *st = NULL;
    audit_rows rows = {NULL, 0};
    int64_t lo = 1, hi = INT64_MAX;
    int limit, rc, src = SQLITE_DONE, began = 0;
    size_t n;

    if (s == NULL || q == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    if (q->before < 0)
        return store_fail(s, TMI_EINVAL, "audit: 'before' must be a positive seq");
    if (q->has_since && q->has_until && q->until_ns <= q->since_ns)
        return store_fail(s, TMI_EINVAL, "audit: 'until' must be later than 'since'");
    if (q->action != NULL && check_word(s, "action", q->action) != TMI_OK)
        return TMI_EINVAL;
    limit = store_clamp_limit(q->limit);
    /* Only fixed fragments go into the SQL; every value is bound:
     * ?1..?2 seq range, ?3 action, ?4 since, ?5 until, ?6 limit. The action
     * is matched by its id in audit_text (schema.c, v5). */
    if (q->action == NULL)
        action_sql = "";
    else if (strcmp(q->action, "scan") == 0)
        action_sql = " AND action_id = (SELECT id FROM audit_text WHERE text = ?3)";
    else /* lets the planner use the partial index audit_action (id 1 is 'scan') */
        action_sql = " AND action_id = (SELECT id FROM audit_text WHERE text = ?3)"
                     " AND action_id <> 1";
    n = (size_t)snprintf(sql, sizeof(sql),
                         "SELECT seq, time_ns, time, actor, auth, action, target, params, "
                         "outcome, details, prev_hash, hash FROM audit"
                         " WHERE seq BETWEEN ?1 AND ?2%s%s%s ORDER BY seq DESC LIMIT ?6",
                         action_sql, q->has_since ? " AND +time_ns >= ?4" : "",
                         q->has_until ? " AND +time_ns < ?5" : "");
    if (n >= sizeof(sql))
        return store_fail(s, TMI_EINVAL, "audit: query too long");
    rows.rows = calloc((size_t)limit, sizeof(*rows.rows));
    if (rows.rows == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    rc = store_read_begin(s, &began);
    if (rc != TMI_OK)
        goto out;
    /* time order is seq order (audit_append), so a time range is a seq range */
    rc = audit_seq_range(s, q->has_since, q->since_ns, q->has_until, q->until_ns, &lo, &hi);
    if (rc != TMI_OK)
        goto out;
    if (q->before > 0 && hi >= q->before)
        hi = q->before - 1;
    rc = store_prepare(s, sql, &st);
    if (rc != TMI_OK)
        goto out;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    if (q->action)
        sqlite3_bind_text(st, 3, q->action, -1, SQLITE_STATIC);
    if (q->has_since)
        sqlite3_bind_int64(st, 4, q->since_ns);
    if (q->has_until)
        sqlite3_bind_int64(st, 5, q->until_ns);
    sqlite3_bind_int(st, 6, limit);
    while ((src = sqlite3_step(st)) == SQLITE_ROW && rows.count < (size_t)limit) {
        rc = read_row(st, &rows.rows[rows.count]);
        rows.count++;
        if (rc != TMI_OK) {
            store_fail(s, rc, "out of memory");
            goto out;
        }
    }
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot read the audit trail");
out:
    sqlite3_finalize(st);
    store_read_end(s, began);
    if (rc != TMI_OK) {
        audit_rows_free(&rows);
        return rc;
    }
    *out = rows;
    return TMI_OK;
}

/* ---- verify ---- */

static void set_break(audit_report *rep, audit_break why, int64_t seq, const char *fmt, ...)
    TMI_PRINTF(4, 5);

static void set_break(audit_report *rep, audit_break why, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    if (!rep->intact)
        return; /* keep the first break */
    rep->intact = 0;
    rep->why = why;
    rep->broken_seq = seq;
    va_start(ap, fmt);
    vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
    va_end(ap);
}

/* Walk the rows in seq order; fills rep (chain part) and remembers the hashes
 * of rows want[0..1] (seq 0: none) into got[]. prev_hash is not stored
 * (schema v5): each row's hash is recomputed from the hash walked before it,
 * so a row replaced with a recomputed hash shows at the row after it. */
static int walk_chain(store *s, audit_report *rep, const int64_t want[2], uint8_t got[2][32],
                      int found[2])
{
    sqlite3_stmt *st = NULL;
    uint8_t prev[32], calc[32];
    int64_t expect = 1;
    int src;
    int rc = store_prepare(s, "SELECT " CHAIN_COLUMNS " FROM audit ORDER BY seq", &st);
    if (rc != TMI_OK)
        return rc;
    memcpy(prev, zero_hash, 32);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        audit_fields f;
        const uint8_t *h = NULL;
        int bad = 0;
        chain_row(st, &f, &h, &bad);
        int64_t seq = f.seq;
        rep->rows++;
        if (seq != expect) {
            if (seq > expect)
                set_break(rep, AUDIT_SEQ_GAP, expect,
                          "seq %" PRId64 " is missing (the next row is seq %" PRId64
                          "): rows were deleted",
                          expect, seq);
            else
                set_break(rep, AUDIT_SEQ_GAP, seq, "seq %" PRId64 " is out of order", seq);
            break;
        }
        if (bad || h == NULL) {
            set_break(rep, AUDIT_BAD_ROW, seq,
                      "seq %" PRId64 " is malformed (missing fields or a hash of the wrong size)",
                      seq);
            break;
        }
        rc = audit_hash(prev, &f, calc);
        if (rc != TMI_OK)
            break;
        if (memcmp(calc, h, 32) != 0) {
            if (seq == 1)
                set_break(rep, AUDIT_BAD_HASH, seq,
                          "seq 1: the stored hash does not match the row's contents (the row was "
                          "edited)");
            else
                set_break(rep, AUDIT_BAD_HASH, seq,
                          "seq %" PRId64 ": the stored hash does not match the row's contents and "
                          "the hash of the row before it (this row was edited, or seq %" PRId64
                          " was replaced with a recomputed hash)",
                          seq, seq - 1);
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (want[i] == seq) {
                memcpy(got[i], h, 32);
                found[i] = 1;
            }
        }
        memcpy(prev, h, 32);
        rep->head.seq = seq;
        memcpy(rep->head.hash, h, 32);
        expect++;
    }
    if (rc == TMI_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot read the audit trail");
    sqlite3_finalize(st);
    return rc;
}

static int read_head_table(store *s, audit_head *h, int *present)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, "SELECT seq, hash FROM audit_head WHERE one = 1", &st);
    *present = 0;
    if (rc != TMI_OK)
        return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *present = 1;
        h->seq = sqlite3_column_int64(st, 0);
        memset(h->hash, 0, 32);
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(h->hash, sqlite3_column_blob(st, 1), 32);
        src = SQLITE_DONE;
    }
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit head");
    sqlite3_finalize(st);
    return rc;
}

/* Compare the walked chain with a head kept elsewhere (`what` names it). */
static void check_against(audit_report *rep, const audit_head *h, int found, const uint8_t *hash,
                          const char *what)
{
    if (h->seq > rep->head.seq) {
        set_break(rep, AUDIT_TAIL_MISSING, rep->head.seq + 1,
                  "rows %" PRId64 "..%" PRId64 " are missing at the end: %s names seq %" PRId64
                  " but the last row is %" PRId64,
                  rep->head.seq + 1, h->seq, what, h->seq, rep->head.seq);
        return;
    }
    if (!found || memcmp(hash, h->hash, 32) != 0)
        set_break(rep, AUDIT_ANCHOR_MISMATCH, h->seq,
                  "seq %" PRId64 ": its hash differs from %s (the row was rewritten and its "
                  "hash recomputed)",
                  h->seq, what);
}

int audit_verify(store *s, const audit_head *expect, audit_report *rep)
{
    audit_head anchor, table;
    anchor_state ast;
    int read_rc = TMI_OK, began = 0, table_present = 0;
    int64_t want[2] = {0, 0};
    uint8_t got[2][32];
    int found[2] = {0, 0};
    int rc;

    if (s == NULL || rep == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    memset(rep, 0, sizeof(*rep));
    memset(got, 0, sizeof(got));
    rep->intact = 1;
    /* The anchor first: it is written only after its rows are committed, so
     * the snapshot taken below holds every row it names. */
    ast = anchor_read(s, &anchor, &read_rc);
    if (ast == ANCHOR_BAD && read_rc != TMI_OK && read_rc != TMI_ETOOBIG)
        return store_fail(s, read_rc, "cannot read the audit head anchor %s: %s", s->head_path,
                          tmi_strerror(read_rc));
    if (ast == ANCHOR_OK)
        want[0] = anchor.seq;
    if (expect != NULL)
        want[1] = expect->seq;
    rc = store_read_begin(s, &began);
    if (rc != TMI_OK)
        return rc;
    rc = walk_chain(s, rep, want, got, found);
    if (rc == TMI_OK)
        rc = read_head_table(s, &table, &table_present);
    store_read_end(s, began);
    if (rc != TMI_OK)
        return rc;

    /* 1. Rows missing at the end, as told by any head kept apart from them. */
    if (rep->intact && table_present && table.seq > rep->head.seq)
        set_break(rep, AUDIT_TAIL_MISSING, rep->head.seq + 1,
                  "rows %" PRId64 "..%" PRId64 " are missing at the end: the audit_head table "
                  "names seq %" PRId64 " but the last row is %" PRId64,
                  rep->head.seq + 1, table.seq, table.seq, rep->head.seq);
    if (ast == ANCHOR_OK && anchor.seq == 0) {
        found[0] = 1; /* the empty chain's anchor: every chain continues it */
        memset(got[0], 0, 32);
    }
    if (rep->intact && ast == ANCHOR_OK && anchor.seq > rep->head.seq)
        check_against(rep, &anchor, 0, NULL, "the head anchored outside the database");
    if (rep->intact && expect != NULL && expect->seq > rep->head.seq)
        check_against(rep, expect, 0, NULL, "the expected head");
    /* 2. The table is written with every row: it must name exactly the last row. */
    if (rep->intact && rep->head.seq > 0 && !table_present)
        set_break(rep, AUDIT_HEAD_MISMATCH, rep->head.seq,
                  "the audit_head table is empty but the chain has %" PRId64 " rows",
                  rep->head.seq);
    if (rep->intact && table_present &&
        (table.seq != rep->head.seq || memcmp(table.hash, rep->head.hash, 32) != 0))
        set_break(rep, AUDIT_HEAD_MISMATCH, table.seq < rep->head.seq ? table.seq + 1 : table.seq,
                  "the audit_head table (seq %" PRId64 ") does not match the last row (seq %" PRId64
                  "): rows were added or rewritten outside tmi-console",
                  table.seq, rep->head.seq);
    /* 3. The anchor outside the database. */
    if (ast == ANCHOR_BAD)
        set_break(rep, AUDIT_ANCHOR_MISMATCH, rep->head.seq,
                  "the audit head anchor file is malformed (it was edited)");
    else if (ast == ANCHOR_NONE && rep->head.seq > 0)
        set_break(rep, AUDIT_ANCHOR_MISSING, rep->head.seq,
                  "the chain has %" PRId64 " rows but the audit head anchor file is missing",
                  rep->head.seq);
    else if (ast == ANCHOR_OK) {
        rep->anchor_seq = anchor.seq;
        check_against(rep, &anchor, found[0], got[0], "the head anchored outside the database");
        if (rep->intact) {
            rep->anchored = 1;
            rep->unanchored = rep->head.seq - anchor.seq;
        }
    }
    /* 4. A head the caller kept elsewhere. */
    if (expect != NULL)
        check_against(rep, expect, found[1], got[1], "the expected head");
    if (rep->intact)
        snprintf(rep->detail, sizeof(rep->detail), "intact");
    return TMI_OK;
}

int audit_reanchor(store *s, const audit_actor *actor, audit_report *before)
{
    audit_report rep;
    char head[100], *details = NULL;
    cJSON *o = NULL;
    int rc;

    if (s == NULL || actor == NULL)
        return TMI_EINVAL;
    rc = audit_verify(s, NULL, &rep);
    if (rc != TMI_OK)
        return rc;
    if (before != NULL)
        *before = rep;
    if (rep.intact && rep.anchored)
        return store_fail(s, TMI_EEXIST, "the audit head anchor is in place and matches");
    if (!rep.intact && rep.why != AUDIT_ANCHOR_MISSING && rep.why != AUDIT_ANCHOR_MISMATCH)
        return store_fail(s, TMI_ECORRUPT,
                          "the audit rows themselves are broken at seq %" PRId64
                          " (%s): not re-anchored",
                          rep.broken_seq, audit_break_name(rep.why));
    o = cJSON_CreateObject();
    if (o == NULL || cJSON_AddStringToObject(o, "was", audit_break_name(rep.why)) == NULL ||
        cJSON_AddStringToObject(o, "detail", rep.detail) == NULL ||
        cJSON_AddNumberToObject(o, "old_anchor_seq", (double)rep.anchor_seq) == NULL ||
        cJSON_AddStringToObject(o, "head_before",
                                audit_head_format(&rep.head, head, sizeof(head))) == NULL ||
        (details = cJSON_PrintUnformatted(o)) == NULL) {
        rc = store_fail(s, TMI_ENOMEM, "out of memory");
        goto out;
    }
    audit_event ev = {"audit_reanchor", STORE_HEAD_NAME, NULL, "ok", details};
    rc = audit_append(s, actor, &ev, NULL);
    if (rc != TMI_OK)
        goto out;
    /* the old anchor goes (it is recorded above); a fresh one names the head
     * that now ends with the row just appended */
    rc = plat.remove_file(s->head_path);
    if (rc != TMI_OK && rc != TMI_ENOENT) {
        rc = store_fail(s, rc, "cannot remove the old audit head anchor %s: %s", s->head_path,
                        tmi_strerror(rc));
        goto out;
    }
    store_clear_error(s);
    rc = audit_anchor_sync(s, 1);
out:
    cJSON_free(details);
    cJSON_Delete(o);
    return rc;
}

int audit_head_get(store *s, audit_head *out)
{
    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    return read_last(s, out);
}

/* ---- JSON ---- */

static void add_json_text(cJSON *o, const char *name, const char *text)
{
    cJSON *v = text != NULL ? cJSON_Parse(text) : NULL;
    if (v != NULL)
        cJSON_AddItemToObject(o, name, v);
    else if (text != NULL)
        cJSON_AddStringToObject(o, name, text);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_str_or_null(cJSON *o, const char *name, const char *text)
{
    if (text != NULL)
        cJSON_AddStringToObject(o, name, text);
    else
        cJSON_AddNullToObject(o, name);
}

cJSON *audit_row_json(const audit_row *r)
{
    char hex[65], ns[32];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "seq", (double)r->seq);
    add_str_or_null(o, "time", r->time);
    snprintf(ns, sizeof(ns), "%lld", (long long)r->time_ns);
    cJSON_AddStringToObject(o, "time_ns", ns); /* a string: exact beyond 2^53 */
    add_str_or_null(o, "actor", r->actor);
    add_str_or_null(o, "auth", r->auth);
    add_str_or_null(o, "action", r->action);
    add_str_or_null(o, "target", r->target);
    add_json_text(o, "params", r->params);
    add_str_or_null(o, "outcome", r->outcome);
    add_json_text(o, "details", r->details);
    hex_encode(r->prev_hash, 32, hex);
    cJSON_AddStringToObject(o, "prev_hash", hex);
    hex_encode(r->hash, 32, hex);
    cJSON_AddStringToObject(o, "hash", hex);
    return o;
}

/*
 * bench_store.c - the store under a realistic-to-heavy load.
 *
 * Builds a database with 1,000,000 file observations (5,000 paths, 200
 * changes each, interleaved as scans would write them) and 100,000 audit
 * rows, then measures keyset pages of 50 rows at random positions: a path's
 * history, a name's history (two paths per name), and the audit trail; the
 * database size; a full audit verify; how much 10,000 scans that find
 * nothing changed add to a store (each its own transaction, as in use); and
 * the upgrade of a schema v4 store holding 100,000 audit rows to the compact
 * trail of v5.
 *
 * usage: bench_store [WORK_DIR]   (default: a fresh folder under $TMPDIR or /tmp;
 * removed at the end unless BENCH_KEEP is set)
 * Prints "name value (goal)" lines; exit 1 when a goal is missed.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "audit.h"
#include "detect.h"
#include "err.h"
#include "plat.h"
#include "scans.h"
#include "schema.h"
#include "store.h"

#define N_PATHS     5000
#define N_ROUNDS    200 /* observations per path: 1,000,000 in all */
#define N_SCANS     1000
#define N_AUDIT     100000
#define N_QUERIES   2000
#define PAGE        50
#define N_UNCHANGED 10000

#define TMI_DIR "C:\\Program Files (x86)\\Trend Micro\\COMMON\\TMI"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static double ms_since(int64_t t0)
{
    return (double)(plat_monotonic_ns() - t0) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static int die(const char *what, store *s, int rc)
{
    fprintf(stderr, "bench_store: %s: %s (%s)\n", what, tmi_strerror(rc),
            s != NULL ? store_errmsg(s) : "");
    return 1;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "bench_store: %s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : 1;
}

static void path_of(int f, char *buf, size_t n)
{
    /* two paths per name: the TMI folder's copy and the backup's */
    snprintf(buf, n, TMI_DIR "%s\\lib%04d.dll", f % 2 ? "\\backup" : "", f / 2);
}

/* Bytes of the database after folding the WAL into it: the whole file, or
 * (in_use) without its free pages. */
static int64_t raw_bytes(sqlite3 *db, int in_use)
{
    sqlite3_stmt *st = NULL;
    int64_t size = 0;
    exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (sqlite3_prepare_v2(db,
                           in_use ? "SELECT (page_count - freelist_count) * page_size FROM"
                                    " pragma_page_count(), pragma_freelist_count(),"
                                    " pragma_page_size()"
                                  : "SELECT page_count * page_size FROM pragma_page_count(),"
                                    " pragma_page_size()",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return size;
}

static int64_t db_bytes(store *s)
{
    return raw_bytes(store_handle(s), 0);
}

static int build_observations(store *s)
{
    sqlite3 *db = store_handle(s);
    sqlite3_stmt *st = NULL;
    char path[256];
    uint8_t sha[32];
    int rc = 0;

    if (exec(db, "PRAGMA cache_size = -262144") || exec(db, "BEGIN IMMEDIATE"))
        return 1;
    rc = exec(db, "INSERT INTO scan_docs (id, sha256, verdict, tmi_dir, root, playbook_id, json)"
                  " VALUES (1, zeroblob(32), 'healthy', '" TMI_DIR "', 'C:\\', 'tmi-mrf-1156',"
                  " '{}')");
    if (rc == 0)
        rc = exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < "
                      "1000) INSERT INTO scans (id, started_ns, duration_ns, doc_id)"
                      " SELECT i, 1764064790000000000 + i * 60000000000, 5000000, 1 FROM n");
    if (rc == 0 &&
        sqlite3_prepare_v2(db, "INSERT INTO files (id, path, name, kind) VALUES (?,?,?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        rc = 1;
    for (int f = 0; rc == 0 && f < N_PATHS; f++) {
        char name[32];
        path_of(f, path, sizeof(path));
        snprintf(name, sizeof(name), "lib%04d.dll", f / 2);
        sqlite3_bind_int(st, 1, f + 1);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, f % 2 ? "source" : "tmi", -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : 1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0 &&
        sqlite3_prepare_v2(db,
                           "INSERT INTO observations (id, file_id, scan_id, observed_ns, present,"
                           " size, mtime_ns, sha256, version, status, known_bad)"
                           " VALUES (?,?,?,?,1,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        rc = 1;
    for (int r = 0; rc == 0 && r < N_ROUNDS; r++) {
        for (int f = 0; rc == 0 && f < N_PATHS; f++) {
            int64_t id = (int64_t)r * N_PATHS + f + 1;
            int scan = 1 + (int)(id * N_SCANS / ((int64_t)N_PATHS * N_ROUNDS + 1));
            for (int k = 0; k < 32; k += 8) {
                uint64_t x = rnd();
                memcpy(sha + k, &x, 8);
            }
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int(st, 2, f + 1);
            sqlite3_bind_int(st, 3, scan);
            sqlite3_bind_int64(st, 4, 1764064790000000000LL + (int64_t)scan * 60000000000LL);
            sqlite3_bind_int64(st, 5, 300000 + (int64_t)(rnd() % 100000));
            sqlite3_bind_int64(st, 6, 1700000000000000000LL + (int64_t)(rnd() % 1000000000));
            sqlite3_bind_blob(st, 7, sha, 32, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 8, r % 2 ? "1.12.0.1266" : "1.12.0.1156", -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 9, r % 2 ? "ok" : "old", -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 10, r % 2 ? 0 : 1);
            rc = sqlite3_step(st) == SQLITE_DONE ? 0 : 1;
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    if (rc == 0)
        rc = exec(db, "UPDATE files SET latest_obs_id = (SELECT max(id) FROM observations o"
                      " WHERE o.file_id = files.id)");
    if (rc != 0) {
        fprintf(stderr, "bench_store: loading observations: %s\n", sqlite3_errmsg(db));
        exec(db, "ROLLBACK");
        return 1;
    }
    return exec(db, "COMMIT");
}

static int build_audit(store *s)
{
    static const char *const actions[] = {"scan", "login", "backup", "replace", "restart"};
    audit_actor actor = {"Administrator", "session"};
    int rc = store_begin(s);
    for (int i = 0; rc == TMI_OK && i < N_AUDIT; i++) {
        char details[128];
        snprintf(details, sizeof(details),
                 "{\"scan_id\":%d,\"verdict\":\"healthy\",\"changed\":%d}", i, i % 3);
        audit_event ev = {actions[i % 5], TMI_DIR, NULL, "ok", details};
        rc = audit_append(s, &actor, &ev, NULL);
    }
    if (rc != TMI_OK) {
        store_rollback(s);
        return die("audit rows", s, rc);
    }
    rc = store_commit(s);
    return rc == TMI_OK ? 0 : die("audit commit", s, rc);
}

static int history_pages(store *s, int by_name, double *p50, double *p99)
{
    double *t = calloc(N_QUERIES, sizeof(*t));
    char file[256];
    if (t == NULL)
        return 1;
    for (int q = 0; q < N_QUERIES; q++) {
        int f = (int)(rnd() % N_PATHS);
        int round = 1 + (int)(rnd() % N_ROUNDS);
        if (by_name)
            snprintf(file, sizeof(file), "lib%04d.dll", f / 2);
        else
            path_of(f, file, sizeof(file));
        history_query hq = {file, (int64_t)(round - 1) * N_PATHS + f + 1 + 1, PAGE};
        if (round == N_ROUNDS)
            hq.before = 0; /* the newest page */
        scans_obs_list l = {NULL, 0};
        int64_t t0 = plat_monotonic_ns();
        int rc = scans_history(s, &hq, &l);
        t[q] = ms_since(t0);
        /* the other path of the name (f ^ 1) has rows below the cursor up to the
         * same round when it was written before f in a round, one fewer otherwise */
        size_t want = (size_t)(by_name ? 2 * round - (f % 2 == 0 && round < N_ROUNDS) : round);
        if (rc != TMI_OK || l.count != (want < PAGE ? want : PAGE)) {
            fprintf(stderr, "bench_store: history page of %s: rc %d, %zu rows (want %zu)\n", file,
                    rc, l.count, want < PAGE ? want : PAGE);
            scans_obs_list_free(&l);
            free(t);
            return 1;
        }
        scans_obs_list_free(&l);
    }
    *p50 = pct(t, N_QUERIES, 0.50);
    *p99 = pct(t, N_QUERIES, 0.99);
    free(t);
    return 0;
}

static int audit_pages(store *s, double *p50, double *p99)
{
    double *t = calloc(N_QUERIES, sizeof(*t));
    int64_t t_first = 0, t_last = 0;
    if (t == NULL)
        return 1;
    {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(store_handle(s), "SELECT min(time_ns), max(time_ns) FROM audit_log",
                               -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            t_first = sqlite3_column_int64(st, 0);
            t_last = sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
        if (t_last <= t_first)
            t_last = t_first + 1;
    }
    for (int q = 0; q < N_QUERIES; q++) {
        audit_query aq;
        audit_rows rows = {NULL, 0};
        memset(&aq, 0, sizeof(aq));
        aq.before = q % 10 == 0 ? 0 : 1 + (int64_t)(rnd() % N_AUDIT);
        aq.limit = PAGE;
        if (q % 4 == 1)
            aq.action = "replace";
        if (q % 4 == 2) { /* a time window somewhere in the trail */
            aq.has_since = 1;
            aq.since_ns = t_first + (int64_t)(rnd() % (uint64_t)(t_last - t_first));
            aq.has_until = q % 8 == 2;
            aq.until_ns = aq.since_ns + (t_last - t_first) / 10 + 1;
        }
        int64_t t0 = plat_monotonic_ns();
        int rc = audit_list(s, &aq, &rows);
        t[q] = ms_since(t0);
        if (rc != TMI_OK || (rows.count == 0 && !aq.has_since)) {
            audit_rows_free(&rows);
            free(t);
            return die("audit page", s, rc);
        }
        audit_rows_free(&rows);
    }
    *p50 = pct(t, N_QUERIES, 0.50);
    *p99 = pct(t, N_QUERIES, 0.99);
    free(t);
    return 0;
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static const char *const set_names[8] = {
    "mrf.exe",       "MRF_CM.dll",        "libTMI_DataMarshal.dll", "libMRF_Entity.dll",
    "libMRF_DM.dll", "libMRF_Common.dll", "libMRF_CM.dll",          "libMRF_AP.dll",
};

static void fill(scan_file *f, const char *dir, int i)
{
    char path[512];
    snprintf(path, sizeof(path), "%s\\%s", dir, set_names[i]);
    f->name = dup(set_names[i]);
    f->path = dup(path);
    f->status = FILE_OK;
    f->present = 1;
    f->size = 300000 + (uint64_t)i * 4096;
    f->mtime_ns = 1700000000000000000LL + i;
    f->has_sha256 = 1;
    plat_sha256(path, strlen(path), f->sha256);
    f->has_version = 1;
    version_parse("1.12.0.1266", &f->version);
}

/* A healthy scan as a real server gives it: the eight files in the TMI
 * folder and two backup folders with the eight good copies each. */
static scan_result *real_scan(void)
{
    static const char *const src[2] = {TMI_DIR "\\is_backup\\filegroup100", TMI_DIR "\\backup"};
    scan_result *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->verdict = SCAN_HEALTHY;
    r->root = dup("C:\\");
    r->tmi_dir = dup(TMI_DIR);
    r->tmi_dir_origin = dup("registry");
    r->playbook_id = dup("tmi-mrf-1156");
    version_parse("1.12.0.1266", &r->expected_version);
    r->files = calloc(8, sizeof(*r->files));
    r->n_files = 8;
    for (int i = 0; i < 8; i++)
        fill(&r->files[i], TMI_DIR, i);
    r->sources = calloc(2, sizeof(*r->sources));
    r->n_sources = 2;
    for (int s = 0; s < 2; s++) {
        r->sources[s].path = dup(src[s]);
        r->sources[s].variant = dup(s == 0 ? "SPNT 5.8 Patch 5+" : "SPNAF 5.8 SP1 Patch 1+");
        r->sources[s].complete = 1;
        r->sources[s].files = calloc(8, sizeof(scan_file));
        r->sources[s].n_files = 8;
        for (int i = 0; i < 8; i++)
            fill(&r->sources[s].files[i], src[s], i);
    }
    r->repair_source = -1;
    r->repair_reason = dup("all files are at 1.12.0.1266 or newer");
    r->started_ns = 1764064790000000000LL;
    r->finished_ns = r->started_ns + 40000000;
    return r;
}

/* Bytes of the audit trail's tables and indexes (dbstat); -1 if unavailable. */
static int64_t audit_bytes(store *s)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(store_handle(s),
                           "SELECT sum(pgsize) FROM dbstat WHERE name IN ('audit_log',"
                           " 'audit_action', 'audit_text', 'sqlite_autoindex_audit_text_1')",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int unchanged_scans(const char *dir, double *growth_mib, double *audit_mib,
                           double *per_scan_ms)
{
    char err[512];
    store *s = NULL;
    audit_actor actor = {"SYSTEM", "system"};
    int rc = store_open(dir, &s, err, sizeof(err));
    if (rc != TMI_OK) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    scan_result *r = real_scan();
    rc = scans_record(s, r, &actor, NULL);
    int64_t before = db_bytes(s);
    int64_t audit_before = audit_bytes(s);
    int64_t t0 = plat_monotonic_ns();
    for (int i = 0; rc == TMI_OK && i < N_UNCHANGED; i++) {
        r->started_ns += 60000000000LL;
        r->finished_ns += 60000000000LL;
        rc = scans_record(s, r, &actor, NULL);
    }
    double ms = ms_since(t0);
    if (rc != TMI_OK) {
        scan_result_free(r);
        store_close(s);
        return die("unchanged scan", s, rc);
    }
    int64_t after = db_bytes(s);
    int64_t audit_after = audit_bytes(s);
    *growth_mib = (double)(after - before) / (1024.0 * 1024.0);
    *audit_mib = audit_before < 0 || audit_after < 0
                     ? -1
                     : (double)(audit_after - audit_before) / (1024.0 * 1024.0);
    *per_scan_ms = ms / N_UNCHANGED;
    scan_result_free(r);
    store_close(s);
    return 0;
}

/* Insert N_AUDIT rows as v4 wrote them (4 in 5 of them scans) with the
 * prepared INSERT st; the last hash in prev. 0 or 1. */
static int insert_v4_rows(sqlite3_stmt *st, uint8_t prev[32])
{
    static const char *const actions[] = {"scan", "scan", "login", "scan", "scan"};
    char details[128];
    uint8_t hash[32];
    int rc = 0;
    for (int i = 1; rc == 0 && i <= N_AUDIT; i++) {
        const char *action = actions[i % 5];
        int scan = strcmp(action, "scan") == 0;
        if (scan)
            snprintf(details, sizeof(details),
                     "{\"scan_id\":%d,\"verdict\":\"healthy\",\"changed\":%d}", i, i % 3);
        audit_fields f = {i,
                          1764064790000000000LL + (int64_t)i * 60000000000LL,
                          scan ? "SYSTEM" : "Administrator",
                          scan ? "system" : "session",
                          action,
                          TMI_DIR,
                          NULL,
                          "ok",
                          scan ? details : NULL};
        rc = audit_hash(prev, &f, hash) != TMI_OK;
        sqlite3_bind_int64(st, 1, f.seq);
        sqlite3_bind_int64(st, 2, f.time_ns);
        sqlite3_bind_text(st, 3, f.actor, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, f.auth, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, f.action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, f.target, -1, SQLITE_STATIC);
        if (scan)
            sqlite3_bind_text(st, 7, details, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 7);
        sqlite3_bind_blob(st, 8, prev, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, hash, 32, SQLITE_STATIC);
        if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
            rc = 1;
        sqlite3_reset(st);
        memcpy(prev, hash, 32);
    }
    return rc;
}

/* A store at schema v4 in dir with N_AUDIT audit rows as v4 wrote them, its
 * head in the table and in the anchor file; *used_before its pages in use
 * (MiB). 0 or 1. */
static int make_v4_store(const char *dir, double *used_before)
{
    char path[PLAT_PATH_MAX + 32], err[512], text[200], hex[65];
    uint8_t prev[32] = {0};
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    if (plat_make_private_dir(dir) != TMI_OK)
        return 1;
    snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
    if (sqlite3_open(path, &raw) != SQLITE_OK || exec(raw, "PRAGMA journal_mode = WAL") ||
        schema_migrate(raw, 4, err, sizeof(err)) != TMI_OK || exec(raw, "BEGIN") ||
        sqlite3_prepare_v2(
            raw,
            "INSERT INTO audit (seq, time_ns, actor, auth, action, target, params,"
            " outcome, details, prev_hash, hash) VALUES (?,?,?,?,?,?,NULL,'ok',?,?,?)",
            -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_store: v4 store: %s\n", sqlite3_errmsg(raw));
        sqlite3_close(raw);
        return 1;
    }
    rc = insert_v4_rows(st, prev);
    sqlite3_finalize(st);
    st = NULL;
    if (rc == 0 && sqlite3_prepare_v2(raw, "INSERT INTO audit_head VALUES (1, ?, ?)", -1, &st,
                                      NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, N_AUDIT);
        sqlite3_bind_blob(st, 2, prev, 32, SQLITE_STATIC);
        rc = sqlite3_step(st) != SQLITE_DONE;
    }
    sqlite3_finalize(st);
    rc |= exec(raw, "COMMIT");
    *used_before = (double)raw_bytes(raw, 1) / (1024.0 * 1024.0);
    sqlite3_close(raw);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", prev[i]);
    int n =
        snprintf(text, sizeof(text), "tmi-console audit head v1\nseq %d\nhash %s\n", N_AUDIT, hex);
    snprintf(path, sizeof(path), "%s/audit-head", dir);
    if (rc != 0 || plat.write_file(path, text, (size_t)n) != TMI_OK) {
        fprintf(stderr, "bench_store: cannot build the v4 store\n");
        return 1;
    }
    return 0;
}

/* A store at schema v4 in dir with N_AUDIT audit rows as v4 wrote them (4 in
 * 5 of them scans), then opened: the upgrade to v5 converts them. */
static int migration(const char *dir, double *ms, double *used_before, double *used_after)
{
    char err[512];
    store *s = NULL;
    audit_report rep;
    int rc;

    if (make_v4_store(dir, used_before) != 0)
        return 1;
    int64_t t0 = plat_monotonic_ns();
    rc = store_open(dir, &s, err, sizeof(err));
    *ms = ms_since(t0);
    if (rc != TMI_OK) {
        fprintf(stderr, "bench_store: upgrade: %s\n", err);
        return 1;
    }
    rc = audit_verify(s, NULL, &rep);
    if (rc != TMI_OK || !rep.intact || rep.rows != N_AUDIT) {
        fprintf(stderr, "bench_store: verify after the upgrade: %s\n",
                rc != TMI_OK ? store_errmsg(s) : rep.detail);
        store_close(s);
        return 1;
    }
    *used_after = (double)raw_bytes(store_handle(s), 1) / (1024.0 * 1024.0);
    store_close(s);
    return 0;
}

/* The big store in dir: built, then its history and audit pages and a
 * full verify timed. *fail set when a goal is missed; 0, or 1 on error. */
static int big_store(const char *dir, int *fail)
{
    double p50 = 0, p99 = 0, n50 = 0, n99 = 0, a50 = 0, a99 = 0;
    char err[512];
    store *s = NULL;
    audit_report rep;
    int rc = store_open(dir, &s, err, sizeof(err));
    if (rc != TMI_OK) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    int64_t t0 = plat_monotonic_ns();
    if (build_observations(s) != 0)
        goto fail;
    printf("store.build_observations %d (%.1f s)\n", N_PATHS * N_ROUNDS, ms_since(t0) / 1000);
    t0 = plat_monotonic_ns();
    if (build_audit(s) != 0)
        goto fail;
    printf("store.build_audit_rows %d (%.1f s)\n", N_AUDIT, ms_since(t0) / 1000);
    exec(store_handle(s), "PRAGMA cache_size = -2000"); /* measure with the default cache */
    printf("store.db_size_mib %.1f\n", (double)db_bytes(s) / (1024.0 * 1024.0));
    fflush(stdout);

    if (history_pages(s, 0, &p50, &p99) != 0 || history_pages(s, 1, &n50, &n99) != 0 ||
        audit_pages(s, &a50, &a99) != 0)
        goto fail;
    printf("store.history_page_p50_ms %.3f\n", p50);
    printf("store.history_page_p99_ms %.3f (goal < 5)\n", p99);
    printf("store.history_by_name_page_p99_ms %.3f (goal < 5)\n", n99);
    printf("store.audit_page_p50_ms %.3f\n", a50);
    printf("store.audit_page_p99_ms %.3f (goal < 5)\n", a99);
    *fail |= p99 >= 5 || n99 >= 5 || a99 >= 5;

    t0 = plat_monotonic_ns();
    rc = audit_verify(s, NULL, &rep);
    if (rc != TMI_OK || !rep.intact) {
        fprintf(stderr, "bench_store: verify: %s\n", rc != TMI_OK ? store_errmsg(s) : rep.detail);
        goto fail;
    }
    printf("store.audit_verify_100k_ms %.0f\n", ms_since(t0));
    store_close(s);
    fflush(stdout);
    return 0;
fail:
    store_close(s);
    return 1;
}

int main(int argc, char **argv)
{
    char dir[PLAT_PATH_MAX - 16], big[PLAT_PATH_MAX], small[PLAT_PATH_MAX];
    char v4[PLAT_PATH_MAX];
    double growth = 0, per_scan = 0;
    double audit_growth = -1, migrate_ms = 0, used_before = 0, used_after = 0;
    int fail = 0;

    if (argc > 1) {
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    } else {
        const char *tmp = getenv("TMPDIR");
        uint8_t r[4];
        plat_random(r, sizeof(r));
        snprintf(dir, sizeof(dir), "%s/bench-store-%02x%02x%02x%02x",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", r[0], r[1], r[2], r[3]);
    }
    snprintf(big, sizeof(big), "%s/big", dir);
    snprintf(small, sizeof(small), "%s/unchanged", dir);
    snprintf(v4, sizeof(v4), "%s/v4", dir);
    if (big_store(big, &fail) != 0)
        goto fail;

    if (unchanged_scans(small, &growth, &audit_growth, &per_scan) != 0)
        goto fail;
    printf("store.unchanged_scans_10k_growth_mib %.2f (goal < 1)\n", growth);
    if (audit_growth >= 0) { /* where it goes: the scan's audit row is most of it */
        printf("store.unchanged_scans_10k_audit_rows_mib %.2f\n", audit_growth);
        printf("store.unchanged_scans_10k_scan_rows_mib %.2f\n", growth - audit_growth);
    }
    printf("store.unchanged_scan_ms %.2f\n", per_scan);
    fail |= growth >= 1.0;
    fflush(stdout);

    if (migration(v4, &migrate_ms, &used_before, &used_after) != 0)
        goto fail;
    printf("store.upgrade_v4_100k_audit_rows_ms %.0f\n", migrate_ms);
    /* pages in use; the file keeps the freed ones for new rows */
    printf("store.upgrade_v4_100k_used_mib %.1f -> %.1f\n", used_before, used_after);
    if (getenv("BENCH_KEEP") == NULL)
        plat_remove_tree(dir);
    else
        printf("store.kept %s\n", dir);
    return fail ? 1 : 0;
fail:
    plat_remove_tree(dir);
    return 1;
}

/*
 * test_scans.c - recording scans: an observation row only when a path's
 * state changed, shared scan documents, the scan's audit row, and keyset
 * pagination of scans, files and history.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "err.h"
#include "plat.h"
#include "scan_json.h"
#include "scans.h"
#include "sig_digests.h"
#include "store.h"
#include "storetest.h"

static int64_t n_obs(store *s)
{
    return st_int(s, "SELECT count(*) FROM observations");
}

static void first_scan_adds_every_path(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    int64_t id = 0;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 2, 8);
    assert_int_equal(scans_record(s, r, &st_actor, &id), TMI_OK);
    assert_int_equal(id, 1);
    assert_int_equal(n_obs(s), 24);
    assert_int_equal(st_int(s, "SELECT count(*) FROM files"), 24);
    assert_int_equal(st_int(s, "SELECT count(*) FROM files WHERE kind = 'source'"), 16);
    assert_int_equal(st_int(s, "SELECT changed FROM scans WHERE id = 1"), 24);
    /* the scan's audit row, in the same transaction */
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 1);
    assert_string_equal(rows.rows[0].action, "scan");
    assert_string_equal(rows.rows[0].actor, "tester");
    assert_string_equal(rows.rows[0].auth, "cli");
    assert_string_equal(rows.rows[0].target, "/tmi");
    assert_string_equal(rows.rows[0].outcome, "ok");
    assert_string_equal(rows.rows[0].details,
                        "{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":24}");
    audit_rows_free(&rows);
    scan_result_free(r);
    store_close(s);
}

static void unchanged_scans_add_no_rows(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 2, 8);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    int64_t obs = n_obs(s);
    for (int i = 0; i < 20; i++) {
        r->started_ns += 60000000000LL; /* a minute later, same files */
        r->finished_ns += 60000000000LL;
        assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    }
    assert_int_equal(n_obs(s), obs);
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans"), 21);
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans WHERE changed = 0"), 20);
    /* one stored document for all 21 (times live in the scans rows) */
    assert_int_equal(st_int(s, "SELECT count(*) FROM scan_docs"), 1);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 21);
    scan_result_free(r);
    store_close(s);
}

/* A source folder that disappears: one "missing" row per file it held, once;
 * a folder elsewhere that shares the name's prefix is left alone. */
static void vanished_source_folder_is_recorded(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 2, 8);
    scan_result *other = st_scan("/tmi-other", 0, 1, 8);
    assert_int_equal(scans_record(s, other, &st_actor, NULL), TMI_OK);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    int64_t obs = n_obs(s);
    /* backup1 is gone */
    size_t keep = r->n_sources;
    r->n_sources = 1;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs + 8);
    assert_int_equal(st_int(s,
                            "SELECT count(*) FROM observations o JOIN files f ON f.id = o.file_id"
                            " WHERE f.path LIKE '/tmi/backup1/%' AND o.present = 0"
                            " AND o.status = 'missing'"),
                     8);
    assert_int_equal(st_int(s, "SELECT changed FROM scans ORDER BY id DESC LIMIT 1"), 8);
    /* once: the next scan without it adds nothing; /tmi-other kept its rows */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs + 8);
    assert_int_equal(st_int(s,
                            "SELECT count(*) FROM observations o JOIN files f ON f.id = o.file_id"
                            " WHERE f.path LIKE '/tmi-other/%' AND o.present = 0"),
                     0);
    /* back again: present rows */
    r->n_sources = keep;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs + 16);
    scan_result_free(r);
    scan_result_free(other);
    store_close(s);
}

/* f5.dll's history after one_change_adds_one_row: present, gone, back. */
static void check_f5_history(store *s, const scan_result *r)
{
    scans_obs_list h = {NULL, 0};
    history_query q = {"f5.dll", 0, 0};
    assert_int_equal(scans_history(s, &q, &h), TMI_OK);
    /* f5.dll in the TMI folder (3 rows) and in backup0 (1 row) */
    assert_int_equal(h.count, 4);
    scans_obs_list_free(&h);
    q.file = r->files[5].path;
    assert_int_equal(scans_history(s, &q, &h), TMI_OK);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.rows[0].present, 1);
    assert_int_equal(h.rows[1].present, 0);
    assert_string_equal(h.rows[1].status, "missing");
    assert_int_equal(h.rows[2].present, 1);
    assert_string_equal(h.rows[2].version, "1.12.0.1266");
    assert_int_equal(h.rows[2].size, r->files[5].size);
    assert_true(h.rows[2].has_sha256);
    assert_memory_equal(h.rows[2].sha256, r->files[5].sha256, 32);
    scans_obs_list_free(&h);
}

static void one_change_adds_one_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 1, 8);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    int64_t obs = n_obs(s);

    /* each kind of change, one at a time, on different files */
    r->files[0].size += 1;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    r->files[1].mtime_ns += 1;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    r->files[2].sha256[31] ^= 1;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    version_parse("1.12.0.1156", &r->files[3].version);
    r->files[3].status = FILE_OLD;
    r->files[3].known_bad = 1;
    r->verdict = SCAN_AFFECTED;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    r->files[4].status = FILE_NEWER; /* status alone */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    r->files[5].present = 0; /* gone */
    r->files[5].has_sha256 = 0;
    r->files[5].has_version = 0;
    r->files[5].status = FILE_MISSING;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    assert_int_equal(st_int(s, "SELECT present IS 0 AND size IS NULL AND mtime_ns IS NULL"
                               " AND sha256 IS NULL AND version IS NULL"
                               " FROM observations ORDER BY id DESC LIMIT 1"),
                     1);
    r->files[6].has_version = 0; /* unreadable */
    r->files[6].status = FILE_UNREADABLE;
    r->files[6].error = strdup("no version resource");
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    r->sources[0].files[7].size = 1; /* a source file */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    /* and back to unchanged */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs);
    /* the error text alone is not a change */
    free(r->files[6].error);
    r->files[6].error = strdup("another wording");
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs);
    /* the file reappears as before */
    r->files[5].present = 1;
    r->files[5].has_sha256 = 1;
    r->files[5].has_version = 1;
    r->files[5].status = FILE_OK;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    check_f5_history(s, r);
    scan_result_free(r);
    store_close(s);
}

/* A signature change with the same bytes (a trust store or an expiry) is a
 * change; an observation that recorded no signature (made before the store
 * kept them) does not make one by itself. */
static void signature_change_is_a_change(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 1, 8);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    int64_t obs = n_obs(s);
    /* rows without a signature, then the first scan that records one */
    for (size_t i = 0; i < r->n_files; i++)
        r->files[i].has_sig = 1; /* unsigned */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs);
    st_exec(s, "UPDATE observations SET sig_status = 'unsigned'"
               " WHERE file_id IN (SELECT id FROM files WHERE kind = 'tmi')");
    /* signed now, same bytes */
    scan_file *f = &r->files[2];
    f->sig.status = SIG_VALID;
    f->sig.has_signer = 1;
    snprintf(f->sig.signer_o, sizeof(f->sig.signer_o), "Trend Micro, Inc.");
    memset(f->sig.thumb_sha256, 0xab, 32);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), obs);
    /* another certificate of the same publisher */
    f->sig.thumb_sha256[0] = 0xcd;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    /* the root is no longer trusted */
    f->sig.status = SIG_INVALID;
    f->sig.reason = SIG_REASON_UNTRUSTED_ROOT;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(n_obs(s), ++obs);
    scans_obs_list h = {NULL, 0};
    history_query q = {f->path, 0, 0};
    assert_int_equal(scans_history(s, &q, &h), TMI_OK);
    assert_true(h.count >= 3);
    assert_string_equal(h.rows[0].sig_status, "invalid");
    assert_string_equal(h.rows[0].sig_reason, "untrusted_root");
    assert_string_equal(h.rows[0].sig_signer, "Trend Micro, Inc.");
    assert_true(h.rows[0].has_sig_thumbprint);
    assert_int_equal(h.rows[0].sig_thumbprint[0], 0xcd);
    cJSON *j = scans_obs_json(&h.rows[0]);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(j, "signature");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sig, "reason")->valuestring,
                        "untrusted_root");
    cJSON_Delete(j);
    assert_string_equal(h.rows[1].sig_status, "valid");
    assert_null(h.rows[1].sig_reason);
    scans_obs_list_free(&h);
    scan_result_free(r);
    store_close(s);
}

static void scan_json_round_trips(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    int64_t id = 0;
    cJSON *back = NULL;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 2, 8);
    assert_int_equal(scans_record(s, r, &st_actor, &id), TMI_OK);
    r->started_ns += 1000000000LL;
    assert_int_equal(scans_record(s, r, &st_actor, &id), TMI_OK);
    assert_int_equal(scans_doc_json(s, id, &back), TMI_OK);
    cJSON *want = scan_to_json(r);
    char *a = cJSON_PrintUnformatted(want);
    char *b = cJSON_PrintUnformatted(back);
    assert_string_equal(b, a);
    cJSON_free(a);
    cJSON_free(b);
    cJSON_Delete(want);
    cJSON_Delete(back);
    assert_int_equal(scans_doc_json(s, 99, &back), TMI_ENOENT);
    assert_null(back);
    scan_result_free(r);
    store_close(s);
}

static void refuses_malformed_results(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 2, 0, 0);
    audit_actor bad_actor = {"x", "telnet"};
    assert_int_equal(scans_record(s, NULL, &st_actor, NULL), TMI_EINVAL);
    assert_int_equal(scans_record(s, r, NULL, NULL), TMI_EINVAL);
    assert_int_equal(scans_record(s, r, &bad_actor, NULL), TMI_EINVAL);
    r->verdict = (scan_verdict)7;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_EINVAL);
    r->verdict = SCAN_HEALTHY;
    char *saved = r->files[1].path;
    r->files[1].path = NULL;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_EINVAL);
    r->files[1].path = saved;
    r->repair_source = 3;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_EINVAL);
    r->repair_source = -1;
    /* nothing of the refused attempts was written */
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans"), 0);
    assert_int_equal(st_int(s, "SELECT count(*) FROM files"), 0);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 0);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    scan_result_free(r);
    store_close(s);
}

static void too_many_files_refused(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 3, SCANS_MAX_FILES / 3 + 1);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_ETOOBIG);
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans"), 0);
    scan_result_free(r);
    store_close(s);
}

/* ---- pagination ---- */

/* Walk every page of the history per q (page size `page`) and check that
 * the ids are strictly decreasing, with no duplicates, and total n. */
static void walk_history(store *s, history_query q, size_t page, int64_t n)
{
    int64_t seen = 0, last = INT64_MAX;
    q.limit = page;
    q.before = 0;
    for (;;) {
        scans_obs_list l = {NULL, 0};
        assert_int_equal(scans_history(s, &q, &l), TMI_OK);
        assert_true(l.count <= page);
        for (size_t i = 0; i < l.count; i++) {
            assert_true(l.rows[i].id < last);
            last = l.rows[i].id;
        }
        seen += (int64_t)l.count;
        if (l.count < page) {
            scans_obs_list_free(&l);
            break;
        }
        q.before = l.rows[l.count - 1].id;
        scans_obs_list_free(&l);
    }
    assert_int_equal(seen, n);
}

static void history_pages_have_no_gaps(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 1, 8);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    for (int i = 0; i < 60; i++) {
        r->files[i % 8].size += 1;
        if (i % 3 == 0)
            r->sources[0].files[i % 8].mtime_ns += 1;
        assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    }
    int64_t total = n_obs(s);
    assert_int_equal(total, 16 + 60 + 20);
    history_query q = {NULL, 0, 0};
    size_t pages[] = {1, 7, 16, 50, 500};
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++)
        walk_history(s, q, pages[p], total);
    q.file = r->files[3].path; /* one path: 1 + 60/8 rounded */
    walk_history(s, q, 2,
                 st_int(s, "SELECT count(*) FROM observations o JOIN files f"
                           " ON f.id = o.file_id WHERE f.path = '/tmi/f3.dll'"));
    q.file = "F3.DLL"; /* by name, any case: both folders */
    walk_history(s, q, 3,
                 st_int(s, "SELECT count(*) FROM observations o JOIN files f"
                           " ON f.id = o.file_id WHERE f.name = 'f3.dll'"));
    q.file = "nosuch.dll";
    walk_history(s, q, 5, 0);

    /* files: latest per path */
    int64_t seen = 0, before = 0;
    for (;;) {
        scans_obs_list l = {NULL, 0};
        assert_int_equal(scans_files(s, before, 5, &l), TMI_OK);
        for (size_t i = 0; i < l.count; i++) {
            char sql[256];
            snprintf(sql, sizeof(sql), "SELECT max(id) FROM observations WHERE file_id = %lld",
                     (long long)l.rows[i].file_id);
            assert_int_equal(l.rows[i].id, st_int(s, sql));
            if (before > 0)
                assert_true(l.rows[i].file_id < before);
        }
        seen += (int64_t)l.count;
        if (l.count < 5) {
            scans_obs_list_free(&l);
            break;
        }
        before = l.rows[l.count - 1].file_id;
        scans_obs_list_free(&l);
    }
    assert_int_equal(seen, 16);

    /* scans */
    seen = 0;
    before = 0;
    for (;;) {
        scans_rows l = {NULL, 0};
        assert_int_equal(scans_list(s, before, 9, &l), TMI_OK);
        for (size_t i = 0; i < l.count; i++) {
            if (before > 0)
                assert_true(l.rows[i].id < before);
            assert_int_equal(l.rows[i].id, 61 - seen - (int64_t)i);
        }
        seen += (int64_t)l.count;
        if (l.count < 9) {
            scans_rows_free(&l);
            break;
        }
        before = l.rows[l.count - 1].id;
        scans_rows_free(&l);
    }
    assert_int_equal(seen, 61);
    scan_result_free(r);
    store_close(s);
}

static void limits_are_capped(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 10, 60);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    scans_obs_list l = {NULL, 0};
    history_query q = {NULL, 0, 100000};
    assert_int_equal(scans_history(s, &q, &l), TMI_OK);
    assert_int_equal(l.count, STORE_MAX_LIMIT);
    scans_obs_list_free(&l);
    q.limit = 0;
    assert_int_equal(scans_history(s, &q, &l), TMI_OK);
    assert_int_equal(l.count, STORE_DEFAULT_LIMIT);
    scans_obs_list_free(&l);
    q.before = -1;
    assert_int_equal(scans_history(s, &q, &l), TMI_EINVAL);
    q.before = 0;
    q.file = "";
    assert_int_equal(scans_history(s, &q, &l), TMI_EINVAL);
    scan_result_free(r);
    store_close(s);
}

/* A recorded scan keeps the digest each signed file's check computed, by
 * the file's SHA-256 and the algorithm (once); a digest taken from the
 * cache, an unsigned file, a file with no digest are not kept. */
static void signed_digests_are_kept(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    uint8_t got[SIG_DIGEST_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 4, 1, 4);
    for (size_t i = 0; i < 3; i++) { /* files 0-2 signed, sha256; file 3 unsigned */
        scan_file *f = &r->files[i];
        f->has_sig = 1;
        f->sig.status = SIG_VALID;
        f->sig.digest_alg = SIG_ALG_SHA256;
        f->sig.has_digest = f->sig.has_signed_digest = 1;
        memset(f->sig.digest, 0x10 + (int)i, 32);
        memset(f->sig.signed_digest, 0x10 + (int)i, 32);
    }
    r->files[2].sig.digest_cached = 1; /* came from the cache: already kept */
    r->files[3].has_sig = 1;           /* unsigned: no digest */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(st_int(s, "SELECT count(*) FROM sig_digests"), 2);
    assert_int_equal(sig_digests_lookup(s, r->files[1].sha256, SIG_ALG_SHA256, got), 1);
    assert_memory_equal(got, r->files[1].sig.digest, 32);
    assert_int_equal(sig_digests_lookup(s, r->files[1].sha256, SIG_ALG_SHA1, got), 0);
    assert_int_equal(sig_digests_lookup(s, r->files[2].sha256, SIG_ALG_SHA256, got), 0);
    assert_int_equal(sig_digests_lookup(s, r->files[3].sha256, SIG_ALG_SHA256, got), 0);
    /* recorded again: still one row each */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(st_int(s, "SELECT count(*) FROM sig_digests"), 2);
    /* the table refuses a digest whose length is not its algorithm's */
    assert_int_not_equal(st_exec_rc(s, "INSERT INTO sig_digests VALUES (zeroblob(32), 'sha1',"
                                       " zeroblob(32))"),
                         0);
    /* the cache over the store answers the same */
    scan_digest_cache c;
    sig_digests_cache(s, &c);
    assert_int_equal(c.lookup(c.ctx, r->files[0].sha256, SIG_ALG_SHA256, got), 1);
    assert_memory_equal(got, r->files[0].sig.digest, 32);
    scan_result_free(r);
    store_close(s);
    plat_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/scans/first-scan-adds-every-path", first_scan_adds_every_path),
        ST_TEST("/store/scans/unchanged-adds-no-rows", unchanged_scans_add_no_rows),
        ST_TEST("/store/scans/one-change-one-row", one_change_adds_one_row),
        ST_TEST("/store/scans/signature-change", signature_change_is_a_change),
        ST_TEST("/store/scans/signed-digests-kept", signed_digests_are_kept),
        ST_TEST("/store/scans/vanished-source-folder", vanished_source_folder_is_recorded),
        ST_TEST("/store/scans/json-round-trips", scan_json_round_trips),
        ST_TEST("/store/scans/refuses-malformed", refuses_malformed_results),
        ST_TEST("/store/scans/too-many-files", too_many_files_refused),
        ST_TEST("/store/history/pages-have-no-gaps", history_pages_have_no_gaps),
        ST_TEST("/store/history/limits-capped", limits_are_capped),
    };
    return cmocka_run_group_tests_name("scans", tests, NULL, NULL);
}

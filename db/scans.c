/*
 * scans.c - record scans with change-only file observations; list scans,
 * files and a file's history (see scans.h).
 */
#include "scans.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "hex.h"
#include "scan_json.h"
#include "sig_digests.h"
#include "store_int.h"
#include "strutil.h"
#include "timefmt.h"

/* The state of a path that, when it differs, makes a new observation. */
typedef struct obs_state {
    int present;
    int64_t size;
    int64_t mtime_ns;
    int has_sha256;
    uint8_t sha256[32];
    char version[TMI_VERSION_STRLEN]; /* "" when none */
    const char *status;
    const char *sig_status; /* NULL: not checked */
    const char *sig_reason; /* NULL unless invalid */
    const char *sig_signer; /* NULL when no signer */
    int has_thumb;
    uint8_t thumb[32];
} obs_state;

static void state_from_file(const scan_file *f, obs_state *st)
{
    memset(st, 0, sizeof(*st));
    st->present = f->present ? 1 : 0;
    if (st->present) {
        st->size = (int64_t)f->size;
        st->mtime_ns = f->mtime_ns;
    }
    st->has_sha256 = f->has_sha256 ? 1 : 0;
    if (st->has_sha256)
        memcpy(st->sha256, f->sha256, 32);
    if (f->has_version)
        version_format(&f->version, st->version, sizeof(st->version));
    st->status = file_status_name(f->status);
    if (!f->has_sig)
        return;
    st->sig_status = f->sig.status == SIG_VALID     ? "valid"
                     : f->sig.status == SIG_INVALID ? "invalid"
                                                    : "unsigned";
    st->sig_reason = sig_reason_name(f->sig.reason);
    if (f->sig.has_signer) {
        st->sig_signer = f->sig.signer_o;
        st->has_thumb = 1;
        memcpy(st->thumb, f->sig.thumb_sha256, 32);
    }
}

static int same_text(sqlite3_stmt *st, int col, const char *want)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    if (v == NULL || want == NULL)
        return v == NULL && want == NULL;
    return strcmp(v, want) == 0;
}

/* The signature columns (6..9) against *want; a row without a recorded
 * signature (status NULL) matches any. */
static int same_sig(sqlite3_stmt *st, const obs_state *want)
{
    if (sqlite3_column_type(st, 6) == SQLITE_NULL)
        return 1;
    if (!same_text(st, 6, want->sig_status) || !same_text(st, 7, want->sig_reason) ||
        !same_text(st, 8, want->sig_signer))
        return 0;
    int has = sqlite3_column_bytes(st, 9) == 32;
    return has == want->has_thumb &&
           (!has || memcmp(sqlite3_column_blob(st, 9), want->thumb, 32) == 0);
}

/* Does the observation row in st (columns: present, size, mtime_ns, sha256,
 * version, status) equal *want? */
static int same_state(sqlite3_stmt *st, const obs_state *want)
{
    if (sqlite3_column_int(st, 0) != want->present)
        return 0;
    if (want->present) {
        if (sqlite3_column_type(st, 1) == SQLITE_NULL || sqlite3_column_int64(st, 1) != want->size)
            return 0;
        if (sqlite3_column_type(st, 2) == SQLITE_NULL ||
            sqlite3_column_int64(st, 2) != want->mtime_ns)
            return 0;
    } else if (sqlite3_column_type(st, 1) != SQLITE_NULL ||
               sqlite3_column_type(st, 2) != SQLITE_NULL) {
        return 0;
    }
    int has_sha = sqlite3_column_type(st, 3) != SQLITE_NULL;
    if (has_sha != want->has_sha256)
        return 0;
    if (has_sha && (sqlite3_column_bytes(st, 3) != 32 ||
                    memcmp(sqlite3_column_blob(st, 3), want->sha256, 32) != 0))
        return 0;
    const char *v = (const char *)sqlite3_column_text(st, 4);
    if (strcmp(v != NULL ? v : "", want->version) != 0)
        return 0;
    const char *status = (const char *)sqlite3_column_text(st, 5);
    return status != NULL && strcmp(status, want->status) == 0 && same_sig(st, want);
}

/* Find or create the files row of path; *file_id and *latest (0 if none). */
static int file_row(store *s, const scan_file *f, const char *kind, int64_t *file_id,
                    int64_t *latest)
{
    sqlite3_stmt *st = NULL;
    int rc =
        store_stmt(s, STMT_FILE_GET, "SELECT id, latest_obs_id FROM files WHERE path = ?", &st);
    int src;
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *file_id = sqlite3_column_int64(st, 0);
        *latest = sqlite3_column_int64(st, 1); /* NULL reads as 0 */
        store_stmt_release(st);
        return TMI_OK;
    }
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot read the files table");
    rc = store_stmt(s, STMT_FILE_INSERT, "INSERT INTO files (path, name, kind) VALUES (?, ?, ?)",
                    &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_text(st, 1, f->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot add to the files table");
    *file_id = sqlite3_last_insert_rowid(s->db);
    *latest = 0;
    return TMI_OK;
}

static int latest_same(store *s, int64_t latest, const obs_state *want, int *same)
{
    sqlite3_stmt *st = NULL;
    *same = 0;
    if (latest == 0)
        return TMI_OK;
    int rc = store_stmt(s, STMT_OBS_GET,
                        "SELECT present, size, mtime_ns, sha256, version, status, sig_status,"
                        " sig_reason, sig_signer, sig_thumbprint FROM observations WHERE id = ?",
                        &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, latest);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *same = same_state(st, want);
    else if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read an observation");
    store_stmt_release(st);
    return rc;
}

static int insert_obs(store *s, int64_t file_id, int64_t scan_id, int64_t when, const scan_file *f,
                      const obs_state *o)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_OBS_INSERT,
                        "INSERT INTO observations (file_id, scan_id, observed_ns, present, size,"
                        " mtime_ns, sha256, version, status, known_bad, error, sig_status,"
                        " sig_reason, sig_signer, sig_thumbprint)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_int64(st, 2, scan_id);
    sqlite3_bind_int64(st, 3, when);
    sqlite3_bind_int(st, 4, o->present);
    if (o->present) {
        sqlite3_bind_int64(st, 5, o->size);
        sqlite3_bind_int64(st, 6, o->mtime_ns);
    }
    if (o->has_sha256)
        sqlite3_bind_blob(st, 7, o->sha256, 32, SQLITE_STATIC);
    if (o->version[0] != '\0')
        sqlite3_bind_text(st, 8, o->version, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, o->status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 10, f->known_bad ? 1 : 0);
    store_bind_text(st, 11, f->error);
    store_bind_text(st, 12, o->sig_status);
    store_bind_text(st, 13, o->sig_reason);
    store_bind_text(st, 14, o->sig_signer);
    if (o->has_thumb)
        sqlite3_bind_blob(st, 15, o->thumb, 32, SQLITE_STATIC);
    int src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot add an observation");
    int64_t obs_id = sqlite3_last_insert_rowid(s->db);
    rc =
        store_stmt(s, STMT_FILE_SET_LATEST, "UPDATE files SET latest_obs_id = ? WHERE id = ?", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, obs_id);
    sqlite3_bind_int64(st, 2, file_id);
    src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot update the files table");
    return TMI_OK;
}

/* Observe one file of scan scan_id; *changed += 1 when a row was added. */
static int observe(store *s, int64_t scan_id, int64_t when, const scan_file *f, const char *kind,
                   int64_t *changed)
{
    obs_state want;
    int64_t file_id = 0, latest = 0;
    int same = 0;
    int rc = sig_digests_keep(s, f);
    if (rc == TMI_OK)
        rc = file_row(s, f, kind, &file_id, &latest);
    if (rc != TMI_OK)
        return rc;
    state_from_file(f, &want);
    rc = latest_same(s, latest, &want, &same);
    if (rc != TMI_OK || same)
        return rc;
    rc = insert_obs(s, file_id, scan_id, when, f, &want);
    if (rc == TMI_OK)
        (*changed)++;
    return rc;
}

/* Is path one of the source files this scan reported? */
static int reported_source(const scan_result *r, const char *path)
{
    for (size_t i = 0; i < r->n_sources; i++) {
        for (size_t k = 0; k < r->sources[i].n_files; k++) {
            if (strcmp(r->sources[i].files[k].path, path) == 0)
                return 1;
        }
    }
    return 0;
}

/*
 * Source files last seen present below this scan's TMI folder that the scan
 * no longer reports (their folder was deleted or renamed) get one "missing"
 * row each, so the history says when they went; the TMI files themselves
 * are always reported (missing ones as such). At most SCANS_MAX_FILES.
 */
static int observe_gone(store *s, const scan_result *r, int64_t scan_id, int64_t *changed)
{
    sqlite3_stmt *st = NULL;
    scan_file *gone = NULL; /* name and path owned here */
    size_t n = 0, cap = 0, plen;
    int rc, src = SQLITE_DONE;
    if (r->tmi_dir == NULL || r->tmi_dir[0] == '\0')
        return TMI_OK;
    plen = strlen(r->tmi_dir);
    rc = store_prepare(s,
                       "SELECT f.path, f.name FROM files f JOIN observations o"
                       " ON o.id = f.latest_obs_id"
                       " WHERE f.kind = 'source' AND o.present = 1 AND substr(f.path, 1, ?) = ?",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)plen);
    sqlite3_bind_text(st, 2, r->tmi_dir, -1, SQLITE_STATIC);
    /* collected first, observed after: the statement must be done before
     * observe() writes to the same tables */
    while (rc == TMI_OK && (src = sqlite3_step(st)) == SQLITE_ROW && n < SCANS_MAX_FILES) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        /* below the folder (not a sibling that shares its prefix), not seen now */
        if (path == NULL || name == NULL || (path[plen] != '/' && path[plen] != '\\') ||
            reported_source(r, path))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            scan_file *g = realloc(gone, ncap * sizeof(*g));
            if (g == NULL) {
                rc = store_fail(s, TMI_ENOMEM, "out of memory");
                break;
            }
            gone = g;
            cap = ncap;
        }
        memset(&gone[n], 0, sizeof(gone[n]));
        gone[n].status = FILE_MISSING;
        gone[n].path = str_dup(path);
        gone[n].name = str_dup(name);
        n++;
        if (gone[n - 1].path == NULL || gone[n - 1].name == NULL)
            rc = store_fail(s, TMI_ENOMEM, "out of memory");
    }
    if (rc == TMI_OK && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the files table");
    sqlite3_finalize(st);
    for (size_t i = 0; rc == TMI_OK && i < n; i++)
        rc = observe(s, scan_id, r->started_ns, &gone[i], "source", changed);
    for (size_t i = 0; i < n; i++) {
        free(gone[i].path);
        free(gone[i].name);
    }
    free(gone);
    return rc;
}

static int check_file(store *s, const scan_file *f)
{
    if (f->name == NULL || f->path == NULL || f->name[0] == '\0' || f->path[0] == '\0')
        return store_fail(s, TMI_EINVAL, "scan: a file has no name or path");
    if (strlen(f->path) >= PLAT_PATH_MAX || strlen(f->name) >= PLAT_PATH_MAX)
        return store_fail(s, TMI_ETOOBIG, "scan: a path is too long");
    if (f->error != NULL && strlen(f->error) > 4096)
        return store_fail(s, TMI_ETOOBIG, "scan: an error message is too long");
    if (f->present && f->size > (uint64_t)INT64_MAX)
        return store_fail(s, TMI_EINVAL, "scan: file size out of range");
    return TMI_OK;
}

static int check_result(store *s, const scan_result *r)
{
    size_t total = r->n_files;
    int rc = TMI_OK;
    if (r->verdict != SCAN_NOT_INSTALLED && r->verdict != SCAN_HEALTHY &&
        r->verdict != SCAN_AFFECTED)
        return store_fail(s, TMI_EINVAL, "scan: unknown verdict");
    if ((r->n_files > 0 && r->files == NULL) || (r->n_sources > 0 && r->sources == NULL))
        return store_fail(s, TMI_EINVAL, "scan: malformed result");
    /* the finish is stored as a duration, which must not overflow */
    if ((r->started_ns < 0 && r->finished_ns > INT64_MAX + r->started_ns) ||
        (r->started_ns > 0 && r->finished_ns < INT64_MIN + r->started_ns))
        return store_fail(s, TMI_EINVAL, "scan: start and finish times out of range");
    if (r->repair_source >= 0 && (size_t)r->repair_source >= r->n_sources)
        return store_fail(s, TMI_EINVAL, "scan: repair source out of range");
    for (size_t i = 0; i < r->n_sources; i++) {
        const scan_source *src = &r->sources[i];
        if (src->path == NULL || src->variant == NULL || (src->n_files > 0 && src->files == NULL))
            return store_fail(s, TMI_EINVAL, "scan: malformed source folder");
        if (src->n_files > SCANS_MAX_FILES || total > SCANS_MAX_FILES)
            break;
        total += src->n_files;
    }
    if (total > SCANS_MAX_FILES)
        return store_fail(s, TMI_ETOOBIG, "scan: more than %d files", SCANS_MAX_FILES);
    for (size_t i = 0; rc == TMI_OK && i < r->n_files; i++)
        rc = check_file(s, &r->files[i]);
    for (size_t i = 0; rc == TMI_OK && i < r->n_sources; i++) {
        for (size_t k = 0; rc == TMI_OK && k < r->sources[i].n_files; k++)
            rc = check_file(s, &r->sources[i].files[k]);
    }
    return rc;
}

/* The document text (JSON without started/finished) into *text (cJSON heap). */
static int make_doc(store *s, const scan_result *r, char **text, uint8_t sha[32])
{
    cJSON *j = scan_to_json(r);
    *text = NULL;
    if (j == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "started");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "finished");
    *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (*text == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    size_t n = strlen(*text);
    if (n > SCANS_MAX_JSON)
        return store_fail(s, TMI_ETOOBIG, "scan: document larger than %d bytes", SCANS_MAX_JSON);
    int rc = plat_sha256(*text, n, sha);
    if (rc != TMI_OK)
        return store_fail(s, rc, "cannot hash the scan document");
    return TMI_OK;
}

static int doc_row(store *s, const scan_result *r, const char *text, const uint8_t sha[32],
                   int64_t *doc_id)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_DOC_GET, "SELECT id FROM scan_docs WHERE sha256 = ?", &st);
    int src;
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *doc_id = sqlite3_column_int64(st, 0);
    store_stmt_release(st);
    if (src == SQLITE_ROW)
        return TMI_OK;
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot read the scan documents");
    rc = store_stmt(s, STMT_DOC_INSERT,
                    "INSERT INTO scan_docs (sha256, verdict, tmi_dir, root, playbook_id, json)"
                    " VALUES (?,?,?,?,?,?)",
                    &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, scan_verdict_name(r->verdict), -1, SQLITE_STATIC);
    store_bind_text(st, 3, r->tmi_dir);
    store_bind_text(st, 4, r->root);
    store_bind_text(st, 5, r->playbook_id);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot store the scan document");
    *doc_id = sqlite3_last_insert_rowid(s->db);
    return TMI_OK;
}

static int scan_row(store *s, const scan_result *r, const scan_origin *origin, int64_t doc_id,
                    int64_t *scan_id)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_SCAN_INSERT,
                        "INSERT INTO scans (started_ns, duration_ns, doc_id, reason, job_id)"
                        " VALUES (?,?,?,?,?)",
                        &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, r->started_ns);
    sqlite3_bind_int64(st, 2, r->finished_ns - r->started_ns); /* in range: check_result */
    sqlite3_bind_int64(st, 3, doc_id);
    sqlite3_bind_int(st, 4, (int)origin->reason);
    if (origin->job_id > 0)
        sqlite3_bind_int64(st, 5, origin->job_id);
    else
        sqlite3_bind_null(st, 5);
    int src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot store the scan");
    *scan_id = sqlite3_last_insert_rowid(s->db);
    return TMI_OK;
}

static int set_changed(store *s, int64_t scan_id, int64_t changed)
{
    sqlite3_stmt *st = NULL;
    if (changed == 0)
        return TMI_OK;
    int rc = store_stmt(s, STMT_SCAN_SET_CHANGED, "UPDATE scans SET changed = ? WHERE id = ?", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, changed);
    sqlite3_bind_int64(st, 2, scan_id);
    int src = sqlite3_step(st);
    store_stmt_release(st);
    if (src != SQLITE_DONE)
        return store_fail_sqlite(s, src, "cannot store the scan");
    return TMI_OK;
}

static int audit_scan(store *s, const scan_result *r, const audit_actor *actor,
                      const scan_origin *origin, int64_t scan_id, int64_t changed)
{
    char details[200];
    audit_event ev;
    /* a person's scan keeps the compact summary (stored as numbers) */
    if (origin->reason == SCAN_BY_USER)
        snprintf(details, sizeof(details),
                 "{\"scan_id\":%" PRId64 ",\"verdict\":\"%s\",\"changed\":%" PRId64 "}", scan_id,
                 scan_verdict_name(r->verdict), changed);
    else if (origin->job_id > 0)
        snprintf(details, sizeof(details),
                 "{\"scan_id\":%" PRId64 ",\"verdict\":\"%s\",\"changed\":%" PRId64
                 ",\"reason\":\"%s\",\"job\":%" PRId64 "}",
                 scan_id, scan_verdict_name(r->verdict), changed, scan_reason_name(origin->reason),
                 origin->job_id);
    else
        snprintf(details, sizeof(details),
                 "{\"scan_id\":%" PRId64 ",\"verdict\":\"%s\",\"changed\":%" PRId64
                 ",\"reason\":\"%s\"}",
                 scan_id, scan_verdict_name(r->verdict), changed, scan_reason_name(origin->reason));
    memset(&ev, 0, sizeof(ev));
    ev.action = "scan";
    ev.target = r->tmi_dir != NULL ? r->tmi_dir : r->root;
    ev.outcome = "ok";
    ev.details = details;
    return audit_append(s, actor, &ev, NULL);
}

int scans_record(store *s, const scan_result *r, const audit_actor *actor, int64_t *scan_id)
{
    static const scan_origin by_user = {SCAN_BY_USER, 0};
    return scans_record_from(s, r, actor, &by_user, scan_id);
}

int scans_record_from(store *s, const scan_result *r, const audit_actor *actor,
                      const scan_origin *origin, int64_t *scan_id)
{
    char *doc = NULL;
    uint8_t sha[32];
    int64_t doc_id = 0, id = 0, changed = 0;
    int rc, in_tx = 0;

    if (s == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    if (r == NULL || actor == NULL)
        return store_fail(s, TMI_EINVAL, "scan: result and actor are required");
    if (origin == NULL || origin->reason < SCAN_BY_USER || origin->reason > SCAN_BY_JOB_CHECK ||
        origin->job_id < 0)
        return store_fail(s, TMI_EINVAL, "scan: bad origin");
    rc = check_result(s, r);
    if (rc != TMI_OK)
        return rc;
    rc = make_doc(s, r, &doc, sha);
    if (rc != TMI_OK)
        goto out;
    rc = store_begin(s);
    if (rc != TMI_OK)
        goto out;
    in_tx = 1;
    rc = doc_row(s, r, doc, sha, &doc_id);
    if (rc == TMI_OK)
        rc = scan_row(s, r, origin, doc_id, &id);
    for (size_t i = 0; rc == TMI_OK && i < r->n_files; i++)
        rc = observe(s, id, r->started_ns, &r->files[i], "tmi", &changed);
    for (size_t i = 0; rc == TMI_OK && i < r->n_sources; i++) {
        const scan_source *src = &r->sources[i];
        for (size_t k = 0; rc == TMI_OK && k < src->n_files; k++)
            rc = observe(s, id, r->started_ns, &src->files[k], "source", &changed);
    }
    if (rc == TMI_OK)
        rc = observe_gone(s, r, id, &changed);
    if (rc == TMI_OK)
        rc = set_changed(s, id, changed);
    if (rc == TMI_OK)
        rc = audit_scan(s, r, actor, origin, id, changed);
    if (rc == TMI_OK) {
        in_tx = 0;
        rc = store_commit(s);
    }
out:
    if (in_tx) {
        char saved[sizeof(s->errmsg)];
        memcpy(saved, s->errmsg, sizeof(saved));
        store_rollback(s);
        memcpy(s->errmsg, saved, sizeof(saved));
    }
    cJSON_free(doc);
    if (rc == TMI_OK && scan_id != NULL)
        *scan_id = id;
    return rc;
}

/* ---- queries ---- */

void scans_rows_free(scans_rows *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->rows[i].verdict);
        free(list->rows[i].tmi_dir);
        free(list->rows[i].root);
        free(list->rows[i].playbook_id);
    }
    free(list->rows);
    list->rows = NULL;
    list->count = 0;
}

int scans_list(store *s, int64_t before, size_t limit, scans_rows *out)
{
    sqlite3_stmt *st = NULL;
    scans_rows list = {NULL, 0};
    int n = store_clamp_limit(limit);
    int rc, src;

    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    if (before < 0)
        return store_fail(s, TMI_EINVAL, "'before' must be a positive id");
    rc = store_prepare(s,
                       "SELECT s.id, s.started_ns, s.started_ns + s.duration_ns, d.verdict,"
                       " d.tmi_dir, d.root,"
                       " d.playbook_id, s.changed, s.reason, s.job_id"
                       " FROM scans s JOIN scan_docs d ON d.id = s.doc_id"
                       " WHERE s.id < ? ORDER BY s.id DESC LIMIT ?",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int(st, 2, n);
    list.rows = calloc((size_t)n, sizeof(*list.rows));
    if (list.rows == NULL) {
        rc = store_fail(s, TMI_ENOMEM, "out of memory");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW && list.count < (size_t)n) {
        scans_row *r = &list.rows[list.count++];
        r->id = sqlite3_column_int64(st, 0);
        r->started_ns = sqlite3_column_int64(st, 1);
        r->finished_ns = sqlite3_column_int64(st, 2);
        r->changed = sqlite3_column_int64(st, 7);
        r->origin.reason = (scan_reason)sqlite3_column_int(st, 8);
        r->origin.job_id = sqlite3_column_int64(st, 9);
        rc = store_col_strdup(st, 3, &r->verdict);
        if (rc == TMI_OK)
            rc = store_col_strdup(st, 4, &r->tmi_dir);
        if (rc == TMI_OK)
            rc = store_col_strdup(st, 5, &r->root);
        if (rc == TMI_OK)
            rc = store_col_strdup(st, 6, &r->playbook_id);
        if (rc != TMI_OK) {
            store_fail(s, rc, "out of memory");
            goto out;
        }
    }
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot list the scans");
out:
    sqlite3_finalize(st);
    if (rc != TMI_OK) {
        scans_rows_free(&list);
        return rc;
    }
    *out = list;
    return TMI_OK;
}

/* Rebuild obj with "started"/"finished" after "playbook" (scan_to_json's order). */
static cJSON *with_times(cJSON *doc, int64_t started_ns, int64_t finished_ns)
{
    char a[40], b[40];
    cJSON *o = cJSON_CreateObject();
    int placed = 0;
    if (o == NULL)
        return NULL;
    while (doc->child != NULL) {
        cJSON *item = cJSON_DetachItemViaPointer(doc, doc->child);
        int after = item->string != NULL && strcmp(item->string, "playbook") == 0;
        cJSON_AddItemToObject(o, item->string, item);
        if (after) {
            cJSON_AddStringToObject(o, "started", time_format_utc(started_ns, a, sizeof(a)));
            cJSON_AddStringToObject(o, "finished", time_format_utc(finished_ns, b, sizeof(b)));
            placed = 1;
        }
    }
    if (!placed) {
        cJSON_AddStringToObject(o, "started", time_format_utc(started_ns, a, sizeof(a)));
        cJSON_AddStringToObject(o, "finished", time_format_utc(finished_ns, b, sizeof(b)));
    }
    return o;
}

int scans_doc_json(store *s, int64_t scan_id, cJSON **out)
{
    sqlite3_stmt *st = NULL;
    cJSON *doc = NULL;
    int rc, src;

    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    *out = NULL;
    rc = store_prepare(s,
                       "SELECT d.json, s.started_ns, s.started_ns + s.duration_ns FROM scans s"
                       " JOIN scan_docs d ON d.id = s.doc_id WHERE s.id = ?",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, scan_id);
    src = sqlite3_step(st);
    if (src == SQLITE_DONE) {
        rc = store_fail(s, TMI_ENOENT, "no scan %" PRId64, scan_id);
        goto out;
    }
    if (src != SQLITE_ROW) {
        rc = store_fail_sqlite(s, src, "cannot read the scan");
        goto out;
    }
    doc = cJSON_ParseWithLength((const char *)sqlite3_column_text(st, 0),
                                (size_t)sqlite3_column_bytes(st, 0));
    if (doc == NULL || !cJSON_IsObject(doc)) {
        rc = store_fail(s, TMI_ECORRUPT, "scan %" PRId64 ": stored document is not JSON", scan_id);
        goto out;
    }
    *out = with_times(doc, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
    if (*out == NULL)
        rc = store_fail(s, TMI_ENOMEM, "out of memory");
out:
    cJSON_Delete(doc);
    sqlite3_finalize(st);
    return rc;
}

static void obs_release(scans_obs *o)
{
    free(o->path);
    free(o->name);
    free(o->kind);
    free(o->version);
    free(o->status);
    free(o->error);
    free(o->job_user);
    free(o->sig_status);
    free(o->sig_reason);
    free(o->sig_signer);
}

void scans_obs_list_free(scans_obs_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        obs_release(&list->rows[i]);
    free(list->rows);
    list->rows = NULL;
    list->count = 0;
}

/* Columns every observation query selects, in this order. */
#define OBS_COLUMNS                                                                                \
    "o.id, o.scan_id, o.file_id, o.observed_ns, f.path, f.name, f.kind, o.present, o.size,"        \
    " o.mtime_ns, o.sha256, o.version, o.status, o.known_bad, o.error,"                            \
    " (SELECT sc.reason FROM scans sc WHERE sc.id = o.scan_id),"                                   \
    " (SELECT sc.job_id FROM scans sc WHERE sc.id = o.scan_id),"                                   \
    " (SELECT j.actor FROM scans sc JOIN jobs j ON j.id = sc.job_id WHERE sc.id = o.scan_id),"     \
    " (SELECT sc.started_ns FROM scans sc WHERE sc.id = o.scan_id),"                               \
    " (SELECT p.started_ns + p.duration_ns FROM scans p WHERE p.id < o.scan_id"                    \
    "  ORDER BY p.id DESC LIMIT 1),"                                                               \
    " o.sig_status, o.sig_reason, o.sig_signer, o.sig_thumbprint"

static int read_obs(sqlite3_stmt *st, scans_obs *o)
{
    int rc;
    memset(o, 0, sizeof(*o));
    o->id = sqlite3_column_int64(st, 0);
    o->scan_id = sqlite3_column_int64(st, 1);
    o->file_id = sqlite3_column_int64(st, 2);
    o->observed_ns = sqlite3_column_int64(st, 3);
    o->present = sqlite3_column_int(st, 7);
    o->has_size = sqlite3_column_type(st, 8) != SQLITE_NULL;
    o->size = (uint64_t)sqlite3_column_int64(st, 8);
    o->has_mtime = sqlite3_column_type(st, 9) != SQLITE_NULL;
    o->mtime_ns = sqlite3_column_int64(st, 9);
    o->has_sha256 = sqlite3_column_bytes(st, 10) == 32;
    if (o->has_sha256)
        memcpy(o->sha256, sqlite3_column_blob(st, 10), 32);
    o->known_bad = sqlite3_column_int(st, 13);
    o->origin.reason = (scan_reason)sqlite3_column_int(st, 15);
    o->origin.job_id = sqlite3_column_int64(st, 16);
    o->seen_ns = sqlite3_column_int64(st, 18);
    o->has_since = sqlite3_column_type(st, 19) != SQLITE_NULL;
    o->since_ns = sqlite3_column_int64(st, 19);
    rc = store_col_strdup(st, 4, &o->path);
    if (rc == TMI_OK && o->origin.reason == SCAN_BY_JOB)
        rc = store_col_strdup(st, 17, &o->job_user);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 5, &o->name);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 6, &o->kind);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 11, &o->version);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 12, &o->status);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 14, &o->error);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 20, &o->sig_status);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 21, &o->sig_reason);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 22, &o->sig_signer);
    o->has_sig_thumbprint = sqlite3_column_bytes(st, 23) == 32;
    if (o->has_sig_thumbprint)
        memcpy(o->sig_thumbprint, sqlite3_column_blob(st, 23), 32);
    return rc;
}

/* Run a prepared observation query (limit already bound) into *out. */
static int collect_obs(store *s, sqlite3_stmt *st, int limit, scans_obs_list *out)
{
    scans_obs_list list = {NULL, 0};
    int rc = TMI_OK, src;
    list.rows = calloc((size_t)limit, sizeof(*list.rows));
    if (list.rows == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    while ((src = sqlite3_step(st)) == SQLITE_ROW && list.count < (size_t)limit) {
        rc = read_obs(st, &list.rows[list.count++]);
        if (rc != TMI_OK) {
            store_fail(s, rc, "out of memory");
            break;
        }
    }
    if (rc == TMI_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot read the file history");
    if (rc != TMI_OK) {
        scans_obs_list_free(&list);
        return rc;
    }
    *out = list;
    return TMI_OK;
}

static int is_path(const char *file)
{
    return strchr(file, '/') != NULL || strchr(file, '\\') != NULL;
}

int scans_history(store *s, const history_query *q, scans_obs_list *out)
{
    sqlite3_stmt *st = NULL;
    const char *sql;
    int limit, rc;

    if (s == NULL || q == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    if (q->before < 0)
        return store_fail(s, TMI_EINVAL, "'before' must be a positive id");
    if (q->file != NULL && (q->file[0] == '\0' || strlen(q->file) >= PLAT_PATH_MAX))
        return store_fail(s, TMI_EINVAL, "history: file must be a name or a full path");
    limit = store_clamp_limit(q->limit);
    /* ?1 file, ?2 before, ?3 limit */
    if (q->file == NULL)
        sql = "SELECT " OBS_COLUMNS " FROM observations o JOIN files f ON f.id = o.file_id"
              " WHERE o.id < ?2 ORDER BY o.id DESC LIMIT ?3";
    else if (is_path(q->file))
        sql = "SELECT " OBS_COLUMNS " FROM observations o JOIN files f ON f.id = o.file_id"
              " WHERE o.file_id = (SELECT id FROM files WHERE path = ?1) AND o.id < ?2"
              " ORDER BY o.id DESC LIMIT ?3";
    else
        /* Each path with that name contributes at most one page of ids
         * (from the covering (file_id, id) index); the ids are merged, and
         * only the winning page's rows are read. */
        sql = "SELECT " OBS_COLUMNS " FROM observations o JOIN files f ON f.id = o.file_id"
              " WHERE o.id IN (SELECT o2.id FROM files f2 JOIN observations o2"
              " ON o2.file_id = f2.id WHERE f2.name = ?1 COLLATE NOCASE AND o2.id IN"
              " (SELECT o3.id FROM observations o3 WHERE o3.file_id = f2.id AND o3.id < ?2"
              " ORDER BY o3.id DESC LIMIT ?3) ORDER BY o2.id DESC LIMIT ?3)"
              " ORDER BY o.id DESC LIMIT ?3";
    rc = store_prepare(s, sql, &st);
    if (rc != TMI_OK)
        return rc;
    if (q->file != NULL)
        sqlite3_bind_text(st, 1, q->file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, q->before > 0 ? q->before : INT64_MAX);
    sqlite3_bind_int(st, 3, limit);
    rc = collect_obs(s, st, limit, out);
    sqlite3_finalize(st);
    return rc;
}

int scans_files(store *s, int64_t before, size_t limit, scans_obs_list *out)
{
    sqlite3_stmt *st = NULL;
    int n = store_clamp_limit(limit);
    int rc;

    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    if (before < 0)
        return store_fail(s, TMI_EINVAL, "'before' must be a positive id");
    rc = store_prepare(s,
                       "SELECT " OBS_COLUMNS " FROM files f JOIN observations o"
                       " ON o.id = f.latest_obs_id WHERE f.id < ? ORDER BY f.id DESC LIMIT ?",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX);
    sqlite3_bind_int(st, 2, n);
    rc = collect_obs(s, st, n, out);
    sqlite3_finalize(st);
    return rc;
}

/* ---- JSON ---- */

static void add_time(cJSON *o, const char *name, int64_t ns)
{
    char buf[40];
    cJSON_AddStringToObject(o, name, time_format_utc(ns, buf, sizeof(buf)));
}

static void add_str_or_null(cJSON *o, const char *name, const char *text)
{
    if (text != NULL)
        cJSON_AddStringToObject(o, name, text);
    else
        cJSON_AddNullToObject(o, name);
}

cJSON *scans_row_json(const scans_row *sc)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)sc->id);
    add_time(o, "started", sc->started_ns);
    add_time(o, "finished", sc->finished_ns);
    cJSON_AddStringToObject(o, "verdict", sc->verdict != NULL ? sc->verdict : "");
    add_str_or_null(o, "tmi_dir", sc->tmi_dir);
    add_str_or_null(o, "root", sc->root);
    cJSON_AddStringToObject(o, "playbook", sc->playbook_id != NULL ? sc->playbook_id : "");
    cJSON_AddNumberToObject(o, "changed", (double)sc->changed);
    return o;
}

/* The recorded signature in brief: {status, reason, signer,
 * thumbprint_sha256}, or null when none was recorded. */
static cJSON *obs_sig_json(const scans_obs *ob)
{
    char hex[65];
    cJSON *o;
    if (ob->sig_status == NULL)
        return cJSON_CreateNull();
    o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "status", ob->sig_status);
    add_str_or_null(o, "reason", ob->sig_reason);
    add_str_or_null(o, "signer", ob->sig_signer);
    if (ob->has_sig_thumbprint)
        cJSON_AddStringToObject(o, "thumbprint_sha256", hex_encode(ob->sig_thumbprint, 32, hex));
    else
        cJSON_AddNullToObject(o, "thumbprint_sha256");
    return o;
}

cJSON *scans_obs_json(const scans_obs *ob)
{
    char hex[65];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)ob->id);
    cJSON_AddNumberToObject(o, "scan_id", (double)ob->scan_id);
    cJSON_AddNumberToObject(o, "file_id", (double)ob->file_id);
    add_time(o, "observed", ob->observed_ns);
    cJSON_AddStringToObject(o, "path", ob->path != NULL ? ob->path : "");
    cJSON_AddStringToObject(o, "name", ob->name != NULL ? ob->name : "");
    cJSON_AddStringToObject(o, "kind", ob->kind != NULL ? ob->kind : "");
    cJSON_AddBoolToObject(o, "present", ob->present);
    if (ob->has_size)
        cJSON_AddNumberToObject(o, "size", (double)ob->size);
    else
        cJSON_AddNullToObject(o, "size");
    if (ob->has_mtime)
        add_time(o, "mtime", ob->mtime_ns);
    else
        cJSON_AddNullToObject(o, "mtime");
    if (ob->has_sha256)
        cJSON_AddStringToObject(o, "sha256", hex_encode(ob->sha256, 32, hex));
    else
        cJSON_AddNullToObject(o, "sha256");
    if (ob->version != NULL)
        cJSON_AddStringToObject(o, "version", ob->version);
    else
        cJSON_AddNullToObject(o, "version");
    cJSON_AddStringToObject(o, "status", ob->status != NULL ? ob->status : "");
    cJSON_AddBoolToObject(o, "known_bad", ob->known_bad);
    if (ob->error != NULL)
        cJSON_AddStringToObject(o, "error", ob->error);
    else
        cJSON_AddNullToObject(o, "error");
    cJSON_AddItemToObject(o, "signature", obs_sig_json(ob));
    cJSON_AddItemToObject(o, "changed_by", scans_changed_by_json(ob));
    return o;
}

cJSON *scans_changed_by_json(const scans_obs *ob)
{
    cJSON *c = cJSON_CreateObject();
    if (c == NULL)
        return NULL;
    if (ob->origin.reason == SCAN_BY_JOB) {
        cJSON_AddStringToObject(c, "kind", "job");
        cJSON_AddNumberToObject(c, "job", (double)ob->origin.job_id);
        if (ob->job_user != NULL)
            cJSON_AddStringToObject(c, "user", ob->job_user);
        else
            cJSON_AddNullToObject(c, "user");
        return c;
    }
    cJSON_AddStringToObject(c, "kind", "outside");
    if (ob->has_since)
        add_time(c, "since", ob->since_ns);
    else
        cJSON_AddNullToObject(c, "since");
    add_time(c, "until", ob->seen_ns);
    cJSON_AddStringToObject(c, "seen_by", scan_reason_name(ob->origin.reason));
    return c;
}

const char *scan_reason_name(scan_reason r)
{
    switch (r) {
    case SCAN_BY_WATCH:
        return "watch";
    case SCAN_BY_TIMER:
        return "timer";
    case SCAN_BY_START:
        return "start";
    case SCAN_BY_JOB:
    case SCAN_BY_JOB_CHECK:
        return "job";
    case SCAN_BY_USER:
    default:
        return "user";
    }
}

/* ---- the changes of one scan ---- */

static int read_before(sqlite3_stmt *st, scans_change *c)
{
    int rc = TMI_OK;
    c->has_before = 1;
    c->before_present = sqlite3_column_int(st, 0);
    c->before_has_sha256 = sqlite3_column_bytes(st, 1) == 32;
    if (c->before_has_sha256)
        memcpy(c->before_sha256, sqlite3_column_blob(st, 1), 32);
    rc = store_col_strdup(st, 2, &c->before_version);
    if (rc == TMI_OK)
        rc = store_col_strdup(st, 3, &c->before_status);
    return rc;
}

int scans_changes(store *s, int64_t scan_id, size_t max, scans_change_list *out)
{
    sqlite3_stmt *st = NULL, *prev = NULL;
    scans_obs_list now = {NULL, 0};
    int rc, limit = store_clamp_limit(max);

    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    rc = store_prepare(s,
                       "SELECT " OBS_COLUMNS " FROM observations o JOIN files f ON f.id = o.file_id"
                       " WHERE o.scan_id = ?1 ORDER BY f.path LIMIT ?2",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, scan_id);
    sqlite3_bind_int(st, 2, limit);
    rc = collect_obs(s, st, limit, &now);
    sqlite3_finalize(st);
    if (rc != TMI_OK)
        return rc;
    out->rows = calloc(now.count > 0 ? now.count : 1, sizeof(*out->rows));
    if (out->rows == NULL) {
        scans_obs_list_free(&now);
        return store_fail(s, TMI_ENOMEM, "out of memory");
    }
    rc = store_prepare(s,
                       "SELECT present, sha256, version, status FROM observations"
                       " WHERE file_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT 1",
                       &prev);
    for (size_t i = 0; rc == TMI_OK && i < now.count; i++) {
        scans_change *c = &out->rows[out->count++];
        c->now = now.rows[i];
        memset(&now.rows[i], 0, sizeof(now.rows[i])); /* moved */
        sqlite3_reset(prev);
        sqlite3_bind_int64(prev, 1, c->now.file_id);
        sqlite3_bind_int64(prev, 2, c->now.id);
        int src = sqlite3_step(prev);
        if (src == SQLITE_ROW)
            rc = read_before(prev, c);
        else if (src != SQLITE_DONE)
            rc = store_fail_sqlite(s, src, "cannot read the file history");
    }
    sqlite3_finalize(prev);
    scans_obs_list_free(&now);
    if (rc != TMI_OK)
        scans_change_list_free(out);
    return rc;
}

void scans_change_list_free(scans_change_list *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->count; i++) {
        obs_release(&c->rows[i].now);
        free(c->rows[i].before_version);
        free(c->rows[i].before_status);
    }
    free(c->rows);
    c->rows = NULL;
    c->count = 0;
}

int scans_before(store *s, int64_t scan_id, int64_t *prev_id, int64_t *prev_finished_ns)
{
    sqlite3_stmt *st = NULL;
    int rc, src;
    if (s == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    *prev_id = 0;
    *prev_finished_ns = 0;
    rc = store_prepare(s,
                       "SELECT id, started_ns + duration_ns FROM scans WHERE id < ?"
                       " ORDER BY id DESC LIMIT 1",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, scan_id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *prev_id = sqlite3_column_int64(st, 0);
        *prev_finished_ns = sqlite3_column_int64(st, 1);
    } else if (src != SQLITE_DONE) {
        rc = store_fail_sqlite(s, src, "cannot read the scans");
    }
    sqlite3_finalize(st);
    return rc;
}

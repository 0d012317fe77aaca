/*
 * scans.h - recording scans, and the history of every file they saw.
 *
 * A scan is stored as one `scans` row (times, number of changed files) that
 * points to its document: the JSON of scan_to_json() without the "started"
 * and "finished" members, plus verdict, tmi_dir, root and playbook id. Equal
 * documents are stored once (keyed by their SHA-256), so a scan that finds
 * everything as before costs one small row plus its audit row.
 *
 * Files are keyed by full path, exactly as the scan reported it (letter case
 * kept): the TMI folder's files and the files of every source folder
 * examined. A path gets a new observation row only when its presence, size,
 * mtime, SHA-256, version, status or signature (status, reason, signer,
 * thumbprint: a trust store or a certificate's expiry can change it while
 * the bytes stay) differ from its latest observation; an observation without
 * a recorded signature (made before the store kept them) is not a change by
 * itself. A
 * path that a scan does not report at all (e.g. a source folder that no
 * longer exists) gets no row: that scan did not look at it.
 *
 * Pagination is by keyset, newest first: pass the smallest id of a page as
 * `before` to get the next one; limits are capped at STORE_MAX_LIMIT.
 *
 * Ownership: lists are filled into caller-owned structs and freed with the
 * matching *_free(); every string in them is a heap copy.
 *
 * Names: this module's types and functions start with scans_ (the store
 * itself is store_*, store.h).
 */
#ifndef TMI_SCANS_H
#define TMI_SCANS_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "detect.h"
#include "store.h"

struct cJSON;

/* Most files (TMI + all source folders) one scan may record. */
#define SCANS_MAX_FILES 10000
/* Largest scan document stored, bytes of JSON. */
#define SCANS_MAX_JSON (16 * 1024 * 1024)

/* Why a scan ran: what the history says about who changed what it found.
 * Only a job's scans after it changed something (SCAN_BY_JOB) attribute a
 * change to the job; every other scan found a change made outside
 * tmi-console, between the scan before it and itself. */
typedef enum scan_reason {
    SCAN_BY_USER = 0,      /* a person or script asked (scan, POST /api/scan) */
    SCAN_BY_WATCH = 1,     /* a watched folder changed */
    SCAN_BY_TIMER = 2,     /* the watch timer */
    SCAN_BY_START = 3,     /* the server started (or the demo made its sandbox) */
    SCAN_BY_JOB = 4,       /* a job's verify or rescan, after it changed something */
    SCAN_BY_JOB_CHECK = 5, /* a job's check before it changed anything */
} scan_reason;

/* "user", "watch", "timer", "start", "job" (both job reasons). */
const char *scan_reason_name(scan_reason r);

/* Who ran a scan: the reason and, for a job, its id. */
typedef struct scan_origin {
    scan_reason reason;
    int64_t job_id; /* 0 unless a job */
} scan_origin;

/* One row of the scans list. */
typedef struct scans_row {
    int64_t id;
    int64_t started_ns;
    int64_t finished_ns;
    char *verdict; /* "affected", "healthy", "not_installed" */
    char *tmi_dir; /* may be NULL */
    char *root;    /* may be NULL */
    char *playbook_id;
    int64_t changed; /* observation rows this scan added */
    scan_origin origin;
} scans_row;

typedef struct scans_rows {
    scans_row *rows;
    size_t count;
} scans_rows;

/* One observation of one path (history), or a path's latest (files list). */
typedef struct scans_obs {
    int64_t id; /* observation id: the history cursor */
    int64_t scan_id;
    int64_t file_id; /* the files-list cursor */
    int64_t observed_ns;
    char *path;
    char *name; /* the playbook's file name */
    char *kind; /* "tmi" or "source" */
    int present;
    int has_size;
    uint64_t size;
    int has_mtime;
    int64_t mtime_ns;
    int has_sha256;
    uint8_t sha256[32];
    char *version; /* "1.12.0.1266" or NULL */
    char *status;  /* file_status_name() */
    int known_bad;
    char *error;            /* may be NULL */
    char *sig_status;       /* "unsigned", "valid", "invalid"; NULL: not recorded */
    char *sig_reason;       /* sig_reason_name() when invalid, else NULL */
    char *sig_signer;       /* the signer's organization, or NULL */
    int has_sig_thumbprint; /* sig_thumbprint holds the leaf's SHA-256 thumbprint */
    uint8_t sig_thumbprint[32];
    /* who changed it (changed_by in the JSON): the scan that saw it */
    scan_origin origin;
    char *job_user;   /* SCAN_BY_JOB: the job's user, else NULL */
    int64_t seen_ns;  /* when the scan that saw it started */
    int has_since;    /* since_ns is known (a scan came before) */
    int64_t since_ns; /* when the scan before that one ended */
} scans_obs;

typedef struct scans_obs_list {
    scans_obs *rows;
    size_t count;
} scans_obs_list;

/* What scans_history() returns. Zero-initialise, then set what you need. */
typedef struct history_query {
    /* NULL: every file. Containing '/' or '\\': one full path (exact).
     * Otherwise a file name ("mrf.exe", ASCII case-insensitive): every path
     * with that name, e.g. the TMI folder's copy and the backups. */
    const char *file;
    int64_t before; /* only observation ids < before (0: from the newest) */
    size_t limit;   /* 0: default; capped at STORE_MAX_LIMIT */
} history_query;

/*
 * Store scan r: its row and document, an observation for each path whose
 * state changed, and an audit row (action "scan", outcome "ok", target the
 * TMI folder or else the root, details {"scan_id", "verdict", "changed"}) by
 * actor, all in one transaction (joining the caller's if one is open).
 * *scan_id (may be NULL) receives the new id. r is not modified. TMI_EINVAL
 * for a malformed result, TMI_ETOOBIG past the bounds above, storage errors
 * as in store.h; on any error nothing is written.
 */
int scans_record(store *s, const scan_result *r, const audit_actor *actor, int64_t *scan_id);

/* scans_record() with the scan's origin (scans_record() is SCAN_BY_USER).
 * The audit row's details then also name the reason and the job. */
int scans_record_from(store *s, const scan_result *r, const audit_actor *actor,
                      const scan_origin *origin, int64_t *scan_id);

/* A page of scans, newest first (ids < before when before > 0). */
int scans_list(store *s, int64_t before, size_t limit, scans_rows *out);
void scans_rows_free(scans_rows *list);

/* One scan row as the JSON API (GET /api/scans) shows it: {"id", "started",
 * "finished" (RFC 3339 UTC), "verdict", "tmi_dir", "root" (null when
 * unknown), "playbook" (its id), "changed"}. New tree, caller frees; NULL
 * when out of memory. */
struct cJSON *scans_row_json(const scans_row *sc);

/*
 * The stored JSON of scan `scan_id` with its "started" and "finished"
 * restored (as scan_to_json() made it). *out is the caller's: cJSON_Delete().
 * TMI_ENOENT when there is no such scan.
 */
int scans_doc_json(store *s, int64_t scan_id, struct cJSON **out);

/* A page of observations, newest first, per q. TMI_ENOENT is not returned
 * for an unknown file: the list is simply empty. */
int scans_history(store *s, const history_query *q, scans_obs_list *out);

/* A page of paths with their latest observation, ordered by file id, newest
 * first (file ids < before when before > 0; the cursor is scans_obs.file_id). */
int scans_files(store *s, int64_t before, size_t limit, scans_obs_list *out);

/* One observation as the JSON API and `--json` show it: {"id", "scan_id",
 * "file_id", "observed", "path", "name", "kind", "present", "size", "mtime",
 * "sha256", "version", "status", "known_bad", "error", "changed_by"} (times
 * RFC 3339 UTC, absent values null). changed_by is
 * {"kind": "job", "job": ID, "user": "..."} for a change a job made, else
 * {"kind": "outside", "since": time or null, "until": time, "seen_by":
 * "watch" | "timer" | "start" | "user" | "job"}: made outside tmi-console
 * after `since` (the scan before) and before `until` (the scan that saw it). New tree, caller
 * frees; NULL when out of memory. */
struct cJSON *scans_obs_json(const scans_obs *ob);

void scans_obs_list_free(scans_obs_list *list);

/* One file change a scan recorded: the new observation, and what the
 * observation before it said (has_before 0 for a path seen the first time). */
typedef struct scans_change {
    scans_obs now;
    int has_before;
    int before_present;
    char *before_version; /* or NULL */
    char *before_status;  /* or NULL */
    int before_has_sha256;
    uint8_t before_sha256[32];
} scans_change;

typedef struct scans_change_list {
    scans_change *rows;
    size_t count;
} scans_change_list;

/* The changes scan scan_id recorded (strings are heap copies, freed with
 * scans_change_list_free), at most max (STORE_MAX_LIMIT cap), in
 * path order. */
int scans_changes(store *s, int64_t scan_id, size_t max, scans_change_list *out);
void scans_change_list_free(scans_change_list *c);

/* The scan before scan_id (0 when none): for "changed between ... and ...". */
int scans_before(store *s, int64_t scan_id, int64_t *prev_id, int64_t *prev_finished_ns);

/* The changed_by object of one observation (see scans_obs_json); new tree,
 * caller frees; NULL when out of memory. */
struct cJSON *scans_changed_by_json(const scans_obs *ob);

#endif

/*
 * schema.c - the migration steps of the store's schema (see schema.h).
 *
 * The SQL below is the only place the schema is written down. Each step is
 * run as one sqlite3_exec() inside the migration transaction.
 */
#include "schema.h"

#include <stdio.h>

#include <sqlite3.h>

#include "err.h"
#include "store_int.h"

/* v1: scans, their documents, files and file observations. */
static const char step1[] =
    /* The JSON of a scan without its "started"/"finished" members (those are
     * per scan, in `scans`): identical scans share one row. */
    "CREATE TABLE scan_docs ("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 BLOB NOT NULL UNIQUE CHECK (length(sha256) = 32),"
    "  verdict TEXT NOT NULL,"
    "  tmi_dir TEXT,"
    "  root TEXT,"
    "  playbook_id TEXT,"
    "  json TEXT NOT NULL"
    ");"
    "CREATE TABLE scans ("
    "  id INTEGER PRIMARY KEY,"
    "  started_ns INTEGER NOT NULL,"
    "  finished_ns INTEGER NOT NULL,"
    "  doc_id INTEGER NOT NULL REFERENCES scan_docs(id),"
    "  changed INTEGER NOT NULL DEFAULT 0"
    ");"
    /* One row per full path ever reported by a scan (case kept as found). */
    "CREATE TABLE files ("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('tmi', 'source'))"
    ");"
    "CREATE INDEX files_name ON files(name COLLATE NOCASE);"
    /* A row only when presence, size, mtime, SHA-256, version or status of
     * the path differ from its previous row. */
    "CREATE TABLE observations ("
    "  id INTEGER PRIMARY KEY,"
    "  file_id INTEGER NOT NULL REFERENCES files(id),"
    "  scan_id INTEGER NOT NULL REFERENCES scans(id),"
    "  observed_ns INTEGER NOT NULL,"
    "  present INTEGER NOT NULL CHECK (present IN (0, 1)),"
    "  size INTEGER,"
    "  mtime_ns INTEGER,"
    "  sha256 BLOB CHECK (sha256 IS NULL OR length(sha256) = 32),"
    "  version TEXT,"
    "  status TEXT NOT NULL,"
    "  known_bad INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT"
    ");"
    "CREATE INDEX observations_file ON observations(file_id, id);";

/* v2: the hash-chained audit trail (layout of the hash: audit.h). */
static const char step2[] = "CREATE TABLE audit ("
                            "  seq INTEGER PRIMARY KEY,"
                            "  time_ns INTEGER NOT NULL,"
                            /* RFC 3339 UTC text with milliseconds, derived from time_ns (exact
                             * integer arithmetic, so it always agrees with time_format_utc()). */
                            "  time TEXT GENERATED ALWAYS AS ("
                            "    strftime('%Y-%m-%dT%H:%M:%S', time_ns / 1000000000, 'unixepoch')"
                            "    || printf('.%03dZ', (time_ns / 1000000) % 1000)) VIRTUAL,"
                            "  actor TEXT NOT NULL,"
                            "  auth TEXT NOT NULL,"
                            "  action TEXT NOT NULL,"
                            "  target TEXT,"
                            "  params TEXT,"
                            "  outcome TEXT NOT NULL,"
                            "  details TEXT,"
                            "  prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),"
                            "  hash BLOB NOT NULL CHECK (length(hash) = 32)"
                            ");"
                            "CREATE INDEX audit_time ON audit(time_ns);"
                            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
                            "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
                            "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
                            "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
                            /* The chain head, written in the same transaction as each row. */
                            "CREATE TABLE audit_head ("
                            "  one INTEGER PRIMARY KEY CHECK (one = 1),"
                            "  seq INTEGER NOT NULL,"
                            "  hash BLOB NOT NULL CHECK (length(hash) = 32)"
                            ");"
                            "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head"
                            "  BEGIN SELECT RAISE(ABORT, 'the audit head is kept'); END;";

/* v3: a pointer to each path's latest observation; audit by action. The
 * action index leaves out the bulk of routine `scan` rows (filtering on
 * them walks the primary key, where they are dense); audit_list() adds the
 * matching `action <> 'scan'` term so the planner can use it. */
static const char step3[] =
    "ALTER TABLE files ADD COLUMN latest_obs_id INTEGER REFERENCES observations(id);"
    "UPDATE files SET latest_obs_id ="
    "  (SELECT max(o.id) FROM observations o WHERE o.file_id = files.id);"
    "CREATE INDEX audit_action ON audit(action, seq) WHERE action <> 'scan';";

/* v4: the job journal (jobs.h): a row per job, a row per step. */
static const char step4[] = "CREATE TABLE jobs ("
                            "  id INTEGER PRIMARY KEY,"
                            "  action TEXT NOT NULL,"
                            "  status TEXT NOT NULL,"
                            "  actor TEXT NOT NULL,"
                            "  auth TEXT NOT NULL,"
                            "  params TEXT,"
                            "  pid INTEGER NOT NULL,"
                            "  created_ns INTEGER NOT NULL,"
                            "  finished_ns INTEGER,"
                            "  backup_id TEXT,"
                            "  step TEXT,"
                            "  message TEXT,"
                            "  rolled_back INTEGER NOT NULL DEFAULT 0);"
                            "CREATE INDEX jobs_running ON jobs(status) WHERE status = 'running';"
                            "CREATE TABLE job_steps ("
                            "  id INTEGER PRIMARY KEY,"
                            "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
                            "  step TEXT NOT NULL,"
                            "  what TEXT,"
                            "  outcome TEXT NOT NULL,"
                            "  message TEXT,"
                            "  started_ns INTEGER NOT NULL,"
                            "  finished_ns INTEGER);"
                            "CREATE INDEX job_steps_job ON job_steps(job_id, id);";

/* v5: a compact audit trail (audit.h, "Canonical fields and their stored
 * form") and scan durations. The rows of `audit` move into audit_log, which
 * stores the same canonical fields in fewer bytes; a view named `audit` gives
 * them back, column for column, as the v2 table had them (plus action_id).
 * Nothing hashed changes: every row keeps its hash, and the view renders each
 * field byte for byte as it was hashed.
 *   - actor, auth, action, target, outcome and a scan summary's verdict are
 *     interned in audit_text (id 1 is always 'scan'; the partial index
 *     audit_action names it);
 *   - details that are exactly a scan summary, {"scan_id":N,"verdict":"W",
 *     "changed":M}, are kept as numbers: scan_back = seq - N, verdict,
 *     changed. A row is converted only when the template renders its numbers
 *     back to exactly its details text (the same rule as audit_append), so
 *     the conversion cannot change a byte;
 *   - prev_hash is not stored: it is the previous row's hash;
 *   - no time index: time never goes backwards along seq, so a time range is
 *     found by binary search on seq (audit_seq_range).
 * The scan summaries are parsed once into a scratch table (the subqueries
 * carry "LIMIT -1 OFFSET 0" so that SQLite evaluates each part once per row
 * instead of flattening them into every use). The old table's pages go to
 * the free list, where new rows reuse them.
 * scans.finished_ns becomes duration_ns (finished - started): 4 bytes
 * instead of 8 for a scan of under 2 s. */
static const char step5[] =
    "CREATE TABLE audit_text ("
    "  id INTEGER PRIMARY KEY,"
    "  text TEXT NOT NULL UNIQUE"
    ");"
    "INSERT INTO audit_text (id, text) VALUES (1, 'scan');"
    "CREATE TRIGGER audit_text_no_update BEFORE UPDATE ON audit_text"
    "  BEGIN SELECT RAISE(ABORT, 'audit texts are append-only'); END;"
    "CREATE TRIGGER audit_text_no_delete BEFORE DELETE ON audit_text"
    "  BEGIN SELECT RAISE(ABORT, 'audit texts are append-only'); END;"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_ns INTEGER NOT NULL,"
    "  actor INTEGER NOT NULL REFERENCES audit_text(id),"
    "  auth INTEGER NOT NULL REFERENCES audit_text(id),"
    "  action INTEGER NOT NULL REFERENCES audit_text(id),"
    "  target INTEGER REFERENCES audit_text(id),"
    "  outcome INTEGER NOT NULL REFERENCES audit_text(id),"
    "  params TEXT,"
    "  details TEXT,"
    "  scan_back INTEGER,"
    "  verdict INTEGER REFERENCES audit_text(id),"
    "  changed INTEGER,"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
    "  CHECK ((scan_back IS NULL) = (verdict IS NULL) AND (scan_back IS NULL) = (changed IS NULL)"
    "    AND (scan_back IS NULL OR details IS NULL))"
    ");"
    /* the scan summaries among the existing rows */
    "CREATE TABLE audit_v5_summary ("
    "  seq INTEGER PRIMARY KEY,"
    "  scan_id INTEGER NOT NULL,"
    "  word TEXT NOT NULL,"
    "  changed INTEGER NOT NULL"
    ");"
    "WITH c AS (SELECT seq, details, instr(details, ',\"verdict\":\"') AS p1,"
    "    instr(details, '\",\"changed\":') AS p2 FROM audit"
    "    WHERE substr(details, 1, 11) = '{\"scan_id\":' LIMIT -1 OFFSET 0),"
    "  p AS (SELECT seq, details, CAST(substr(details, 12, p1 - 12) AS INTEGER) AS sid,"
    "    substr(details, p1 + 12, p2 - p1 - 12) AS word,"
    "    CAST(substr(details, p2 + 12, length(details) - p2 - 12) AS INTEGER) AS chg"
    "    FROM c WHERE p1 > 0 AND p2 > p1 LIMIT -1 OFFSET 0)"
    " INSERT INTO audit_v5_summary (seq, scan_id, word, changed)"
    " SELECT seq, sid, word, chg FROM p"
    " WHERE sid >= 0 AND chg >= 0 AND length(word) BETWEEN 1 AND 32"
    "  AND word NOT GLOB '*[^a-z0-9_.-]*'"
    "  AND '{\"scan_id\":' || sid || ',\"verdict\":\"' || word || '\",\"changed\":' || chg || '}'"
    "    = details;"
    /* the few short words first, so that they get one-byte ids */
    "INSERT OR IGNORE INTO audit_text (text) SELECT action FROM audit;"
    "INSERT OR IGNORE INTO audit_text (text) SELECT outcome FROM audit;"
    "INSERT OR IGNORE INTO audit_text (text) SELECT auth FROM audit;"
    "INSERT OR IGNORE INTO audit_text (text) SELECT actor FROM audit;"
    "INSERT OR IGNORE INTO audit_text (text) SELECT word FROM audit_v5_summary;"
    "INSERT OR IGNORE INTO audit_text (text) SELECT target FROM audit WHERE target IS NOT NULL;"
    "INSERT INTO audit_log (seq, time_ns, actor, auth, action, target, outcome, params, details,"
    "  scan_back, verdict, changed, hash)"
    " SELECT a.seq, a.time_ns,"
    "  (SELECT id FROM audit_text t WHERE t.text = a.actor),"
    "  (SELECT id FROM audit_text t WHERE t.text = a.auth),"
    "  (SELECT id FROM audit_text t WHERE t.text = a.action),"
    "  (SELECT id FROM audit_text t WHERE t.text = a.target),"
    "  (SELECT id FROM audit_text t WHERE t.text = a.outcome),"
    "  a.params,"
    "  CASE WHEN s.seq IS NULL THEN a.details END,"
    "  a.seq - s.scan_id,"
    "  (SELECT id FROM audit_text t WHERE t.text = s.word),"
    "  s.changed,"
    "  a.hash"
    " FROM audit a LEFT JOIN audit_v5_summary s ON s.seq = a.seq ORDER BY a.seq;"
    "DROP TABLE audit_v5_summary;"
    /* the old table goes with its triggers and indexes (audit_time among them) */
    "DROP TABLE audit;"
    /* filtering by action: as in v3, without the routine scan rows (id 1) */
    "CREATE INDEX audit_action ON audit_log(action, seq) WHERE action <> 1;"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
    /* The canonical rows. A missing text reads as NULL (verify: malformed
     * row); rows never drop out of the view. */
    "CREATE VIEW audit AS SELECT"
    "  a.seq AS seq,"
    "  a.time_ns AS time_ns,"
    "  strftime('%Y-%m-%dT%H:%M:%S', a.time_ns / 1000000000, 'unixepoch')"
    "    || printf('.%03dZ', (a.time_ns / 1000000) % 1000) AS time,"
    "  (SELECT t.text FROM audit_text t WHERE t.id = a.actor) AS actor,"
    "  (SELECT t.text FROM audit_text t WHERE t.id = a.auth) AS auth,"
    "  (SELECT t.text FROM audit_text t WHERE t.id = a.action) AS action,"
    "  (SELECT t.text FROM audit_text t WHERE t.id = a.target) AS target,"
    "  a.params AS params,"
    "  (SELECT t.text FROM audit_text t WHERE t.id = a.outcome) AS outcome,"
    "  CASE WHEN a.scan_back IS NULL THEN a.details"
    "    ELSE '{\"scan_id\":' || (a.seq - a.scan_back) || ',\"verdict\":\"'"
    "      || (SELECT t.text FROM audit_text t WHERE t.id = a.verdict)"
    "      || '\",\"changed\":' || a.changed || '}' END AS details,"
    "  CASE WHEN a.seq = 1 THEN zeroblob(32)"
    "    ELSE (SELECT p.hash FROM audit_log p WHERE p.seq = a.seq - 1) END AS prev_hash,"
    "  a.hash AS hash,"
    "  a.action AS action_id"
    " FROM audit_log a;"
    "ALTER TABLE scans RENAME COLUMN finished_ns TO duration_ns;"
    "UPDATE scans SET duration_ns = duration_ns - started_ns;";

/* v6: why each scan ran (reason: 0 a person, 1 a folder change, 2 the timer,
 * 3 the server's start, 4 a job after it changed something, 5 a job's check
 * before it changed anything) and which job ran it; the state of each alert,
 * so that an alert goes out once per change of state and a reminder at most
 * daily (alert_state, watch/alerts). Existing scans were all asked for. */
static const char step6[] = "ALTER TABLE scans ADD COLUMN reason INTEGER NOT NULL DEFAULT 0"
                            "  CHECK (reason BETWEEN 0 AND 5);"
                            "ALTER TABLE scans ADD COLUMN job_id INTEGER;"
                            "CREATE TABLE alert_state ("
                            "  kind TEXT NOT NULL,"
                            "  subject TEXT NOT NULL,"
                            "  state TEXT NOT NULL,"
                            "  since_ns INTEGER NOT NULL,"
                            "  sent_ns INTEGER NOT NULL,"
                            "  PRIMARY KEY (kind, subject)"
                            ") WITHOUT ROWID;";

/* v7: a job's summary (jobs.h), and the job each audit row belongs to.
 * audit_job is beside the chain, not in it: nothing hashed changes. A row
 * belongs to job N when its details are a JSON object whose "job" is the
 * integer N > 0 (the runner's rows, the scans a job made), or when it is a
 * compact scan summary of a scan that job N ran (scans.job_id); audit_append
 * applies the same rule to each new row. The index (job, seq) finds a job's
 * rows (GET /api/audit?job=N) and its first and last seq. The nested CASE
 * keeps json_type() from ever seeing details that are not valid JSON. */
static const char step7[] =
    "ALTER TABLE jobs ADD COLUMN summary TEXT;"
    "CREATE TABLE audit_job ("
    "  seq INTEGER PRIMARY KEY,"
    "  job INTEGER NOT NULL CHECK (job > 0)"
    ");"
    "INSERT INTO audit_job (seq, job)"
    " SELECT seq, j FROM (SELECT a.seq AS seq,"
    "   CASE WHEN a.scan_back IS NOT NULL"
    "     THEN (SELECT s.job_id FROM scans s WHERE s.id = a.seq - a.scan_back)"
    "   WHEN a.details IS NOT NULL AND json_valid(a.details)"
    "     THEN CASE WHEN json_type(a.details, '$.job') = 'integer'"
    "       THEN json_extract(a.details, '$.job') END END AS j"
    "   FROM audit_log a)"
    " WHERE j > 0 ORDER BY seq;"
    "CREATE INDEX audit_job_by_job ON audit_job(job, seq);"
    "CREATE TRIGGER audit_job_no_update BEFORE UPDATE ON audit_job"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
    "CREATE TRIGGER audit_job_no_delete BEFORE DELETE ON audit_job"
    "  BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;";

/* v8: the signature of each observed file (core/authenticode.h): its status
 * (unsigned, valid, invalid), the reason when invalid, the signer's
 * organization and the SHA-256 thumbprint of its certificate. NULL status:
 * not recorded (the file was not read, or the row predates v8). */
static const char step8[] =
    "ALTER TABLE observations ADD COLUMN sig_status TEXT"
    "  CHECK (sig_status IS NULL OR sig_status IN ('unsigned', 'valid', 'invalid'));"
    "ALTER TABLE observations ADD COLUMN sig_reason TEXT;"
    "ALTER TABLE observations ADD COLUMN sig_signer TEXT;"
    "ALTER TABLE observations ADD COLUMN sig_thumbprint BLOB"
    "  CHECK (sig_thumbprint IS NULL OR length(sig_thumbprint) = 32);";

/* v9: the Authenticode image digest of each signed file content scanned,
 * by the SHA-256 of its bytes (sig_digests.h): a file seen before is not
 * hashed a second time for its signature. */
static const char step9[] =
    "CREATE TABLE sig_digests ("
    "  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
    "  alg TEXT NOT NULL,"
    "  digest BLOB NOT NULL,"
    "  CHECK ((alg = 'sha1' AND length(digest) = 20) OR (alg = 'sha256' AND length(digest) = 32)"
    "      OR (alg = 'sha384' AND length(digest) = 48) OR (alg = 'sha512' AND length(digest) = "
    "64)),"
    "  PRIMARY KEY (sha256, alg)"
    ") WITHOUT ROWID;";

static const char *const steps[SCHEMA_VERSION] = {step1, step2, step3, step4, step5,
                                                  step6, step7, step8, step9};

static int fail(char *err, size_t errlen, int code, const char *what, sqlite3 *db)
{
    if (errlen > 0)
        snprintf(err, errlen, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) : "");
    return code;
}

/* PRAGMA NAME = value (pragmas take no bound parameters; the value is ours). */
static int set_pragma(sqlite3 *db, const char *name, int value)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "PRAGMA %s = %d", name, value);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int schema_migrate(sqlite3 *db, int target, char *err, size_t errlen)
{
    int version = 0, app_id = 0, n_objects = 0;
    int rc, code = TMI_OK;

    if (errlen > 0)
        err[0] = '\0';
    if (db == NULL || target < 1 || target > SCHEMA_VERSION)
        return TMI_EINVAL;
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(err, errlen, store_map_sqlite(rc), "cannot start the migration", db);
    rc = store_sql_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = store_sql_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = store_sql_int(db, "SELECT count(*) FROM sqlite_schema", &n_objects);
    if (rc != SQLITE_OK) {
        code = fail(err, errlen, store_map_sqlite(rc), "cannot read the schema version", db);
        goto out;
    }
    if (app_id != 0 && app_id != STORE_APPLICATION_ID) {
        if (errlen > 0)
            snprintf(err, errlen, "another program's database (application_id 0x%08x)",
                     (unsigned)app_id);
        code = TMI_ECORRUPT;
        goto out;
    }
    if (version == 0 && n_objects > 0) {
        if (errlen > 0)
            snprintf(err, errlen,
                     "an SQLite database of another program (tables but no "
                     "tmi-console schema version)");
        code = TMI_ECORRUPT;
        goto out;
    }
    if (version > target) {
        if (errlen > 0)
            snprintf(err, errlen, "schema version %d is newer than this program's (%d)", version,
                     target);
        code = version > SCHEMA_VERSION ? TMI_ESCHEMA : TMI_EINVAL;
        goto out;
    }
    if (version < 0) {
        if (errlen > 0)
            snprintf(err, errlen, "invalid schema version %d", version);
        code = TMI_ECORRUPT;
        goto out;
    }
    for (int v = version + 1; v <= target; v++) {
        rc = sqlite3_exec(db, steps[v - 1], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            char what[64];
            snprintf(what, sizeof(what), "migration to schema version %d failed", v);
            code = fail(err, errlen, store_map_sqlite(rc), what, db);
            goto out;
        }
    }
    if (version < target) {
        rc = set_pragma(db, "user_version", target);
        if (rc == SQLITE_OK)
            rc = set_pragma(db, "application_id", STORE_APPLICATION_ID);
        if (rc != SQLITE_OK) {
            code = fail(err, errlen, store_map_sqlite(rc), "cannot set the schema version", db);
            goto out;
        }
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        code = fail(err, errlen, store_map_sqlite(rc), "cannot commit the migration", db);
out:
    if (code != TMI_OK || sqlite3_get_autocommit(db) == 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

/*
 * audit_append.c - appending a row (audit.h): the event checked, its hash
 * taken over the canonical fields, the row stored in its compact form
 * ("Canonical fields and their stored form") with the head table moved to
 * it, and the anchor moved after the commit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit_int.h"
#include "err.h"

/* ---- checks ---- */

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
    int rc = audit_check_word(s, "auth", auth);
    if (rc != TMI_OK)
        return rc;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(auth, known[i]) == 0)
            return TMI_OK;
    }
    return store_fail(s, TMI_EINVAL, "audit: auth must be cli, token, session, system or none");
}

/* Check actor and ev (audit_append's rules) and put the actor's user name
 * (the OS user when not given) into user. */
static int check_event(store *s, const audit_actor *actor, const audit_event *ev, char *user,
                       size_t userlen)
{
    int rc = check_auth(s, actor->auth);
    if (rc == TMI_OK)
        rc = audit_check_word(s, "action", ev->action);
    if (rc == TMI_OK)
        rc = audit_check_word(s, "outcome", ev->outcome);
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
        snprintf(user, userlen, "%s", actor->user);
    } else if (plat_user_name(user, userlen) != TMI_OK || !str_utf8_valid(user, strlen(user))) {
        snprintf(user, userlen, "unknown");
    }
    if (user[0] == '\0')
        return store_fail(s, TMI_EINVAL, "audit: empty actor name");
    return TMI_OK;
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
    while (n < AUDIT_MAX_WORD && audit_word_char(p[n]))
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

/* The audit_text ids of row f's texts (0 for a NULL target and for the
 * verdict of a row that is not a scan summary). */
typedef struct text_ids {
    int64_t actor, auth, action, target, outcome, verdict;
} text_ids;

static int intern_texts(store *s, const audit_fields *f, const scan_summary *sum, text_ids *ids)
{
    int rc = text_id(s, f->actor, &ids->actor);
    if (rc == TMI_OK)
        rc = text_id(s, f->auth, &ids->auth);
    if (rc == TMI_OK)
        rc = text_id(s, f->action, &ids->action);
    if (rc == TMI_OK && f->target != NULL)
        rc = text_id(s, f->target, &ids->target);
    if (rc == TMI_OK)
        rc = text_id(s, f->outcome, &ids->outcome);
    if (rc == TMI_OK && sum != NULL)
        rc = text_id(s, sum->verdict, &ids->verdict);
    return rc;
}

/* Move the head table to (seq, hash). */
static int set_head(store *s, int64_t seq, const uint8_t hash[32])
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_AUDIT_HEAD_SET,
                        "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?)"
                        " ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                        &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot update the audit head");
    store_stmt_release(st);
    return rc;
}

/* Which job row f belongs to, in audit_job (schema.c, v7: the same rule as
 * the migration): the "job" of its details, or the job that ran the scan it
 * sums up. Nothing when it belongs to none. */
static int note_job(store *s, const audit_fields *f, const scan_summary *sum)
{
    sqlite3_stmt *st = NULL;
    int rc = store_stmt(s, STMT_AUDIT_JOB,
                        "INSERT INTO audit_job (seq, job) SELECT ?1, j FROM (SELECT"
                        " CASE WHEN ?2 IS NOT NULL"
                        "   THEN (SELECT sc.job_id FROM scans sc WHERE sc.id = ?2)"
                        " WHEN ?3 IS NOT NULL AND json_valid(?3)"
                        "   THEN CASE WHEN json_type(?3, '$.job') = 'integer'"
                        "     THEN json_extract(?3, '$.job') END END AS j)"
                        " WHERE j > 0",
                        &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, f->seq);
    if (sum != NULL)
        sqlite3_bind_int64(st, 2, sum->scan_id);
    else
        store_bind_text(st, 3, f->details);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot note the job of the audit row");
    store_stmt_release(st);
    return rc;
}

/* Store row f with its hash, and move the head table to it. */
static int insert_row(store *s, const audit_fields *f, const uint8_t hash[32])
{
    sqlite3_stmt *st = NULL;
    scan_summary sum;
    text_ids ids = {0, 0, 0, 0, 0, 0};
    int summary = as_scan_summary(f->details, &sum);
    int rc = intern_texts(s, f, summary ? &sum : NULL, &ids);
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
    sqlite3_bind_int64(st, 3, ids.actor);
    sqlite3_bind_int64(st, 4, ids.auth);
    sqlite3_bind_int64(st, 5, ids.action);
    if (f->target != NULL)
        sqlite3_bind_int64(st, 6, ids.target);
    sqlite3_bind_int64(st, 7, ids.outcome);
    store_bind_text(st, 8, f->params);
    if (summary) {
        /* seq >= 1 and scan_id >= 0: no overflow */
        sqlite3_bind_int64(st, 10, f->seq - sum.scan_id);
        sqlite3_bind_int64(st, 11, ids.verdict);
        sqlite3_bind_int64(st, 12, sum.changed);
    } else {
        store_bind_text(st, 9, f->details);
    }
    sqlite3_bind_blob(st, 13, hash, 32, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot append to the audit trail");
    store_stmt_release(st);
    if (rc == TMI_OK)
        rc = note_job(s, f, summary ? &sum : NULL);
    if (rc != TMI_OK)
        return rc;
    return set_head(s, f->seq, hash);
}

/* ---- append ---- */

/* Inside the write transaction: the next row after the last one, hashed and
 * stored; its seq in *seq. */
static int append_row(store *s, const char *user, const audit_actor *actor, const audit_event *ev,
                      int64_t *seq)
{
    audit_fields f;
    audit_head last;
    int64_t last_time = 0;
    uint8_t hash[32];
    int rc = audit_read_last(s, &last, &last_time);
    if (rc != TMI_OK)
        return rc;
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
    if (rc != TMI_OK)
        return store_fail(s, rc, "audit: cannot compute the hash");
    rc = insert_row(s, &f, hash);
    if (rc == TMI_OK)
        *seq = f.seq;
    return rc;
}

int audit_append(store *s, const audit_actor *actor, const audit_event *ev, int64_t *seq)
{
    char user[AUDIT_MAX_USER + 1];
    int64_t new_seq = 0;
    int rc;

    if (s == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    if (actor == NULL || ev == NULL)
        return store_fail(s, TMI_EINVAL, "audit: actor and event are required");
    rc = check_event(s, actor, ev, user, sizeof(user));
    if (rc != TMI_OK)
        return rc;
    rc = store_begin(s);
    if (rc != TMI_OK)
        return rc;
    rc = append_row(s, user, actor, ev, &new_seq);
    if (rc == TMI_OK)
        rc = store_after_commit(s, audit_anchor_after_commit);
    if (rc != TMI_OK) {
        char saved[sizeof(s->errmsg)];
        memcpy(saved, s->errmsg, sizeof(saved));
        store_rollback(s);
        memcpy(s->errmsg, saved, sizeof(saved));
        return rc;
    }
    rc = store_commit(s);
    if (rc == TMI_OK && seq != NULL)
        *seq = new_seq;
    return rc;
}

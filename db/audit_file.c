/*
 * audit_file.c - an exported audit trail checked without a database (see
 * audit_file.h): the array is split into records by a small scanner that
 * knows JSON strings, each record is parsed on its own (so memory stays at
 * one record) and checked against the chain's layout (audit.h).
 */
#include "audit_file.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "hex.h"
#include "strutil.h"
#include "timefmt.h"

/* Where the walk is. */
typedef struct walk {
    const char *p, *end;
    const audit_head *expect;
    size_t max_rows;
    audit_file_report *rep;
    int have_prev;
    int64_t prev_seq, prev_time;
    uint8_t prev_hash[32];
} walk;

static int broke(walk *w, audit_break why, int64_t seq, const char *fmt, ...) TMI_PRINTF(4, 5);

/* Record the first break: why, at seq, and the sentence. Returns TMI_OK
 * (the check ran). */
static int broke(walk *w, audit_break why, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    w->rep->intact = 0;
    w->rep->why = why;
    w->rep->broken_seq = seq > 0 ? seq : 1;
    va_start(ap, fmt);
    vsnprintf(w->rep->detail, sizeof(w->rep->detail), fmt, ap);
    va_end(ap);
    return TMI_OK;
}

static int refuse(audit_file_report *rep, int rc, const char *detail)
{
    snprintf(rep->detail, sizeof(rep->detail), "%s", detail);
    return rc;
}

static void skip_ws(walk *w)
{
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\r' || *w->p == '\n'))
        w->p++;
}

/* The seq the next row should have (for a break found before its seq is
 * known). */
static int64_t next_seq(const walk *w)
{
    return w->have_prev ? w->prev_seq + 1 : 1;
}

/* The length of the object at w->p ('{' ... its matching '}'), strings
 * skipped as JSON has them. 0 when the text ends first; -1 past the record
 * bound. */
static long object_len(const walk *w)
{
    int depth = 0, in_str = 0;
    for (const char *q = w->p; q < w->end; q++) {
        if ((size_t)(q - w->p) >= AUDIT_FILE_MAX_RECORD)
            return -1;
        if (in_str) {
            if (*q == '\\')
                q++;
            else if (*q == '"')
                in_str = 0;
        } else if (*q == '"') {
            in_str = 1;
        } else if (*q == '{' || *q == '[') {
            depth++;
        } else if (*q == '}' || *q == ']') {
            if (--depth == 0)
                return (long)(q - w->p) + 1;
        }
    }
    return 0;
}

/* The record about to be read, in words, into buf: "the first record" or
 * "the record after row N". Returns buf. */
static const char *where(const walk *w, char *buf, size_t n)
{
    if (w->have_prev)
        snprintf(buf, n, "the record after row %" PRId64, w->prev_seq);
    else
        snprintf(buf, n, "the first record");
    return buf;
}

/* ---- one record ---- */

/* A row's fields, as read from its object (strings owned by the object). */
typedef struct file_row {
    audit_fields f;
    const char *time;
    uint8_t prev_hash[32], hash[32];
} file_row;

/* Member name of o: a string, or NULL when null and nullable. 0, or -1
 * (missing, or not of that type). */
static int get_text(const cJSON *o, const char *name, int nullable, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (cJSON_IsString(v) && v->valuestring != NULL) {
        *out = v->valuestring;
        return 0;
    }
    return nullable && cJSON_IsNull(v) ? 0 : -1;
}

static int get_hash(const cJSON *o, const char *name, uint8_t out[32])
{
    const char *t = NULL;
    if (get_text(o, name, 0, &t) != 0 || strlen(t) != 64 || !hex_is_lower(t, 64))
        return -1;
    return hex_decode(t, 64, out) == TMI_OK ? 0 : -1;
}

/* A decimal int64 of at most 19 digits with an optional '-'. */
static int parse_ns(const char *t, int64_t *out)
{
    int neg = t[0] == '-';
    const char *d = t + neg;
    size_t n = strlen(d);
    uint64_t v = 0;
    if (n == 0 || n > 19 || (n > 1 && d[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(d[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* The fields of object o into *r; the name of the first bad one, or NULL. */
static const char *read_fields(const cJSON *o, file_row *r)
{
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
    const char *ns = NULL;
    memset(r, 0, sizeof(*r));
    if (!cJSON_IsNumber(seq) || seq->valuedouble < 1 || seq->valuedouble > 9007199254740992.0 ||
        floor(seq->valuedouble) != seq->valuedouble)
        return "seq";
    r->f.seq = (int64_t)seq->valuedouble;
    if (get_text(o, "time_ns", 0, &ns) != 0 || parse_ns(ns, &r->f.time_ns) != 0)
        return "time_ns";
    if (get_text(o, "time", 0, &r->time) != 0)
        return "time";
    if (get_text(o, "actor", 0, &r->f.actor) != 0)
        return "actor";
    if (get_text(o, "auth", 0, &r->f.auth) != 0)
        return "auth";
    if (get_text(o, "action", 0, &r->f.action) != 0)
        return "action";
    if (get_text(o, "target", 1, &r->f.target) != 0)
        return "target";
    if (get_text(o, "params", 1, &r->f.params) != 0)
        return "params";
    if (get_text(o, "outcome", 0, &r->f.outcome) != 0)
        return "outcome";
    if (get_text(o, "details", 1, &r->f.details) != 0)
        return "details";
    if (get_hash(o, "prev_hash", r->prev_hash) != 0)
        return "prev_hash";
    if (get_hash(o, "hash", r->hash) != 0)
        return "hash";
    return NULL;
}

/* The checks of one row against the one before it. TMI_OK (a break is
 * recorded in the report) or TMI_ENOMEM / TMI_EIO. */
static int check_row(walk *w, const file_row *r)
{
    static const uint8_t zero[32] = {0};
    char when[TIME_UTC_LEN];
    uint8_t got[32];
    int rc;
    if (strcmp(time_format_utc(r->f.time_ns, when, sizeof(when)), r->time) != 0)
        return broke(w, AUDIT_BAD_ROW, r->f.seq,
                     "row %" PRId64 ": its time \"%.40s\" is not its time_ns (%s)", r->f.seq,
                     r->time, when);
    if (w->have_prev && r->f.seq != w->prev_seq + 1)
        return broke(w, AUDIT_SEQ_GAP, w->prev_seq + 1,
                     "row %" PRId64 " follows row %" PRId64 ": rows are missing or renumbered",
                     r->f.seq, w->prev_seq);
    if (w->have_prev && r->f.time_ns < w->prev_time)
        return broke(w, AUDIT_BAD_ROW, r->f.seq,
                     "row %" PRId64 " is dated before the row before it", r->f.seq);
    if (w->have_prev ? memcmp(r->prev_hash, w->prev_hash, 32) != 0
                     : (r->f.seq == 1 && memcmp(r->prev_hash, zero, 32) != 0))
        return broke(w, AUDIT_BAD_HASH, r->f.seq,
                     "row %" PRId64 ": prev_hash is not the hash of the row before it", r->f.seq);
    rc = audit_hash(r->prev_hash, &r->f, got);
    if (rc != TMI_OK)
        return rc;
    if (memcmp(got, r->hash, 32) != 0)
        return broke(w, AUDIT_BAD_HASH, r->f.seq,
                     "row %" PRId64 ": its fields do not give its hash (the row was edited, or "
                     "the row before it was replaced)",
                     r->f.seq);
    return TMI_OK;
}

/* Parse and check the record of n bytes at w->p, then move on. */
static int take_record(walk *w, size_t n)
{
    file_row r;
    const char *bad;
    char at[64];
    cJSON *o = cJSON_ParseWithLength(w->p, n);
    int rc;
    if (o == NULL)
        return broke(w, AUDIT_BAD_ROW, next_seq(w), "%s is not valid JSON",
                     where(w, at, sizeof(at)));
    bad = cJSON_IsObject(o) ? read_fields(o, &r) : "record";
    if (bad != NULL) {
        rc = broke(w, AUDIT_BAD_ROW, next_seq(w), "%s has a missing or malformed %s",
                   where(w, at, sizeof(at)), bad);
    } else {
        rc = check_row(w, &r);
    }
    if (rc == TMI_OK && w->rep->why == AUDIT_INTACT) {
        if (!w->have_prev)
            w->rep->first_seq = r.f.seq;
        if (w->expect != NULL && r.f.seq == w->expect->seq)
            w->rep->head_checked = memcmp(r.hash, w->expect->hash, 32) == 0 ? 1 : -1;
        w->have_prev = 1;
        w->prev_seq = r.f.seq;
        w->prev_time = r.f.time_ns;
        memcpy(w->prev_hash, r.hash, 32);
        w->rep->rows++;
        w->rep->head.seq = r.f.seq;
        memcpy(w->rep->head.hash, r.hash, 32);
    }
    cJSON_Delete(o);
    w->p += n;
    return rc;
}

/* ---- the array ---- */

/* After a record: ',' and the next, or ']' and the end. 1 to go on, 0 at
 * the end (a break recorded if the text is malformed there). */
static int after_record(walk *w)
{
    skip_ws(w);
    if (w->p >= w->end) {
        broke(w, AUDIT_TAIL_MISSING, next_seq(w),
              "the export ends after row %" PRId64 " without its closing ']': it was cut short",
              w->prev_seq);
        return 0;
    }
    if (*w->p == ',') {
        w->p++;
        return 1;
    }
    if (*w->p == ']') {
        w->p++;
        skip_ws(w);
        if (w->p < w->end)
            broke(w, AUDIT_BAD_ROW, next_seq(w), "there is text after the export's closing ']'");
        return 0;
    }
    broke(w, AUDIT_BAD_ROW, next_seq(w), "row %" PRId64 " is not followed by ',' or ']'",
          w->prev_seq);
    return 0;
}

/* Walk the records from just after '['. */
static int walk_records(walk *w)
{
    int rc = TMI_OK;
    char at[64];
    skip_ws(w);
    if (w->p < w->end && *w->p == ']') {
        after_record(w);
        return TMI_OK;
    }
    while (rc == TMI_OK && w->rep->why == AUDIT_INTACT) {
        long n;
        skip_ws(w);
        if (w->p >= w->end || *w->p != '{') {
            if (w->p >= w->end)
                return broke(w, AUDIT_TAIL_MISSING, next_seq(w),
                             "the export ends before %s: it was cut short",
                             where(w, at, sizeof(at)));
            return broke(w, AUDIT_BAD_ROW, next_seq(w), "%s is not a JSON object",
                         where(w, at, sizeof(at)));
        }
        if ((size_t)w->rep->rows >= w->max_rows)
            return refuse(w->rep, TMI_ETOOBIG, "the export has more rows than this check takes");
        n = object_len(w);
        if (n < 0)
            return refuse(w->rep, TMI_ETOOBIG, "a record of the export is larger than 1 MiB");
        if (n == 0)
            return broke(w, AUDIT_TAIL_MISSING, next_seq(w),
                         "the export ends in the middle of %s: it was cut short",
                         where(w, at, sizeof(at)));
        rc = take_record(w, (size_t)n);
        if (rc == TMI_OK && w->rep->why == AUDIT_INTACT && !after_record(w))
            break;
    }
    return rc;
}

/* The expected head against what the walk found. */
static void check_expect(walk *w)
{
    const audit_head *e = w->expect;
    audit_file_report *rep = w->rep;
    if (e == NULL || rep->why != AUDIT_INTACT)
        return;
    if (rep->head_checked == 1)
        return;
    if (rep->head_checked == -1) {
        broke(w, AUDIT_ANCHOR_MISMATCH, e->seq,
              "row %" PRId64 " is in the export but its hash is not the given head's: the "
              "trail was rewritten from there or before",
              e->seq);
    } else if (e->seq > rep->head.seq) {
        broke(w, AUDIT_TAIL_MISSING, rep->head.seq + 1,
              "the export ends at row %" PRId64 ", before the given head's row %" PRId64
              ": rows are missing at the end",
              rep->head.seq, e->seq);
    } else {
        broke(w, AUDIT_ANCHOR_MISMATCH, e->seq,
              "the given head's row %" PRId64 " is not in this export (it holds rows %" PRId64
              "..%" PRId64 ")",
              e->seq, rep->first_seq, rep->head.seq);
    }
    rep->head_checked = 0;
}

int audit_file_verify(const char *text, size_t len, const audit_head *expect, size_t max_rows,
                      audit_file_report *rep)
{
    walk w;
    int rc;
    memset(rep, 0, sizeof(*rep));
    rep->intact = 1;
    snprintf(rep->detail, sizeof(rep->detail), "intact");
    if (text == NULL && len > 0)
        return refuse(rep, TMI_EFORMAT, "no text");
    if (len > AUDIT_FILE_MAX_BYTES)
        return refuse(rep, TMI_ETOOBIG, "the export is larger than 256 MiB");
    memset(&w, 0, sizeof(w));
    w.p = text;
    w.end = text + len;
    w.expect = expect;
    w.rep = rep;
    w.max_rows = max_rows > 0 && max_rows < AUDIT_FILE_MAX_ROWS ? max_rows : AUDIT_FILE_MAX_ROWS;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        w.p += 3;
    skip_ws(&w);
    if (w.p >= w.end || *w.p != '[') {
        rep->intact = 0;
        return refuse(rep, TMI_EFORMAT,
                      "not an audit export: it does not start with a JSON "
                      "array (export the trail as JSON)");
    }
    w.p++;
    rc = walk_records(&w);
    if (rc != TMI_OK) {
        rep->intact = 0;
        return rc;
    }
    check_expect(&w);
    return TMI_OK;
}

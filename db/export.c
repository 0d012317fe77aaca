/*
 * export.c - streaming CSV / JSON export of history and audit (see export.h).
 */
#include "export.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit_int.h"
#include "err.h"
#include "scan_json.h"
#include "store_int.h"
#include "hex.h"
#include "timefmt.h"

/* A small output buffer in front of the caller's callback. */
typedef struct outbuf {
    char buf[EXPORT_CHUNK];
    size_t len;
    export_write_fn write;
    void *arg;
    int err; /* first callback error, sticky */
} outbuf;

static int ob_flush(outbuf *ob)
{
    if (ob->err != TMI_OK)
        return ob->err;
    if (ob->len > 0) {
        int rc = ob->write(ob->arg, ob->buf, ob->len);
        ob->len = 0;
        if (rc != 0)
            ob->err = rc < 0 ? rc : TMI_EIO;
    }
    return ob->err;
}

static int ob_put(outbuf *ob, const char *p, size_t n)
{
    while (n > 0 && ob->err == TMI_OK) {
        size_t room = sizeof(ob->buf) - ob->len;
        size_t k = n < room ? n : room;
        memcpy(ob->buf + ob->len, p, k);
        ob->len += k;
        p += k;
        n -= k;
        if (ob->len == sizeof(ob->buf))
            ob_flush(ob);
    }
    return ob->err;
}

static int ob_puts(outbuf *ob, const char *s)
{
    return ob_put(ob, s, strlen(s));
}

/* Adapter so export_csv_field can write into an outbuf. */
static int ob_write_cb(void *arg, const char *buf, size_t len)
{
    return ob_put(arg, buf, len);
}

/* A character a spreadsheet reads as the start of a formula when it opens a
 * cell. */
static int formula_char(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

/* A character after which a spreadsheet may start a new cell: the field
 * separators in use across locales (, ; TAB) and line breaks. */
static int cell_break(char c)
{
    return c == ',' || c == ';' || c == '\t' || c == '\r' || c == '\n';
}

/* Would a cell that starts at p begin a formula? Spaces and quotes before
 * the sign are looked through. */
static int formula_at(const char *p)
{
    while (*p == ' ' || *p == '"')
        p++;
    return formula_char(*p);
}

int export_csv_field(const char *text, export_write_fn write, void *arg)
{
    char buf[256];
    size_t n = 0;
    int rc;
    if (text == NULL)
        return 0;
    buf[n++] = '"';
    if (formula_at(text))
        buf[n++] = '\'';
    for (const char *p = text; *p != '\0'; p++) {
        if (n + 3 > sizeof(buf)) { /* room for a doubled quote and an apostrophe */
            if ((rc = write(arg, buf, n)) != 0)
                return rc;
            n = 0;
        }
        buf[n++] = *p;
        if (*p == '"')
            buf[n++] = '"';
        else if (cell_break(*p) && formula_at(p + 1))
            buf[n++] = '\'';
    }
    buf[n++] = '"';
    return write(arg, buf, n);
}

int export_format_parse(const char *name, export_format *fmt)
{
    if (name != NULL && strcmp(name, "csv") == 0) {
        *fmt = EXPORT_CSV;
        return TMI_OK;
    }
    if (name != NULL && strcmp(name, "json") == 0) {
        *fmt = EXPORT_JSON;
        return TMI_OK;
    }
    return TMI_EINVAL;
}

/* ---- row writers ---- */

static void csv_text(outbuf *ob, const char *text, int last)
{
    export_csv_field(text, ob_write_cb, ob);
    ob_puts(ob, last ? "\r\n" : ",");
}

static void csv_int(outbuf *ob, int has, int64_t v, int last)
{
    char num[32];
    if (has) {
        snprintf(num, sizeof(num), "%" PRId64, v);
        ob_puts(ob, num);
    }
    ob_puts(ob, last ? "\r\n" : ",");
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int has(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) != SQLITE_NULL;
}

/* hex of a 32-byte blob column into buf (65 bytes), or NULL. */
static const char *col_hex(sqlite3_stmt *st, int i, char *buf)
{
    if (sqlite3_column_bytes(st, i) != 32)
        return NULL;
    hex_encode(sqlite3_column_blob(st, i), 32, buf);
    return buf;
}

static const char *col_time(sqlite3_stmt *st, int i, char *buf, size_t buflen)
{
    if (!has(st, i))
        return NULL;
    return time_format_utc(sqlite3_column_int64(st, i), buf, buflen);
}

static int json_row(outbuf *ob, cJSON *o, int first)
{
    char *text;
    if (o == NULL)
        return TMI_ENOMEM;
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return TMI_ENOMEM;
    if (!first)
        ob_puts(ob, ",\n");
    ob_puts(ob, text);
    cJSON_free(text);
    return ob->err;
}

static cJSON *json_str(const char *s)
{
    return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* history columns: 0 id, 1 observed_ns, 2 scan_id, 3 path, 4 name, 5 kind,
 * 6 present, 7 size, 8 mtime_ns, 9 sha256, 10 version, 11 status,
 * 12 known_bad, 13 error */
static const char history_sql[] =
    "SELECT o.id, o.observed_ns, o.scan_id, f.path, f.name, f.kind, o.present, o.size,"
    " o.mtime_ns, o.sha256, o.version, o.status, o.known_bad, o.error"
    " FROM observations o JOIN files f ON f.id = o.file_id"
    " WHERE o.observed_ns >= ? AND o.observed_ns < ? ORDER BY o.id";

static const char history_header[] =
    "id,time,scan_id,path,name,kind,present,size,mtime,sha256,version,status,known_bad,error\r\n";

static int history_csv(outbuf *ob, sqlite3_stmt *st)
{
    char when[40], mtime[40], hex[65];
    csv_int(ob, 1, sqlite3_column_int64(st, 0), 0);
    csv_text(ob, col_time(st, 1, when, sizeof(when)), 0);
    csv_int(ob, 1, sqlite3_column_int64(st, 2), 0);
    csv_text(ob, col(st, 3), 0);
    csv_text(ob, col(st, 4), 0);
    csv_text(ob, col(st, 5), 0);
    ob_puts(ob, sqlite3_column_int(st, 6) ? "true," : "false,");
    csv_int(ob, has(st, 7), sqlite3_column_int64(st, 7), 0);
    csv_text(ob, col_time(st, 8, mtime, sizeof(mtime)), 0);
    csv_text(ob, col_hex(st, 9, hex), 0);
    csv_text(ob, col(st, 10), 0);
    csv_text(ob, col(st, 11), 0);
    ob_puts(ob, sqlite3_column_int(st, 12) ? "true," : "false,");
    csv_text(ob, col(st, 13), 1);
    return ob->err;
}

static int history_json(outbuf *ob, sqlite3_stmt *st, int first)
{
    char when[40], mtime[40], hex[65];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return TMI_ENOMEM;
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddItemToObject(o, "time", json_str(col_time(st, 1, when, sizeof(when))));
    cJSON_AddNumberToObject(o, "scan_id", (double)sqlite3_column_int64(st, 2));
    cJSON_AddItemToObject(o, "path", json_str(col(st, 3)));
    cJSON_AddItemToObject(o, "name", json_str(col(st, 4)));
    cJSON_AddItemToObject(o, "kind", json_str(col(st, 5)));
    cJSON_AddBoolToObject(o, "present", sqlite3_column_int(st, 6));
    if (has(st, 7))
        cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(st, 7));
    else
        cJSON_AddNullToObject(o, "size");
    cJSON_AddItemToObject(o, "mtime", json_str(col_time(st, 8, mtime, sizeof(mtime))));
    cJSON_AddItemToObject(o, "sha256", json_str(col_hex(st, 9, hex)));
    cJSON_AddItemToObject(o, "version", json_str(col(st, 10)));
    cJSON_AddItemToObject(o, "status", json_str(col(st, 11)));
    cJSON_AddBoolToObject(o, "known_bad", sqlite3_column_int(st, 12));
    cJSON_AddItemToObject(o, "error", json_str(col(st, 13)));
    return json_row(ob, o, first);
}

/* audit columns: 0 seq, 1 time_ns, 2 actor, 3 auth, 4 action, 5 target,
 * 6 params, 7 outcome, 8 details, 9 prev_hash, 10 hash */
static const char audit_sql[] =
    "SELECT seq, time_ns, actor, auth, action, target, params, outcome, details, prev_hash, hash"
    " FROM audit WHERE seq BETWEEN ?3 AND ?4 AND +time_ns >= ?1 AND +time_ns < ?2 ORDER BY seq";

static const char audit_header[] =
    "seq,time,time_ns,actor,auth,action,target,params,outcome,details,prev_hash,hash\r\n";

static int audit_csv(outbuf *ob, sqlite3_stmt *st)
{
    char when[40], h1[65], h2[65];
    csv_int(ob, 1, sqlite3_column_int64(st, 0), 0);
    csv_text(ob, col_time(st, 1, when, sizeof(when)), 0);
    csv_int(ob, 1, sqlite3_column_int64(st, 1), 0);
    for (int i = 2; i <= 8; i++)
        csv_text(ob, col(st, i), 0);
    csv_text(ob, col_hex(st, 9, h1), 0);
    csv_text(ob, col_hex(st, 10, h2), 1);
    return ob->err;
}

static int audit_json(outbuf *ob, sqlite3_stmt *st, int first)
{
    static const char *const keys[] = {"actor",  "auth",    "action", "target",
                                       "params", "outcome", "details"};
    char when[40], num[32], h1[65], h2[65];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return TMI_ENOMEM;
    cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(st, 0));
    cJSON_AddItemToObject(o, "time", json_str(col_time(st, 1, when, sizeof(when))));
    snprintf(num, sizeof(num), "%" PRId64, (int64_t)sqlite3_column_int64(st, 1));
    cJSON_AddStringToObject(o, "time_ns", num);
    for (int i = 0; i < 7; i++)
        cJSON_AddItemToObject(o, keys[i], json_str(col(st, i + 2)));
    cJSON_AddItemToObject(o, "prev_hash", json_str(col_hex(st, 9, h1)));
    cJSON_AddItemToObject(o, "hash", json_str(col_hex(st, 10, h2)));
    return json_row(ob, o, first);
}

/* ---- the export loop ---- */

typedef struct export_kind {
    const char *sql;
    const char *csv_header;
    int (*csv_row)(outbuf *ob, sqlite3_stmt *st);
    int (*json_row)(outbuf *ob, sqlite3_stmt *st, int first);
    const char *what;
    int seq_range; /* binds ?3..?4 with audit_seq_range() */
} export_kind;

static int run_export(store *s, const export_kind *k, export_format fmt, const export_range *range,
                      export_write_fn write, void *arg)
{
    sqlite3_stmt *st = NULL;
    outbuf *ob = NULL;
    int rc, src = SQLITE_DONE, began = 0, first = 1;

    if (s == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    if (write == NULL || (fmt != EXPORT_CSV && fmt != EXPORT_JSON))
        return store_fail(s, TMI_EINVAL, "export: bad format or no output");
    if (range != NULL && range->has_since && range->has_until && range->until_ns <= range->since_ns)
        return store_fail(s, TMI_EINVAL, "export: 'until' must be later than 'since'");
    ob = malloc(sizeof(*ob));
    if (ob == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    ob->len = 0;
    ob->write = write;
    ob->arg = arg;
    ob->err = TMI_OK;
    rc = store_prepare(s, k->sql, &st);
    if (rc != TMI_OK)
        goto out;
    sqlite3_bind_int64(st, 1, range != NULL && range->has_since ? range->since_ns : INT64_MIN);
    sqlite3_bind_int64(st, 2, range != NULL && range->has_until ? range->until_ns : INT64_MAX);
    rc = store_read_begin(s, &began);
    if (rc != TMI_OK)
        goto out;
    if (k->seq_range) { /* audit: the time range as a seq range, walked in order */
        int64_t lo = 1, hi = INT64_MAX;
        if (range != NULL)
            rc = audit_seq_range(s, range->has_since, range->since_ns, range->has_until,
                                 range->until_ns, &lo, &hi);
        if (rc != TMI_OK)
            goto out;
        sqlite3_bind_int64(st, 3, lo);
        sqlite3_bind_int64(st, 4, hi);
    }
    ob_puts(ob, fmt == EXPORT_CSV ? k->csv_header : "[");
    while (rc == TMI_OK && ob->err == TMI_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == EXPORT_CSV) {
            rc = k->csv_row(ob, st);
        } else {
            if (first)
                ob_puts(ob, "\n");
            rc = k->json_row(ob, st, first);
        }
        first = 0;
    }
    if (rc == TMI_OK && ob->err == TMI_OK && src != SQLITE_DONE) {
        rc = store_fail_sqlite(s, src, k->what);
        goto out;
    }
    if (fmt == EXPORT_JSON)
        ob_puts(ob, first ? "]\n" : "\n]\n");
    if (rc == TMI_OK)
        rc = ob_flush(ob);
    if (rc == TMI_ENOMEM)
        store_fail(s, rc, "out of memory");
    else if (rc != TMI_OK && ob->err != TMI_OK)
        store_fail(s, rc, "export: writing the output failed (%s)", tmi_strerror(rc));
out:
    sqlite3_finalize(st);
    store_read_end(s, began);
    free(ob);
    return rc;
}

int export_history(store *s, export_format fmt, const export_range *range, export_write_fn write,
                   void *arg)
{
    static const export_kind k = {
        history_sql, history_header, history_csv, history_json, "cannot read the file history", 0};
    return run_export(s, &k, fmt, range, write, arg);
}

int export_audit(store *s, export_format fmt, const export_range *range, export_write_fn write,
                 void *arg)
{
    static const export_kind k = {
        audit_sql, audit_header, audit_csv, audit_json, "cannot read the audit trail", 1};
    return run_export(s, &k, fmt, range, write, arg);
}

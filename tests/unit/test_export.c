/*
 * test_export.c - CSV and JSON export: RFC 4180 quoting, formula
 * neutralisation, time ranges, streaming in bounded pieces, callback
 * failures, re-verifying an exported trail; and parsing user times.
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
#include "export.h"
#include "plat.h"
#include "scans.h"
#include "store.h"
#include "storetest.h"
#include "timefmt.h"

static char *cell(const char *text)
{
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_csv_field(text, st_sink_write, &k), 0);
    if (k.data == NULL)
        return calloc(1, 1);
    return k.data;
}

static void expect_cell(const char *text, const char *want)
{
    char *got = cell(text);
    assert_string_equal(got, want);
    free(got);
}

static void csv_quoting(void **state)
{
    (void)state;
    /* every text cell is quoted; NULL is the one empty, unquoted field */
    expect_cell(NULL, "");
    expect_cell("", "\"\"");
    expect_cell("plain", "\"plain\"");
    expect_cell("C:\\Program Files (x86)\\Trend Micro", "\"C:\\Program Files (x86)\\Trend Micro\"");
    expect_cell("a,b", "\"a,b\"");
    expect_cell("say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_cell("\"", "\"\"\"\"");
    expect_cell("\"\"", "\"\"\"\"\"\"");
    expect_cell("end\"", "\"end\"\"\"");
    expect_cell("line1\r\nline2", "\"line1\r\nline2\"");
    expect_cell("lf\n", "\"lf\n\"");
    expect_cell("cr\rx", "\"cr\rx\"");
    expect_cell("caf\xc3\xa9 \xe2\x9c\x93", "\"caf\xc3\xa9 \xe2\x9c\x93\""); /* UTF-8 untouched */
    expect_cell(" spaced ", "\" spaced \"");
}

static void csv_formulas_neutralised(void **state)
{
    (void)state;
    expect_cell("=SUM(A1:A9)", "\"'=SUM(A1:A9)\"");
    expect_cell("+1", "\"'+1\"");
    expect_cell("-1", "\"'-1\"");
    expect_cell("@cmd", "\"'@cmd\"");
    expect_cell("\tx", "\"'\tx\"");
    expect_cell("\rx", "\"'\rx\"");
    expect_cell("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    expect_cell("=1,2", "\"'=1,2\"");
    expect_cell("a=b", "\"a=b\""); /* a sign inside a word starts nothing */
    expect_cell("a-b c+d", "\"a-b c+d\"");
    expect_cell("'quoted", "\"'quoted\"");
    /* where a spreadsheet that splits on another separator (or a broken
     * line) would start a cell: after , ; TAB CR LF, past spaces and quotes */
    expect_cell("x;=HYPERLINK(\"http://evil.example/\",\"open\")",
                "\"x;'=HYPERLINK(\"\"http://evil.example/\"\",\"\"open\"\")\"");
    expect_cell("x,+1", "\"x,'+1\"");
    expect_cell("x\t-1", "\"x\t'-1\"");
    expect_cell("x\r\n@cmd", "\"x\r\n'@cmd\"");
    expect_cell("x; =1", "\"x;' =1\"");
    expect_cell("x;\"=1\"", "\"x;'\"\"=1\"\"\"");
    expect_cell(" =1", "\"' =1\"");
    expect_cell("\t\tx", "\"'\t'\tx\"");
    expect_cell("a;b,c", "\"a;b,c\"");
    expect_cell("[-1,-2]", "\"[-1,'-2]\"");
}

/* A request's path stored as an audit target by an unauthenticated client
 * (the server audits a failed credential with req->path as the target)
 * comes out of the CSV with every formula start neutralised. */
static void audit_csv_neutralises_a_planted_path(void **state)
{
    (void)state;
    static const char target[] = "/api/status;=HYPERLINK(\"http://evil.example/\",\"open\")";
    static const audit_actor anon = {"anonymous", "token"};
    audit_event ev = {"auth", target, NULL, "failed", "{\"reason\":\"wrong API token\"}"};
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    assert_int_equal(audit_append(s, &anon, &ev, NULL), TMI_OK);
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_audit(s, EXPORT_CSV, NULL, st_sink_write, &k), TMI_OK);
    /* the cell as written: quoted, the formula behind the ';' neutralised */
    assert_non_null(strstr(k.data, ",\"/api/status;'=HYPERLINK(\"\"http://evil.example/\"\","
                                   "\"\"open\"\")\","));
    /* no separator anywhere in the file is followed by a formula start */
    for (const char *p = k.data; *p != '\0'; p++) {
        if (strchr(",;\t\r\n", *p) == NULL)
            continue;
        const char *q = p + 1;
        while (*q == ' ' || *q == '"')
            q++;
        if (*q != '\0' && strchr("=+-@", *q) != NULL)
            fail_msg("a formula starts after a separator at offset %d", (int)(q - k.data));
    }
    st_sink_free(&k);
    store_close(s);
}

/* A minimal RFC 4180 reader: the fields of all records of text. */
typedef struct csv_table {
    char *field[64][16];
    int nfields[64];
    int nrec;
} csv_table;

static void csv_parse(const char *p, csv_table *t)
{
    memset(t, 0, sizeof(*t));
    char buf[8192];
    size_t n = 0;
    int f = 0;
    while (*p != '\0') {
        n = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                assert_true(*p != '\0');
                if (*p == '"' && p[1] == '"') {
                    buf[n++] = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    buf[n++] = *p++;
                }
            }
        } else {
            while (*p != ',' && *p != '\r' && *p != '\0') {
                assert_true(*p != '\n'); /* a bare LF must have been quoted */
                assert_true(*p != '"');
                buf[n++] = *p++;
            }
        }
        buf[n] = '\0';
        assert_true(t->nrec < 64 && f < 16);
        t->field[t->nrec][f] = strdup(buf);
        f++;
        if (*p == ',') {
            p++;
        } else {
            assert_int_equal(p[0], '\r'); /* CRLF line ends */
            assert_int_equal(p[1], '\n');
            p += 2;
            t->nfields[t->nrec++] = f;
            f = 0;
        }
    }
    assert_int_equal(f, 0);
}

static void csv_free(csv_table *t)
{
    for (int r = 0; r < t->nrec; r++)
        for (int f = 0; f < t->nfields[r]; f++)
            free(t->field[r][f]);
}

static void audit_csv_round_trips(void **state)
{
    (void)state;
    static const char *const targets[] = {
        "C:\\Program Files (x86)\\Trend Micro\\COMMON\\TMI\\mrf.exe",
        "a,b \"quoted\"\r\nnext line",
        "=cmd|' /C calc'!A0",
        "-2+3",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
    };
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    for (size_t i = 0; i < 5; i++) {
        audit_event ev = {"replace", targets[i], "{\"files\":[\"a\",\"b\"]}", "ok",
                          "{\"before\":\"1.12.0.1156\",\"after\":\"1.12.0.1266\"}"};
        assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    }
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_audit(s, EXPORT_CSV, NULL, st_sink_write, &k), TMI_OK);
    csv_table t;
    csv_parse(k.data, &t);
    assert_int_equal(t.nrec, 6);
    assert_string_equal(t.field[0][0], "seq");
    assert_string_equal(t.field[0][11], "hash");
    for (int r = 1; r <= 5; r++) {
        assert_int_equal(t.nfields[r], 12);
        char want[64];
        snprintf(want, sizeof(want), "%d", r);
        assert_string_equal(t.field[r][0], want);
        const char *target = targets[r - 1];
        int neutral = strchr("=+-@\t\r", target[0]) != NULL;
        if (neutral) {
            assert_int_equal(t.field[r][6][0], '\'');
            assert_string_equal(t.field[r][6] + 1, target);
        } else {
            assert_string_equal(t.field[r][6], target);
        }
        assert_string_equal(t.field[r][3], "tester");
        assert_string_equal(t.field[r][7], "{\"files\":[\"a\",\"b\"]}");
        assert_int_equal(strlen(t.field[r][11]), 64);
    }
    csv_free(&t);
    st_sink_free(&k);
    store_close(s);
}

/* An exported trail is enough to check the chain without tmi-console's database. */
static void audit_json_reverifies(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 1, 8);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    audit_event ev = {"restart", "TrendMicro Infrastructure", NULL, "failed",
                      "{\"state\":\"stopped\",\"note\":\"started, then stopped\"}"};
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_audit(s, EXPORT_JSON, NULL, st_sink_write, &k), TMI_OK);
    cJSON *a = cJSON_Parse(k.data);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 2);
    uint8_t prev[32] = {0};
    cJSON *row;
    int64_t seq = 0;
    cJSON_ArrayForEach(row, a)
    {
        static const char *const keys[] = {"actor",  "auth",    "action", "target",
                                           "params", "outcome", "details"};
        const char *v[7];
        for (int i = 0; i < 7; i++) {
            cJSON *x = cJSON_GetObjectItemCaseSensitive(row, keys[i]);
            v[i] = cJSON_IsString(x) ? x->valuestring : NULL;
        }
        audit_fields f = {++seq, 0, v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
        assert_int_equal(cJSON_GetObjectItem(row, "seq")->valuedouble, (double)seq);
        f.time_ns = strtoll(cJSON_GetObjectItem(row, "time_ns")->valuestring, NULL, 10);
        uint8_t h[32];
        char hex[65];
        /* prev_hash (derived, not stored) names the row before */
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", prev[i]);
        assert_string_equal(cJSON_GetObjectItem(row, "prev_hash")->valuestring, hex);
        assert_int_equal(audit_hash(prev, &f, h), TMI_OK);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", h[i]);
        assert_string_equal(cJSON_GetObjectItem(row, "hash")->valuestring, hex);
        memcpy(prev, h, 32);
    }
    /* the scan's summary (stored as numbers) comes out as the text hashed */
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "details")->valuestring,
                        "{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":16}");
    cJSON_Delete(a);
    st_sink_free(&k);
    scan_result_free(r);
    store_close(s);
}

static void history_json_and_csv(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 3, 0, 0);
    r->files[2].present = 0;
    r->files[2].has_sha256 = 0;
    r->files[2].has_version = 0;
    r->files[2].status = FILE_MISSING;
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_JSON, NULL, st_sink_write, &k), TMI_OK);
    cJSON *a = cJSON_Parse(k.data);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), 3);
    cJSON *first = cJSON_GetArrayItem(a, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "path")->valuestring, "/tmi/f0.dll");
    assert_string_equal(cJSON_GetObjectItem(first, "version")->valuestring, "1.12.0.1266");
    assert_string_equal(cJSON_GetObjectItem(first, "time")->valuestring,
                        "2025-11-25T09:59:50.000Z");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(first, "present")));
    cJSON *gone = cJSON_GetArrayItem(a, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(gone, "present")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(gone, "size")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(gone, "sha256")));
    assert_string_equal(cJSON_GetObjectItem(gone, "status")->valuestring, "missing");
    cJSON_Delete(a);
    st_sink_free(&k);

    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_CSV, NULL, st_sink_write, &k), TMI_OK);
    csv_table t;
    csv_parse(k.data, &t);
    assert_int_equal(t.nrec, 4);
    assert_int_equal(t.nfields[0], 14);
    assert_string_equal(t.field[3][3], "/tmi/f2.dll");
    assert_string_equal(t.field[3][6], "false");
    assert_string_equal(t.field[3][7], ""); /* NULL size */
    assert_string_equal(t.field[3][11], "missing");
    csv_free(&t);
    st_sink_free(&k);

    /* empty exports are well-formed too */
    store_close(s);
    st_tmpdir(dir, sizeof(dir));
    s = st_open(dir);
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_JSON, NULL, st_sink_write, &k), TMI_OK);
    assert_string_equal(k.data, "[]\n");
    st_sink_free(&k);
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_audit(s, EXPORT_CSV, NULL, st_sink_write, &k), TMI_OK);
    assert_string_equal(k.data, "seq,time,time_ns,actor,auth,action,target,params,outcome,details,"
                                "prev_hash,hash\r\n");
    st_sink_free(&k);
    scan_result_free(r);
    store_close(s);
}

static void time_range_filters(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    const int64_t hour = 3600LL * 1000000000LL;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 1, 0, 0);
    int64_t t0 = r->started_ns;
    for (int i = 0; i < 10; i++) { /* one changed row per hour */
        r->started_ns = t0 + i * hour;
        r->files[0].size = 1000 + (uint64_t)i;
        assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    }
    export_range range = {1, t0 + 3 * hour, 1, t0 + 7 * hour};
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_JSON, &range, st_sink_write, &k), TMI_OK);
    cJSON *a = cJSON_Parse(k.data);
    assert_int_equal(cJSON_GetArraySize(a), 4); /* hours 3,4,5,6: since in, until out */
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "size")->valuedouble, 1003);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 3), "size")->valuedouble, 1006);
    cJSON_Delete(a);
    st_sink_free(&k);
    export_range only_since = {1, t0 + 8 * hour, 0, 0};
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_CSV, &only_since, st_sink_write, &k), TMI_OK);
    csv_table t;
    csv_parse(k.data, &t);
    assert_int_equal(t.nrec, 3);
    csv_free(&t);
    st_sink_free(&k);
    export_range only_until = {0, 0, 1, t0 + 1};
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_CSV, &only_until, st_sink_write, &k), TMI_OK);
    csv_parse(k.data, &t);
    assert_int_equal(t.nrec, 2);
    csv_free(&t);
    st_sink_free(&k);
    /* audit rows carry the real clock: split them at the 6th row's time */
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 10);
    int64_t split = rows.rows[4].time_ns; /* seq 6 */
    audit_rows_free(&rows);
    export_range ar = {1, split, 0, 0};
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_audit(s, EXPORT_JSON, &ar, st_sink_write, &k), TMI_OK);
    a = cJSON_Parse(k.data);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "seq")->valuedouble, 6);
    cJSON_Delete(a);
    st_sink_free(&k);
    /* an empty or reversed range is refused */
    export_range bad = {1, t0, 1, t0};
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_CSV, &bad, st_sink_write, &k), TMI_EINVAL);
    assert_int_equal(k.calls, 0);
    scan_result_free(r);
    store_close(s);
}

static void streams_in_bounded_pieces(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 10, 400);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    st_sink k;
    memset(&k, 0, sizeof(k));
    assert_int_equal(export_history(s, EXPORT_JSON, NULL, st_sink_write, &k), TMI_OK);
    assert_true(k.len > 10 * EXPORT_CHUNK);
    assert_true(k.calls > 10);
    assert_true(k.max_piece <= EXPORT_CHUNK);
    cJSON *a = cJSON_Parse(k.data);
    assert_int_equal(cJSON_GetArraySize(a), 4008);
    cJSON_Delete(a);
    st_sink_free(&k);
    /* the callback says stop: the export stops with its code */
    memset(&k, 0, sizeof(k));
    k.fail_after = 3;
    assert_int_equal(export_history(s, EXPORT_CSV, NULL, st_sink_write, &k), TMI_EIO);
    assert_int_equal(k.calls, 3);
    assert_non_null(strstr(store_errmsg(s), "output"));
    st_sink_free(&k);
    /* and the store is usable after it (no snapshot left open) */
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    scan_result_free(r);
    store_close(s);
}

static void format_names(void **state)
{
    (void)state;
    export_format f;
    assert_int_equal(export_format_parse("csv", &f), TMI_OK);
    assert_int_equal(f, EXPORT_CSV);
    assert_int_equal(export_format_parse("json", &f), TMI_OK);
    assert_int_equal(f, EXPORT_JSON);
    assert_int_equal(export_format_parse("CSV", &f), TMI_EINVAL);
    assert_int_equal(export_format_parse("xml", &f), TMI_EINVAL);
    assert_int_equal(export_format_parse(NULL, &f), TMI_EINVAL);
}

static void parses_times(void **state)
{
    (void)state;
    char err[256];
    int64_t ns = 0;
    const int64_t day = 86400LL * 1000000000LL;
    assert_int_equal(time_parse("1970-01-01", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(ns, 0);
    assert_int_equal(time_parse("2026-11-25", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(ns, 20782 * day);
    assert_int_equal(time_parse("2026-11-25T10:00:00Z", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(ns, 20782 * day + 36000LL * 1000000000LL);
    assert_int_equal(time_parse("2026-11-25T19:00:00+09:00", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(ns, 20782 * day + 36000LL * 1000000000LL);
    assert_int_equal(time_parse("2026-11-25t10:00:00.5z", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(ns, 20782 * day + 36000LL * 1000000000LL + 500000000);
    assert_int_equal(time_parse("2026-11-25T10:00:00.123456789Z", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(ns % 1000000000, 123456789);
    assert_int_equal(time_parse("2024-02-29", &ns, err, sizeof(err)), TMI_OK);
    assert_int_equal(time_parse("2000-02-29", &ns, err, sizeof(err)), TMI_OK);
    static const char *const bad[] = {
        "",
        "2026",
        "2026-11",
        "2026-13-01",
        "2026-00-10",
        "2026-11-31",
        "2025-02-29",
        "1900-02-29",
        "1969-12-31",
        "2262-01-01",
        "2026-11-25 10:00:00Z",
        "2026-11-25T10:00Z",
        "2026-11-25T10:00:00",
        "2026-11-25T24:00:00Z",
        "2026-11-25T10:60:00Z",
        "2026-11-25T10:00:60Z",
        "2026-11-25T10:00:00.Z",
        "2026-11-25T10:00:00.1234567890Z",
        "2026-11-25T10:00:00+0900",
        "2026-11-25T10:00:00Zjunk",
        "2026-11-25x",
        "+2026-11-25",
        " 2026-11-25",
        "2026-1-25",
        "yesterday",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (time_parse(bad[i], &ns, err, sizeof(err)) != TMI_EINVAL)
            fail_msg("accepted '%s'", bad[i]);
        assert_non_null(strstr(err, "invalid time"));
    }
    assert_int_equal(time_parse(NULL, &ns, err, sizeof(err)), TMI_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/export/csv-quoting", csv_quoting),
        ST_TEST("/store/export/csv-formulas-neutralised", csv_formulas_neutralised),
        ST_TEST("/store/export/audit-csv-neutralises-a-planted-path",
                audit_csv_neutralises_a_planted_path),
        ST_TEST("/store/export/audit-csv-round-trips", audit_csv_round_trips),
        ST_TEST("/store/export/audit-json-reverifies", audit_json_reverifies),
        ST_TEST("/store/export/history-json-and-csv", history_json_and_csv),
        ST_TEST("/store/export/time-range", time_range_filters),
        ST_TEST("/store/export/streams-in-bounded-pieces", streams_in_bounded_pieces),
        ST_TEST("/store/export/format-names", format_names),
        ST_TEST("/store/time/parse", parses_times),
    };
    return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}

/*
 * api_audit.c - the audit trail and the exports: GET /api/audit (?action=,
 * ?job=, ?since=, ?until=, paging),
 * GET /api/audit/verify, GET /api/export/{history,audit}.{csv,json}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "audit.h"
#include "err.h"
#include "export.h"
#include "http.h"

int api_audit(http_req *req)
{
    audit_query q;
    audit_rows rows = {NULL, 0};
    cJSON *items;
    store *s = NULL;
    int st, rc;

    const char *job = req_query_get(&req->query, "job");
    uint64_t job_id = 0;

    memset(&q, 0, sizeof(q));
    q.action = req_query_get(&req->query, "action");
    if (q.action != NULL && !audit_word_valid(q.action))
        return http_send_problem(req, 400, "action must be 1 to %d of [a-z0-9_.-]", AUDIT_MAX_WORD);
    if (job != NULL && req_parse_u64(job, 1, (uint64_t)1 << 53, &job_id) != TMI_OK)
        return http_send_problem(req, 400, "job must be a job id: a whole number from 1");
    q.job = (int64_t)job_id;
    st = api_page(req, &q.before, &q.limit);
    if (st == 0)
        st = api_range(req, &q.has_since, &q.since_ns, &q.has_until, &q.until_ns);
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = audit_list(s, &q, &rows);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot read the audit trail", s);
    items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < rows.count; i++) {
        cJSON *row = audit_row_json(&rows.rows[i]);
        if (row == NULL) {
            cJSON_Delete(items);
            items = NULL;
            break;
        }
        cJSON_AddItemToArray(items, row);
    }
    if (items == NULL)
        st = http_send_problem(req, 503, "out of memory");
    else
        st = api_send_page(req, items, rows.count, q.limit,
                           rows.count > 0 ? rows.rows[rows.count - 1].seq : 0);
    audit_rows_free(&rows);
    return st;
}

int api_audit_verify(http_req *req)
{
    const char *head = req_query_get(&req->query, "head");
    audit_head expect;
    audit_report rep;
    cJSON *o;
    store *s = NULL;
    int st, rc;

    if (head != NULL && audit_head_parse(head, &expect) != TMI_OK)
        return http_send_problem(req, 400,
                                 "head must be SEQ:HASH (64 hex digits), as printed "
                                 "by 'tmi-console audit verify'");
    st = api_store(req, &s);
    if (st != 0)
        return st;
    memset(&rep, 0, sizeof(rep));
    rc = audit_verify(s, head != NULL ? &expect : NULL, &rep);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot verify the audit trail", s);
    o = audit_report_json(&rep);
    if (o == NULL)
        return http_send_problem(req, 503, "out of memory");
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

/* The streaming state of one export: the response starts with the first
 * piece, so a failure before any output still gets a proper error answer. */
typedef struct export_sink {
    http_req *req;
    const char *ctype;
    const char *filename;
    int started;
} export_sink;

static int sink_write(void *arg, const char *buf, size_t len)
{
    export_sink *k = arg;
    if (!k->started) {
        if (http_stream_begin(k->req, k->ctype, k->filename) != TMI_OK)
            return TMI_EIO;
        k->started = 1;
    }
    return http_stream_write(k->req, buf, len);
}

int api_export(http_req *req)
{
    const char *last = strrchr(req->route->pattern, '/') + 1; /* "history.csv" */
    int audit = strncmp(last, "audit.", 6) == 0;
    export_format fmt = strcmp(strchr(last, '.') + 1, "csv") == 0 ? EXPORT_CSV : EXPORT_JSON;
    export_range range;
    export_sink sink;
    char filename[64];
    store *s = NULL;
    int st, rc;

    memset(&range, 0, sizeof(range));
    st = api_range(req, &range.has_since, &range.since_ns, &range.has_until, &range.until_ns);
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    snprintf(filename, sizeof(filename), "tmi-console-%s", last);
    memset(&sink, 0, sizeof(sink));
    sink.req = req;
    sink.ctype = fmt == EXPORT_CSV ? "text/csv; charset=utf-8" : "application/json";
    sink.filename = filename;
    if (audit)
        rc = export_audit(s, fmt, &range, sink_write, &sink);
    else
        rc = export_history(s, fmt, &range, sink_write, &sink);
    if (rc == TMI_OK && !sink.started)
        rc = sink_write(&sink, "", 0); /* an empty export still gets its headers */
    if (!sink.started) {
        http_audit(req, "export", last, "failed", NULL);
        return http_send_error(req, rc, "the export failed", s);
    }
    http_stream_end(req, rc == TMI_OK);
    if (rc != TMI_OK)
        fprintf(stderr, "tmi-console serve: export %s cut short: %s\n", last,
                store_errmsg(s)[0] != '\0' ? store_errmsg(s) : tmi_strerror(rc));
    http_audit(req, "export", last, rc == TMI_OK ? "ok" : "failed", NULL);
    return 200;
}

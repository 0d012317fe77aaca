/*
 * api_scan.c - scans and files: GET /api/status, POST /api/scan,
 * GET /api/scans[/{id}], GET /api/files, GET /api/files/{name}/history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "detect.h"
#include "err.h"
#include "http.h"
#include "plat.h"
#include "scan_json.h"
#include "scans.h"
#include "sig_digests.h"

/* POST /api/scan takes no options yet: an empty body or {}. */
static int check_scan_body(http_req *req)
{
    if (req->body == NULL)
        return 0;
    if (!cJSON_IsObject(req->body))
        return http_send_problem(req, 400, "the body must be a JSON object ({} or none)");
    if (req->body->child != NULL)
        return http_send_problem(req, 400, "unknown field '%s' (POST /api/scan takes none)",
                                 req->body->child->string != NULL ? req->body->child->string : "");
    return 0;
}

int api_scan_post(http_req *req)
{
    const http_config *cfg = http_req_config(req);
    scan_result *r = NULL;
    audit_actor actor;
    cJSON *o = NULL, *scan = NULL;
    char loc[64];
    const char *h[] = {"Location", loc, NULL};
    int64_t id = 0;
    store *s = NULL;
    scan_digest_cache digests;
    scan_options so = {0, &digests};
    int st, rc;

    st = check_scan_body(req);
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    sig_digests_cache(s, &digests); /* the signed files seen before: no second pass */
    rc = scan_run_opts(cfg->target, &so, &r);
    if (rc != TMI_OK) {
        http_audit(req, "scan", cfg->target->root, "failed", NULL);
        return http_send_error(req, rc, "the scan failed", NULL);
    }
    actor.user = req->user;
    actor.auth = req->auth == HTTP_AUTH_SESSION ? "session" : "token";
    rc = scans_record(s, r, &actor, &id);
    if (rc != TMI_OK) {
        st = http_send_error(req, rc, "cannot store the scan", s);
        goto out;
    }
    scan = scan_to_json(r);
    o = cJSON_CreateObject();
    if (scan == NULL || o == NULL) {
        st = http_send_problem(req, 503, "out of memory");
        goto out;
    }
    cJSON_AddNumberToObject(o, "scan_id", (double)id);
    cJSON_AddItemToObject(o, "scan", scan);
    scan = NULL;
    snprintf(loc, sizeof(loc), "/api/scans/%lld", (long long)id);
    {
        char *text = cJSON_PrintUnformatted(o);
        if (text == NULL) {
            st = http_send_problem(req, 503, "out of memory");
            goto out;
        }
        st = http_send(req, 201, "application/json", text, strlen(text), h);
        free(text);
    }
out:
    cJSON_Delete(o);
    cJSON_Delete(scan);
    scan_result_free(r);
    return st;
}

int api_scans(http_req *req)
{
    scans_rows list = {NULL, 0};
    cJSON *items = NULL;
    int64_t before;
    size_t limit;
    store *s = NULL;
    int st = api_page(req, &before, &limit), rc;
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = scans_list(s, before, limit, &list);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot list the scans", s);
    items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < list.count; i++) {
        cJSON *row = scans_row_json(&list.rows[i]);
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
        st = api_send_page(req, items, list.count, limit,
                           list.count > 0 ? list.rows[list.count - 1].id : 0);
    scans_rows_free(&list);
    return st;
}

int api_scan_get(http_req *req)
{
    const char *idtext = route_param(&req->params, "id");
    cJSON *scan = NULL, *o = NULL;
    uint64_t id;
    store *s = NULL;
    int st, rc;
    if (req_parse_u64(idtext, 1, INT64_MAX, &id) != TMI_OK)
        return http_send_problem(req, 400, "a scan id is a whole number from 1");
    st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = scans_doc_json(s, (int64_t)id, &scan);
    if (rc == TMI_ENOENT)
        return http_send_problem(req, 404, "no scan with id %llu", (unsigned long long)id);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot read the scan", s);
    o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(scan);
        return http_send_problem(req, 503, "out of memory");
    }
    cJSON_AddNumberToObject(o, "scan_id", (double)id);
    cJSON_AddItemToObject(o, "scan", scan);
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

/* Send a page of observations; cursor: the file id (files) or the
 * observation id (history) of the last row. */
static int send_obs_page(http_req *req, scans_obs_list *list, size_t limit, int by_file)
{
    cJSON *items = cJSON_CreateArray();
    int64_t next = 0;
    for (size_t i = 0; items != NULL && i < list->count; i++) {
        cJSON *row = scans_obs_json(&list->rows[i]);
        if (row == NULL) {
            cJSON_Delete(items);
            items = NULL;
            break;
        }
        cJSON_AddItemToArray(items, row);
    }
    if (items == NULL)
        return http_send_problem(req, 503, "out of memory");
    if (list->count > 0)
        next = by_file ? list->rows[list->count - 1].file_id : list->rows[list->count - 1].id;
    return api_send_page(req, items, list->count, limit, next);
}

int api_files(http_req *req)
{
    scans_obs_list list = {NULL, 0};
    int64_t before;
    size_t limit;
    store *s = NULL;
    int st = api_page(req, &before, &limit), rc;
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = scans_files(s, before, limit, &list);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot list the files", s);
    st = send_obs_page(req, &list, limit, 1);
    scans_obs_list_free(&list);
    return st;
}

int api_file_history(http_req *req)
{
    const char *name = route_param(&req->params, "name");
    scans_obs_list list = {NULL, 0};
    history_query q;
    int64_t before;
    size_t limit;
    store *s = NULL;
    int st, rc;
    if (name == NULL || strlen(name) > 255)
        return http_send_problem(req, 400, "a file name is 1 to 255 bytes");
    st = api_page(req, &before, &limit);
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    memset(&q, 0, sizeof(q));
    q.file = name;
    q.before = before;
    q.limit = limit;
    rc = scans_history(s, &q, &list);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot read the file history", s);
    st = send_obs_page(req, &list, limit, 0);
    scans_obs_list_free(&list);
    return st;
}

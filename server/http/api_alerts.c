/*
 * api_alerts.c - GET /api/alerts: the open alerts and a page of the recent
 * ones (shape: db/alert_list.h, shared with `tmi-console alerts --json`).
 */
#include <cjson/cJSON.h>

#include "alert_list.h"
#include "api.h"
#include "err.h"
#include "http.h"

int api_alerts(http_req *req)
{
    cJSON *o = NULL;
    store *s = NULL;
    int64_t before;
    size_t limit;
    int st, rc;

    st = api_page(req, &before, &limit);
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = alert_list_json(s, before, limit, &o);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot read the alerts", s);
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

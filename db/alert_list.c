/* alert_list.c - the alert list as JSON (see alert_list.h). */
#include "alert_list.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "alert_state.h"
#include "audit.h"
#include "err.h"
#include "page.h"
#include "timefmt.h"

static cJSON *time_or_null(cJSON *o, const char *name, int64_t ns)
{
    char buf[TIME_UTC_LEN];
    if (ns <= 0)
        return cJSON_AddNullToObject(o, name);
    return cJSON_AddStringToObject(o, name, time_format_utc(ns, buf, sizeof(buf)));
}

static cJSON *open_json(const alert_state_open *a)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL || cJSON_AddStringToObject(o, "kind", a->kind) == NULL ||
        cJSON_AddStringToObject(o, "subject", a->subject) == NULL ||
        cJSON_AddStringToObject(o, "state", a->state) == NULL ||
        time_or_null(o, "since", a->since_ns) == NULL ||
        time_or_null(o, "last_sent", a->sent_ns) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* One alert row: its details parsed (an object; {} when they are missing or
 * not an object), the message taken from them. */
static cJSON *recent_json(const audit_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *d = r->details != NULL ? cJSON_Parse(r->details) : NULL;
    const cJSON *msg;
    if (d != NULL && !cJSON_IsObject(d)) {
        cJSON_Delete(d);
        d = NULL;
    }
    if (d == NULL)
        d = cJSON_CreateObject();
    msg = cJSON_GetObjectItemCaseSensitive(d, "message");
    if (o == NULL || d == NULL || cJSON_AddNumberToObject(o, "seq", (double)r->seq) == NULL ||
        cJSON_AddStringToObject(o, "time", r->time != NULL ? r->time : "") == NULL ||
        cJSON_AddStringToObject(o, "kind", r->target != NULL ? r->target : "") == NULL ||
        cJSON_AddStringToObject(o, "message", cJSON_IsString(msg) ? msg->valuestring : "") ==
            NULL) {
        cJSON_Delete(o);
        cJSON_Delete(d);
        return NULL;
    }
    cJSON_AddItemToObject(o, "details", d);
    return o;
}

static int add_open(store *s, cJSON *root)
{
    alert_state_open_list l = {NULL, 0};
    cJSON *arr = cJSON_AddArrayToObject(root, "open");
    int rc = arr != NULL ? alert_state_list_open(s, &l) : TMI_ENOMEM;
    for (size_t i = 0; rc == TMI_OK && i < l.count; i++) {
        cJSON *o = open_json(&l.rows[i]);
        if (o == NULL)
            rc = TMI_ENOMEM;
        else
            cJSON_AddItemToArray(arr, o);
    }
    alert_state_open_list_free(&l);
    return rc;
}

static int add_recent(store *s, int64_t before, size_t limit, cJSON *root)
{
    audit_query q;
    audit_rows rows = {NULL, 0};
    cJSON *items, *page;
    int rc;
    memset(&q, 0, sizeof(q));
    q.action = "alert";
    q.before = before;
    q.limit = limit;
    rc = audit_list(s, &q, &rows);
    if (rc != TMI_OK)
        return rc;
    items = cJSON_CreateArray();
    for (size_t i = 0; items != NULL && i < rows.count; i++) {
        cJSON *o = recent_json(&rows.rows[i]);
        if (o == NULL) {
            cJSON_Delete(items);
            items = NULL;
        } else {
            cJSON_AddItemToArray(items, o);
        }
    }
    page = page_json(items, rows.count, limit, rows.count > 0 ? rows.rows[rows.count - 1].seq : 0);
    audit_rows_free(&rows);
    if (page == NULL)
        return TMI_ENOMEM;
    cJSON_AddItemToObject(root, "recent", page);
    return TMI_OK;
}

int alert_list_json(store *s, int64_t before, size_t limit, cJSON **out)
{
    cJSON *root;
    int rc;
    if (out != NULL)
        *out = NULL;
    if (s == NULL || out == NULL || limit < 1 || limit > STORE_MAX_LIMIT || before < 0)
        return TMI_EINVAL;
    root = cJSON_CreateObject();
    if (root == NULL)
        return TMI_ENOMEM;
    rc = add_open(s, root);
    if (rc == TMI_OK)
        rc = add_recent(s, before, limit, root);
    if (rc != TMI_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return TMI_OK;
}

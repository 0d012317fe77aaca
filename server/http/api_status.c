/*
 * api_status.c - GET /api/status: the latest scan, the service's state and
 * the event-log evidence, in one answer that a page polls every few seconds.
 *
 * Each worker keeps its own cache (its thread slot, http.h): the latest
 * scan's JSON text, valid while the worker's store stamp (db/stamp.h) is
 * unchanged, and the whole answer built from it and the live service state
 * and events, which are read again when older than STATUS_LIVE_TTL_MS or
 * when the store changed (a job's step, a scan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "err.h"
#include "evidence.h"
#include "http.h"
#include "plat.h"
#include "scans.h"
#include "stamp.h"

#define STATUS_LIVE_TTL_MS 1000

typedef struct status_cache {
    int valid;
    store_stamper *stamper; /* on the worker's store */
    store_stamp stamp;      /* the stamp taken before the scan was read */
    int64_t scan_id;        /* 0: no scan yet */
    char *scan_json;        /* "null" when no scan */
    char *body;             /* the last answer, or NULL */
    size_t body_len;
    int64_t body_ns; /* monotonic time its live part was read */
} status_cache;

static void cache_release(void *p)
{
    status_cache *c = p;
    if (c == NULL)
        return;
    store_stamp_close(c->stamper);
    free(c->scan_json);
    free(c->body);
    free(c);
}

/* This worker's cache (made on first use) and a stamp of its store taken
 * now. */
static int cache_get(http_req *req, store *s, status_cache **out, store_stamp *now)
{
    http_thread_slot *slot = http_req_thread_slot(req);
    status_cache *c;
    int rc;
    if (slot == NULL)
        return TMI_EINVAL;
    c = slot->ptr;
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            return TMI_ENOMEM;
        rc = store_stamp_open(s, &c->stamper);
        if (rc != TMI_OK) {
            free(c);
            return rc;
        }
        slot->ptr = c;
        slot->release = cache_release;
    }
    *out = c;
    return store_stamp_take(c->stamper, now);
}

/* Refill the status cache from the store: the latest scan's JSON text. */
static int status_refill(store *s, status_cache *c, const store_stamp *stamp)
{
    scans_rows list = {NULL, 0};
    cJSON *scan = NULL;
    char *text = NULL;
    int64_t id = 0;
    int rc = scans_list(s, 0, 1, &list);
    if (rc == TMI_OK && list.count > 0) {
        id = list.rows[0].id;
        rc = scans_doc_json(s, id, &scan);
    }
    if (rc == TMI_OK) {
        text = scan != NULL ? cJSON_PrintUnformatted(scan) : malloc(5);
        if (text == NULL)
            rc = TMI_ENOMEM;
        else if (scan == NULL)
            memcpy(text, "null", 5);
    }
    cJSON_Delete(scan);
    scans_rows_free(&list);
    if (rc != TMI_OK)
        return rc;
    free(c->scan_json);
    c->scan_json = text;
    c->scan_id = id;
    c->stamp = *stamp;
    c->valid = 1;
    free(c->body); /* built again with the new scan */
    c->body = NULL;
    return TMI_OK;
}

/* Build the answer from the cached scan and the live service state and
 * events, read now. */
static int status_build(const http_config *cfg, status_cache *c)
{
    cJSON *svc = evidence_service_json(cfg->target);
    cJSON *ev = evidence_events_json(cfg->target, 0, EVIDENCE_EVENTS_MAX);
    cJSON *watch = cfg->watch != NULL ? watcher_status_json(cfg->watch) : NULL;
    if (watch != NULL && cfg->alerts != NULL)
        cJSON_AddItemToObject(watch, "alert_outputs", alert_outputs_status_json(cfg->alerts));
    char *watch_text = watch != NULL ? cJSON_PrintUnformatted(watch) : NULL;
    char *svc_text = svc != NULL ? cJSON_PrintUnformatted(svc) : NULL;
    char *ev_text = ev != NULL ? cJSON_PrintUnformatted(ev) : NULL;
    char id[32], *body = NULL;
    int rc = TMI_ENOMEM, n;
    size_t cap;
    if (svc_text == NULL || ev_text == NULL)
        goto out;
    if (c->scan_id > 0)
        snprintf(id, sizeof(id), "%lld", (long long)c->scan_id);
    else
        snprintf(id, sizeof(id), "null");
    cap = strlen(c->scan_json) + strlen(svc_text) + strlen(ev_text) +
          (watch_text != NULL ? strlen(watch_text) : 4) + 112;
    body = malloc(cap);
    if (body == NULL)
        goto out;
    n = snprintf(body, cap,
                 "{\"scan_id\":%s,\"scan\":%s,\"service\":%s,\"events\":%s,\"watch\":%s}", id,
                 c->scan_json, svc_text, ev_text, watch_text != NULL ? watch_text : "null");
    if (n < 0 || (size_t)n >= cap) {
        free(body);
        rc = TMI_EIO;
        goto out;
    }
    free(c->body);
    c->body = body;
    c->body_len = (size_t)n;
    c->body_ns = plat_monotonic_ns();
    rc = TMI_OK;
out:
    free(svc_text);
    free(ev_text);
    free(watch_text);
    cJSON_Delete(svc);
    cJSON_Delete(ev);
    cJSON_Delete(watch);
    return rc;
}

/*
 * GET /api/status: {"scan_id", "scan", "service", "events", "watch"} (watch:
 * the watcher's state, watcher.h, or null when none runs). The answer is
 * this thread's cache while the store is unchanged (one cheap data_version
 * check per request) and its live part (service state, events: a service
 * manager and an event log query each) is younger than STATUS_LIVE_TTL_MS;
 * a poller sees a service's change within that, and a job's within its
 * next step (the store changes).
 */
int api_status(http_req *req)
{
    status_cache *c = NULL;
    store_stamp now;
    store *s = NULL;
    int st = api_store(req, &s), rc;
    if (st != 0)
        return st;
    rc = cache_get(req, s, &c, &now);
    if (rc == TMI_OK && (!c->valid || !store_stamp_equal(&c->stamp, &now)))
        rc = status_refill(s, c, &now);
    if (rc != TMI_OK) {
        if (c != NULL)
            c->valid = 0;
        return http_send_error(req, rc, "cannot read the latest scan", s);
    }
    if (c->body == NULL ||
        plat_monotonic_ns() - c->body_ns > (int64_t)STATUS_LIVE_TTL_MS * 1000000LL) {
        rc = status_build(http_req_config(req), c);
        if (rc != TMI_OK)
            return http_send_problem(req, rc == TMI_ENOMEM ? 503 : 500,
                                     "cannot build the status answer");
    }
    return http_send(req, 200, "application/json", c->body, c->body_len, NULL);
}

/* DELETE /api/auto-repair: cancel a scheduled automatic repair. */
int api_auto_repair_cancel(http_req *req)
{
    const http_config *cfg = http_req_config(req);
    if (cfg->watch == NULL)
        return http_send_problem(req, 404, "no watcher runs (serve was started without one)");
    if (watcher_cancel_auto_repair(cfg->watch, req->user) != TMI_OK)
        return http_send_problem(req, 409, "no automatic repair is scheduled");
    return http_send(req, 204, NULL, NULL, 0, NULL);
}

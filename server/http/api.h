/*
 * api.h - the handlers of the route table (routes.c), one per route, all
 * with the route_handler signature: answer through the http_send* helpers
 * and return the HTTP status sent. By the time a handler runs, the request
 * has passed the guard, its route's access check (token, or cookie and page
 * secret), and its body (if the route takes one) is parsed in req->body.
 * Query parameters are limited to the route's list but their values are
 * checked here.
 *
 * Files: api_web.c (/, /assets, /login, session, health, openapi),
 * api_status.c (status), api_report.c (the incident reports),
 * api_scan.c (scan, scans, files, history), api_audit.c (audit, verify,
 * exports), api_jobs.c (plan, jobs, backups), api_alerts.c (alerts).
 */
#ifndef TMI_API_H
#define TMI_API_H

#include <stddef.h>
#include <stdint.h>

struct http_req;
struct cJSON;
typedef struct store store;

/* ---- shared by the handlers (api_util.c) ----
 * Each returns 0 when the request may go on, or the status of the error
 * answer it has already sent. */

/* This thread's store, or 503 sent. */
int api_store(struct http_req *req, store **s);

/* Query "before" (1..2^63-1; absent: 0, from the newest) and "limit"
 * (1..STORE_MAX_LIMIT; absent: STORE_DEFAULT_LIMIT), digits only. */
int api_page(struct http_req *req, int64_t *before, size_t *limit);

/* Query "since"/"until" as RFC 3339 times or dates (db/timefmt.h); until
 * must be after since. */
int api_range(struct http_req *req, int *has_since, int64_t *since_ns, int *has_until,
              int64_t *until_ns);

/* Send the page {"items": items, "next_before": next} (page.h: next_before
 * null when count < limit, the last page). Takes ownership of items. */
int api_send_page(struct http_req *req, struct cJSON *items, size_t count, size_t limit,
                  int64_t next);

/* api_web.c */
int api_index(struct http_req *req);
int api_asset(struct http_req *req);
int api_login(struct http_req *req);
int api_favicon(struct http_req *req);
int api_health(struct http_req *req);
int api_openapi(struct http_req *req);
int api_session_get(struct http_req *req);
int api_session_delete(struct http_req *req);

int api_status(struct http_req *req);
int api_auto_repair_cancel(struct http_req *req);
int api_scan_post(struct http_req *req);
int api_scans(struct http_req *req);
int api_scan_get(struct http_req *req);
int api_files(struct http_req *req);
int api_file_history(struct http_req *req);

/* api_jobs.c */
int api_plan(struct http_req *req);
int api_jobs_post(struct http_req *req);
int api_jobs_list(struct http_req *req);
int api_job_get(struct http_req *req);
int api_backups(struct http_req *req);

/* api_report.c: GET /api/jobs/{id}/report, GET /api/report */
int api_job_report(struct http_req *req);
int api_report_now(struct http_req *req);

/* api_audit.c */
int api_audit(struct http_req *req);
int api_audit_verify(struct http_req *req);
int api_export(struct http_req *req);

/* api_alerts.c */
int api_alerts(struct http_req *req);

#endif

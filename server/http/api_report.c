/*
 * api_report.c - GET /api/jobs/{id}/report and GET /api/report: the
 * incident report (server/report/report.h) as a whole HTML document, with
 * the same authentication as every API call (the page fetches it with its
 * tab's secret and shows it from a blob: URL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "err.h"
#include "http.h"
#include "report.h"

/* Render r and send it: 200 text/html, named for saving. */
static int send_report(http_req *req, const report *r)
{
    char name[64], disp[128];
    const char *h[] = {"Content-Disposition", disp, NULL};
    char *html = NULL;
    size_t len = 0;
    int st;
    if (report_html(r, NULL, &html, &len) != TMI_OK)
        return http_send_problem(req, 503, "out of memory while writing the report");
    report_file_name(r, name, sizeof(name));
    snprintf(disp, sizeof(disp), "inline; filename=\"%s\"", name);
    st = http_send(req, 200, "text/html; charset=utf-8", html, len, h);
    free(html);
    return st;
}

/* Gather with gather (job_id 0: the state now), then send. The model is
 * on the heap: it holds the files and the chain's check. */
static int make_report(http_req *req, int64_t job_id)
{
    const http_config *cfg = http_req_config(req);
    char err[512];
    store *s = NULL;
    report *r;
    int st = api_store(req, &s), rc;
    if (st != 0)
        return st;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return http_send_problem(req, 503, "out of memory");
    rc = job_id > 0 ? report_gather_job(s, cfg->target, NULL, job_id, r, err, sizeof(err))
                    : report_gather_now(s, cfg->target, NULL, r, err, sizeof(err));
    if (rc == TMI_ENOENT)
        st = http_send_problem(req, 404, "no job %lld", (long long)job_id);
    else if (rc != TMI_OK)
        st = http_send_problem(req, rc == TMI_ENOMEM ? 503 : 500, "%s", err);
    else
        st = send_report(req, r);
    report_release(r);
    free(r);
    return st;
}

int api_job_report(http_req *req)
{
    const char *idtext = route_param(&req->params, "id");
    uint64_t id = 0;
    if (idtext == NULL || req_parse_u64(idtext, 1, (uint64_t)1 << 53, &id) != TMI_OK)
        return http_send_problem(req, 400, "the job id must be a positive number");
    return make_report(req, (int64_t)id);
}

int api_report_now(http_req *req)
{
    return make_report(req, 0);
}

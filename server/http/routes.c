/* routes.c - the route table and path matching (see routes.h). */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "api.h"

#define PAGE  "before limit"
#define RANGE "since until"

static const route table[] = {
    /* web UI (static, embedded) and login */
    {"GET", "/", ROUTE_PUBLIC, ROUTE_NO_BODY, NULL, api_index},
    {"GET", "/assets/{name}", ROUTE_PUBLIC, ROUTE_NO_BODY, NULL, api_asset},
    {"GET", "/assets/{dir}/{name}", ROUTE_PUBLIC, ROUTE_NO_BODY, NULL, api_asset},
    {"GET", "/login", ROUTE_PUBLIC, ROUTE_NO_BODY, "code", api_login},
    {"GET", "/favicon.ico", ROUTE_PUBLIC, ROUTE_NO_BODY, NULL, api_favicon},
    /* API */
    {"GET", "/api/health", ROUTE_PUBLIC, ROUTE_NO_BODY, NULL, api_health},
    {"GET", "/api/openapi.json", ROUTE_PUBLIC, ROUTE_NO_BODY, NULL, api_openapi},
    {"GET", "/api/session", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_session_get},
    {"DELETE", "/api/session", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_session_delete},
    {"GET", "/api/status", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_status},
    {"DELETE", "/api/auto-repair", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_auto_repair_cancel},
    {"POST", "/api/scan", ROUTE_AUTH, ROUTE_JSON_BODY, NULL, api_scan_post},
    {"GET", "/api/scans", ROUTE_AUTH, ROUTE_NO_BODY, PAGE, api_scans},
    {"GET", "/api/scans/{id}", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_scan_get},
    {"GET", "/api/files", ROUTE_AUTH, ROUTE_NO_BODY, PAGE, api_files},
    {"GET", "/api/files/{name}/history", ROUTE_AUTH, ROUTE_NO_BODY, PAGE, api_file_history},
    {"GET", "/api/plan", ROUTE_AUTH, ROUTE_NO_BODY, "accept_untrusted_root", api_plan},
    {"POST", "/api/jobs", ROUTE_AUTH, ROUTE_JSON_BODY, NULL, api_jobs_post},
    {"GET", "/api/jobs", ROUTE_AUTH, ROUTE_NO_BODY, PAGE, api_jobs_list},
    {"GET", "/api/jobs/{id}", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_job_get},
    {"GET", "/api/jobs/{id}/report", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_job_report},
    {"GET", "/api/report", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_report_now},
    {"GET", "/api/backups", ROUTE_AUTH, ROUTE_NO_BODY, NULL, api_backups},
    {"GET", "/api/audit", ROUTE_AUTH, ROUTE_NO_BODY, "action job " RANGE " " PAGE, api_audit},
    {"GET", "/api/alerts", ROUTE_AUTH, ROUTE_NO_BODY, PAGE, api_alerts},
    {"GET", "/api/audit/verify", ROUTE_AUTH, ROUTE_NO_BODY, "head", api_audit_verify},
    {"GET", "/api/export/history.csv", ROUTE_AUTH, ROUTE_NO_BODY, RANGE, api_export},
    {"GET", "/api/export/history.json", ROUTE_AUTH, ROUTE_NO_BODY, RANGE, api_export},
    {"GET", "/api/export/audit.csv", ROUTE_AUTH, ROUTE_NO_BODY, RANGE, api_export},
    {"GET", "/api/export/audit.json", ROUTE_AUTH, ROUTE_NO_BODY, RANGE, api_export},
};

const route *routes_table(size_t *count)
{
    *count = sizeof(table) / sizeof(table[0]);
    return table;
}

int route_match(const char *pattern, const char *path, route_params *params)
{
    const char *p = pattern, *s = path;
    params->n = 0;
    if (*p != '/' || *s != '/')
        return 0;
    for (;;) {
        const char *pend, *send;
        size_t plen, slen;
        if (*p == '\0' || *s == '\0')
            return *p == '\0' && *s == '\0';
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        pend = strchr(p, '/');
        send = strchr(s, '/');
        plen = pend != NULL ? (size_t)(pend - p) : strlen(p);
        slen = send != NULL ? (size_t)(send - s) : strlen(s);
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            size_t nlen = plen - 2;
            if (slen == 0 || params->n >= ROUTE_MAX_PARAMS || nlen >= REQ_MAX_NAME ||
                slen > REQ_MAX_PATH)
                return 0;
            memcpy(params->p[params->n].name, p + 1, nlen);
            params->p[params->n].name[nlen] = '\0';
            memcpy(params->p[params->n].value, s, slen);
            params->p[params->n].value[slen] = '\0';
            params->n++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
}

int routes_find(const char *method, const char *path, const route **out, route_params *params,
                char *allow, size_t allowlen)
{
    size_t n = sizeof(table) / sizeof(table[0]), used = 0;
    int path_found = 0;
    route_params tmp;
    if (allowlen > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!route_match(table[i].pattern, path, &tmp))
            continue;
        if (strcmp(table[i].method, method) == 0) {
            *params = tmp;
            *out = &table[i];
            return 0;
        }
        if (!path_found || strstr(allow, table[i].method) == NULL) {
            int w = snprintf(allow + used, allowlen - used, "%s%s", used > 0 ? ", " : "",
                             table[i].method);
            if (w > 0 && (size_t)w < allowlen - used)
                used += (size_t)w;
        }
        path_found = 1;
    }
    /* a GET route answers HEAD too (http.c) */
    if (path_found && strstr(allow, "GET") != NULL && used + 6 < allowlen)
        snprintf(allow + used, allowlen - used, ", HEAD");
    return path_found ? 405 : 404;
}

const char *route_param(const route_params *params, const char *name)
{
    for (size_t i = 0; i < params->n; i++) {
        if (strcmp(params->p[i].name, name) == 0)
            return params->p[i].value;
    }
    return NULL;
}

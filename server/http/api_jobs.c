/*
 * api_jobs.c - the changing actions over HTTP: GET /api/plan (with each
 * action's steps), POST /api/jobs, GET /api/jobs, GET /api/jobs/{id},
 * GET /api/backups.
 *
 * POST /api/jobs takes the job lock and writes the job row while the request
 * waits (so "busy" is answered at once, 409), then runs the job on a thread
 * of its own and answers 202 with the job's id; a job its preflight refuses
 * (not affected, plan changed) ends "failed" with the reason, which the page
 * reads with GET /api/jobs/{id} as it follows the steps. Server shutdown
 * waits for a running job to finish (runner_shutdown): a job is never cut
 * half-way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "authenticode.h"
#include "backup.h"
#include "detect.h"
#include "err.h"
#include "hex.h"
#include "http.h"
#include "jobs.h"
#include "pathutil.h"
#include "plat.h"
#include "repair.h"
#include "runner.h"

/* ---- GET /api/plan ---- */

/* "steps": {"repair": ["preflight", ...], ...}: each action's steps in the
 * order the executor runs them (repair_action_steps), so that clients draw a
 * job's progress from the engine's own list. */
static cJSON *steps_json(void)
{
    static const repair_action all[] = {REPAIR_FULL, REPAIR_REPLACE, REPAIR_BACKUP, REPAIR_RESTART,
                                        REPAIR_RESTORE};
    const char *names[REPAIR_MAX_STEPS];
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o != NULL && i < sizeof(all) / sizeof(all[0]); i++) {
        size_t n = repair_action_steps(all[i], names);
        cJSON *a = cJSON_CreateStringArray(names, (int)n);
        if (a == NULL || !cJSON_AddItemToObject(o, repair_action_name(all[i]), a)) {
            cJSON_Delete(a);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* The parts of the plan that do not depend on the scan: the steps and the
 * playbook's files, in its order ("playbook_files"). NULL when out of
 * memory. */
static cJSON *procedure_json(cJSON *o, const playbook *pb)
{
    cJSON *steps = steps_json();
    cJSON *files = cJSON_CreateStringArray((const char *const *)pb->files, (int)pb->n_files);
    if (steps == NULL || files == NULL || !cJSON_AddItemToObject(o, "steps", steps)) {
        cJSON_Delete(steps);
        cJSON_Delete(files);
        return NULL;
    }
    if (!cJSON_AddItemToObject(o, "playbook_files", files)) {
        cJSON_Delete(files);
        return NULL;
    }
    return o;
}

static cJSON *plan_json(const scan_result *r)
{
    char v[TMI_VERSION_STRLEN], digest[65];
    cJSON *o = cJSON_CreateObject();
    cJSON *files;
    const scan_source *src = r->repair_source >= 0 ? &r->sources[r->repair_source] : NULL;
    if (o == NULL)
        return NULL;
    cJSON_AddBoolToObject(o, "possible", r->repair_possible);
    cJSON_AddStringToObject(o, "reason", r->repair_reason ? r->repair_reason : "");
    cJSON_AddStringToObject(o, "verdict", scan_verdict_name(r->verdict));
    if (r->repair_possible && repair_plan_digest(r, digest) == TMI_OK)
        cJSON_AddStringToObject(o, "digest", digest);
    else
        cJSON_AddNullToObject(o, "digest");
    if (src != NULL) {
        cJSON_AddStringToObject(o, "source", src->path);
        cJSON_AddStringToObject(o, "variant", src->variant);
    } else {
        cJSON_AddNullToObject(o, "source");
        cJSON_AddNullToObject(o, "variant");
    }
    if (r->tmi_dir != NULL)
        cJSON_AddStringToObject(o, "tmi_dir", r->tmi_dir);
    else
        cJSON_AddNullToObject(o, "tmi_dir");
    files = cJSON_AddArrayToObject(o, "files");
    for (size_t i = 0; files != NULL && i < r->n_files; i++) {
        const scan_file *f = &r->files[i];
        cJSON *fo = cJSON_CreateObject();
        if (fo == NULL)
            break;
        cJSON_AddStringToObject(fo, "name", f->name);
        cJSON_AddStringToObject(fo, "target", f->path);
        if (f->has_version)
            cJSON_AddStringToObject(fo, "from_version", version_format(&f->version, v, sizeof(v)));
        else
            cJSON_AddNullToObject(fo, "from_version");
        cJSON_AddStringToObject(fo, "status", file_status_name(f->status));
        if (src != NULL && i < src->n_files) {
            cJSON_AddStringToObject(fo, "source_path", src->files[i].path);
            cJSON_AddStringToObject(fo, "to_version",
                                    version_format(&src->files[i].version, v, sizeof(v)));
            cJSON_AddItemToObject(fo, "source_signature",
                                  src->files[i].has_sig ? authenticode_to_json(&src->files[i].sig)
                                                        : cJSON_CreateNull());
            cJSON_AddBoolToObject(fo, "untrusted_root_accepted", src->files[i].sig_override);
        } else {
            cJSON_AddNullToObject(fo, "source_path");
            cJSON_AddNullToObject(fo, "to_version");
            cJSON_AddNullToObject(fo, "source_signature");
            cJSON_AddBoolToObject(fo, "untrusted_root_accepted", 0);
        }
        cJSON_AddItemToArray(files, fo);
    }
    return o;
}

int api_plan(http_req *req)
{
    const http_config *cfg = http_req_config(req);
    scan_result *r = NULL;
    cJSON *o;
    int rc, st;
    const char *acc = req_query_get(&req->query, "accept_untrusted_root");
    scan_options so = {0};
    if (acc != NULL && strcmp(acc, "true") != 0 && strcmp(acc, "false") != 0)
        return http_send_problem(req, 400, "accept_untrusted_root must be true or false");
    so.accept_untrusted_root = acc != NULL && strcmp(acc, "true") == 0;
    rc = scan_run_opts(cfg->target, &so, &r);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "the scan for the plan failed", NULL);
    o = plan_json(r);
    scan_result_free(r);
    if (o != NULL && procedure_json(o, cfg->target->pb) == NULL) {
        cJSON_Delete(o);
        o = NULL;
    }
    if (o == NULL)
        return http_send_problem(req, 503, "out of memory");
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

/* ---- POST /api/jobs ---- */

/* Validate the body: {"action": ..., "confirm": hex, "backup": id,
 * "accept_untrusted_root": bool}. */
static int parse_job_body(http_req *req, repair_action *a, const char **confirm,
                          const char **backup, int *accept_root)
{
    const cJSON *it;
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(req->body, "action");
    *confirm = NULL;
    *backup = NULL;
    *accept_root = 0;
    if (!cJSON_IsObject(req->body))
        return http_send_problem(req, 400, "the body must be a JSON object with \"action\"");
    cJSON_ArrayForEach(it, req->body)
    {
        if (strcmp(it->string, "action") != 0 && strcmp(it->string, "confirm") != 0 &&
            strcmp(it->string, "backup") != 0 && strcmp(it->string, "accept_untrusted_root") != 0)
            return http_send_problem(req, 400, "unknown field '%.40s'", it->string);
    }
    if (!cJSON_IsString(action) || repair_action_parse(action->valuestring, a) != TMI_OK)
        return http_send_problem(
            req, 400, "\"action\" must be one of backup, replace, restart, repair, restore");
    it = cJSON_GetObjectItemCaseSensitive(req->body, "confirm");
    if (it != NULL && !cJSON_IsNull(it)) {
        if (!cJSON_IsString(it) ||
            !(strlen(it->valuestring) == 64 && hex_is_lower(it->valuestring, 64)))
            return http_send_problem(req, 400,
                                     "\"confirm\" must be the plan's digest from /api/plan");
        *confirm = it->valuestring;
    }
    it = cJSON_GetObjectItemCaseSensitive(req->body, "backup");
    if (it != NULL && !cJSON_IsNull(it)) {
        if (!cJSON_IsString(it) || strlen(it->valuestring) > 100)
            return http_send_problem(req, 400, "\"backup\" must be a backup id");
        *backup = it->valuestring;
    }
    it = cJSON_GetObjectItemCaseSensitive(req->body, "accept_untrusted_root");
    if (it != NULL && !cJSON_IsBool(it))
        return http_send_problem(req, 400, "\"accept_untrusted_root\" must be true or false");
    *accept_root = cJSON_IsTrue(it);
    if (*accept_root && *a != REPAIR_REPLACE && *a != REPAIR_FULL)
        return http_send_problem(
            req, 400, "\"accept_untrusted_root\" goes with the replace and repair actions only");
    if (*a == REPAIR_RESTORE && *backup == NULL)
        return http_send_problem(req, 400, "restore needs \"backup\": the id of a backup");
    if (*a != REPAIR_RESTORE && *backup != NULL)
        return http_send_problem(req, 400, "\"backup\" goes with the restore action only");
    return 0;
}

int api_jobs_post(http_req *req)
{
    const http_config *cfg = http_req_config(req);
    repair_action a;
    const char *confirm, *backup;
    audit_actor actor;
    int64_t id = 0;
    char err[512], loc[64];
    const char *headers[] = {"Location", loc, NULL};
    int accept_root = 0;
    int st = parse_job_body(req, &a, &confirm, &backup, &accept_root), rc;
    if (st != 0)
        return st;
    if (!plat_is_elevated())
        return http_send_problem(req, 403,
                                 "changing the system needs an elevated (Administrator) server");
    actor.user = req->user;
    actor.auth = req->auth == HTTP_AUTH_SESSION ? "session" : "token";
    rc = runner_start(cfg->jobs, a, backup, confirm, accept_root, &actor, &id, err, sizeof(err));
    if (rc == TMI_EINTR)
        return http_send_problem(req, 503, "the server is shutting down");
    if (rc == TMI_EBUSY)
        return http_send_problem(req, 409, "%s", err);
    if (rc == TMI_EIO || rc == TMI_ENOMEM)
        return http_send_problem(req, 503, "%s", err);
    if (rc != TMI_OK)
        return http_send_error(req, rc, err, NULL);
    snprintf(loc, sizeof(loc), "/api/jobs/%lld", (long long)id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "action", repair_action_name(a));
    cJSON_AddStringToObject(o, "url", loc);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL)
        return http_send_problem(req, 503, "out of memory");
    st = http_send(req, 202, "application/json", text, strlen(text), headers);
    free(text);
    return st;
}

/* ---- GET /api/jobs, /api/jobs/{id}, /api/backups ---- */

int api_jobs_list(http_req *req)
{
    store *s = NULL;
    cJSON *list = NULL, *o;
    int64_t before;
    size_t limit;
    int st = api_page(req, &before, &limit), rc;
    if (st == 0)
        st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = jobs_list_json(s, before, limit, &list);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot list the jobs", s);
    o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(list);
        return http_send_problem(req, 503, "out of memory");
    }
    cJSON_AddItemToObject(o, "jobs", list);
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

int api_job_get(http_req *req)
{
    const char *idtext = route_param(&req->params, "id");
    store *s = NULL;
    cJSON *job = NULL;
    uint64_t id = 0;
    int st, rc;
    if (idtext == NULL || req_parse_u64(idtext, 1, (uint64_t)1 << 53, &id) != TMI_OK)
        return http_send_problem(req, 400, "the job id must be a positive number");
    st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = jobs_get_json(s, (int64_t)id, &job);
    if (rc == TMI_ENOENT)
        return http_send_problem(req, 404, "no job %llu", (unsigned long long)id);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot read the job", s);
    st = http_send_json(req, 200, job);
    cJSON_Delete(job);
    return st;
}

int api_backups(http_req *req)
{
    const http_config *cfg = http_req_config(req);
    char root[PLAT_PATH_MAX];
    cJSON *list = NULL, *o;
    int st;
    if (path_join(root, sizeof(root), cfg->data_dir, "backups") != TMI_OK ||
        backup_list_json(cfg->target->pb, root, &list) != TMI_OK)
        return http_send_problem(req, 500, "cannot list the backups");
    o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(list);
        return http_send_problem(req, 503, "out of memory");
    }
    cJSON_AddItemToObject(o, "backups", list);
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

/* scan_json.c - the JSON form of a scan (see scan_json.h). */
#include "scan_json.h"
#include "authenticode.h"
#include "hex.h"
#include "timefmt.h"

#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

static cJSON *str_or_null(const char *s)
{
    return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *file_json(const scan_file *f)
{
    char v[TMI_VERSION_STRLEN], hex[65], when[40];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddItemToObject(o, "name", cJSON_CreateString(f->name));
    cJSON_AddItemToObject(o, "path", str_or_null(f->path));
    cJSON_AddItemToObject(o, "version",
                          f->has_version
                              ? cJSON_CreateString(version_format(&f->version, v, sizeof(v)))
                              : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "sha256",
                          f->has_sha256 ? cJSON_CreateString(hex_encode(f->sha256, 32, hex))
                                        : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "status", file_status_name(f->status));
    if (f->present) {
        cJSON_AddNumberToObject(o, "size", (double)f->size);
        cJSON_AddStringToObject(o, "mtime", time_format_utc(f->mtime_ns, when, sizeof(when)));
    } else {
        cJSON_AddNullToObject(o, "size");
        cJSON_AddNullToObject(o, "mtime");
    }
    cJSON_AddBoolToObject(o, "known_bad", f->known_bad);
    cJSON_AddItemToObject(o, "error", str_or_null(f->error));
    cJSON_AddItemToObject(o, "signature",
                          f->has_sig ? authenticode_to_json(&f->sig) : cJSON_CreateNull());
    return o;
}

static cJSON *files_json(const scan_file *files, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++)
        cJSON_AddItemToArray(a, file_json(&files[i]));
    return a;
}

cJSON *scan_to_json(const scan_result *r)
{
    char v[TMI_VERSION_STRLEN], when[40];
    cJSON *o = cJSON_CreateObject();
    cJSON *sources, *repair;
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "verdict", scan_verdict_name(r->verdict));
    cJSON_AddItemToObject(o, "tmi_dir", str_or_null(r->tmi_dir));
    cJSON_AddItemToObject(o, "tmi_dir_origin", str_or_null(r->tmi_dir_origin));
    cJSON_AddItemToObject(o, "root", str_or_null(r->root));
    cJSON_AddStringToObject(o, "expected_version",
                            version_format(&r->expected_version, v, sizeof(v)));
    cJSON_AddItemToObject(o, "playbook", str_or_null(r->playbook_id));
    cJSON_AddStringToObject(o, "started", time_format_utc(r->started_ns, when, sizeof(when)));
    cJSON_AddStringToObject(o, "finished", time_format_utc(r->finished_ns, when, sizeof(when)));
    cJSON_AddItemToObject(o, "signature_error", str_or_null(r->sig_error));
    cJSON_AddItemToObject(o, "files", files_json(r->files, r->n_files));
    sources = cJSON_AddArrayToObject(o, "sources");
    for (size_t s = 0; sources != NULL && s < r->n_sources; s++) {
        const scan_source *src = &r->sources[s];
        cJSON *so = cJSON_CreateObject();
        if (so == NULL)
            break;
        cJSON_AddStringToObject(so, "path", src->path);
        cJSON_AddStringToObject(so, "variant", src->variant);
        cJSON_AddBoolToObject(so, "complete", src->complete);
        cJSON_AddStringToObject(so, "state", scan_source_state(src));
        cJSON_AddItemToObject(so, "reason", str_or_null(src->reason));
        cJSON *acc = cJSON_AddArrayToObject(so, "untrusted_root_accepted");
        for (size_t i = 0; acc != NULL && i < src->n_files; i++) {
            if (src->files[i].sig_override)
                cJSON_AddItemToArray(acc, cJSON_CreateString(src->files[i].name));
        }
        cJSON_AddItemToObject(so, "files", files_json(src->files, src->n_files));
        cJSON_AddItemToArray(sources, so);
    }
    repair = cJSON_AddObjectToObject(o, "repair");
    if (repair != NULL) {
        const scan_source *src = r->repair_source >= 0 ? &r->sources[r->repair_source] : NULL;
        cJSON_AddBoolToObject(repair, "possible", r->repair_possible);
        cJSON_AddItemToObject(repair, "source", str_or_null(src ? src->path : NULL));
        cJSON_AddItemToObject(repair, "variant", str_or_null(src ? src->variant : NULL));
        cJSON_AddItemToObject(repair, "reason", str_or_null(r->repair_reason));
    }
    return o;
}

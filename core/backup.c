/* backup.c - take, check and restore backups of the TMI files (see backup.h). */
#include "backup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "fileops.h"
#include "hex.h"
#include "pathutil.h"
#include "plat.h"
#include "strutil.h"
#include "scan_json.h"
#include "timefmt.h"

static int say(char *err, size_t errlen, int rc, const char *fmt, ...) TMI_PRINTF(4, 5);

static int say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *base_name(const char *path)
{
    const char *a = strrchr(path, '/');
    const char *b = strrchr(path, '\\');
    const char *s = a > b ? a : b;
    return s != NULL ? s + 1 : path;
}

void backup_manifest_free(backup_manifest *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_files; i++) {
        free(m->files[i].name);
        free(m->files[i].file);
    }
    free(m->files);
    free(m->id);
    free(m->created);
    free(m->tmi_dir);
    free(m);
}

cJSON *backup_manifest_json(const backup_manifest *m)
{
    char hex[65], v[TMI_VERSION_STRLEN];
    cJSON *o = cJSON_CreateObject();
    cJSON *files = cJSON_AddArrayToObject(o, "files");
    if (o == NULL || files == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddNumberToObject(o, "format", 1);
    cJSON_AddStringToObject(o, "id", m->id);
    cJSON_AddStringToObject(o, "created", m->created);
    cJSON_AddStringToObject(o, "tmi_dir", m->tmi_dir);
    for (size_t i = 0; i < m->n_files; i++) {
        const backup_entry *e = &m->files[i];
        cJSON *f = cJSON_CreateObject();
        if (f == NULL)
            break;
        cJSON_AddStringToObject(f, "name", e->name);
        cJSON_AddStringToObject(f, "file", e->file);
        cJSON_AddBoolToObject(f, "present", e->present);
        cJSON_AddNumberToObject(f, "size", (double)e->size);
        if (e->present)
            cJSON_AddStringToObject(f, "sha256", hex_encode(e->sha256, 32, hex));
        else
            cJSON_AddNullToObject(f, "sha256");
        if (e->has_version)
            cJSON_AddStringToObject(f, "version", version_format(&e->version, v, sizeof(v)));
        else
            cJSON_AddNullToObject(f, "version");
        cJSON_AddItemToArray(files, f);
    }
    return o;
}

static int write_manifest(const backup_manifest *m, const char *dir)
{
    char path[PLAT_PATH_MAX], tmp[PLAT_PATH_MAX];
    cJSON *o = backup_manifest_json(m);
    char *text = o != NULL ? cJSON_Print(o) : NULL;
    int rc = text == NULL ? TMI_ENOMEM : TMI_OK;
    cJSON_Delete(o);
    if (rc == TMI_OK)
        rc = path_join(path, sizeof(path), dir, BACKUP_MANIFEST);
    if (rc == TMI_OK)
        rc = fileops_temp_path(path, tmp, sizeof(tmp));
    if (rc == TMI_OK)
        rc = plat.write_file(tmp, text, strlen(text));
    if (rc == TMI_OK)
        rc = plat.rename_replace(tmp, path);
    if (rc != TMI_OK)
        plat.remove_file(tmp);
    free(text);
    return rc;
}

/* Copy one scanned file into the backup folder; fills *e. */
static int backup_one(const scan_file *f, const char *dir, size_t max, backup_entry *e, char *err,
                      size_t errlen)
{
    char dst[PLAT_PATH_MAX], hex[65];
    uint8_t *data = NULL;
    size_t len = 0;
    int rc;
    e->name = str_dup(f->name);
    e->file = str_dup(f->present ? base_name(f->path) : f->name);
    if (e->name == NULL || e->file == NULL)
        return TMI_ENOMEM;
    e->present = f->present;
    if (!f->present)
        return TMI_OK;
    rc = fileops_read_hash(f->path, max, &data, &len, e->sha256);
    if (rc != TMI_OK)
        return say(err, errlen, rc, "cannot read %s: %s", f->path, tmi_strerror(rc));
    if (!f->has_sha256 || memcmp(e->sha256, f->sha256, 32) != 0) {
        free(data);
        return say(err, errlen, TMI_ECONFLICT, "%s changed since the scan (now %s)", f->name,
                   hex_encode(e->sha256, 32, hex));
    }
    e->size = len;
    e->has_version = f->has_version;
    e->version = f->version;
    rc = path_join(dst, sizeof(dst), dir, e->file);
    if (rc == TMI_OK)
        rc = fileops_write_verified(dst, data, len, e->sha256);
    free(data);
    if (rc != TMI_OK)
        return say(err, errlen, rc, "cannot copy %s into the backup: %s", f->name,
                   tmi_strerror(rc));
    return TMI_OK;
}

int backup_create(const playbook *pb, const scan_result *scan, const char *backup_root,
                  const char *id, backup_manifest **out, char *err, size_t errlen)
{
    char dir[PLAT_PATH_MAX], when[40];
    backup_manifest *m = NULL;
    plat_stat st;
    int rc;
    *out = NULL;
    if (scan->tmi_dir == NULL)
        return say(err, errlen, TMI_EINVAL, "no TMI folder to back up");
    rc = path_join(dir, sizeof(dir), backup_root, id);
    if (rc == TMI_OK)
        rc = plat_make_dirs(backup_root);
    if (rc == TMI_OK && plat.stat(backup_root, &st) == TMI_OK && st.is_link)
        rc = TMI_ELINK; /* the copies would land where the link points */
    if (rc == TMI_OK)
        rc = plat.make_dir(dir);
    if (rc != TMI_OK)
        return say(err, errlen, rc, "cannot create the backup folder %s: %s", dir,
                   tmi_strerror(rc));
    m = calloc(1, sizeof(*m));
    if (m == NULL || (m->files = calloc(scan->n_files, sizeof(*m->files))) == NULL) {
        rc = say(err, errlen, TMI_ENOMEM, "out of memory");
        goto out;
    }
    m->id = str_dup(id);
    m->created = str_dup(time_format_utc(plat_now_ns(), when, sizeof(when)));
    m->tmi_dir = str_dup(scan->tmi_dir);
    if (m->id == NULL || m->created == NULL || m->tmi_dir == NULL) {
        rc = say(err, errlen, TMI_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < scan->n_files && rc == TMI_OK; i++) {
        m->n_files++;
        rc = backup_one(&scan->files[i], dir, pb->max_file_size, &m->files[i], err, errlen);
    }
    if (rc == TMI_OK) {
        rc = write_manifest(m, dir);
        if (rc != TMI_OK)
            say(err, errlen, rc, "cannot write the backup manifest: %s", tmi_strerror(rc));
    }
out:
    if (rc != TMI_OK) {
        backup_manifest_free(m);
        plat_remove_tree(dir);
        return rc;
    }
    *out = m;
    return TMI_OK;
}

static int is_playbook_file(const playbook *pb, const char *name)
{
    for (size_t i = 0; i < pb->n_files; i++) {
        if (strcmp(pb->files[i], name) == 0)
            return 1;
    }
    return 0;
}

static int load_entry(const playbook *pb, const cJSON *f, backup_entry *e)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(f, "file");
    const cJSON *present = cJSON_GetObjectItemCaseSensitive(f, "present");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(f, "version");
    if (!cJSON_IsString(name) || !cJSON_IsString(file) || !cJSON_IsBool(present) ||
        !cJSON_IsNumber(size) || !is_playbook_file(pb, name->valuestring) ||
        !path_equal_ci(name->valuestring, file->valuestring) || size->valuedouble < 0 ||
        size->valuedouble > (double)pb->max_file_size)
        return TMI_EFORMAT;
    e->name = str_dup(name->valuestring);
    e->file = str_dup(file->valuestring);
    if (e->name == NULL || e->file == NULL)
        return TMI_ENOMEM;
    e->present = cJSON_IsTrue(present);
    e->size = (uint64_t)size->valuedouble;
    if (e->present && !(cJSON_IsString(sha) && strlen(sha->valuestring) == 64 &&
                        hex_decode(sha->valuestring, 64, e->sha256) == TMI_OK))
        return TMI_EFORMAT;
    if (cJSON_IsString(ver)) {
        if (version_parse(ver->valuestring, &e->version) != TMI_OK)
            return TMI_EFORMAT;
        e->has_version = 1;
    }
    return TMI_OK;
}

int backup_parse_manifest(const playbook *pb, const char *text, size_t len, backup_manifest **out,
                          char *err, size_t errlen)
{
    cJSON *o = NULL;
    const cJSON *files, *f, *id, *created, *tmi;
    backup_manifest *m = NULL;
    int rc = TMI_OK;
    *out = NULL;
    if (len > BACKUP_MANIFEST_MAX)
        return say(err, errlen, TMI_ETOOBIG, "manifest larger than %d bytes", BACKUP_MANIFEST_MAX);
    o = cJSON_ParseWithLength(text, len);
    files = cJSON_GetObjectItemCaseSensitive(o, "files");
    id = cJSON_GetObjectItemCaseSensitive(o, "id");
    created = cJSON_GetObjectItemCaseSensitive(o, "created");
    tmi = cJSON_GetObjectItemCaseSensitive(o, "tmi_dir");
    if (!cJSON_IsArray(files) || !cJSON_IsString(id) || !cJSON_IsString(created) ||
        !cJSON_IsString(tmi) || cJSON_GetArraySize(files) > PLAYBOOK_MAX_FILES) {
        rc = say(err, errlen, TMI_EFORMAT, "malformed manifest");
        goto out;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL || (m->files = calloc(PLAYBOOK_MAX_FILES, sizeof(*m->files))) == NULL) {
        rc = say(err, errlen, TMI_ENOMEM, "out of memory");
        goto out;
    }
    m->id = str_dup(id->valuestring);
    m->created = str_dup(created->valuestring);
    m->tmi_dir = str_dup(tmi->valuestring);
    if (m->id == NULL || m->created == NULL || m->tmi_dir == NULL) {
        rc = say(err, errlen, TMI_ENOMEM, "out of memory");
        goto out;
    }
    cJSON_ArrayForEach(f, files)
    {
        rc = load_entry(pb, f, &m->files[m->n_files++]);
        if (rc != TMI_OK) {
            say(err, errlen, rc, "malformed manifest entry %zu", m->n_files);
            goto out;
        }
        for (size_t k = 0; k + 1 < m->n_files; k++) {
            if (strcmp(m->files[k].name, m->files[m->n_files - 1].name) == 0) {
                rc = say(err, errlen, TMI_EFORMAT, "manifest names %s twice", m->files[k].name);
                goto out;
            }
        }
    }
out:
    cJSON_Delete(o);
    if (rc != TMI_OK) {
        backup_manifest_free(m);
        return rc;
    }
    *out = m;
    return TMI_OK;
}

int backup_load(const playbook *pb, const char *dir, backup_manifest **out, char *err,
                size_t errlen)
{
    char path[PLAT_PATH_MAX], why[256];
    uint8_t *text = NULL;
    size_t len = 0;
    int rc = path_join(path, sizeof(path), dir, BACKUP_MANIFEST);
    *out = NULL;
    if (rc == TMI_OK)
        rc = plat.read_file_nofollow(path, BACKUP_MANIFEST_MAX, &text, &len);
    if (rc != TMI_OK)
        return say(err, errlen, rc, "backup %s has no readable manifest: %s", dir,
                   tmi_strerror(rc));
    rc = backup_parse_manifest(pb, (const char *)text, len, out, why, sizeof(why));
    free(text);
    if (rc != TMI_OK)
        return say(err, errlen, rc, "backup %s: %s", dir, why);
    return TMI_OK;
}

int backup_verify(const backup_manifest *m, const char *dir, size_t max, char *err, size_t errlen)
{
    char path[PLAT_PATH_MAX];
    uint8_t sha[32];
    for (size_t i = 0; i < m->n_files; i++) {
        const backup_entry *e = &m->files[i];
        int rc;
        if (!e->present)
            continue;
        rc = path_join(path, sizeof(path), dir, e->file);
        if (rc == TMI_OK)
            rc = fileops_read_hash(path, max, NULL, NULL, sha);
        if (rc != TMI_OK)
            return say(err, errlen, rc, "backup copy of %s cannot be read: %s", e->name,
                       tmi_strerror(rc));
        if (memcmp(sha, e->sha256, 32) != 0)
            return say(err, errlen, TMI_ECORRUPT, "backup copy of %s does not match its manifest",
                       e->name);
    }
    return TMI_OK;
}

int backup_matches(const backup_manifest *m, const char *tmi_dir, size_t max, char *which,
                   size_t whichlen)
{
    char path[PLAT_PATH_MAX];
    uint8_t sha[32];
    for (size_t i = 0; i < m->n_files; i++) {
        const backup_entry *e = &m->files[i];
        int rc = path_find_ci(tmi_dir, e->name, path, sizeof(path));
        if (!e->present) {
            if (rc != TMI_ENOENT) {
                say(which, whichlen, 0, "%s exists but was absent", e->name);
                return 0;
            }
            continue;
        }
        if (rc == TMI_OK)
            rc = fileops_read_hash(path, max, NULL, NULL, sha);
        if (rc != TMI_OK || memcmp(sha, e->sha256, 32) != 0) {
            say(which, whichlen, 0, "%s differs from the backup", e->name);
            return 0;
        }
    }
    return 1;
}

/* Put one file back; returns the first error. */
static int restore_one(const backup_entry *e, const char *dir, const char *tmi_dir, size_t max)
{
    char src[PLAT_PATH_MAX], dst[PLAT_PATH_MAX], tmp[PLAT_PATH_MAX];
    uint8_t *data = NULL, sha[32];
    size_t len = 0;
    int rc = path_find_ci(tmi_dir, e->name, dst, sizeof(dst));
    if (!e->present) {
        if (rc == TMI_ENOENT)
            return TMI_OK;
        return rc == TMI_OK ? plat.remove_file(dst) : rc;
    }
    if (rc == TMI_OK && fileops_read_hash(dst, max, NULL, NULL, sha) == TMI_OK &&
        memcmp(sha, e->sha256, 32) == 0)
        return TMI_OK; /* already as backed up: never rewrite (it may be in use) */
    if (rc == TMI_ENOENT)
        rc = path_join(dst, sizeof(dst), tmi_dir, e->file);
    if (rc == TMI_OK)
        rc = path_join(src, sizeof(src), dir, e->file);
    if (rc == TMI_OK)
        rc = fileops_read_hash(src, max, &data, &len, sha);
    if (rc == TMI_OK && memcmp(sha, e->sha256, 32) != 0)
        rc = TMI_ECORRUPT;
    if (rc == TMI_OK)
        rc = fileops_temp_path(dst, tmp, sizeof(tmp));
    if (rc == TMI_OK)
        rc = fileops_write_verified(tmp, data, len, e->sha256);
    if (rc == TMI_OK) {
        rc = plat.rename_replace(tmp, dst);
        if (rc != TMI_OK)
            plat.remove_file(tmp);
    }
    free(data);
    return rc;
}

int backup_restore(const backup_manifest *m, const char *dir, const char *tmi_dir, size_t max,
                   char *err, size_t errlen)
{
    char which[256];
    int first = TMI_OK;
    const char *first_name = NULL;
    for (size_t i = 0; i < m->n_files; i++) {
        int rc = restore_one(&m->files[i], dir, tmi_dir, max);
        if (rc != TMI_OK && first == TMI_OK) {
            first = rc;
            first_name = m->files[i].name;
        }
    }
    if (first != TMI_OK)
        return say(err, errlen, first, "restoring %s failed: %s", first_name, tmi_strerror(first));
    if (!backup_matches(m, tmi_dir, max, which, sizeof(which)))
        return say(err, errlen, TMI_EIO, "after the restore %s", which);
    return TMI_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

int backup_list_json(const playbook *pb, const char *backup_root, cJSON **out)
{
    plat_dirlist list = {NULL, 0};
    char dir[PLAT_PATH_MAX], err[256];
    cJSON *arr = cJSON_CreateArray();
    int rc;
    *out = NULL;
    if (arr == NULL)
        return TMI_ENOMEM;
    rc = plat.list_dir(backup_root, &list);
    if (rc == TMI_ENOENT) {
        *out = arr;
        return TMI_OK;
    }
    if (rc != TMI_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    if (list.count > 1)
        qsort(list.names, list.count, sizeof(*list.names), cmp_desc);
    for (size_t i = 0; i < list.count; i++) {
        backup_manifest *m = NULL;
        if (path_join(dir, sizeof(dir), backup_root, list.names[i]) != TMI_OK ||
            backup_load(pb, dir, &m, err, sizeof(err)) != TMI_OK)
            continue;
        cJSON *o = backup_manifest_json(m);
        if (o != NULL) {
            cJSON_DeleteItemFromObject(o, "format");
            cJSON_ReplaceItemInObject(o, "id", cJSON_CreateString(list.names[i]));
            cJSON_AddStringToObject(o, "folder", dir);
            cJSON_AddItemToArray(arr, o);
        }
        backup_manifest_free(m);
    }
    plat_dirlist_free(&list);
    *out = arr;
    return TMI_OK;
}

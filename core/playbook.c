/*
 * playbook.c - load and validate a playbook from JSON (see playbook.h).
 *
 * Validation is strict because a playbook decides which files get replaced:
 * unknown keys, wrong types, names that could leave the TMI folder and
 * over-long values are all refused with a message naming the key.
 */
#include "playbook.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "plat.h"
#include "strutil.h"

#define DEFAULT_MAX_FILE_SIZE ((size_t)64 * 1024 * 1024)
#define LIMIT_MAX_FILE_SIZE   ((size_t)1024 * 1024 * 1024)

typedef struct ctx {
    char *err;
    size_t errlen;
} ctx;

static int fail(ctx *c, const char *fmt, ...) TMI_PRINTF(2, 3);

static int fail(ctx *c, const char *fmt, ...)
{
    va_list ap;
    if (c->errlen == 0)
        return TMI_EFORMAT;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return TMI_EFORMAT;
}

/* Every key of obj must be one of allowed[]. */
static int check_keys(ctx *c, const cJSON *obj, const char *where, const char *const *allowed)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        int ok = 0;
        for (const cJSON *prev = obj->child; prev != item; prev = prev->next) {
            if (prev->string != NULL && item->string != NULL &&
                strcmp(prev->string, item->string) == 0)
                return fail(c, "%s: key \"%.64s\" appears twice", where, item->string);
        }
        for (const char *const *a = allowed; *a != NULL; a++) {
            if (item->string != NULL && strcmp(item->string, *a) == 0)
                ok = 1;
        }
        if (!ok)
            return fail(c, "%s: unknown key \"%.64s\"", where, item->string ? item->string : "");
    }
    return TMI_OK;
}

static int has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    }
    return 0;
}

/* A required (or optional, when out may stay NULL) string of 1..PLAYBOOK_MAX_STR bytes. */
static int get_str(ctx *c, const cJSON *obj, const char *key, const char *where, int required,
                   char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || (!required && cJSON_IsNull(v))) {
        if (required)
            return fail(c, "%s: \"%s\" is required", where, key);
        return TMI_OK;
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return fail(c, "%s: \"%s\" must be a string", where, key);
    size_t n = strlen(v->valuestring);
    if (n == 0)
        return fail(c, "%s: \"%s\" must not be empty", where, key);
    if (n >= PLAYBOOK_MAX_STR)
        return fail(c, "%s: \"%s\" is longer than %d bytes", where, key, PLAYBOOK_MAX_STR - 1);
    if (has_control(v->valuestring))
        return fail(c, "%s: \"%s\" contains control characters", where, key);
    *out = str_dup(v->valuestring);
    return *out == NULL ? TMI_ENOMEM : TMI_OK;
}

static int get_version(ctx *c, const cJSON *v, const char *what, tmi_version *out)
{
    if (!cJSON_IsString(v) || version_parse(v->valuestring, out) != TMI_OK)
        return fail(c, "%s must be a version \"a.b.c.d\" (parts 0-65535)", what);
    return TMI_OK;
}

/* A file name: no separators, no drive, not "." or "..". */
static int valid_file_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '/' || *p == '\\' || *p == ':' || *p == '*' || *p == '?' || *p == '"' ||
            *p == '<' || *p == '>' || *p == '|' || (unsigned char)*p < 0x20)
            return 0;
    }
    return 1;
}

/* A relative '/'-separated path that stays below its base: no empty parts,
 * no "." or "..", no backslash, no drive letter. Wildcards only if allowed. */
static int valid_rel_path(const char *s, int allow_wild)
{
    const char *part = s;
    if (*s == '\0' || strlen(s) >= PLAYBOOK_MAX_STR)
        return 0;
    for (const char *p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - part);
            if (n == 0 || (n == 1 && part[0] == '.') ||
                (n == 2 && part[0] == '.' && part[1] == '.'))
                return 0;
            if (*p == '\0')
                break;
            part = p + 1;
            continue;
        }
        if (*p == '\\' || *p == ':' || *p == '"' || *p == '<' || *p == '>' || *p == '|' ||
            (unsigned char)*p < 0x20)
            return 0;
        if (!allow_wild && (*p == '*' || *p == '?'))
            return 0;
    }
    return 1;
}

static int same_name_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    }
    return *a == *b;
}

static int get_array(ctx *c, const cJSON *obj, const char *key, int required, size_t min,
                     size_t max, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL) {
        if (required)
            return fail(c, "playbook: \"%s\" is required", key);
        return TMI_OK;
    }
    if (!cJSON_IsArray(v))
        return fail(c, "playbook: \"%s\" must be an array", key);
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (n < min)
        return fail(c, "playbook: \"%s\" needs at least %zu entries", key, min);
    if (n > max) {
        fail(c, "playbook: \"%s\" has more than %zu entries", key, max);
        return TMI_ETOOBIG;
    }
    *out = v;
    return TMI_OK;
}

static int load_files(ctx *c, const cJSON *root, playbook *pb)
{
    const cJSON *arr, *item;
    int rc = get_array(c, root, "files", 1, 1, PLAYBOOK_MAX_FILES, &arr);
    if (rc != TMI_OK)
        return rc;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) || !valid_file_name(item->valuestring))
            return fail(c, "playbook: \"files\"[%zu] must be a plain file name (no folders)",
                        pb->n_files);
        for (size_t i = 0; i < pb->n_files; i++) {
            if (same_name_ci(pb->files[i], item->valuestring))
                return fail(c, "playbook: \"files\" names \"%.64s\" twice", item->valuestring);
        }
        pb->files[pb->n_files] = str_dup(item->valuestring);
        if (pb->files[pb->n_files] == NULL)
            return TMI_ENOMEM;
        pb->n_files++;
    }
    return TMI_OK;
}

static int load_versions(ctx *c, const cJSON *root, playbook *pb)
{
    const cJSON *arr, *item;
    int rc = get_version(c, cJSON_GetObjectItemCaseSensitive(root, "expected_version"),
                         "playbook: \"expected_version\"", &pb->expected_version);
    if (rc != TMI_OK)
        return rc;
    rc = get_array(c, root, "known_bad_versions", 0, 0, PLAYBOOK_MAX_LIST, &arr);
    if (rc != TMI_OK || arr == NULL)
        return rc;
    cJSON_ArrayForEach(item, arr)
    {
        tmi_version *v = &pb->known_bad[pb->n_known_bad];
        rc = get_version(c, item, "playbook: \"known_bad_versions\" entries", v);
        if (rc != TMI_OK)
            return rc;
        if (version_compare(v, &pb->expected_version) == 0)
            return fail(c, "playbook: the expected version is also listed as known bad");
        pb->n_known_bad++;
    }
    return TMI_OK;
}

static int load_folders(ctx *c, const cJSON *root, playbook *pb)
{
    const cJSON *arr, *item;
    int rc = get_array(c, root, "tmi_folders", 1, 1, PLAYBOOK_MAX_LIST, &arr);
    if (rc != TMI_OK)
        return rc;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) || !valid_rel_path(item->valuestring, 0))
            return fail(c,
                        "playbook: \"tmi_folders\"[%zu] must be a relative path with '/' "
                        "separators, without '..' or wildcards",
                        pb->n_tmi_folders);
        pb->tmi_folders[pb->n_tmi_folders] = str_dup(item->valuestring);
        if (pb->tmi_folders[pb->n_tmi_folders] == NULL)
            return TMI_ENOMEM;
        pb->n_tmi_folders++;
    }
    return TMI_OK;
}

static int load_sources(ctx *c, const cJSON *root, playbook *pb)
{
    static const char *const keys[] = {"glob", "variant", NULL};
    const cJSON *arr, *item;
    int rc = get_array(c, root, "sources", 1, 0, PLAYBOOK_MAX_LIST, &arr);
    if (rc != TMI_OK)
        return rc;
    cJSON_ArrayForEach(item, arr)
    {
        char where[64];
        playbook_source *s = &pb->sources[pb->n_sources];
        snprintf(where, sizeof(where), "playbook: \"sources\"[%zu]", pb->n_sources);
        if (!cJSON_IsObject(item))
            return fail(c, "%s must be an object", where);
        rc = check_keys(c, item, where, keys);
        if (rc == TMI_OK)
            rc = get_str(c, item, "glob", where, 1, &s->glob);
        if (rc == TMI_OK)
            rc = get_str(c, item, "variant", where, 1, &s->variant);
        pb->n_sources++; /* counted now so playbook_free releases partial entries */
        if (rc != TMI_OK)
            return rc;
        if (!valid_rel_path(s->glob, 1))
            return fail(c, "%s: \"glob\" must be a relative path with '/' separators, no '..'",
                        where);
    }
    return TMI_OK;
}

static int load_service(ctx *c, const cJSON *root, playbook *pb)
{
    static const char *const keys[] = {"display_name", "image_name", "short_name", NULL};
    const char *where = "playbook: \"service\"";
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(root, "service");
    int rc;
    if (svc == NULL)
        return fail(c, "%s is required", where);
    if (!cJSON_IsObject(svc))
        return fail(c, "%s must be an object", where);
    rc = check_keys(c, svc, where, keys);
    if (rc == TMI_OK)
        rc = get_str(c, svc, "display_name", where, 1, &pb->service_display_name);
    if (rc == TMI_OK)
        rc = get_str(c, svc, "image_name", where, 1, &pb->service_image_name);
    if (rc == TMI_OK)
        rc = get_str(c, svc, "short_name", where, 0, &pb->service_short_name);
    if (rc == TMI_OK && !valid_file_name(pb->service_image_name))
        return fail(c, "%s: \"image_name\" must be a plain file name", where);
    return rc;
}

static int load_event(ctx *c, const cJSON *root, playbook *pb)
{
    static const char *const keys[] = {"provider", "id", "tokens", NULL};
    const char *where = "playbook: \"event\"";
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "event");
    const cJSON *id, *arr, *item;
    int rc;
    pb->event_id = -1;
    if (ev == NULL)
        return TMI_OK;
    if (!cJSON_IsObject(ev))
        return fail(c, "%s must be an object", where);
    rc = check_keys(c, ev, where, keys);
    if (rc == TMI_OK)
        rc = get_str(c, ev, "provider", where, 1, &pb->event_provider);
    if (rc != TMI_OK)
        return rc;
    id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 65535 ||
        id->valuedouble != (double)(int)id->valuedouble)
        return fail(c, "%s: \"id\" must be a whole number 0-65535", where);
    pb->event_id = (int)id->valuedouble;
    arr = cJSON_GetObjectItemCaseSensitive(ev, "tokens");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
        cJSON_GetArraySize(arr) > PLAYBOOK_MAX_LIST)
        return fail(c, "%s: \"tokens\" must be an array of 1-%d strings", where, PLAYBOOK_MAX_LIST);
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0' ||
            strlen(item->valuestring) >= PLAYBOOK_MAX_STR)
            return fail(c, "%s: \"tokens\" entries must be non-empty strings", where);
        pb->event_tokens[pb->n_event_tokens] = str_dup(item->valuestring);
        if (pb->event_tokens[pb->n_event_tokens] == NULL)
            return TMI_ENOMEM;
        pb->n_event_tokens++;
    }
    return TMI_OK;
}

static int load_registry(ctx *c, const cJSON *root, playbook *pb)
{
    static const char *const keys[] = {"key", "value", NULL};
    const char *where = "playbook: \"registry\"";
    const cJSON *reg = cJSON_GetObjectItemCaseSensitive(root, "registry");
    int rc;
    if (reg == NULL || cJSON_IsNull(reg))
        return TMI_OK;
    if (!cJSON_IsObject(reg))
        return fail(c, "%s must be an object", where);
    rc = check_keys(c, reg, where, keys);
    if (rc == TMI_OK)
        rc = get_str(c, reg, "key", where, 1, &pb->registry_key);
    if (rc == TMI_OK)
        rc = get_str(c, reg, "value", where, 1, &pb->registry_value);
    return rc;
}

static int load_id(ctx *c, const cJSON *root, playbook *pb)
{
    int rc = get_str(c, root, "id", "playbook", 1, &pb->id);
    if (rc != TMI_OK)
        return rc;
    if (strlen(pb->id) > 64)
        return fail(c, "playbook: \"id\" is longer than 64 characters");
    for (const char *p = pb->id; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return fail(c, "playbook: \"id\" may hold only letters, digits, '-', '_' and '.'");
    }
    return TMI_OK;
}

static int load_max_size(ctx *c, const cJSON *root, playbook *pb)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "max_file_size");
    pb->max_file_size = DEFAULT_MAX_FILE_SIZE;
    if (v == NULL)
        return TMI_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > (double)LIMIT_MAX_FILE_SIZE ||
        v->valuedouble != (double)(long long)v->valuedouble)
        return fail(c, "playbook: \"max_file_size\" must be a whole number of bytes, 1 to %zu",
                    LIMIT_MAX_FILE_SIZE);
    pb->max_file_size = (size_t)v->valuedouble;
    return TMI_OK;
}

/* "/...", "C:\\...", "C:/..." or "\\\\server\\...": an absolute path on either system. */
static int absolute_path(const char *s)
{
    if (s[0] == '/' || (s[0] == '\\' && s[1] == '\\'))
        return 1;
    return isalpha((unsigned char)s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/');
}

/* 64 hex digits into 32 bytes; 0 when s is not that. */
static int parse_thumbprint(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return 0;
    for (size_t i = 0; i < 32; i++) {
        int v = 0;
        for (size_t k = 0; k < 2; k++) {
            char ch = s[2 * i + k];
            int d = isdigit((unsigned char)ch) ? ch - '0'
                    : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                    : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                               : -1;
            if (d < 0)
                return 0;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return 1;
}

static int load_thumbprints(ctx *c, const cJSON *signer, playbook_sig_policy *sp)
{
    const char *where = "playbook: \"signer\": \"thumbprints\"";
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(signer, "thumbprints");
    const cJSON *item;
    if (arr == NULL || cJSON_IsNull(arr))
        return TMI_OK;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1)
        return fail(c, "%s must be an array of 1-%d strings", where, PLAYBOOK_MAX_THUMBPRINTS);
    if (cJSON_GetArraySize(arr) > PLAYBOOK_MAX_THUMBPRINTS) {
        fail(c, "%s has more than %d entries", where, PLAYBOOK_MAX_THUMBPRINTS);
        return TMI_ETOOBIG;
    }
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) ||
            !parse_thumbprint(item->valuestring, sp->thumbprints[sp->n_thumbprints]))
            return fail(c, "%s[%zu] must be a SHA-256 thumbprint (64 hex digits)", where,
                        sp->n_thumbprints);
        sp->n_thumbprints++;
    }
    return TMI_OK;
}

/* "signer", "allow_unsigned", "trust_store": the signature policy. */
static int load_sig_policy(ctx *c, const cJSON *root, playbook *pb)
{
    static const char *const keys[] = {"organization", "thumbprints", NULL};
    const char *where = "playbook: \"signer\"";
    const cJSON *signer = cJSON_GetObjectItemCaseSensitive(root, "signer");
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(root, "allow_unsigned");
    int rc = TMI_OK;
    if (au != NULL && !cJSON_IsBool(au))
        return fail(c, "playbook: \"allow_unsigned\" must be true or false");
    pb->sig.allow_unsigned = cJSON_IsTrue(au);
    if (signer != NULL && !cJSON_IsNull(signer)) {
        if (!cJSON_IsObject(signer))
            return fail(c, "%s must be an object", where);
        rc = check_keys(c, signer, where, keys);
        if (rc == TMI_OK)
            rc = get_str(c, signer, "organization", where, 1, &pb->sig.signer_org);
        if (rc == TMI_OK)
            rc = load_thumbprints(c, signer, &pb->sig);
        if (rc != TMI_OK)
            return rc;
    }
    rc = get_str(c, root, "trust_store", "playbook", 0, &pb->sig.trust_store);
    if (rc == TMI_OK && pb->sig.trust_store != NULL && !absolute_path(pb->sig.trust_store))
        return fail(c, "playbook: \"trust_store\" must be an absolute path to a PEM file");
    return rc;
}

int playbook_load_json(const char *text, size_t len, playbook **out, char *err, size_t errlen)
{
    static const char *const keys[] = {
        "id",    "title",         "note",     "expected_version", "known_bad_versions",
        "files", "tmi_folders",   "registry", "sources",          "service",
        "event", "max_file_size", "signer",   "allow_unsigned",   "trust_store",
        NULL};
    ctx c = {err, errlen};
    cJSON *root = NULL;
    playbook *pb = NULL;
    int rc;
    if (errlen > 0)
        err[0] = '\0';
    if (len > PLAYBOOK_MAX_BYTES) {
        fail(&c, "playbook: larger than %d bytes", PLAYBOOK_MAX_BYTES);
        return TMI_ETOOBIG;
    }
    root = cJSON_ParseWithLength(text, len);
    if (root == NULL) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = (at != NULL && at >= text && at <= text + len) ? (size_t)(at - text) : 0;
        return fail(&c, "playbook: not valid JSON (near byte %zu)", off);
    }
    pb = calloc(1, sizeof(*pb));
    if (pb == NULL) {
        rc = TMI_ENOMEM;
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        rc = fail(&c, "playbook: the top level must be an object");
        goto out;
    }
    rc = check_keys(&c, root, "playbook", keys);
    if (rc == TMI_OK)
        rc = load_id(&c, root, pb);
    if (rc == TMI_OK)
        rc = get_str(&c, root, "title", "playbook", 1, &pb->title);
    if (rc == TMI_OK)
        rc = get_str(&c, root, "note", "playbook", 0, &pb->note);
    if (rc == TMI_OK)
        rc = load_versions(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_files(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_folders(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_registry(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_sources(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_service(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_event(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_max_size(&c, root, pb);
    if (rc == TMI_OK)
        rc = load_sig_policy(&c, root, pb);
out:
    cJSON_Delete(root);
    if (rc != TMI_OK) {
        if (rc == TMI_ENOMEM)
            fail(&c, "playbook: out of memory");
        playbook_free(pb);
        return rc;
    }
    *out = pb;
    return TMI_OK;
}

int playbook_load_file(const char *path, playbook **out, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = plat.read_file(path, PLAYBOOK_MAX_BYTES, &buf, &len);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "playbook %s: %s", path,
                 rc == TMI_ETOOBIG ? "larger than 256 KiB" : tmi_strerror(rc));
        return rc;
    }
    rc = playbook_load_json((const char *)buf, len, out, err, errlen);
    free(buf);
    return rc;
}

int playbook_is_known_bad(const playbook *pb, const tmi_version *v)
{
    for (size_t i = 0; i < pb->n_known_bad; i++) {
        if (version_compare(&pb->known_bad[i], v) == 0)
            return 1;
    }
    return 0;
}

void playbook_free(playbook *pb)
{
    if (pb == NULL)
        return;
    free(pb->id);
    free(pb->title);
    free(pb->note);
    for (size_t i = 0; i < pb->n_files; i++)
        free(pb->files[i]);
    for (size_t i = 0; i < pb->n_tmi_folders; i++)
        free(pb->tmi_folders[i]);
    free(pb->registry_key);
    free(pb->registry_value);
    for (size_t i = 0; i < pb->n_sources; i++) {
        free(pb->sources[i].glob);
        free(pb->sources[i].variant);
    }
    free(pb->service_display_name);
    free(pb->service_image_name);
    free(pb->service_short_name);
    free(pb->event_provider);
    for (size_t i = 0; i < pb->n_event_tokens; i++)
        free(pb->event_tokens[i]);
    free(pb->sig.signer_org);
    free(pb->sig.trust_store);
    free(pb);
}

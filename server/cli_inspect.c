/* cli_inspect.c - `tmi-console inspect`: size, SHA-256 and version resource of PE files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "detect.h"
#include "err.h"
#include "hex.h"
#include "pe_version.h"
#include "plat.h"

#define INSPECT_MAX_FILES 4096

static const char usage[] =
    "usage: tmi-console inspect [--json] FILE...\n\n"
    "Read each file's version resource the way Windows Explorer's Details tab does\n"
    "(VS_FIXEDFILEINFO, not the localised version string) and print its size,\n"
    "SHA-256, file and product version and version strings.\n\n"
    "options:\n"
    "  --json   a JSON array in argument order: {path, size, sha256, file_version,\n"
    "           product_version, strings, error}; file_version is null for a PE\n"
    "           file without a version resource\n\n"
    "exit: 0 every file was read and parsed, 2 otherwise\n";

static cJSON *inspect_one(const char *path, size_t max_bytes, int *ok)
{
    char hex[65], v[TMI_VERSION_STRLEN];
    uint8_t sha[32];
    uint8_t *buf = NULL;
    size_t len = 0;
    pe_version_info info;
    cJSON *o = cJSON_CreateObject();
    cJSON *strings;
    int rc;
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "path", path);
    rc = plat.read_file(path, max_bytes, &buf, &len);
    if (rc != TMI_OK) {
        char msg[128];
        if (rc == TMI_ETOOBIG)
            snprintf(msg, sizeof(msg), "larger than the %zu-byte limit", max_bytes);
        else
            snprintf(msg, sizeof(msg), "cannot read: %s", tmi_strerror(rc));
        cJSON_AddNullToObject(o, "size");
        cJSON_AddNullToObject(o, "sha256");
        cJSON_AddNullToObject(o, "file_version");
        cJSON_AddNullToObject(o, "product_version");
        cJSON_AddObjectToObject(o, "strings");
        cJSON_AddStringToObject(o, "error", msg);
        *ok = 0;
        return o;
    }
    cJSON_AddNumberToObject(o, "size", (double)len);
    if (plat_sha256(buf, len, sha) == TMI_OK)
        cJSON_AddStringToObject(o, "sha256", hex_encode(sha, 32, hex));
    else
        cJSON_AddNullToObject(o, "sha256");
    rc = pe_version_read(buf, len, &info);
    free(buf);
    if (rc == TMI_OK && info.has_fixed) {
        cJSON_AddStringToObject(o, "file_version",
                                version_format(&info.file_version, v, sizeof(v)));
        cJSON_AddStringToObject(o, "product_version",
                                version_format(&info.product_version, v, sizeof(v)));
    } else {
        cJSON_AddNullToObject(o, "file_version");
        cJSON_AddNullToObject(o, "product_version");
    }
    strings = cJSON_AddObjectToObject(o, "strings");
    for (int i = 0; rc == TMI_OK && strings != NULL && i < PE_STR_COUNT; i++) {
        if (info.has_string[i])
            cJSON_AddStringToObject(strings, pe_string_keys[i], info.strings[i]);
    }
    if (rc != TMI_OK) {
        cJSON_AddStringToObject(o, "error", info.error ? info.error : "not a PE file");
        *ok = 0;
    } else {
        cJSON_AddNullToObject(o, "error");
    }
    return o;
}

static void print_human(const cJSON *o)
{
    const cJSON *err = cJSON_GetObjectItem(o, "error");
    const cJSON *size = cJSON_GetObjectItem(o, "size");
    const cJSON *sha = cJSON_GetObjectItem(o, "sha256");
    const cJSON *fv = cJSON_GetObjectItem(o, "file_version");
    const cJSON *pv = cJSON_GetObjectItem(o, "product_version");
    const cJSON *s;
    printf("%s\n", cJSON_GetObjectItem(o, "path")->valuestring);
    if (cJSON_IsString(err))
        printf("  error            %s\n", err->valuestring);
    if (cJSON_IsNumber(size))
        printf("  size             %.0f bytes\n", size->valuedouble);
    if (cJSON_IsString(sha))
        printf("  sha256           %s\n", sha->valuestring);
    if (!cJSON_IsString(err)) {
        printf("  file version     %s\n", cJSON_IsString(fv) ? fv->valuestring : "(none)");
        printf("  product version  %s\n", cJSON_IsString(pv) ? pv->valuestring : "(none)");
    }
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(o, "strings"))
    {
        printf("  %-16s %s\n", s->string, s->valuestring);
    }
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
    const char *json = NULL;
    const cli_opt opts[] = {{"--json", 0, &json}};
    char **files;
    size_t n = 0;
    int all_ok = 1;
    cJSON *arr;
    files = calloc(INSPECT_MAX_FILES, sizeof(*files));
    if (files == NULL)
        return CLI_EXIT_ERROR;
    if (cli_parse("inspect", argc, argv, opts, 1, files, INSPECT_MAX_FILES, &n) != 0) {
        free(files);
        return CLI_EXIT_ERROR;
    }
    if (n == 0) {
        cli_error("inspect", "no FILE given (see 'tmi-console inspect --help')");
        free(files);
        return CLI_EXIT_ERROR;
    }
    arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        int ok = 1;
        cJSON *o = inspect_one(files[i], ctx->pb->max_file_size, &ok);
        if (o == NULL) {
            all_ok = 0;
            break;
        }
        all_ok &= ok;
        if (json != NULL) {
            cJSON_AddItemToArray(arr, o);
        } else {
            print_human(o);
            cJSON_Delete(o);
        }
    }
    if (arr == NULL)
        all_ok = 0;
    else if (json != NULL)
        cli_print_json(arr);
    cJSON_Delete(arr);
    free(files);
    return all_ok ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

const cli_command cli_cmd_inspect = {"inspect", "show version, size and SHA-256 of PE files", usage,
                                     run};

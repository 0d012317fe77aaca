/* cli_inspect.c - `tmi-console inspect`: size, SHA-256, version resource and
 * Authenticode signature of PE files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "authenticode.h"
#include "cli.h"
#include "detect.h"
#include "err.h"
#include "hex.h"
#include "pe_version.h"
#include "plat.h"

#define INSPECT_MAX_FILES 4096

static const char usage[] =
    "usage: tmi-console inspect [--json] [--trust PEM] FILE...\n\n"
    "Read each file's version resource the way Windows Explorer's Details tab does\n"
    "(VS_FIXEDFILEINFO, not the localised version string) and print its size,\n"
    "SHA-256, file and product version, version strings and Authenticode signature\n"
    "(unsigned, valid, or invalid with the reason; the signer, its issuer and\n"
    "thumbprints, the signing time of a timestamp).\n\n"
    "options:\n"
    "  --json        a JSON array in argument order: {path, size, sha256, file_version,\n"
    "                product_version, strings, signature, error}; file_version is null\n"
    "                for a PE file without a version resource, signature null for a\n"
    "                file that is not a PE image\n"
    "  --trust PEM   trust the root certificates of this PEM file instead of the\n"
    "                system's store (not on Windows, where the system decides)\n\n"
    "exit: 0 every file was read and parsed (whatever its signature), 2 otherwise\n";

/* Add the "signature" member for buf; 0, or the trust-store error. */
static int add_signature(cJSON *o, const char *path, const uint8_t *buf, size_t len,
                         const ac_options *sig_opt)
{
    sig_result sig;
    int rc = authenticode_check(path, buf, len, sig_opt, &sig);
    if (rc == TMI_OK) {
        cJSON *j = authenticode_to_json(&sig);
        if (j == NULL)
            return TMI_ENOMEM;
        cJSON_AddItemToObject(o, "signature", j);
        return TMI_OK;
    }
    cJSON_AddNullToObject(o, "signature");
    return rc == TMI_EFORMAT ? TMI_OK : rc;
}

static cJSON *inspect_one(const char *path, size_t max_bytes, const ac_options *sig_opt, int *ok,
                          int *fatal)
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
        cJSON_AddNullToObject(o, "signature");
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
    *fatal = add_signature(o, path, buf, len, sig_opt);
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

static const char *json_text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_signature(const cJSON *sig)
{
    const cJSON *signer = cJSON_GetObjectItem(sig, "signer");
    const char *reason = json_text(sig, "reason");
    const char *source = json_text(sig, "source");
    printf("  signature        %s%s%s\n", json_text(sig, "status"), source ? ", " : "",
           source ? source : "");
    if (reason != NULL)
        printf("  reason           %s: %s\n", reason, json_text(sig, "detail"));
    if (cJSON_IsObject(signer)) {
        printf("  signer           %s\n", json_text(signer, "subject"));
        printf("  issuer           %s\n", json_text(signer, "issuer"));
        printf("  thumbprint       %s (SHA-1)\n", json_text(signer, "thumbprint_sha1"));
    }
    if (json_text(sig, "root") != NULL)
        printf("  root             %s\n", json_text(sig, "root"));
    if (json_text(sig, "signing_time") != NULL)
        printf("  signing time     %s (%s)\n", json_text(sig, "signing_time"),
               json_text(sig, "timestamp"));
    if (json_text(sig, "digest") != NULL)
        printf("  image digest     %s %s\n", json_text(sig, "digest_algorithm"),
               json_text(sig, "digest"));
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
    if (cJSON_IsObject(cJSON_GetObjectItem(o, "signature")))
        print_signature(cJSON_GetObjectItem(o, "signature"));
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
    const char *json = NULL, *trust = NULL;
    const cli_opt opts[] = {{"--json", 0, &json}, {"--trust", 1, &trust}};
    ac_options sig_opt = {0};
    char **files;
    size_t n = 0;
    int all_ok = 1, stopped = 0;
    cJSON *arr;
    files = calloc(INSPECT_MAX_FILES, sizeof(*files));
    if (files == NULL)
        return CLI_EXIT_ERROR;
    if (cli_parse("inspect", argc, argv, opts, 2, files, INSPECT_MAX_FILES, &n) != 0) {
        free(files);
        return CLI_EXIT_ERROR;
    }
    if (n == 0) {
        cli_error("inspect", "no FILE given (see 'tmi-console inspect --help')");
        free(files);
        return CLI_EXIT_ERROR;
    }
    sig_opt.trust_pem = trust;
    int rc = plat_sig_trust_check(trust);
    if (rc != TMI_OK) {
        cli_error("inspect", "cannot use '%s' as the trust store: %s", trust,
                  rc == TMI_ENOTSUP   ? "not on Windows, where the system's store decides"
                  : rc == TMI_EFORMAT ? "it holds no PEM certificate"
                                      : tmi_strerror(rc));
        free(files);
        return CLI_EXIT_ERROR;
    }
    arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        int ok = 1, fatal = TMI_OK;
        cJSON *o = inspect_one(files[i], ctx->pb->max_file_size, &sig_opt, &ok, &fatal);
        if (o == NULL || fatal != TMI_OK) {
            if (fatal != TMI_OK)
                cli_error("inspect", "%s: the signature cannot be checked: %s", files[i],
                          tmi_strerror(fatal));
            cJSON_Delete(o);
            all_ok = 0;
            stopped = 1;
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
    else if (json != NULL && !stopped)
        cli_print_json(arr);
    cJSON_Delete(arr);
    free(files);
    return all_ok ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

const cli_command cli_cmd_inspect = {
    "inspect", "show version, size, SHA-256 and signature of PE files", usage, run};

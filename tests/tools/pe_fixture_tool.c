/*
 * pe_fixture_tool.c - `pe-fixture`, a command-line front end to
 * pe_fixture_build() for the tests: it writes the PE fixtures used by the
 * pefile cross-check and the fuzz seed corpus.
 *
 *   pe-fixture --out FILE [--version a.b.c.d] [--product-version a.b.c.d]
 *              [--no-version] [--pe32plus] [--dll] [--string Key=Value]...
 *              [--manifest TEXT] [--pad N] [--seed N]
 *
 * The file version defaults to 1.0.0.0 and the product version to the file
 * version. Keys for --string are the StringFileInfo keys the reader reports
 * (CompanyName, FileDescription, FileVersion, ProductName, ProductVersion).
 * --manifest adds TEXT as the RT_MANIFEST resource (ID 1).
 * Exit status: 0 written, 1 build or write failure, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pe_fixture.h"
#include "pe_version.h"
#include "version.h"

static const char usage_text[] =
    "usage: pe-fixture --out FILE [--version a.b.c.d] [--product-version a.b.c.d]\n"
    "                  [--no-version] [--pe32plus] [--dll] [--string Key=Value]...\n"
    "                  [--manifest TEXT] [--pad N] [--seed N]\n";

static int usage_error(const char *what, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "pe-fixture: %s: '%s'\n", what, arg);
    else
        fprintf(stderr, "pe-fixture: %s\n", what);
    fputs(usage_text, stderr);
    return 2;
}

/*
 * Parse a plain decimal number (digits only: no sign, no spaces, no base
 * prefix) no greater than max. Returns 0 and sets *out, or -1.
 */
static int parse_decimal(const char *s, unsigned long long max, unsigned long long *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Split "Key=Value" and store Value under Key in spec; -1 on an unknown or
 * repeated key. The value points into arg (argv lives for the process). */
static int add_string(pe_fixture_spec *spec, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL)
        return -1;
    size_t key_len = (size_t)(eq - arg);
    for (int k = 0; k < PE_STR_COUNT; k++) {
        if (strlen(pe_string_keys[k]) == key_len && memcmp(arg, pe_string_keys[k], key_len) == 0) {
            if (spec->strings[k] != NULL)
                return -1;
            spec->strings[k] = eq + 1;
            return 0;
        }
    }
    return -1;
}

static int write_all(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    int rc_close = fclose(f);
    return (n == len && rc_close == 0) ? 0 : -1;
}

/* What the command line asks for. */
typedef struct tool_args {
    pe_fixture_spec spec;
    const char *out_path;
    int have_version, have_product;
} tool_args;

/* One option that takes a value: 0, or the exit status of the usage error
 * printed. */
static int value_option(tool_args *a, const char *opt, const char *val)
{
    unsigned long long n;
    if (strcmp(opt, "--out") == 0) {
        if (a->out_path != NULL || val[0] == '\0')
            return usage_error("--out given twice or empty", val);
        a->out_path = val;
    } else if (strcmp(opt, "--version") == 0) {
        if (a->have_version || version_parse(val, &a->spec.file_version) != TMI_OK)
            return usage_error("bad or repeated --version", val);
        a->have_version = 1;
    } else if (strcmp(opt, "--product-version") == 0) {
        if (a->have_product || version_parse(val, &a->spec.product_version) != TMI_OK)
            return usage_error("bad or repeated --product-version", val);
        a->have_product = 1;
    } else if (strcmp(opt, "--string") == 0) {
        if (add_string(&a->spec, val) != 0)
            return usage_error("bad or repeated --string (Key=Value, known key)", val);
    } else if (strcmp(opt, "--manifest") == 0) {
        if (a->spec.manifest != NULL)
            return usage_error("--manifest given twice", val);
        a->spec.manifest = val;
    } else if (strcmp(opt, "--pad") == 0) {
        if (parse_decimal(val, (unsigned long long)SIZE_MAX, &n) != 0)
            return usage_error("bad --pad", val);
        a->spec.pad_to = (size_t)n;
    } else if (strcmp(opt, "--seed") == 0) {
        if (parse_decimal(val, UINT32_MAX, &n) != 0)
            return usage_error("bad --seed", val);
        a->spec.seed = (uint32_t)n;
    } else {
        return usage_error("unknown option", opt);
    }
    return 0;
}

/* Parse the command line into *a: -1 to go on, else the exit status (0
 * after --help). */
static int parse_args(int argc, char **argv, tool_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(opt, "--no-version") == 0) {
            a->spec.no_version_resource = 1;
        } else if (strcmp(opt, "--pe32plus") == 0) {
            a->spec.pe32plus = 1;
        } else if (strcmp(opt, "--dll") == 0) {
            a->spec.is_dll = 1;
        } else if (val == NULL) {
            if (strcmp(opt, "--out") == 0 || strcmp(opt, "--version") == 0 ||
                strcmp(opt, "--product-version") == 0 || strcmp(opt, "--string") == 0 ||
                strcmp(opt, "--pad") == 0 || strcmp(opt, "--seed") == 0 ||
                strcmp(opt, "--manifest") == 0)
                return usage_error("missing value after", opt);
            return usage_error("unknown option", opt);
        } else {
            int rc = value_option(a, opt, val);
            if (rc != 0)
                return rc;
            i++;
        }
    }
    if (a->out_path == NULL)
        return usage_error("--out is required", NULL);
    if (!a->have_product)
        a->spec.product_version = a->spec.file_version;
    return -1;
}

int main(int argc, char **argv)
{
    tool_args a;
    memset(&a, 0, sizeof(a));
    a.spec.file_version.part[0] = 1;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;

    uint8_t *img = NULL;
    size_t len = 0;
    rc = pe_fixture_build(&a.spec, &img, &len);
    if (rc == TMI_EINVAL) {
        fprintf(stderr, "pe-fixture: impossible image: a --string value is over 1024 bytes or "
                        "not UTF-8, --pad is over 256 MiB, or --manifest is over 8 KiB or "
                        "given with --no-version\n");
        return 1;
    }
    if (rc != TMI_OK) {
        fprintf(stderr, "pe-fixture: cannot build the image: %s\n", tmi_strerror(rc));
        return 1;
    }
    if (write_all(a.out_path, img, len) != 0) {
        fprintf(stderr, "pe-fixture: cannot write '%s'\n", a.out_path);
        free(img);
        return 1;
    }
    free(img);
    return 0;
}

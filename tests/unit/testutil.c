/* testutil.c - see testutil.h. */
#include "testutil.h"

#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pe_fixture.h"
#include "plat.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "testutil: %s: %s\n", what, tmi_strerror(rc));
    abort();
}

void tu_join(char *buf, size_t buflen, const char *a, const char *b)
{
    int n = snprintf(buf, buflen, "%s%s%s", a, PLAT_SEP_STR, b);
    if (n < 0 || (size_t)n >= buflen)
        die("path too long", TMI_ETOOBIG);
    for (char *p = buf + strlen(a); *p; p++) { /* "x/y" in b: the platform's separator */
        if (*p == '/')
            *p = PLAT_SEP;
    }
}

void tu_mkdirs(const char *path)
{
    int rc = plat_make_dirs(path);
    if (rc != TMI_OK)
        die(path, rc);
}

void tu_mkdtemp(char *buf, size_t buflen)
{
    static unsigned counter;
    const char *base = getenv("TMI_TEST_TMP");
    uint8_t rnd[6];
    char base_buf[PLAT_PATH_MAX];
    if (base == NULL || base[0] == '\0') {
        const char *t = getenv("TMPDIR");
        snprintf(base_buf, sizeof(base_buf), "%s", t != NULL && t[0] != '\0' ? t : "/tmp");
        base = base_buf;
    }
    tu_mkdirs(base);
    if (plat_random(rnd, sizeof(rnd)) != TMI_OK)
        die("random", TMI_EIO);
    int n = snprintf(buf, buflen, "%s%st%u-%02x%02x%02x%02x%02x%02x", base, PLAT_SEP_STR, counter++,
                     rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    if (n < 0 || (size_t)n >= buflen)
        die("temp path too long", TMI_ETOOBIG);
    int rc = plat.make_dir(buf);
    if (rc != TMI_OK)
        die(buf, rc);
}

void tu_write(const char *path, const void *data, size_t len)
{
    int rc = plat.write_file(path, data, len);
    if (rc != TMI_OK)
        die(path, rc);
}

void tu_write_pe(const char *path, const char *version, size_t pad_to, uint32_t seed)
{
    pe_fixture_spec spec;
    uint8_t *img = NULL;
    size_t len = 0;
    memset(&spec, 0, sizeof(spec));
    if (version == NULL) {
        spec.no_version_resource = 1;
    } else if (version_parse(version, &spec.file_version) != TMI_OK) {
        die(version, TMI_EINVAL);
    }
    spec.product_version = spec.file_version;
    spec.strings[PE_STR_COMPANY_NAME] = "Trend Micro Inc.";
    spec.strings[PE_STR_FILE_VERSION] = version;
    spec.pad_to = pad_to;
    spec.seed = seed;
    int rc = pe_fixture_build(&spec, &img, &len);
    if (rc != TMI_OK)
        die("pe_fixture_build", rc);
    tu_write(path, img, len);
    free(img);
}

void tu_target(tmi_target *t, const playbook *pb, const char *root, const char *tmi_dir)
{
    memset(t, 0, sizeof(*t));
    t->pb = pb;
    snprintf(t->root, sizeof(t->root), "%s", root);
    snprintf(t->tmi_dir, sizeof(t->tmi_dir), "%s", tmi_dir != NULL ? tmi_dir : "");
}

/* fileops.c - verified file steps (see fileops.h). */
#include "fileops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pathutil.h"
#include "plat.h"

int fileops_read_hash(const char *path, size_t max, uint8_t **data, size_t *len, uint8_t sha[32])
{
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = plat.read_file_nofollow(path, max, &buf, &n);
    if (rc != TMI_OK)
        return rc;
    rc = plat_sha256(buf, n, sha);
    if (rc != TMI_OK || data == NULL) {
        free(buf);
        buf = NULL;
    }
    if (rc == TMI_OK) {
        if (data != NULL)
            *data = buf;
        if (len != NULL)
            *len = n;
    }
    return rc;
}

int fileops_write_verified(const char *path, const void *data, size_t len, const uint8_t want[32])
{
    uint8_t got[32];
    int rc = plat.write_file(path, data, len);
    if (rc == TMI_OK)
        rc = fileops_read_hash(path, len + 1, NULL, NULL, got);
    if (rc == TMI_OK && memcmp(got, want, 32) != 0)
        rc = TMI_EIO;
    if (rc != TMI_OK)
        plat.remove_file(path);
    return rc;
}

int fileops_temp_path(const char *target, char *buf, size_t buflen)
{
    const char *slash = strrchr(target, PLAT_SEP);
    const char *other = strrchr(target, '/');
    size_t dirlen;
    int n;
    if (other != NULL && (slash == NULL || other > slash))
        slash = other;
    dirlen = slash != NULL ? (size_t)(slash - target) + 1 : 0;
    n = snprintf(buf, buflen, "%.*s.%s%s", (int)dirlen, target, target + dirlen,
                 FILEOPS_TEMP_SUFFIX);
    return (n < 0 || (size_t)n >= buflen) ? TMI_ETOOBIG : TMI_OK;
}

int fileops_clean_temps(const char *dir)
{
    plat_dirlist list = {NULL, 0};
    char path[PLAT_PATH_MAX];
    size_t slen = strlen(FILEOPS_TEMP_SUFFIX);
    int removed = 0;
    int rc = plat.list_dir(dir, &list);
    if (rc != TMI_OK)
        return rc;
    for (size_t i = 0; i < list.count; i++) {
        size_t n = strlen(list.names[i]);
        if (n <= slen || list.names[i][0] != '.' ||
            strcmp(list.names[i] + n - slen, FILEOPS_TEMP_SUFFIX) != 0)
            continue;
        if (path_join(path, sizeof(path), dir, list.names[i]) == TMI_OK &&
            plat.remove_file(path) == TMI_OK)
            removed++;
    }
    plat_dirlist_free(&list);
    return removed;
}

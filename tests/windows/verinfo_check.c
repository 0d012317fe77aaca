/*
 * verinfo_check.c - cross-check the PE version reader (core/pe_version.h)
 * against Windows' own: GetFileVersionInfoW / VerQueryValueW(L"\\").
 *
 *   verinfo_check.exe FOLDER...
 *
 * Walks each folder (and its subfolders) and, for every PE file (an "MZ"
 * header leading to a "PE\0\0" signature; 16-bit NE files are left out), compares
 * whether a VS_FIXEDFILEINFO is there and, when it is, the fixed file and
 * product versions. Prints each disagreement and the summary
 * "verinfo-check: N files agree, M disagree (K unreadable)".
 * Exit: 0 all agree, 1 a disagreement or no PE file at all, 2 usage.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pathutil.h"
#include "pe_version.h"
#include "plat.h"

#define MAX_FILE  (256u * 1024 * 1024)
#define MAX_DEPTH 8

typedef struct tally {
    unsigned long agree, disagree, unreadable;
} tally;

/* Windows' answer: 1 with the versions when a fixed info is there. */
static int win_version(const char *path, tmi_version *file, tmi_version *product)
{
    wchar_t wpath[PLAT_PATH_MAX];
    VS_FIXEDFILEINFO *fi = NULL;
    UINT filen = 0;
    DWORD handle = 0, size;
    void *data;
    int ok = 0;
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, PLAT_PATH_MAX) <= 0)
        return 0;
    size = GetFileVersionInfoSizeW(wpath, &handle);
    if (size == 0)
        return 0;
    data = malloc(size);
    if (data == NULL)
        return 0;
    if (GetFileVersionInfoW(wpath, 0, size, data) &&
        VerQueryValueW(data, L"\\", (void **)&fi, &filen) && fi != NULL &&
        filen >= sizeof(*fi) && fi->dwSignature == 0xFEEF04BD) {
        file->part[0] = HIWORD(fi->dwFileVersionMS);
        file->part[1] = LOWORD(fi->dwFileVersionMS);
        file->part[2] = HIWORD(fi->dwFileVersionLS);
        file->part[3] = LOWORD(fi->dwFileVersionLS);
        product->part[0] = HIWORD(fi->dwProductVersionMS);
        product->part[1] = LOWORD(fi->dwProductVersionMS);
        product->part[2] = HIWORD(fi->dwProductVersionLS);
        product->part[3] = LOWORD(fi->dwProductVersionLS);
        ok = 1;
    }
    free(data);
    return ok;
}

/* A PE image: "MZ", e_lfanew in range, "PE\0\0" there. */
static int is_pe(const uint8_t *b, size_t len)
{
    uint32_t off;
    if (len < 0x40 || b[0] != 'M' || b[1] != 'Z')
        return 0;
    off = (uint32_t)b[0x3c] | (uint32_t)b[0x3d] << 8 | (uint32_t)b[0x3e] << 16 |
          (uint32_t)b[0x3f] << 24;
    return off <= len - 4 && memcmp(b + off, "PE\0\0", 4) == 0;
}

static void check_file(const char *path, tally *t)
{
    char v1[TMI_VERSION_STRLEN], v2[TMI_VERSION_STRLEN];
    tmi_version wf, wp;
    pe_version_info info;
    uint8_t *buf = NULL;
    size_t len = 0;
    int ours, theirs;
    int rc = plat.read_file(path, MAX_FILE, &buf, &len);
    if (rc != TMI_OK) {
        t->unreadable++;
        return;
    }
    if (!is_pe(buf, len)) {
        free(buf);
        return;
    }
    ours = pe_version_read(buf, len, &info) == TMI_OK && info.has_fixed;
    free(buf);
    memset(&wf, 0, sizeof(wf));
    memset(&wp, 0, sizeof(wp));
    theirs = win_version(path, &wf, &wp);
    if (ours != theirs) {
        printf("DISAGREE %s: reader %s, Windows %s\n", path,
               ours ? version_format(&info.file_version, v1, sizeof(v1)) : "no version",
               theirs ? version_format(&wf, v2, sizeof(v2)) : "no version");
        t->disagree++;
    } else if (ours && (version_compare(&info.file_version, &wf) != 0 ||
                        version_compare(&info.product_version, &wp) != 0)) {
        printf("DISAGREE %s: reader file %s, Windows file %s (or product versions differ)\n",
               path, version_format(&info.file_version, v1, sizeof(v1)),
               version_format(&wf, v2, sizeof(v2)));
        t->disagree++;
    } else {
        t->agree++;
    }
}

static void walk(const char *dir, int depth, tally *t)
{
    plat_dirlist list = {NULL, 0};
    char path[PLAT_PATH_MAX];
    if (plat.list_dir(dir, &list) != TMI_OK) {
        t->unreadable++;
        return;
    }
    for (size_t i = 0; i < list.count; i++) {
        plat_stat st;
        if (path_join(path, sizeof(path), dir, list.names[i]) != TMI_OK ||
            plat.stat(path, &st) != TMI_OK)
            continue;
        if (st.is_dir && depth < MAX_DEPTH)
            walk(path, depth + 1, t);
        else if (st.is_file)
            check_file(path, t);
    }
    plat_dirlist_free(&list);
}

int main(int argc, char **argv)
{
    tally t = {0, 0, 0};
    if (argc < 2) {
        fprintf(stderr, "usage: verinfo_check FOLDER...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        plat_stat st;
        if (plat.stat(argv[i], &st) == TMI_OK && st.is_dir)
            walk(argv[i], 0, &t);
    }
    printf("verinfo-check: %lu files agree, %lu disagree (%lu unreadable)\n", t.agree,
           t.disagree, t.unreadable);
    return t.disagree == 0 && t.agree > 0 ? 0 : 1;
}

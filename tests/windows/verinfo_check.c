/*
 * verinfo_check.c - cross-check the PE version reader (core/pe_version.h)
 * against Windows' own: GetFileVersionInfoW / VerQueryValueW(L"\\").
 *
 *   verinfo_check.exe [--strings] FOLDER|FILE...
 *
 * Walks each folder (and its subfolders) and, for every PE file there or
 * named (an "MZ" header leading to a "PE\0\0" signature; 16-bit NE files
 * are left out), compares whether a VS_FIXEDFILEINFO is there and, when it
 * is, the fixed file and product versions. With --strings it also compares
 * the version strings the reader reports (pe_string_keys) with
 * VerQueryValueW's for the file's first translation: present in both or in
 * neither, and equal. Prints each disagreement and the summary
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
    int strings; /* --strings: compare the version strings too */
} tally;

/* Windows' value of the version string key for the first translation of
 * the version data, as UTF-8 in buf: 1 when present, 0 when not. */
static int win_string(const void *data, const char *key, char *buf, size_t buflen)
{
    struct {
        WORD lang, cp;
    } *tr = NULL;
    wchar_t sub[128], *val = NULL;
    UINT n = 0;
    if (!VerQueryValueW(data, L"\\VarFileInfo\\Translation", (void **)&tr, &n) || tr == NULL ||
        n < sizeof(*tr))
        return 0;
    /* \StringFileInfo\LLLLCCCC\Key (the keys are ASCII) */
    static const wchar_t hex[] = L"0123456789abcdef";
    const wchar_t *prefix = L"\\StringFileInfo\\";
    size_t p = wcslen(prefix);
    uint32_t code = (uint32_t)tr->lang << 16 | tr->cp;
    wcscpy(sub, prefix);
    for (int i = 7; i >= 0; i--)
        sub[p++] = hex[(code >> (4 * i)) & 0xF];
    sub[p++] = L'\\';
    for (const char *c = key; *c != '\0' && p + 1 < sizeof(sub) / sizeof(sub[0]); c++)
        sub[p++] = (wchar_t)(unsigned char)*c;
    sub[p] = L'\0';
    if (!VerQueryValueW(data, sub, (void **)&val, &n) || val == NULL)
        return 0;
    if (WideCharToMultiByte(CP_UTF8, 0, val, -1, buf, (int)buflen, NULL, NULL) <= 0)
        buf[0] = '\0';
    return 1;
}

/* Compare the reader's strings with Windows' for the file at wpath; prints
 * each difference and returns their number. */
static int compare_strings(const char *path, const wchar_t *wpath, const pe_version_info *info)
{
    char theirs[PE_STR_MAX * 2];
    DWORD handle = 0, size = GetFileVersionInfoSizeW(wpath, &handle);
    void *data = size != 0 ? malloc(size) : NULL;
    int bad = 0;
    if (data == NULL || !GetFileVersionInfoW(wpath, 0, size, data)) {
        printf("DISAGREE %s: no version data for the strings\n", path);
        free(data);
        return 1;
    }
    for (int k = 0; k < PE_STR_COUNT; k++) {
        int has = win_string(data, pe_string_keys[k], theirs, sizeof(theirs));
        if (has != info->has_string[k] || (has && strcmp(theirs, info->strings[k]) != 0)) {
            printf("DISAGREE %s: %s: reader '%s', Windows '%s'\n", path, pe_string_keys[k],
                   info->has_string[k] ? info->strings[k] : "(none)", has ? theirs : "(none)");
            bad++;
        }
    }
    free(data);
    return bad;
}

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
        VerQueryValueW(data, L"\\", (void **)&fi, &filen) && fi != NULL && filen >= sizeof(*fi) &&
        fi->dwSignature == 0xFEEF04BD) {
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
    wchar_t wpath[PLAT_PATH_MAX];
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
    if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, PLAT_PATH_MAX) <= 0) {
        t->unreadable++;
        return;
    }
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
        printf("DISAGREE %s: reader file %s, Windows file %s (or product versions differ)\n", path,
               version_format(&info.file_version, v1, sizeof(v1)),
               version_format(&wf, v2, sizeof(v2)));
        t->disagree++;
    } else if (ours && t->strings && compare_strings(path, wpath, &info) != 0) {
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
    tally t = {0, 0, 0, 0};
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "--strings") == 0) {
        t.strings = 1;
        first = 2;
    }
    if (argc <= first) {
        fprintf(stderr, "usage: verinfo_check [--strings] FOLDER|FILE...\n");
        return 2;
    }
    for (int i = first; i < argc; i++) {
        plat_stat st;
        if (plat.stat(argv[i], &st) != TMI_OK)
            t.unreadable++;
        else if (st.is_dir)
            walk(argv[i], 0, &t);
        else if (st.is_file)
            check_file(argv[i], &t);
    }
    printf("verinfo-check: %lu files agree, %lu disagree (%lu unreadable)\n", t.agree, t.disagree,
           t.unreadable);
    return t.disagree == 0 && t.agree > 0 ? 0 : 1;
}

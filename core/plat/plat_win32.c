/*
 * plat_win32.c - the Win32 backend of plat.h: files, hashing and randomness
 * (CNG), folders, registry, identity, clocks, locks, the stop handler, and
 * the error translation and UTF-8 <-> UTF-16 conversion the other Win32 files
 * share (plat_win32_int.h). Services and the event log: service_win32.c;
 * elevation and running as a service: selfsvc_win32.c.
 *
 * UTF-8 at the interface, UTF-16 at every Win32 call (the W functions only);
 * GetLastError() becomes a TMI_E* code in win32_err() and nowhere else.
 */
#include <winsock2.h> /* before windows.h (pulled in by plat_win32_int.h) */

#include "plat_common.h"
#include "plat_win32_int.h"

#include <fcntl.h>
#include <io.h>
#include <bcrypt.h>
#include <process.h>
#include <sddl.h>
#include <shellapi.h>
#include <shlobj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "err.h"

#ifndef ERROR_DISK_QUOTA_EXCEEDED /* not in every mingw-w64 winerror.h */
#define ERROR_DISK_QUOTA_EXCEEDED 1295L
#endif
#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#endif

/* Longest UTF-16 path handled (the extended-length limit). */
#define WPATH_MAX 32768
/* Paths this long or longer get the "\\?\" prefix (CreateDirectoryW's limit
 * is MAX_PATH minus room for an 8.3 name). */
#define WPATH_CLASSIC_MAX (MAX_PATH - 12)
/* Most bytes one ReadFile / WriteFile call moves. */
#define IO_CHUNK (1u << 30)
/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define EPOCH_DIFF_100NS 116444736000000000LL

/* ---- errors ---- */

int win32_err(DWORD e)
{
    switch (e) {
    case ERROR_SUCCESS:
        return TMI_OK;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_MOD_NOT_FOUND:
    case ERROR_SERVICE_DOES_NOT_EXIST:
        return TMI_ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_INVALID_OWNER:
    case ERROR_CANT_ACCESS_FILE:
        return TMI_EACCES;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_USER_MAPPED_FILE:
    case ERROR_UNABLE_TO_REMOVE_REPLACED:
    case ERROR_DRIVE_LOCKED:
    case ERROR_BUSY:
    case ERROR_SERVICE_ALREADY_RUNNING:
    case ERROR_SERVICE_CANNOT_ACCEPT_CTRL:
    case ERROR_SERVICE_MARKED_FOR_DELETE:
        return TMI_EBUSY;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_DISK_QUOTA_EXCEEDED:
        return TMI_ENOSPC;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
    case ERROR_SERVICE_EXISTS:
    case ERROR_DUPLICATE_SERVICE_NAME:
        return TMI_EEXIST;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return TMI_ENOMEM;
    case ERROR_WRITE_PROTECT:
        return TMI_EROFS;
    case ERROR_DIRECTORY:
        return TMI_ENOTDIR;
    case ERROR_FILE_TOO_LARGE:
        return TMI_ETOOBIG;
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_SERVICE_ACCOUNT:
    case ERROR_INVALID_SERVICE_CONTROL:
    case ERROR_NO_UNICODE_TRANSLATION:
        return TMI_EINVAL;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
        return TMI_ENOTSUP;
    case ERROR_TIMEOUT:
    case WAIT_TIMEOUT:
    case ERROR_SERVICE_REQUEST_TIMEOUT:
        return TMI_ETIMEDOUT;
    case ERROR_OPERATION_ABORTED:
        return TMI_EINTR;
    case ERROR_SERVICE_DISABLED:
    case ERROR_SERVICE_NOT_ACTIVE:
    case ERROR_SERVICE_NO_THREAD:
    case ERROR_SERVICE_DATABASE_LOCKED:
    case ERROR_SERVICE_DEPENDENCY_FAIL:
    case ERROR_SERVICE_DEPENDENCY_DELETED:
    case ERROR_SERVICE_LOGON_FAILED:
    case ERROR_SERVICE_START_HANG:
    case ERROR_SERVICE_SPECIFIC_ERROR:
    case ERROR_EXCEPTION_IN_SERVICE:
    case ERROR_PROCESS_ABORTED:
    case ERROR_FAILED_SERVICE_CONTROLLER_CONNECT:
        return TMI_ESERVICE;
    default:
        return TMI_EIO;
    }
}

static int last_err(void)
{
    return win32_err(GetLastError());
}

/* ---- UTF-8 <-> UTF-16 ---- */

int win32_wide(const char *s, wchar_t **out)
{
    int n;
    wchar_t *w;
    *out = NULL;
    if (s == NULL)
        return TMI_EINVAL;
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return TMI_EINVAL;
    w = malloc((size_t)n * sizeof(*w));
    if (w == NULL)
        return TMI_ENOMEM;
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return TMI_EINVAL;
    }
    *out = w;
    return TMI_OK;
}

int win32_utf8(const wchar_t *w, char *buf, size_t buflen)
{
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return TMI_EINVAL;
    if ((size_t)n > buflen)
        return TMI_ETOOBIG;
    if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, buf, n, NULL, NULL) != n)
        return TMI_EINVAL;
    return TMI_OK;
}

char *win32_utf8_dup(const wchar_t *w, int wn)
{
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, wn, NULL, 0, NULL, NULL);
    char *s;
    if (n < 0 || (n == 0 && wn != 0))
        return NULL;
    s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    if (n > 0 && WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, wn, s, n, NULL, NULL) != n) {
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}

static int is_sep(wchar_t c)
{
    return c == L'\\' || c == L'/';
}

/* "X:\..." or "\\server\share\..." (not already "\\?\" or "\\.\"). */
static int is_absolute(const wchar_t *w)
{
    if (((w[0] >= L'A' && w[0] <= L'Z') || (w[0] >= L'a' && w[0] <= L'z')) && w[1] == L':' &&
        is_sep(w[2]))
        return 1;
    return is_sep(w[0]) && is_sep(w[1]) && w[2] != L'?' && w[2] != L'.';
}

int win32_path(const char *path, wchar_t **out)
{
    wchar_t *w = NULL, *full = NULL, *res;
    size_t len;
    DWORD n;
    int rc = win32_wide(path, &w);
    *out = NULL;
    if (rc != TMI_OK)
        return rc;
    if (w[0] == L'\0') {
        free(w);
        return TMI_ENOENT;
    }
    for (wchar_t *p = w; *p; p++) {
        if (*p == L'/')
            *p = L'\\';
    }
    len = wcslen(w);
    if (len < WPATH_CLASSIC_MAX || !is_absolute(w)) {
        *out = w;
        return TMI_OK;
    }
    /* "\\?\" turns off normalisation: resolve "." and ".." first */
    full = malloc(WPATH_MAX * sizeof(*full));
    if (full == NULL) {
        free(w);
        return TMI_ENOMEM;
    }
    n = GetFullPathNameW(w, WPATH_MAX, full, NULL);
    free(w);
    if (n == 0 || n >= WPATH_MAX) {
        free(full);
        return n == 0 ? last_err() : TMI_ETOOBIG;
    }
    res = malloc((n + 9) * sizeof(*res));
    if (res == NULL) {
        free(full);
        return TMI_ENOMEM;
    }
    if (full[0] == L'\\' && full[1] == L'\\') /* \\server\share -> \\?\UNC\server\share */
        swprintf(res, n + 9, L"\\\\?\\UNC\\%ls", full + 2);
    else
        swprintf(res, n + 9, L"\\\\?\\%ls", full);
    free(full);
    *out = res;
    return TMI_OK;
}

/* ---- files ---- */

static int64_t filetime_to_unix_ns(const FILETIME *ft)
{
    int64_t t = (int64_t)(((uint64_t)ft->dwHighDateTime << 32) | ft->dwLowDateTime);
    return (t - EPOCH_DIFF_100NS) * 100;
}

/* Attributes of a wide path, or INVALID_FILE_ATTRIBUTES. */
static DWORD wattrs(const wchar_t *w)
{
    return GetFileAttributesW(w);
}

/* See plat_win32_int.h; an unknown tag counts as a link: never followed by
 * mistake. */
int win32_is_link(const wchar_t *w, DWORD attrs)
{
    WIN32_FIND_DATAW fd;
    HANDLE h;
    if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
        return 0;
    h = FindFirstFileExW(w, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    FindClose(h);
    return IsReparseTagNameSurrogate(fd.dwReserved0) != 0;
}

static int win_stat(const char *path, plat_stat *st)
{
    WIN32_FILE_ATTRIBUTE_DATA fa;
    wchar_t *w;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &fa)) {
        rc = last_err();
        free(w);
        return rc;
    }
    memset(st, 0, sizeof(*st));
    st->is_link = win32_is_link(w, fa.dwFileAttributes);
    free(w);
    st->is_dir = (fa.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    st->is_file = !st->is_dir && (fa.dwFileAttributes & FILE_ATTRIBUTE_DEVICE) == 0;
    st->size = st->is_dir ? 0 : ((uint64_t)fa.nFileSizeHigh << 32) | fa.nFileSizeLow;
    st->mtime_ns = filetime_to_unix_ns(&fa.ftLastWriteTime);
    return TMI_OK;
}

/* Open w for reading with extra flags, sharing everything: the TMI files may
 * be open (and mapped) by the service. On failure *rc says why (a folder is
 * TMI_EINVAL, as on POSIX). */
static HANDLE open_read(const wchar_t *w, DWORD flags, int *rc)
{
    DWORD attrs;
    HANDLE h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           NULL, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN | flags, NULL);
    if (h != INVALID_HANDLE_VALUE)
        return h;
    *rc = last_err();
    attrs = wattrs(w);
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
        *rc = TMI_EINVAL;
    return INVALID_HANDLE_VALUE;
}

/* Read the file open on h (at most max_bytes) into a new buffer. */
static int read_handle(HANDLE h, size_t max_bytes, plat_buf *buf, size_t *out_len)
{
    LARGE_INTEGER size;
    size_t got = 0;
    int rc;
    if (GetFileType(h) != FILE_TYPE_DISK)
        return TMI_EINVAL;
    if (!GetFileSizeEx(h, &size))
        return last_err();
    if ((uint64_t)size.QuadPart > (uint64_t)max_bytes)
        return TMI_ETOOBIG;
    rc = plat_buf_reserve(buf, (size_t)size.QuadPart + 1);
    if (rc != TMI_OK)
        return rc;
    while (got < (size_t)size.QuadPart) {
        size_t want = (size_t)size.QuadPart - got;
        DWORD n = 0;
        if (!ReadFile(h, buf->data + got, (DWORD)(want > IO_CHUNK ? IO_CHUNK : want), &n, NULL))
            return last_err();
        if (n == 0)
            break; /* shrank while reading: return what is there */
        got += n;
    }
    buf->data[got] = 0;
    *out_len = got;
    return TMI_OK;
}

static int win_read_file_buf(const char *path, size_t max_bytes, plat_buf *buf, size_t *out_len)
{
    HANDLE h;
    wchar_t *w;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    h = open_read(w, 0, &rc);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return rc;
    rc = read_handle(h, max_bytes, buf, out_len);
    CloseHandle(h);
    return rc;
}

static int win_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len)
{
    return plat_read_new(win_read_file_buf, path, max_bytes, out, out_len);
}

/* Do two handles name the same file (volume and file index)? */
static int same_file(HANDLE a, HANDLE b)
{
    BY_HANDLE_FILE_INFORMATION x, y;
    if (!GetFileInformationByHandle(a, &x) || !GetFileInformationByHandle(b, &y))
        return 0;
    return x.dwVolumeSerialNumber == y.dwVolumeSerialNumber &&
           x.nFileIndexHigh == y.nFileIndexHigh && x.nFileIndexLow == y.nFileIndexLow;
}

/* Open path for reading unless it is a link. The link itself is opened
 * (FILE_FLAG_OPEN_REPARSE_POINT) and refused. A reparse point that is not a
 * link (a deduplicated or cloud file) gets its data through a file system
 * filter, so it is opened again normally, and read only if that is still
 * the same file. */
static int open_nofollow(const char *path, HANDLE *out)
{
    FILE_ATTRIBUTE_TAG_INFO ti;
    HANDLE h, h2;
    wchar_t *w;
    int rc = win32_path(path, &w);
    *out = INVALID_HANDLE_VALUE;
    if (rc != TMI_OK)
        return rc;
    h = open_read(w, FILE_FLAG_OPEN_REPARSE_POINT, &rc);
    if (h == INVALID_HANDLE_VALUE)
        goto out;
    if (!GetFileInformationByHandleEx(h, FileAttributeTagInfo, &ti, sizeof(ti))) {
        rc = last_err();
        goto out;
    }
    if (ti.FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
        if (IsReparseTagNameSurrogate(ti.ReparseTag)) {
            rc = TMI_ELINK;
            goto out;
        }
        h2 = open_read(w, 0, &rc);
        if (h2 == INVALID_HANDLE_VALUE)
            goto out;
        rc = same_file(h, h2) ? TMI_OK : TMI_ECONFLICT;
        CloseHandle(h);
        h = h2;
        if (rc != TMI_OK)
            goto out;
    }
    *out = h;
    h = INVALID_HANDLE_VALUE;
    rc = TMI_OK;
out:
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    free(w);
    return rc;
}

static int win_read_file_nofollow_buf(const char *path, size_t max_bytes, plat_buf *buf,
                                      size_t *out_len)
{
    HANDLE h;
    int rc = open_nofollow(path, &h);
    if (rc != TMI_OK)
        return rc;
    rc = read_handle(h, max_bytes, buf, out_len);
    CloseHandle(h);
    return rc;
}

static int win_read_file_nofollow(const char *path, size_t max_bytes, uint8_t **out,
                                  size_t *out_len)
{
    return plat_read_new(win_read_file_nofollow_buf, path, max_bytes, out, out_len);
}

/* "dir\*" for FindFirstFileExW. */
static int find_pattern(const char *path, wchar_t **out)
{
    wchar_t *w, *pat;
    size_t len;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    len = wcslen(w);
    pat = malloc((len + 3) * sizeof(*pat));
    if (pat == NULL) {
        free(w);
        return TMI_ENOMEM;
    }
    memcpy(pat, w, len * sizeof(*w));
    if (len > 0 && w[len - 1] != L'\\')
        pat[len++] = L'\\';
    pat[len++] = L'*';
    pat[len] = L'\0';
    free(w);
    *out = pat;
    return TMI_OK;
}

static int win_list_dir(const char *path, plat_dirlist *out)
{
    plat_dirlist list = {NULL, 0};
    WIN32_FIND_DATAW fd;
    size_t cap = 0;
    wchar_t *pat;
    HANDLE h;
    int rc = find_pattern(path, &pat);
    if (rc != TMI_OK)
        return rc;
    h = FindFirstFileExW(pat, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    free(pat);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        plat_stat st;
        int src = win_stat(path, &st);
        if (src != TMI_OK)
            return src;
        if (!st.is_dir)
            return TMI_ENOTDIR;
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_NO_MORE_FILES) { /* an empty drive root */
            *out = list;
            return TMI_OK;
        }
        return win32_err(e);
    }
    do {
        if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
            continue;
        rc = plat_dirlist_add(&list, &cap, win32_utf8_dup(fd.cFileName, -1));
        if (rc != TMI_OK)
            break;
    } while (FindNextFileW(h, &fd));
    if (rc == TMI_OK && GetLastError() != ERROR_NO_MORE_FILES)
        rc = last_err();
    FindClose(h);
    if (rc != TMI_OK) {
        plat_dirlist_free(&list);
        return rc;
    }
    *out = list;
    return TMI_OK;
}

/* Write all of data to h and flush it to stable storage. */
static int write_all_flush(HANDLE h, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done;
        DWORD n = 0;
        if (!WriteFile(h, p + done, (DWORD)(want > IO_CHUNK ? IO_CHUNK : want), &n, NULL))
            return last_err();
        done += n;
    }
    if (!FlushFileBuffers(h))
        return last_err();
    return TMI_OK;
}

static int win_make_dir(const char *path)
{
    wchar_t *w;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    if (!CreateDirectoryW(w, NULL))
        rc = last_err();
    free(w);
    return rc;
}

/* DeleteFileW, clearing a read-only attribute first when that is what
 * refused (unlink on POSIX does not look at the file's mode either). */
static int delete_wide(const wchar_t *w)
{
    DWORD attrs;
    if (DeleteFileW(w))
        return TMI_OK;
    if (GetLastError() != ERROR_ACCESS_DENIED)
        return last_err();
    attrs = wattrs(w);
    if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_READONLY))
        return TMI_EACCES;
    if (!SetFileAttributesW(w, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY))
        return last_err();
    if (DeleteFileW(w))
        return TMI_OK;
    {
        int rc = last_err();
        SetFileAttributesW(w, attrs);
        return rc;
    }
}

static int win_remove_file(const char *path)
{
    wchar_t *w;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    rc = delete_wide(w);
    free(w);
    return rc;
}

/* A new file at w, created exclusively and never through a link (plat.h):
 * whatever is at the name first is deleted (DeleteFileW deletes a link
 * itself), then CREATE_NEW with FILE_FLAG_OPEN_REPARSE_POINT. sa may be NULL. */
static int create_fresh(const wchar_t *w, SECURITY_ATTRIBUTES *sa, HANDLE *h)
{
    int rc = delete_wide(w);
    if (rc != TMI_OK && rc != TMI_ENOENT)
        return rc;
    *h = CreateFileW(w, GENERIC_WRITE, 0, sa, CREATE_NEW,
                     FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (*h == INVALID_HANDLE_VALUE)
        return last_err();
    return TMI_OK;
}

static int win_write_file(const char *path, const void *data, size_t len)
{
    wchar_t *w;
    HANDLE h;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    rc = create_fresh(w, NULL, &h);
    free(w);
    if (rc != TMI_OK)
        return rc;
    rc = write_all_flush(h, data, len);
    if (!CloseHandle(h) && rc == TMI_OK)
        rc = last_err();
    return rc;
}

/*
 * Replace `to` with `from` atomically. An existing target is replaced with
 * ReplaceFileW, which keeps the target's ACL, attributes, owner and creation
 * time (the TMI files keep whatever security the installer gave them); a new
 * target, or a link at the target name (ReplaceFileW is never given a link:
 * the link is replaced, not what it points to), is a plain MoveFileExW. Both
 * fail while the target is open without FILE_SHARE_DELETE (TMI_EBUSY: "file
 * in use").
 */
static int win_rename_replace(const char *from, const char *to)
{
    wchar_t *wf = NULL, *wt = NULL;
    DWORD attrs;
    int rc = win32_path(from, &wf);
    if (rc == TMI_OK)
        rc = win32_path(to, &wt);
    if (rc != TMI_OK)
        goto out;
    attrs = wattrs(wt);
    if (attrs != INVALID_FILE_ATTRIBUTES && !win32_is_link(wt, attrs)) {
        if (!ReplaceFileW(wt, wf, NULL, REPLACEFILE_IGNORE_MERGE_ERRORS, NULL, NULL)) {
            DWORD e = GetLastError();
            rc = win32_err(e);
            /* ERROR_UNABLE_TO_MOVE_REPLACEMENT: the target is gone and the
             * replacement still has its own name - finish with a move */
            if (e == ERROR_UNABLE_TO_MOVE_REPLACEMENT && wattrs(wt) == INVALID_FILE_ATTRIBUTES)
                rc = MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)
                         ? TMI_OK
                         : last_err();
        }
    } else if (!MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        rc = last_err();
    }
out:
    free(wf);
    free(wt);
    return rc;
}

const struct plat_ops plat_os_ops = {
    .stat = win_stat,
    .read_file = win_read_file,
    .read_file_nofollow = win_read_file_nofollow,
    .read_file_nofollow_buf = win_read_file_nofollow_buf,
    .list_dir = win_list_dir,
    .write_file = win_write_file,
    .make_dir = win_make_dir,
    .remove_file = win_remove_file,
    .rename_replace = win_rename_replace,
    .svc_resolve = win32_svc_resolve,
    .svc_query = win32_svc_query,
    .svc_start = win32_svc_start,
    .svc_stop = win32_svc_stop,
    .event_query = win32_event_query,
};

struct plat_ops plat = {
    .stat = win_stat,
    .read_file = win_read_file,
    .read_file_nofollow = win_read_file_nofollow,
    .read_file_nofollow_buf = win_read_file_nofollow_buf,
    .list_dir = win_list_dir,
    .write_file = win_write_file,
    .make_dir = win_make_dir,
    .remove_file = win_remove_file,
    .rename_replace = win_rename_replace,
    .svc_resolve = win32_svc_resolve,
    .svc_query = win32_svc_query,
    .svc_start = win32_svc_start,
    .svc_stop = win32_svc_stop,
    .event_query = win32_event_query,
};

/* ---- hashing and randomness (CNG) ---- */

/* The SHA-256 provider, opened once and kept (CNG handles are thread-safe). */
static BCRYPT_ALG_HANDLE sha256_alg(void)
{
    static BCRYPT_ALG_HANDLE alg;
    BCRYPT_ALG_HANDLE mine = NULL, prev;
    if (alg != NULL)
        return alg;
    if (BCryptOpenAlgorithmProvider(&mine, BCRYPT_SHA256_ALGORITHM, NULL, 0) != STATUS_SUCCESS)
        return NULL;
    prev = InterlockedCompareExchangePointer((PVOID volatile *)&alg, mine, NULL);
    if (prev != NULL) { /* another thread won the race */
        BCryptCloseAlgorithmProvider(mine, 0);
        return prev;
    }
    return mine;
}

struct plat_sha256_ctx {
    BCRYPT_HASH_HANDLE hash;
    uint8_t *object; /* the hash object's memory, as CNG asks for it */
};

int plat_sha256_init(plat_sha256_ctx **ctx)
{
    BCRYPT_ALG_HANDLE alg = sha256_alg();
    plat_sha256_ctx *c;
    DWORD objlen = 0;
    ULONG got = 0;
    if (alg == NULL)
        return TMI_EIO;
    if (BCryptGetProperty(alg, BCRYPT_OBJECT_LENGTH, (PUCHAR)&objlen, sizeof(objlen), &got, 0) !=
        STATUS_SUCCESS)
        return TMI_EIO;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return TMI_ENOMEM;
    c->object = malloc(objlen);
    if (c->object == NULL) {
        free(c);
        return TMI_ENOMEM;
    }
    if (BCryptCreateHash(alg, &c->hash, c->object, objlen, NULL, 0, 0) != STATUS_SUCCESS) {
        free(c->object);
        free(c);
        return TMI_EIO;
    }
    *ctx = c;
    return TMI_OK;
}

int plat_sha256_update(plat_sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ULONG n = len > IO_CHUNK ? IO_CHUNK : (ULONG)len;
        if (BCryptHashData(ctx->hash, (PUCHAR)p, n, 0) != STATUS_SUCCESS)
            return TMI_EIO;
        p += n;
        len -= n;
    }
    return TMI_OK;
}

int plat_sha256_final(plat_sha256_ctx *ctx, uint8_t out[32])
{
    int ok = BCryptFinishHash(ctx->hash, out, 32, 0) == STATUS_SUCCESS;
    plat_sha256_free(ctx);
    return ok ? TMI_OK : TMI_EIO;
}

void plat_sha256_free(plat_sha256_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->hash != NULL)
        BCryptDestroyHash(ctx->hash);
    free(ctx->object);
    free(ctx);
}

int plat_sha256(const void *data, size_t len, uint8_t out[32])
{
    plat_sha256_ctx *c = NULL;
    int rc = plat_sha256_init(&c);
    if (rc != TMI_OK)
        return rc;
    rc = plat_sha256_update(c, data, len);
    if (rc != TMI_OK) {
        plat_sha256_free(c);
        return rc;
    }
    return plat_sha256_final(c, out);
}

int plat_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ULONG n = len > IO_CHUNK ? IO_CHUNK : (ULONG)len;
        if (BCryptGenRandom(NULL, p, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != STATUS_SUCCESS)
            return TMI_EIO;
        p += n;
        len -= n;
    }
    return TMI_OK;
}

/* ---- folders ---- */

/* Create w and its missing parents; w is modified in place and restored. */
static int make_dirs_wide(wchar_t *w)
{
    DWORD attrs;
    wchar_t *sep;
    if (CreateDirectoryW(w, NULL))
        return TMI_OK;
    switch (GetLastError()) {
    case ERROR_ALREADY_EXISTS:
    case ERROR_ACCESS_DENIED: /* e.g. a drive root: fine if it is a folder */
        attrs = wattrs(w);
        if (attrs == INVALID_FILE_ATTRIBUTES)
            return TMI_EACCES;
        return (attrs & FILE_ATTRIBUTE_DIRECTORY) ? TMI_OK : TMI_ENOTDIR;
    case ERROR_PATH_NOT_FOUND:
        break;
    default:
        return last_err();
    }
    sep = wcsrchr(w, L'\\');
    if (sep == NULL || sep == w)
        return TMI_ENOENT;
    *sep = L'\0';
    {
        int rc = make_dirs_wide(w);
        *sep = L'\\';
        if (rc != TMI_OK)
            return rc;
    }
    if (CreateDirectoryW(w, NULL) || GetLastError() == ERROR_ALREADY_EXISTS)
        return TMI_OK;
    return last_err();
}

int plat_make_dirs(const char *path)
{
    wchar_t *w;
    size_t len;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc == TMI_ENOENT ? TMI_EINVAL : rc;
    len = wcslen(w);
    while (len > 3 && w[len - 1] == L'\\') /* "C:\a\" -> "C:\a" */
        w[--len] = L'\0';
    rc = make_dirs_wide(w);
    if (rc == TMI_OK) {
        DWORD attrs = wattrs(w);
        if (attrs == INVALID_FILE_ATTRIBUTES)
            rc = last_err();
        else if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
            rc = TMI_ENOTDIR;
    }
    free(w);
    return rc;
}

/* Remove the tree at w (a folder's contents first). Links (reparse points)
 * are removed, never followed. */
static int remove_tree_wide(const wchar_t *w, int depth)
{
    WIN32_FIND_DATAW fd;
    DWORD attrs = wattrs(w);
    size_t len;
    wchar_t *pat;
    HANDLE h;
    int rc = TMI_OK;
    if (attrs == INVALID_FILE_ATTRIBUTES) {
        DWORD e = GetLastError();
        return (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) ? TMI_OK : win32_err(e);
    }
    if (attrs & FILE_ATTRIBUTE_READONLY)
        SetFileAttributesW(w, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY);
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
        return delete_wide(w);
    if ((attrs & FILE_ATTRIBUTE_REPARSE_POINT) || depth > 64)
        return RemoveDirectoryW(w) ? TMI_OK : last_err();
    len = wcslen(w);
    pat = malloc((len + 3) * sizeof(*pat));
    if (pat == NULL)
        return TMI_ENOMEM;
    swprintf(pat, len + 3, L"%ls\\*", w);
    h = FindFirstFileExW(pat, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
    free(pat);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            size_t n;
            wchar_t *child;
            if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
                continue;
            n = len + wcslen(fd.cFileName) + 2;
            child = malloc(n * sizeof(*child));
            if (child == NULL) {
                rc = TMI_ENOMEM;
                break;
            }
            swprintf(child, n, L"%ls\\%ls", w, fd.cFileName);
            rc = remove_tree_wide(child, depth + 1);
            free(child);
        } while (rc == TMI_OK && FindNextFileW(h, &fd));
        FindClose(h);
    }
    if (rc == TMI_OK && !RemoveDirectoryW(w))
        rc = last_err();
    return rc;
}

int plat_remove_tree(const char *path)
{
    wchar_t *w;
    size_t len;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc == TMI_ENOENT ? TMI_OK : rc;
    len = wcslen(w);
    while (len > 3 && w[len - 1] == L'\\')
        w[--len] = L'\0';
    rc = remove_tree_wide(w, 0);
    free(w);
    return rc;
}

/* FOLDERID_ProgramData {62AB5D82-FDC1-4DC3-A9DD-070D1D495D97}, spelled out so
 * that no GUID library is needed. */
static const GUID folder_program_data = {
    0x62AB5D82, 0xFDC1, 0x4DC3, {0xA9, 0xDD, 0x07, 0x0D, 0x1D, 0x49, 0x5D, 0x97}};

int plat_default_data_dir(char *buf, size_t buflen)
{
    wchar_t *known = NULL, env[MAX_PATH + 1];
    char base[PLAT_PATH_MAX];
    int rc, n;
    if (SHGetKnownFolderPath(&folder_program_data, 0, NULL, &known) == S_OK) {
        rc = win32_utf8(known, base, sizeof(base));
        CoTaskMemFree(known);
    } else {
        DWORD got = GetEnvironmentVariableW(L"ProgramData", env, MAX_PATH + 1);
        if (got == 0 || got > MAX_PATH)
            return TMI_ENOENT;
        rc = win32_utf8(env, base, sizeof(base));
    }
    if (rc != TMI_OK)
        return rc;
    n = snprintf(buf, buflen, "%s%stmi-console", base,
                 base[0] != '\0' && base[strlen(base) - 1] == '\\' ? "" : "\\");
    return (n < 0 || (size_t)n >= buflen) ? TMI_ETOOBIG : TMI_OK;
}

int plat_default_root(char *buf, size_t buflen)
{
    wchar_t win[MAX_PATH + 1];
    UINT n = GetSystemWindowsDirectoryW(win, MAX_PATH + 1);
    if (n == 0 || n > MAX_PATH)
        return TMI_ENOENT;
    if (n < 3 || win[1] != L':')
        return TMI_ENOTSUP; /* not a drive letter: no "system drive" to scan */
    if (buflen < 4)
        return TMI_ETOOBIG;
    buf[0] = (char)win[0];
    buf[1] = ':';
    buf[2] = '\\';
    buf[3] = '\0';
    return TMI_OK;
}

/* ---- registry ---- */

/* One registry view: TMI_ENOENT when the key or value is not there. */
static int registry_view(const wchar_t *key, const wchar_t *value, REGSAM view, char *buf,
                         size_t buflen)
{
    HKEY h;
    DWORD type = 0, size = 0;
    wchar_t *data = NULL, *expanded = NULL;
    LSTATUS st = RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_QUERY_VALUE | view, &h);
    int rc;
    if (st != ERROR_SUCCESS)
        return win32_err((DWORD)st);
    st = RegQueryValueExW(h, value, NULL, &type, NULL, &size);
    if (st != ERROR_SUCCESS) {
        rc = win32_err((DWORD)st);
        goto out;
    }
    if (type != REG_SZ && type != REG_EXPAND_SZ) {
        rc = TMI_EFORMAT;
        goto out;
    }
    if (size > 64 * 1024) {
        rc = TMI_ETOOBIG;
        goto out;
    }
    data = calloc(size / sizeof(wchar_t) + 1, sizeof(wchar_t)); /* room for a missing NUL */
    if (data == NULL) {
        rc = TMI_ENOMEM;
        goto out;
    }
    st = RegQueryValueExW(h, value, NULL, &type, (LPBYTE)data, &size);
    if (st != ERROR_SUCCESS) {
        rc = win32_err((DWORD)st);
        goto out;
    }
    data[size / sizeof(wchar_t)] = L'\0';
    if (type == REG_EXPAND_SZ) {
        DWORD n = ExpandEnvironmentStringsW(data, NULL, 0);
        expanded = n > 0 ? calloc(n + 1, sizeof(wchar_t)) : NULL;
        if (expanded == NULL || ExpandEnvironmentStringsW(data, expanded, n + 1) == 0) {
            rc = expanded == NULL ? TMI_ENOMEM : last_err();
            goto out;
        }
    }
    rc = win32_utf8(expanded != NULL ? expanded : data, buf, buflen);
out:
    free(data);
    free(expanded);
    RegCloseKey(h);
    return rc;
}

int plat_registry_string(const char *key, const char *value, char *buf, size_t buflen)
{
    static const REGSAM views[] = {KEY_WOW64_64KEY, KEY_WOW64_32KEY};
    wchar_t *wk = NULL, *wv = NULL;
    int rc = win32_wide(key, &wk);
    if (rc == TMI_OK)
        rc = win32_wide(value, &wv);
    for (size_t i = 0; rc == TMI_OK && i < sizeof(views) / sizeof(views[0]); i++) {
        rc = registry_view(wk, wv, views[i], buf, buflen);
        if (rc != TMI_ENOENT)
            break;
        if (i + 1 < sizeof(views) / sizeof(views[0]))
            rc = TMI_OK;
    }
    free(wk);
    free(wv);
    return rc;
}

/* ---- identity, clocks ---- */

int plat_user_name(char *buf, size_t buflen)
{
    wchar_t name[257];
    DWORD n = sizeof(name) / sizeof(name[0]);
    if (!GetUserNameW(name, &n))
        return last_err();
    return win32_utf8(name, buf, buflen);
}

int64_t plat_now_ns(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    return filetime_to_unix_ns(&ft);
}

int plat_utc_offset_minutes(int64_t t_ns)
{
    /* 100 ns ticks since 1601, cut to whole seconds: SYSTEMTIME keeps only
     * milliseconds, so the two sides must not differ below that */
    ULONGLONG ticks = (ULONGLONG)(t_ns / 1000000000LL) * 10000000ULL + 116444736000000000ULL;
    FILETIME ft, lft;
    SYSTEMTIME utc, local;
    ULARGE_INTEGER a, b;
    ft.dwLowDateTime = (DWORD)ticks;
    ft.dwHighDateTime = (DWORD)(ticks >> 32);
    if (!FileTimeToSystemTime(&ft, &utc) || !SystemTimeToTzSpecificLocalTime(NULL, &utc, &local) ||
        !SystemTimeToFileTime(&local, &lft))
        return 0;
    a.LowPart = ft.dwLowDateTime;
    a.HighPart = ft.dwHighDateTime;
    b.LowPart = lft.dwLowDateTime;
    b.HighPart = lft.dwHighDateTime;
    return (int)(((LONGLONG)b.QuadPart - (LONGLONG)a.QuadPart) / 600000000LL);
}

int64_t plat_monotonic_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER c;
    if (freq.QuadPart == 0)
        QueryPerformanceFrequency(&freq); /* never fails on XP and later */
    QueryPerformanceCounter(&c);
    return (int64_t)(c.QuadPart / freq.QuadPart) * 1000000000LL +
           (int64_t)(c.QuadPart % freq.QuadPart) * 1000000000LL / freq.QuadPart;
}

void plat_sleep_ms(unsigned ms)
{
    Sleep(ms);
}

long plat_pid(void)
{
    return (long)GetCurrentProcessId();
}

void plat_stdout_binary(void)
{
    _setmode(_fileno(stdout), _O_BINARY);
}

int plat_fopen_new(const char *path, FILE **out)
{
    wchar_t *w = NULL;
    HANDLE h;
    int fd, rc = win32_path(path, &w);
    *out = NULL;
    if (rc != TMI_OK)
        return rc;
    /* CREATE_NEW fails on anything already there, a link included */
    h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL,
                    NULL);
    if (h == INVALID_HANDLE_VALUE) {
        rc = last_err();
        goto out;
    }
    fd = _open_osfhandle((intptr_t)h, _O_WRONLY | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        rc = TMI_EIO;
    } else if ((*out = _fdopen(fd, "wb")) == NULL) {
        _close(fd);
        rc = TMI_ENOMEM;
    }
    if (rc != TMI_OK)
        DeleteFileW(w);
out:
    free(w);
    return rc;
}

int plat_utf8_args(int *argc, char ***argv)
{
    int n = 0, rc = TMI_OK;
    wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);
    char **out = NULL;
    if (w == NULL)
        return win32_err(GetLastError());
    out = n >= 1 ? calloc((size_t)n + 1, sizeof(*out)) : NULL;
    if (out == NULL) {
        rc = n >= 1 ? TMI_ENOMEM : TMI_EINVAL;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        out[i] = win32_utf8_dup(w[i], -1);
        if (out[i] == NULL) {
            rc = TMI_EINVAL; /* a lone surrogate (or no memory) */
            goto out;
        }
    }
    *argc = n;
    *argv = out;
    out = NULL;
out:
    if (out != NULL) {
        for (int i = 0; i < n; i++)
            free(out[i]);
        free(out);
    }
    LocalFree(w);
    return rc;
}

int plat_self_exe(char *buf, size_t buflen)
{
    wchar_t *w = malloc(WPATH_MAX * sizeof(*w));
    const wchar_t *p;
    DWORD n;
    int rc;
    if (w == NULL)
        return TMI_ENOMEM;
    n = GetModuleFileNameW(NULL, w, WPATH_MAX);
    if (n == 0 || n >= WPATH_MAX) {
        free(w);
        return n == 0 ? last_err() : TMI_ETOOBIG;
    }
    p = w;
    if (wcsncmp(p, L"\\\\?\\", 4) == 0 && wcsncmp(p + 4, L"UNC\\", 4) != 0)
        p += 4;
    rc = win32_utf8(p, buf, buflen);
    free(w);
    return rc;
}

/* ---- private files ---- */

/* "D:P(A;<f>;FA;;;BA)(A;<f>;FA;;;SY)(A;<f>;FA;;;<this user's SID>)": a
 * protected DACL (nothing inherited from the parent) giving full access to
 * the Administrators group, SYSTEM and the user who makes the object, and
 * nobody else. folder: the entries are inherited by what is created inside
 * (OICI). Caller LocalFree()s *sd. */
static int private_descriptor(int folder, PSECURITY_DESCRIPTOR *sd)
{
    HANDLE tok = NULL;
    union {
        TOKEN_USER user;
        uint8_t raw[SECURITY_MAX_SID_SIZE + sizeof(TOKEN_USER)];
    } info;
    DWORD got = 0;
    const wchar_t *f = folder ? L"OICI" : L"";
    wchar_t *sid = NULL, sddl[320];
    int rc = TMI_OK;
    *sd = NULL;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return last_err();
    if (!GetTokenInformation(tok, TokenUser, &info, sizeof(info), &got) ||
        !ConvertSidToStringSidW(info.user.User.Sid, &sid)) {
        rc = last_err();
        goto out;
    }
    swprintf(sddl, sizeof(sddl) / sizeof(sddl[0]),
             L"D:P(A;%ls;FA;;;BA)(A;%ls;FA;;;SY)(A;%ls;FA;;;%ls)", f, f, f, sid);
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, sd, NULL))
        rc = last_err();
out:
    if (sid != NULL)
        LocalFree(sid);
    CloseHandle(tok);
    return rc;
}

int plat_make_private_dir(const char *path)
{
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd = NULL;
    wchar_t *w = NULL, *sep;
    DWORD attrs;
    size_t len;
    int rc;
    if (path == NULL || path[0] == '\0')
        return TMI_EINVAL;
    rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    len = wcslen(w);
    while (len > 3 && w[len - 1] == L'\\')
        w[--len] = L'\0';
    attrs = wattrs(w);
    if (attrs != INVALID_FILE_ATTRIBUTES) {
        rc = (attrs & FILE_ATTRIBUTE_DIRECTORY) ? TMI_OK : TMI_ENOTDIR;
        goto out;
    }
    sep = wcsrchr(w, L'\\');
    if (sep != NULL && sep > w && sep[-1] != L':' && sep[-1] != L'\\') {
        *sep = L'\0';
        rc = make_dirs_wide(w);
        *sep = L'\\';
        if (rc != TMI_OK)
            goto out;
    }
    rc = private_descriptor(1, &sd);
    if (rc != TMI_OK)
        goto out;
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = sd;
    sa.bInheritHandle = FALSE;
    if (!CreateDirectoryW(w, &sa) && GetLastError() != ERROR_ALREADY_EXISTS) {
        rc = last_err();
        goto out;
    }
    attrs = wattrs(w);
    if (attrs == INVALID_FILE_ATTRIBUTES)
        rc = last_err();
    else if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
        rc = TMI_ENOTDIR;
out:
    if (sd != NULL)
        LocalFree(sd);
    free(w);
    return rc;
}

int plat_check_writable(const char *path)
{
    wchar_t *w;
    DWORD attrs;
    HANDLE h;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    attrs = wattrs(w);
    if (attrs == INVALID_FILE_ATTRIBUTES) {
        rc = last_err();
        free(w);
        return rc;
    }
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY) && (attrs & FILE_ATTRIBUTE_READONLY)) {
        free(w);
        return TMI_EACCES;
    }
    /* open for the access a writer needs: add files to a folder, or write a
     * file; the access check is the system's own */
    if (attrs & FILE_ATTRIBUTE_DIRECTORY)
        h = CreateFileW(w, FILE_ADD_FILE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                        NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
    else
        h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                        NULL, OPEN_EXISTING, 0, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        rc = last_err();
        return rc == TMI_EBUSY ? TMI_OK : rc; /* in use is not "read-only" */
    }
    CloseHandle(h);
    return TMI_OK;
}

int plat_write_file_private(const char *path, const void *data, size_t len)
{
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd = NULL;
    wchar_t *w = NULL;
    HANDLE h;
    int rc = win32_path(path, &w);
    if (rc == TMI_OK)
        rc = private_descriptor(0, &sd);
    if (rc != TMI_OK)
        goto out;
    /* a fresh file, so it never keeps an older, wider ACL */
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = sd;
    sa.bInheritHandle = FALSE;
    rc = create_fresh(w, &sa, &h);
    if (rc != TMI_OK)
        goto out;
    rc = write_all_flush(h, data, len);
    if (!CloseHandle(h) && rc == TMI_OK)
        rc = last_err();
    if (rc != TMI_OK)
        DeleteFileW(w);
out:
    if (sd != NULL)
        LocalFree(sd);
    free(w);
    return rc;
}

/* ---- mutexes ---- */

/* ---- locks ---- */

struct plat_lock {
    HANDLE h;
};

int plat_lock_acquire(const char *path, plat_lock **out)
{
    OVERLAPPED ov;
    plat_lock *l;
    wchar_t *w;
    HANDLE h;
    int rc = win32_path(path, &w);
    if (rc != TMI_OK)
        return rc;
    h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE)
        return last_err();
    memset(&ov, 0, sizeof(ov));
    if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        return (e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING) ? TMI_EBUSY : win32_err(e);
    }
    l = malloc(sizeof(*l));
    if (l == NULL) {
        CloseHandle(h);
        return TMI_ENOMEM;
    }
    l->h = h;
    *out = l;
    return TMI_OK;
}

void plat_lock_release(plat_lock *lock)
{
    OVERLAPPED ov;
    if (lock == NULL)
        return;
    memset(&ov, 0, sizeof(ov));
    UnlockFileEx(lock->h, 0, 1, 0, &ov);
    CloseHandle(lock->h);
    free(lock);
}

/* ---- stop requests ---- */

static volatile LONG stop_flag;
static volatile LONG service_mode;

void win32_request_stop(void)
{
    InterlockedExchange(&stop_flag, 1);
}

void win32_set_service_mode(void)
{
    InterlockedExchange(&service_mode, 1);
}

static BOOL WINAPI on_console_event(DWORD type)
{
    switch (type) {
    case CTRL_LOGOFF_EVENT:
        if (service_mode)
            return FALSE; /* a user logging off does not stop a service */
        /* fall through */
    case CTRL_CLOSE_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        win32_request_stop();
        /* the process ends when this handler returns: give the main loop a
         * moment to finish (Windows allows about five seconds) */
        Sleep(3000);
        return TRUE;
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
        win32_request_stop();
        return TRUE;
    default:
        return FALSE;
    }
}

void plat_install_stop_handler(void)
{
    SetConsoleCtrlHandler(on_console_event, TRUE);
}

int plat_stop_requested(void)
{
    return InterlockedCompareExchange(&stop_flag, 0, 0) != 0;
}

int plat_full_path(const char *path, char *buf, size_t buflen)
{
    wchar_t *w = NULL, *full = NULL;
    DWORD n;
    int rc;
    if (path == NULL || path[0] == '\0')
        return TMI_EINVAL;
    rc = win32_wide(path, &w);
    if (rc != TMI_OK)
        return rc;
    full = malloc(WPATH_MAX * sizeof(*full));
    if (full == NULL) {
        free(w);
        return TMI_ENOMEM;
    }
    n = GetFullPathNameW(w, WPATH_MAX, full, NULL);
    if (n == 0 || n >= WPATH_MAX)
        rc = n == 0 ? last_err() : TMI_ETOOBIG;
    else
        rc = win32_utf8(full, buf, buflen);
    free(full);
    free(w);
    return rc;
}

/* ---- append-only records (the alert file) ---- */

/* Is the open file's last byte something other than a line end? */
static int ends_without_newline(HANDLE h)
{
    LARGE_INTEGER size;
    OVERLAPPED ov;
    DWORD got = 0;
    char last = '\n';
    if (!GetFileSizeEx(h, &size) || size.QuadPart <= 0)
        return 0;
    memset(&ov, 0, sizeof(ov));
    ov.Offset = (DWORD)((uint64_t)(size.QuadPart - 1) & 0xFFFFFFFFu);
    ov.OffsetHigh = (DWORD)((uint64_t)(size.QuadPart - 1) >> 32);
    return ReadFile(h, &last, 1, &got, &ov) && got == 1 && last != '\n';
}

/* Open path for appending (created private when missing), never through a
 * reparse point; *can_read says whether the handle may also read. */
static int append_open(const wchar_t *w, HANDLE *h, int *can_read)
{
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd = NULL;
    const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    const DWORD flags = FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT;
    DWORD attrs = wattrs(w);
    int rc;
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT))
        return TMI_ELINK;
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
        return TMI_EINVAL;
    rc = private_descriptor(0, &sd);
    if (rc != TMI_OK)
        return rc;
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = sd; /* used only when the file is created */
    sa.bInheritHandle = FALSE;
    *can_read = 1;
    *h = CreateFileW(w, FILE_APPEND_DATA | FILE_READ_DATA | FILE_READ_ATTRIBUTES, share, &sa,
                     OPEN_ALWAYS, flags, NULL);
    if (*h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED) {
        *can_read = 0;
        *h = CreateFileW(w, FILE_APPEND_DATA | FILE_READ_ATTRIBUTES, share, &sa, OPEN_ALWAYS, flags,
                         NULL);
    }
    rc = *h == INVALID_HANDLE_VALUE ? last_err() : TMI_OK;
    LocalFree(sd);
    return rc;
}

/* A file on disk that is not a reparse point, or a character device. */
static int append_target_ok(HANDLE h)
{
    BY_HANDLE_FILE_INFORMATION fi;
    DWORD type = GetFileType(h);
    if (type == FILE_TYPE_CHAR)
        return TMI_OK;
    if (type != FILE_TYPE_DISK)
        return TMI_EINVAL;
    if (!GetFileInformationByHandle(h, &fi))
        return last_err();
    if (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
        return TMI_ELINK;
    return (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? TMI_EINVAL : TMI_OK;
}

int plat_append_record(const char *path, const void *data, size_t len)
{
    wchar_t *w = NULL;
    HANDLE h = INVALID_HANDLE_VALUE;
    OVERLAPPED ov;
    char *buf = NULL;
    size_t n = 0;
    DWORD done = 0;
    int can_read = 0, rc;
    if (path == NULL || path[0] == '\0' || (data == NULL && len > 0) || len > IO_CHUNK - 1)
        return TMI_EINVAL;
    rc = win32_path(path, &w);
    if (rc == TMI_OK)
        rc = append_open(w, &h, &can_read);
    if (rc == TMI_OK)
        rc = append_target_ok(h);
    if (rc != TMI_OK || len == 0)
        goto out;
    buf = malloc(len + 1);
    if (buf == NULL) {
        rc = TMI_ENOMEM;
        goto out;
    }
    if (can_read && GetFileType(h) == FILE_TYPE_DISK && ends_without_newline(h))
        buf[n++] = '\n';
    memcpy(buf + n, data, len);
    n += len;
    /* offset all ones: at the end of the file, whatever else writes to it */
    memset(&ov, 0, sizeof(ov));
    ov.Offset = ov.OffsetHigh = 0xFFFFFFFFu;
    if (!WriteFile(h, buf, (DWORD)n, &done, &ov))
        rc = last_err();
    else if (done != n)
        rc = TMI_ENOSPC;
out:
    if (h != INVALID_HANDLE_VALUE && !CloseHandle(h) && rc == TMI_OK)
        rc = last_err();
    free(buf);
    free(w);
    return rc;
}

int plat_host_name(char *buf, size_t buflen)
{
    wchar_t name[256];
    DWORD n = sizeof(name) / sizeof(name[0]);
    if (!GetComputerNameExW(ComputerNameDnsFullyQualified, name, &n))
        return last_err();
    return win32_utf8(name, buf, buflen);
}

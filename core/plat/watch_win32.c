/*
 * watch_win32.c - watching folders (plat.h) with ReadDirectoryChangesW, one
 * overlapped read per folder, waited for together with a wake event.
 * GetLastError() is translated here only. A folder whose file system does
 * not give notifications (ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED: some
 * network shares) is TMI_ENOTSUP, for the caller to poll.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"
#include "plat_win32_int.h"

#define NOTIFY_BUF 8192
#define NOTIFY_FILTER                                                                              \
    (FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_DIR_NAME | FILE_NOTIFY_CHANGE_SIZE |        \
     FILE_NOTIFY_CHANGE_LAST_WRITE | FILE_NOTIFY_CHANGE_ATTRIBUTES | FILE_NOTIFY_CHANGE_SECURITY)

typedef struct watched {
    HANDLE dir;
    OVERLAPPED ov; /* ov.hEvent is waited for */
    DWORD buf[NOTIFY_BUF / sizeof(DWORD)];
} watched;

struct plat_watch {
    HANDLE wake;
    watched *f[PLAT_WATCH_MAX];
    size_t n;
};

int plat_watch_new(plat_watch **out)
{
    plat_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return TMI_ENOMEM;
    w->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (w->wake == NULL) {
        free(w);
        return TMI_ENOMEM;
    }
    *out = w;
    return TMI_OK;
}

/* (Re)start the overlapped read of one folder. */
static int arm(watched *f)
{
    ResetEvent(f->ov.hEvent);
    if (ReadDirectoryChangesW(f->dir, f->buf, sizeof(f->buf), FALSE, NOTIFY_FILTER, NULL, &f->ov,
                              NULL))
        return TMI_OK;
    DWORD e = GetLastError();
    return e == ERROR_INVALID_FUNCTION || e == ERROR_NOT_SUPPORTED ? TMI_ENOTSUP : win32_err(e);
}

static void drop(watched *f)
{
    CancelIo(f->dir);
    CloseHandle(f->dir);
    CloseHandle(f->ov.hEvent);
    free(f);
}

int plat_watch_add(plat_watch *w, const char *dir)
{
    wchar_t *wp = NULL;
    watched *f;
    int rc;
    if (w->n >= PLAT_WATCH_MAX)
        return TMI_ETOOBIG;
    rc = win32_path(dir, &wp);
    if (rc != TMI_OK)
        return rc;
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        free(wp);
        return TMI_ENOMEM;
    }
    f->dir =
        CreateFileW(wp, FILE_LIST_DIRECTORY, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OVERLAPPED, NULL);
    free(wp);
    if (f->dir == INVALID_HANDLE_VALUE) {
        rc = win32_err(GetLastError());
        free(f);
        return rc == TMI_EINVAL ? TMI_ENOTDIR : rc;
    }
    f->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    rc = f->ov.hEvent != NULL ? arm(f) : TMI_ENOMEM;
    if (rc != TMI_OK) {
        if (f->ov.hEvent != NULL)
            CloseHandle(f->ov.hEvent);
        CloseHandle(f->dir);
        free(f);
        return rc;
    }
    w->f[w->n++] = f;
    return TMI_OK;
}

void plat_watch_clear(plat_watch *w)
{
    for (size_t i = 0; i < w->n; i++)
        drop(w->f[i]);
    w->n = 0;
}

/* Folder i signalled: take its notifications and read again; a folder that
 * is gone (or can no longer be read) is dropped. */
static void take(plat_watch *w, size_t i)
{
    watched *f = w->f[i];
    DWORD got = 0;
    if (!GetOverlappedResult(f->dir, &f->ov, &got, FALSE) || arm(f) != TMI_OK) {
        drop(f);
        w->f[i] = w->f[--w->n];
    }
}

int plat_watch_wait(plat_watch *w, int timeout_ms)
{
    HANDLE h[PLAT_WATCH_MAX + 1];
    DWORD n = 0, r;
    int changed = 0;
    h[n++] = w->wake;
    for (size_t i = 0; i < w->n; i++)
        h[n++] = w->f[i]->ov.hEvent;
    r = WaitForMultipleObjects(n, h, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    if (r == WAIT_TIMEOUT || r == WAIT_OBJECT_0)
        return 0;
    if (r == WAIT_FAILED || r >= WAIT_OBJECT_0 + n)
        return TMI_EIO;
    /* every folder that signalled, not only the first */
    for (size_t i = w->n; i-- > 0;) {
        if (WaitForSingleObject(w->f[i]->ov.hEvent, 0) == WAIT_OBJECT_0) {
            take(w, i);
            changed = 1;
        }
    }
    return changed;
}

void plat_watch_wake(plat_watch *w)
{
    SetEvent(w->wake);
}

void plat_watch_free(plat_watch *w)
{
    if (w == NULL)
        return;
    plat_watch_clear(w);
    CloseHandle(w->wake);
    free(w);
}

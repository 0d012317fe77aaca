/*
 * service_win32.c - services (the Service Control Manager) and the
 * Application event log for the Win32 backend of plat.h.
 *
 * `scope` is ignored: on Windows the services and the log are the machine's.
 * The TMI service's short name is not documented, so svc_resolve finds it the
 * ways DOMAIN.md lists: the configured short name, the display name
 * (GetServiceKeyNameW), or the service whose program is ...\mrf.exe.
 */
#include "plat_win32_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "err.h"
#include "evlog_parse.h"

/* Most records event_query looks at, newest first, before giving up. */
#define EVENT_SCAN_MAX 200000
/* The first read buffer for ReadEventLogW (it grows for a larger record). */
#define EVENT_BUF_INITIAL (64 * 1024)
/* Most services looked at when searching by program path. */
#define SVC_ENUM_MAX_BYTES (4u * 1024 * 1024)

static SC_HANDLE open_scm(DWORD access, int *rc)
{
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, access);
    *rc = scm != NULL ? TMI_OK : win32_err(GetLastError());
    return scm;
}

/* An error of an SCM call: the usual translation, but a failure that says
 * nothing more specific is a service-control failure, not an I/O error. */
static int svc_err(DWORD e)
{
    int rc = win32_err(e);
    return rc == TMI_EIO ? TMI_ESERVICE : rc;
}

/* Does the program path of a service's command line (quoted, or unquoted
 * with spaces as the SCM accepts it) end in "\image" or equal "image"? */
static int image_matches(const wchar_t *cmdline, const wchar_t *image)
{
    size_t ilen = wcslen(image);
    const wchar_t *start = cmdline;
    size_t len;
    while (*start == L' ' || *start == L'\t')
        start++;
    if (*start == L'"') {
        const wchar_t *end = wcschr(++start, L'"');
        len = end != NULL ? (size_t)(end - start) : wcslen(start);
        return len >= ilen && _wcsnicmp(start + len - ilen, image, ilen) == 0 &&
               (len == ilen || start[len - ilen - 1] == L'\\' || start[len - ilen - 1] == L'/');
    }
    /* unquoted: the program ends at some space (or at the end) */
    len = wcslen(start);
    for (size_t end = 1; end <= len; end++) {
        if (end < len && start[end] != L' ')
            continue;
        if (end >= ilen && _wcsnicmp(start + end - ilen, image, ilen) == 0 &&
            (end == ilen || start[end - ilen - 1] == L'\\' || start[end - ilen - 1] == L'/'))
            return 1;
    }
    return 0;
}

/* The service (of any state) whose program is image_name; its short name
 * into name. TMI_ENOENT when there is none. */
static int find_by_image(SC_HANDLE scm, const wchar_t *image, char *name, size_t namelen)
{
    DWORD needed = 0, count = 0, resume = 0;
    ENUM_SERVICE_STATUS_PROCESSW *list;
    uint8_t *buf = NULL;
    int rc = TMI_ENOENT;
    EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, NULL, 0,
                          &needed, &count, &resume, NULL);
    if (GetLastError() != ERROR_MORE_DATA)
        return svc_err(GetLastError());
    if (needed > SVC_ENUM_MAX_BYTES)
        return TMI_ETOOBIG;
    needed += 4096; /* services may appear between the two calls */
    buf = malloc(needed);
    if (buf == NULL)
        return TMI_ENOMEM;
    resume = 0;
    if (!EnumServicesStatusExW(scm, SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL, buf,
                               needed, &needed, &count, &resume, NULL)) {
        rc = svc_err(GetLastError());
        free(buf);
        return rc;
    }
    list = (ENUM_SERVICE_STATUS_PROCESSW *)buf;
    for (DWORD i = 0; i < count && rc == TMI_ENOENT; i++) {
        QUERY_SERVICE_CONFIGW *cfg;
        DWORD cfgsize = 0;
        SC_HANDLE svc = OpenServiceW(scm, list[i].lpServiceName, SERVICE_QUERY_CONFIG);
        if (svc == NULL)
            continue;
        QueryServiceConfigW(svc, NULL, 0, &cfgsize);
        cfg = cfgsize > 0 && cfgsize < 64 * 1024 ? malloc(cfgsize) : NULL;
        if (cfg != NULL && QueryServiceConfigW(svc, cfg, cfgsize, &cfgsize) &&
            cfg->lpBinaryPathName != NULL && image_matches(cfg->lpBinaryPathName, image))
            rc = win32_utf8(list[i].lpServiceName, name, namelen);
        free(cfg);
        CloseServiceHandle(svc);
    }
    free(buf);
    return rc;
}

int win32_svc_resolve(const char *scope, const char *short_name, const char *display_name,
                      const char *image_name, char *name, size_t namelen)
{
    wchar_t *w = NULL, key[257];
    DWORD keylen;
    SC_HANDLE scm, svc;
    int rc;
    (void)scope;
    scm = open_scm(SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE, &rc);
    if (scm == NULL)
        return rc;
    rc = TMI_ENOENT;
    if (short_name != NULL && short_name[0] != '\0' && win32_wide(short_name, &w) == TMI_OK) {
        svc = OpenServiceW(scm, w, SERVICE_QUERY_STATUS);
        if (svc != NULL) {
            CloseServiceHandle(svc);
            rc = win32_utf8(w, name, namelen);
        }
        free(w);
        w = NULL;
    }
    if (rc == TMI_ENOENT && display_name != NULL && win32_wide(display_name, &w) == TMI_OK) {
        keylen = sizeof(key) / sizeof(key[0]);
        if (GetServiceKeyNameW(scm, w, key, &keylen))
            rc = win32_utf8(key, name, namelen);
        free(w);
        w = NULL;
    }
    if (rc == TMI_ENOENT && image_name != NULL && win32_wide(image_name, &w) == TMI_OK) {
        rc = find_by_image(scm, w, name, namelen);
        free(w);
    }
    CloseServiceHandle(scm);
    return rc;
}

int win32_svc_query(const char *scope, const char *name, plat_svc_status *st)
{
    SERVICE_STATUS_PROCESS ss;
    DWORD got = 0, dlen;
    wchar_t *w = NULL, display[256];
    SC_HANDLE scm = NULL, svc = NULL;
    int rc;
    (void)scope;
    memset(st, 0, sizeof(*st));
    rc = win32_wide(name, &w);
    if (rc != TMI_OK)
        return rc;
    scm = open_scm(SC_MANAGER_CONNECT, &rc);
    if (scm == NULL)
        goto out;
    svc = OpenServiceW(scm, w, SERVICE_QUERY_STATUS);
    if (svc == NULL) {
        DWORD e = GetLastError();
        if (e == ERROR_SERVICE_DOES_NOT_EXIST || e == ERROR_INVALID_NAME) {
            st->state = PLAT_SVC_NOT_FOUND;
            rc = TMI_OK;
        } else {
            rc = svc_err(e);
        }
        goto out;
    }
    if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&ss, sizeof(ss), &got)) {
        rc = svc_err(GetLastError());
        goto out;
    }
    switch (ss.dwCurrentState) {
    case SERVICE_STOPPED:
        st->state = PLAT_SVC_STOPPED;
        break;
    case SERVICE_START_PENDING:
    case SERVICE_CONTINUE_PENDING:
        st->state = PLAT_SVC_START_PENDING;
        break;
    case SERVICE_STOP_PENDING:
        st->state = PLAT_SVC_STOP_PENDING;
        break;
    default: /* running, paused, pausing: the process is up */
        st->state = PLAT_SVC_RUNNING;
        break;
    }
    st->pid = st->state == PLAT_SVC_STOPPED ? 0 : (long)ss.dwProcessId;
    if (st->state == PLAT_SVC_STOPPED) {
        st->has_exit_code = 1;
        st->exit_code = ss.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR
                            ? (int)ss.dwServiceSpecificExitCode
                            : (int)ss.dwWin32ExitCode;
    }
    dlen = sizeof(display) / sizeof(display[0]);
    if (GetServiceDisplayNameW(scm, w, display, &dlen))
        win32_utf8(display, st->display_name, sizeof(st->display_name));
out:
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    free(w);
    return rc;
}

/* Open service name with access; rc set on failure. */
static SC_HANDLE open_service(const char *name, DWORD access, SC_HANDLE *scm, int *rc)
{
    wchar_t *w = NULL;
    SC_HANDLE svc;
    *scm = NULL;
    *rc = win32_wide(name, &w);
    if (*rc != TMI_OK)
        return NULL;
    *scm = open_scm(SC_MANAGER_CONNECT, rc);
    if (*scm == NULL) {
        free(w);
        return NULL;
    }
    svc = OpenServiceW(*scm, w, access);
    free(w);
    if (svc == NULL) {
        *rc = svc_err(GetLastError());
        CloseServiceHandle(*scm);
        *scm = NULL;
    }
    return svc;
}

int win32_svc_start(const char *scope, const char *name)
{
    SC_HANDLE scm, svc;
    int rc;
    (void)scope;
    svc = open_service(name, SERVICE_START, &scm, &rc);
    if (svc == NULL)
        return rc;
    if (!StartServiceW(svc, 0, NULL))
        rc = svc_err(GetLastError());
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}

int win32_svc_stop(const char *scope, const char *name)
{
    SERVICE_STATUS ss;
    SC_HANDLE scm, svc;
    int rc;
    (void)scope;
    memset(&ss, 0, sizeof(ss));
    svc = open_service(name, SERVICE_STOP | SERVICE_QUERY_STATUS, &scm, &rc);
    if (svc == NULL)
        return rc;
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &ss)) {
        DWORD e = GetLastError();
        if (e == ERROR_SERVICE_NOT_ACTIVE)
            rc = TMI_OK; /* already stopped */
        else if (e == ERROR_SERVICE_CANNOT_ACCEPT_CTRL && ss.dwCurrentState == SERVICE_STOP_PENDING)
            rc = TMI_OK; /* already stopping */
        else
            rc = svc_err(e);
    }
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}

int plat_svc_register(const char *scope, const char *name, const char *display_name,
                      const char *image_path, const char *const *argv)
{
    (void)scope;
    (void)name;
    (void)display_name;
    (void)image_path;
    (void)argv;
    return TMI_ENOTSUP; /* real services come from the SCM */
}

/* ---- the Application event log ---- */

/* The source's registration in the Application log. */
#define EVENTLOG_APP_KEY L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"
/* Longest message text taken from a provider's message file (UTF-8). */
#define EVENT_TEMPLATE_MAX 2048

/* The first file of the source's EventMessageFile (a ';' list), with the
 * environment variables expanded, into path (MAX_PATH wide characters or
 * more). 1 when registered, else 0. */
static int message_file(const wchar_t *wsrc, wchar_t *path, DWORD pathlen)
{
    wchar_t key[512], val[1024], *semi;
    DWORD type = 0, size = sizeof(val) - sizeof(wchar_t);
    HKEY h;
    LSTATUS st;
    if (wcslen(wsrc) > 256)
        return 0;
    _snwprintf(key, sizeof(key) / sizeof(key[0]), L"%ls%ls", EVENTLOG_APP_KEY, wsrc);
    key[sizeof(key) / sizeof(key[0]) - 1] = L'\0';
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, key, 0, KEY_QUERY_VALUE, &h) != ERROR_SUCCESS)
        return 0;
    st = RegQueryValueExW(h, L"EventMessageFile", NULL, &type, (LPBYTE)val, &size);
    RegCloseKey(h);
    if (st != ERROR_SUCCESS || (type != REG_SZ && type != REG_EXPAND_SZ))
        return 0;
    val[size / sizeof(wchar_t)] = L'\0';
    semi = wcschr(val, L';');
    if (semi != NULL)
        *semi = L'\0';
    size = ExpandEnvironmentStringsW(val, path, pathlen);
    return size > 0 && size <= pathlen && path[0] != L'\0';
}

/* The provider's message text for event_id with its inserts left in (%1
 * ...), as UTF-8 into buf: what evlog_message formats. 1 when the source
 * has a message file that holds the event, else 0 (then the insertion
 * strings alone make the message). */
static int message_template(const char *source, uint32_t event_id, char *buf, size_t buflen)
{
    wchar_t *wsrc = NULL, *text = NULL, path[1024];
    HMODULE mod;
    int found = 0;
    if (win32_wide(source, &wsrc) != TMI_OK)
        return 0;
    if (!message_file(wsrc, path, sizeof(path) / sizeof(path[0]))) {
        free(wsrc);
        return 0;
    }
    free(wsrc);
    mod = LoadLibraryExW(path, NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
    if (mod == NULL)
        return 0;
    if (FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_IGNORE_INSERTS |
                           FORMAT_MESSAGE_ALLOCATE_BUFFER,
                       mod, event_id, 0, (LPWSTR)&text, 0, NULL) > 0 &&
        text != NULL)
        found = win32_utf8(text, buf, buflen) == TMI_OK;
    if (text != NULL)
        LocalFree(text);
    FreeLibrary(mod);
    return found;
}

/* One parsed record into *ev: the provider, the time, the level, and the
 * message formatted from the provider's text when it is registered (else
 * the insertion strings, which hold what identifies the fault:
 * errcode=-107, MRFServer.cpp). */
static void record_event(const evlog_record *r, plat_event *ev)
{
    char tmpl[EVENT_TEMPLATE_MAX];
    memset(ev, 0, sizeof(*ev));
    ev->time_ns = (int64_t)r->time_generated * 1000000000LL;
    ev->id = (int)(r->event_id & 0xFFFF);
    ev->level = evlog_level(r);
    snprintf(ev->provider, sizeof(ev->provider), "%s", r->source);
    evlog_message(r, message_template(r->source, r->event_id, tmpl, sizeof(tmpl)) ? tmpl : NULL,
                  ev->message, sizeof(ev->message));
}

/* The records of buf[0..got), newest first: those of provider (NULL: any)
 * and event_id (< 0: any) into out. 1 when the walk reached records older
 * than since_s or the scan bound (stop reading), else 0. */
static int take_records(const uint8_t *buf, DWORD got, const char *provider, int event_id,
                        int64_t since_s, evlog_record *r, size_t *scanned, plat_event *out,
                        size_t max, size_t *n)
{
    for (DWORD off = 0; off < got && *n < max;) {
        if (evlog_parse(buf + off, got - off, r) != TMI_OK)
            return 0; /* a torn record: the rest of this buffer cannot be trusted */
        off += r->length;
        if (++*scanned > EVENT_SCAN_MAX || (int64_t)r->time_generated < since_s)
            return 1; /* newest first: the rest is older */
        if (provider != NULL && !evlog_source_is(r, provider))
            continue;
        if (event_id >= 0 && (int)(r->event_id & 0xFFFF) != event_id)
            continue;
        record_event(r, &out[*n]);
        (*n)++;
    }
    return 0;
}

int win32_event_query(const char *scope, const char *provider, int event_id, int64_t since_ns,
                      plat_event *out, size_t max, size_t *n)
{
    DWORD bufsize = EVENT_BUF_INITIAL, got = 0, needed = 0;
    int64_t since_s = since_ns / 1000000000LL; /* records have whole seconds */
    uint8_t *buf = NULL;
    evlog_record *rec = NULL; /* 4.7 KB: not on the stack */
    HANDLE log;
    size_t scanned = 0;
    int rc = TMI_OK, done = 0;
    (void)scope;
    *n = 0;
    log = OpenEventLogW(NULL, L"Application");
    if (log == NULL)
        return win32_err(GetLastError());
    buf = malloc(bufsize);
    rec = malloc(sizeof(*rec));
    if (buf == NULL || rec == NULL) {
        rc = TMI_ENOMEM;
        goto out;
    }
    while (!done && *n < max) {
        if (!ReadEventLogW(log, EVENTLOG_SEQUENTIAL_READ | EVENTLOG_BACKWARDS_READ, 0, buf, bufsize,
                           &got, &needed)) {
            DWORD e = GetLastError();
            if (e == ERROR_INSUFFICIENT_BUFFER && needed > bufsize && needed < 16 * 1024 * 1024) {
                uint8_t *nb = realloc(buf, needed);
                if (nb == NULL) {
                    rc = TMI_ENOMEM;
                    break;
                }
                buf = nb;
                bufsize = needed;
                continue;
            }
            if (e != ERROR_HANDLE_EOF)
                rc = win32_err(e);
            break;
        }
        done = take_records(buf, got < bufsize ? got : bufsize, provider, event_id, since_s, rec,
                            &scanned, out, max, n);
    }
out:
    free(rec);
    free(buf);
    CloseEventLog(log);
    return rc;
}

int plat_event_write(const char *scope, const char *provider, int event_id, int level,
                     const char *message)
{
    wchar_t *wprov = NULL, *wmsg = NULL;
    const wchar_t *strings[1];
    HANDLE src;
    WORD type = level <= 2   ? EVENTLOG_ERROR_TYPE
                : level == 3 ? EVENTLOG_WARNING_TYPE
                             : EVENTLOG_INFORMATION_TYPE;
    int rc;
    (void)scope;
    if (event_id < 0 || event_id > 0xFFFF)
        return TMI_EINVAL;
    rc = win32_wide(provider, &wprov);
    if (rc == TMI_OK)
        rc = win32_wide(message, &wmsg);
    if (rc != TMI_OK)
        goto out;
    src = RegisterEventSourceW(NULL, wprov);
    if (src == NULL) {
        rc = win32_err(GetLastError());
        goto out;
    }
    strings[0] = wmsg;
    if (!ReportEventW(src, type, 0, (DWORD)event_id, NULL, 1, 0, strings, NULL))
        rc = win32_err(GetLastError());
    DeregisterEventSource(src);
out:
    free(wprov);
    free(wmsg);
    return rc;
}

int plat_event_report(const char *scope, const char *source, unsigned event_id, int level,
                      const char *const *strings, size_t n)
{
    wchar_t *wsrc = NULL, *w[PLAT_EVENT_STRINGS_MAX] = {NULL};
    HANDLE src;
    WORD type = level <= 2   ? EVENTLOG_ERROR_TYPE
                : level == 3 ? EVENTLOG_WARNING_TYPE
                             : EVENTLOG_INFORMATION_TYPE;
    int rc;
    (void)scope;
    if (event_id > 0xFFFF || level < 1 || level > 4 || n > PLAT_EVENT_STRINGS_MAX ||
        (n > 0 && strings == NULL))
        return TMI_EINVAL;
    rc = win32_wide(source, &wsrc);
    for (size_t i = 0; rc == TMI_OK && i < n; i++)
        rc = win32_wide(strings[i] != NULL ? strings[i] : "", &w[i]);
    if (rc != TMI_OK)
        goto out;
    src = RegisterEventSourceW(NULL, wsrc);
    if (src == NULL) {
        rc = win32_err(GetLastError());
        goto out;
    }
    if (!ReportEventW(src, type, 0, (DWORD)event_id, NULL, (WORD)n, 0, (LPCWSTR *)w, NULL))
        rc = win32_err(GetLastError());
    DeregisterEventSource(src);
out:
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(wsrc);
    return rc;
}

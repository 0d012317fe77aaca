/*
 * selfsvc_win32.c - elevation, and tmi-console as a Windows service of its
 * own (plat.h): install / uninstall with the Service Control Manager, its
 * event source in the Application log, and the service side
 * (StartServiceCtrlDispatcherW, the control handler, status reports) around
 * a main function supplied by the caller.
 */
#include "plat_win32_int.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "err.h"

/* Longest service command line built (the SCM's own limit is larger). */
#define CMDLINE_MAX 8192

int plat_is_elevated(void)
{
    HANDLE tok = NULL;
    TOKEN_ELEVATION el;
    DWORD got = 0;
    int elevated = 0;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return 0;
    if (GetTokenInformation(tok, TokenElevation, &el, sizeof(el), &got))
        elevated = el.TokenIsElevated != 0;
    CloseHandle(tok);
    return elevated;
}

/* Append s to the command line at *pos, quoted the way CommandLineToArgvW
 * and the C runtime split it back. 0, or -1 when it does not fit. */
static int append_arg(wchar_t *cmd, size_t cap, size_t *pos, const wchar_t *s)
{
    size_t p = *pos;
    int quote = s[0] == L'\0' || wcspbrk(s, L" \t\"") != NULL;
    if (p > 0) {
        if (p + 1 >= cap)
            return -1;
        cmd[p++] = L' ';
    }
    if (quote) {
        if (p + 1 >= cap)
            return -1;
        cmd[p++] = L'"';
    }
    for (const wchar_t *c = s;; c++) {
        size_t slashes = 0;
        while (*c == L'\\') {
            slashes++;
            c++;
        }
        /* backslashes are literal unless a quote (or the closing quote) follows */
        if (*c == L'\0' && quote)
            slashes *= 2;
        else if (*c == L'"')
            slashes = slashes * 2 + 1;
        if (p + slashes + 2 >= cap)
            return -1;
        for (size_t i = 0; i < slashes; i++)
            cmd[p++] = L'\\';
        if (*c == L'\0')
            break;
        cmd[p++] = *c;
    }
    if (quote) {
        if (p + 1 >= cap)
            return -1;
        cmd[p++] = L'"';
    }
    cmd[p] = L'\0';
    *pos = p;
    return 0;
}

/* "<this exe>" args..., quoted; caller frees. */
static int service_cmdline(const char *const *args, wchar_t **out)
{
    char exe[PLAT_PATH_MAX];
    wchar_t *cmd, *w = NULL;
    size_t pos = 0;
    int rc = plat_self_exe(exe, sizeof(exe));
    if (rc != TMI_OK)
        return rc;
    cmd = malloc(CMDLINE_MAX * sizeof(*cmd));
    if (cmd == NULL)
        return TMI_ENOMEM;
    cmd[0] = L'\0';
    rc = win32_wide(exe, &w);
    /* the program path is always quoted: an unquoted path with spaces is
     * the classic service-path hijack */
    if (rc == TMI_OK) {
        if (wcslen(w) + 3 >= CMDLINE_MAX)
            rc = TMI_ETOOBIG;
        else
            pos = (size_t)swprintf(cmd, CMDLINE_MAX, L"\"%ls\"", w);
    }
    free(w);
    for (size_t i = 0; rc == TMI_OK && args != NULL && args[i] != NULL; i++) {
        rc = win32_wide(args[i], &w);
        if (rc == TMI_OK && append_arg(cmd, CMDLINE_MAX, &pos, w) != 0)
            rc = TMI_ETOOBIG;
        free(w);
    }
    if (rc != TMI_OK) {
        free(cmd);
        return rc;
    }
    *out = cmd;
    return TMI_OK;
}

int plat_service_install(const char *name, const char *display_name, const char *description,
                         const char *const *args)
{
    wchar_t *wname = NULL, *wdisp = NULL, *wdesc = NULL, *cmd = NULL;
    SC_HANDLE scm = NULL, svc = NULL;
    int rc = win32_wide(name, &wname);
    if (rc == TMI_OK)
        rc = win32_wide(display_name, &wdisp);
    if (rc == TMI_OK && description != NULL)
        rc = win32_wide(description, &wdesc);
    if (rc == TMI_OK)
        rc = service_cmdline(args, &cmd);
    if (rc != TMI_OK)
        goto out;
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
    if (scm == NULL) {
        rc = win32_err(GetLastError());
        goto out;
    }
    svc = CreateServiceW(scm, wname, wdisp, SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS,
                         SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, cmd,
                         NULL, NULL, NULL, NULL /* LocalSystem */, NULL);
    if (svc == NULL) {
        rc = win32_err(GetLastError());
        goto out;
    }
    if (wdesc != NULL) {
        SERVICE_DESCRIPTIONW d = {wdesc};
        ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &d); /* cosmetic */
    }
out:
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    free(wname);
    free(wdisp);
    free(wdesc);
    free(cmd);
    return rc;
}

int plat_service_uninstall(const char *name)
{
    SERVICE_STATUS ss;
    wchar_t *w = NULL;
    SC_HANDLE scm = NULL, svc = NULL;
    int rc = win32_wide(name, &w);
    if (rc != TMI_OK)
        return rc;
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm == NULL) {
        rc = win32_err(GetLastError());
        goto out;
    }
    svc = OpenServiceW(scm, w, DELETE | SERVICE_STOP | SERVICE_QUERY_STATUS);
    if (svc == NULL) {
        rc = win32_err(GetLastError());
        goto out;
    }
    memset(&ss, 0, sizeof(ss));
    ControlService(svc, SERVICE_CONTROL_STOP, &ss); /* not running is fine */
    if (!DeleteService(svc) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE)
        rc = win32_err(GetLastError());
out:
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    free(w);
    return rc;
}

/* ---- the event source ---- */

#define EVENTLOG_APP_KEY L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"

/* The source's key under HKLM into key (a name without backslashes). */
static int source_key(const char *source, wchar_t *key, size_t keylen)
{
    wchar_t *w = NULL;
    int n, rc;
    if (source == NULL || source[0] == '\0' || strchr(source, '\\') != NULL)
        return TMI_EINVAL;
    rc = win32_wide(source, &w);
    if (rc != TMI_OK)
        return rc;
    n = swprintf(key, keylen, L"%ls%ls", EVENTLOG_APP_KEY, w);
    free(w);
    return n < 0 || (size_t)n >= keylen ? TMI_ETOOBIG : TMI_OK;
}

int plat_event_source_install(const char *source)
{
    char exe[PLAT_PATH_MAX];
    wchar_t key[512], *wexe = NULL;
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    HKEY k = NULL;
    LSTATUS ls;
    int rc = source_key(source, key, sizeof(key) / sizeof(key[0]));
    if (rc == TMI_OK)
        rc = plat_self_exe(exe, sizeof(exe));
    if (rc == TMI_OK)
        rc = win32_wide(exe, &wexe);
    if (rc != TMI_OK)
        goto out;
    ls = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0, KEY_SET_VALUE, NULL, &k, NULL);
    if (ls == ERROR_SUCCESS)
        ls = RegSetValueExW(k, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)wexe,
                            (DWORD)((wcslen(wexe) + 1) * sizeof(wchar_t)));
    if (ls == ERROR_SUCCESS)
        ls =
            RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof(types));
    if (ls != ERROR_SUCCESS)
        rc = win32_err((DWORD)ls);
out:
    if (k != NULL)
        RegCloseKey(k);
    free(wexe);
    return rc;
}

int plat_event_source_uninstall(const char *source)
{
    wchar_t key[512];
    LSTATUS ls;
    int rc = source_key(source, key, sizeof(key) / sizeof(key[0]));
    if (rc != TMI_OK)
        return rc;
    ls = RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
    return ls == ERROR_SUCCESS ? TMI_OK : win32_err((DWORD)ls);
}

/* ---- the service side ---- */

static struct {
    int (*main_fn)(void *);
    void *arg;
    int result;
    SERVICE_STATUS_HANDLE handle;
    SERVICE_STATUS status;
} self;

static void report(DWORD state, DWORD exit_code)
{
    self.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    self.status.dwCurrentState = state;
    self.status.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    self.status.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    self.status.dwServiceSpecificExitCode = exit_code;
    self.status.dwWaitHint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : 10000;
    if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
        self.status.dwCheckPoint = 0;
    else
        self.status.dwCheckPoint++;
    SetServiceStatus(self.handle, &self.status);
}

static DWORD WINAPI on_control(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        report(SERVICE_STOP_PENDING, 0);
        win32_request_stop();
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    (void)argc;
    (void)argv;
    self.handle = RegisterServiceCtrlHandlerExW(L"", on_control, NULL);
    if (self.handle == NULL) {
        self.result = TMI_ESERVICE;
        return;
    }
    report(SERVICE_START_PENDING, 0);
    report(SERVICE_RUNNING, 0);
    self.result = self.main_fn(self.arg);
    report(SERVICE_STOPPED, self.result > 0 ? (DWORD)self.result : 0);
}

int plat_run_as_service(int (*main_fn)(void *), void *arg)
{
    /* an own-process service: the SCM ignores the name in the table */
    SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)L"", service_main}, {NULL, NULL}};
    self.main_fn = main_fn;
    self.arg = arg;
    self.result = 0;
    win32_set_service_mode();
    if (!StartServiceCtrlDispatcherW(table)) {
        DWORD e = GetLastError();
        return e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT ? TMI_EINVAL : TMI_ESERVICE;
    }
    return self.result;
}

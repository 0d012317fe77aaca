/*
 * tmi_test_service.c - a Windows service that behaves like mrf.exe, the
 * Trend Micro Management Infrastructure service, as far as this fault goes
 * (the Windows counterpart of core/mrf_sim.h, for the tests under wine).
 *
 * Installed as ...\COMMON\TMI\mrf.exe it checks its own folder at start: when
 * every file of the built-in playbook's set is at 1.12.0.1266 (or newer) it
 * reports SERVICE_RUNNING and runs until SERVICE_CONTROL_STOP; otherwise it
 * writes event 800 ("... errcode=-107, MRFServer.cpp|108", provider "Trend
 * Micro Control Manager") to the Application log and stops at once with the
 * service-specific exit code 107 - the service "started and then stopped".
 * It is built twice, with version resources 1.12.0.1156 and 1.12.0.1266
 * (tmi_test_service.rc), since mrf.exe is one of the eight files it checks.
 *
 *   mrf.exe           run by the Service Control Manager
 *   mrf.exe --check   check the folder at the console; exit 0 good, 1 bad
 */
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "mrf_sim.h"
#include "plat.h"
#include "playbook.h"

#define EXIT_NOT_READY 107 /* errcode=-107 */
#define STARTUP_MS     300 /* a real service takes a moment to load before it fails */

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static HANDLE stop_event;

static void report(DWORD state, DWORD specific_exit)
{
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
    status.dwWin32ExitCode = specific_exit != 0 ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
    status.dwServiceSpecificExitCode = specific_exit;
    status.dwWaitHint = state == SERVICE_START_PENDING ? 5000 : 0;
    SetServiceStatus(status_handle, &status);
}

/* The folder of this program, UTF-8. */
static int own_folder(char *buf, size_t len)
{
    char *sep;
    int rc = plat_self_exe(buf, len);
    if (rc != TMI_OK)
        return rc;
    sep = strrchr(buf, '\\');
    if (sep == NULL)
        return TMI_EINVAL;
    *sep = '\0';
    return TMI_OK;
}

/* 1 when the folder is good; why says what is wrong otherwise. */
static int check(char *why, size_t whylen)
{
    char dir[PLAT_PATH_MAX];
    playbook *pb = NULL;
    int ok;
    if (own_folder(dir, sizeof(dir)) != TMI_OK || playbook_load_default(&pb) != TMI_OK) {
        snprintf(why, whylen, "cannot find its own folder or playbook");
        return 0;
    }
    ok = mrf_sim_check(pb, dir, why, whylen);
    playbook_free(pb);
    return ok;
}

static DWORD WINAPI on_control(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    if (control == SERVICE_CONTROL_STOP || control == SERVICE_CONTROL_SHUTDOWN) {
        report(SERVICE_STOP_PENDING, 0);
        SetEvent(stop_event);
        return NO_ERROR;
    }
    return control == SERVICE_CONTROL_INTERROGATE ? NO_ERROR : ERROR_CALL_NOT_IMPLEMENTED;
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    char why[512];
    (void)argc;
    (void)argv;
    status_handle = RegisterServiceCtrlHandlerExW(L"", on_control, NULL);
    if (status_handle == NULL)
        return;
    report(SERVICE_START_PENDING, 0);
    Sleep(STARTUP_MS);
    if (!check(why, sizeof(why))) {
        plat_event_write(NULL, "Trend Micro Control Manager", 800, 2, MRF_SIM_EVENT_MESSAGE);
        report(SERVICE_STOPPED, EXIT_NOT_READY);
        return;
    }
    stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
    report(SERVICE_RUNNING, 0);
    WaitForSingleObject(stop_event, INFINITE);
    report(SERVICE_STOPPED, 0);
}

int main(int argc, char **argv)
{
    SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)L"", service_main}, {NULL, NULL}};
    if (argc > 1 && strcmp(argv[1], "--check") == 0) {
        char why[512];
        int ok = check(why, sizeof(why));
        printf("%s\n", ok ? "ready" : why);
        return ok ? 0 : 1;
    }
    if (!StartServiceCtrlDispatcherW(table)) {
        fprintf(stderr, "mrf: run by the Service Control Manager (or --check)\n");
        return 2;
    }
    return 0;
}

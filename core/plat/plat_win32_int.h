/*
 * plat_win32_int.h - helpers shared between the Win32 backend's files
 * (plat_win32.c, service_win32.c, selfsvc_win32.c). Not part of plat.h.
 */
#ifndef TMI_PLAT_WIN32_INT_H
#define TMI_PLAT_WIN32_INT_H

#include <windows.h>

#include "plat.h"

/* GetLastError() (or any Win32 error code) as a TMI_E* code; the one place
 * the backend translates errors. Service Control Manager codes included. */
int win32_err(DWORD e);

/* UTF-8 -> new UTF-16 string (caller frees with free()). TMI_EINVAL for
 * malformed UTF-8, TMI_ENOMEM. */
int win32_wide(const char *s, wchar_t **out);

/* A UTF-8 path -> new UTF-16 path for a file API call: '/' becomes '\', and an
 * absolute path too long for the classic limit gets the "\\?\" (or
 * "\\?\UNC\") prefix after normalisation. Caller frees. */
int win32_path(const char *path, wchar_t **out);

/* UTF-16 -> UTF-8 into buf. TMI_ETOOBIG when it does not fit, TMI_EINVAL for
 * unpaired surrogates. */
int win32_utf8(const wchar_t *w, char *buf, size_t buflen);

/* UTF-16 (n units, or NUL-terminated when n < 0) -> new UTF-8 string, or
 * NULL when out of memory or malformed. Caller frees. */
char *win32_utf8_dup(const wchar_t *w, int n);

/* Is the object at w, whose attributes are attrs, a link (plat.h): a
 * reparse point whose tag is a name surrogate (a symbolic link, a junction)?
 * An unknown tag counts as a link. */
int win32_is_link(const wchar_t *w, DWORD attrs);

/* The SCM's stop or shutdown control: set the flag plat_stop_requested()
 * reads. Safe from any thread. */
void win32_request_stop(void);

/* Set once when the process runs as a service: the console handler then
 * ignores logoff events (a service outlives user sessions). */
void win32_set_service_mode(void);

/* The backend's service and event-log operations (the plat table's). */
int win32_svc_resolve(const char *scope, const char *short_name, const char *display_name,
                      const char *image_name, char *name, size_t namelen);
int win32_svc_query(const char *scope, const char *name, plat_svc_status *st);
int win32_svc_start(const char *scope, const char *name);
int win32_svc_stop(const char *scope, const char *name);
int win32_event_query(const char *scope, const char *provider, int event_id, int64_t since_ns,
                      plat_event *out, size_t max, size_t *n);

#endif

/*
 * status_hooks.h - what GET /api/status reports besides the latest scan:
 * the TMI service's state and event-log evidence.
 *
 * The service is found as the repair finds it (core/service.h: the short
 * name from the configuration, else the display name, else mrf.exe) and its
 * state read from the platform's service manager; the events are the
 * playbook's (provider "Trend Micro Control Manager", id 800) from the event
 * log. Shapes:
 *
 *   service: {"state": "unknown" | "not_found" | "stopped" | "start_pending" |
 *             "stop_pending" | "running", "detail": "...", "name", "display_name", "pid",
 *             "exit_code" (the last one, or null)}
 *   events:  [{"time": RFC 3339, "id": 800, "provider": "...", "level": 2,
 *              "message": "..."}], newest first
 */
#ifndef TMI_STATUS_HOOKS_H
#define TMI_STATUS_HOOKS_H

#include "http.h"

struct cJSON;

/* The service object above, new (caller frees); NULL when out of memory. */
struct cJSON *status_hook_service(const http_config *cfg);

/* The events array above, new (caller frees); NULL when out of memory. */
struct cJSON *status_hook_events(const http_config *cfg);

#endif

/*
 * evidence.h - what the system says about the fault besides the files: the
 * TMI service's state and the event-log records of the playbook's event
 * (provider "Trend Micro Control Manager", id 800), as JSON. One owner of
 * these shapes for GET /api/status, the CLI and reports.
 *
 * The service is found as the repair finds it (service.h: the target's short
 * name, else the display name, else mrf.exe) and its state read from the
 * platform's service manager. Shapes:
 *
 *   service: {"state": "unknown" | "not_found" | "stopped" | "start_pending" |
 *             "stop_pending" | "running", "detail": "...", "name", "display_name", "pid",
 *             "exit_code" (the last one, or null)}
 *   events:  [{"time": RFC 3339, "id": 800, "provider": "...", "level": 2,
 *              "message": "..."}], newest first
 */
#ifndef TMI_EVIDENCE_H
#define TMI_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

struct cJSON;

/* Most event records evidence_events_json returns. */
#define EVIDENCE_EVENTS_MAX 5

/* The service object above, new (caller frees); NULL when out of memory. */
struct cJSON *evidence_service_json(const tmi_target *t);

/* The events array above (records at or after since_ns, at most max, up to
 * EVIDENCE_EVENTS_MAX), new (caller frees); NULL when out of memory. An
 * event log that cannot be read gives an empty array. */
struct cJSON *evidence_events_json(const tmi_target *t, int64_t since_ns, size_t max);

#endif

/*
 * scan_json.h - the JSON form of a scan (the `scan --json` and API contract).
 *
 * Object: verdict, tmi_dir, tmi_dir_origin, root, expected_version, playbook,
 * started, finished (RFC 3339 UTC), files[] {name, path, version, sha256,
 * status, size, mtime, known_bad, error}, sources[] {path, variant, complete,
 * reason, files[]}, repair {possible, source, variant, reason}.
 */
#ifndef TMI_SCAN_JSON_H
#define TMI_SCAN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "detect.h"

struct cJSON;

/* Build the JSON tree; caller frees with cJSON_Delete(). NULL on no memory. */
struct cJSON *scan_to_json(const scan_result *r);

#endif

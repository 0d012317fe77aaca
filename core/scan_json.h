/*
 * scan_json.h - the JSON form of a scan (the `scan --json` and API contract).
 *
 * Object: verdict, tmi_dir, tmi_dir_origin, root, expected_version, playbook,
 * started, finished (RFC 3339 UTC), signature_error (the trust store could
 * not be used, or null), files[] {name, path, version, sha256, status, size,
 * mtime, known_bad, error, signature (authenticode_to_json's object, null
 * when the file was not read)}, sources[] {path, variant, complete, state
 * (complete, incomplete, untrusted), reason, untrusted_root_accepted[] (the
 * files the admin's override accepted), files[]}, repair {possible, source,
 * variant, reason}.
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

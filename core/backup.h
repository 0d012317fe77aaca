/*
 * backup.h - copies of the TMI files taken before anything is changed.
 *
 * A backup is a folder BACKUP_ROOT/ID holding a copy of each file of the set
 * that existed, and `manifest.json`:
 *   {"format": 1, "id": ID, "created": RFC 3339, "tmi_dir": PATH,
 *    "files": [{"name": "mrf.exe", "file": "MRF.EXE", "present": true,
 *               "size": N, "sha256": HEX, "version": "a.b.c.d" or null}, ...]}
 * `name` is the playbook's name, `file` the name found on disk (letter case
 * kept); a file that did not exist is recorded with present=false, so that a
 * restore removes what a later replace added. The manifest is written last
 * (temp + rename), after every copy was read back and its SHA-256 checked:
 * a folder without a manifest is an incomplete backup and is never restored.
 *
 * Manifests are read back as untrusted input: bounded size, names must be
 * the playbook's, `file` must be the same name in another letter case.
 */
#ifndef TMI_BACKUP_H
#define TMI_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "detect.h"
#include "playbook.h"
#include "version.h"

struct cJSON;

#define BACKUP_MANIFEST     "manifest.json"
#define BACKUP_MANIFEST_MAX (64 * 1024)

typedef struct backup_entry {
    char *name; /* the playbook's name */
    char *file; /* the name on disk */
    int present;
    uint64_t size;
    uint8_t sha256[32];
    int has_version;
    tmi_version version;
} backup_entry;

typedef struct backup_manifest {
    char *id;
    char *created;
    char *tmi_dir;
    backup_entry *files;
    size_t n_files;
} backup_manifest;

/*
 * Copy the files of scan->files (the TMI folder as just scanned) into
 * backup_root/id. Each file is read, hashed and compared with the scan (a
 * file that changed since the scan fails with TMI_ECONFLICT), written,
 * read back and compared again. On success *out (caller frees) describes it;
 * on failure the partial folder is removed and err says why.
 */
int backup_create(const playbook *pb, const scan_result *scan, const char *backup_root,
                  const char *id, backup_manifest **out, char *err, size_t errlen);

/* The manifest as written to manifest.json (see the top of this file); new
 * tree, caller frees; NULL when out of memory. */
struct cJSON *backup_manifest_json(const backup_manifest *m);

/* Load and validate dir/manifest.json. TMI_ENOENT when there is none
 * (an incomplete backup), TMI_EFORMAT when it is malformed. */
int backup_load(const playbook *pb, const char *dir, backup_manifest **out, char *err,
                size_t errlen);

/* Parse manifest text (untrusted: at most BACKUP_MANIFEST_MAX bytes). */
int backup_parse_manifest(const playbook *pb, const char *text, size_t len, backup_manifest **out,
                          char *err, size_t errlen);

/* Re-hash every copy in dir against the manifest. */
int backup_verify(const backup_manifest *m, const char *dir, size_t max, char *err, size_t errlen);

/*
 * Put the TMI folder back as the manifest describes it: each present file
 * written to a temporary file, verified, renamed over the target; each absent
 * one removed. Every file is attempted even after a failure; then the folder
 * is re-read and every file compared with the manifest. TMI_OK only when the
 * folder matches the backup byte for byte.
 */
int backup_restore(const backup_manifest *m, const char *dir, const char *tmi_dir, size_t max,
                   char *err, size_t errlen);

/* Does the TMI folder match the manifest byte for byte right now? 1/0;
 * which names the first difference. */
int backup_matches(const backup_manifest *m, const char *tmi_dir, size_t max, char *which,
                   size_t whichlen);

void backup_manifest_free(backup_manifest *m);

/* Every complete backup under backup_root, newest first, as a JSON array of
 * {id, created, tmi_dir, files: [{name, present, version, sha256, size}]};
 * folders without a valid manifest are left out. Caller frees *out. */
int backup_list_json(const playbook *pb, const char *backup_root, struct cJSON **out);

#endif

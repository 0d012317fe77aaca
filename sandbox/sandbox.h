/*
 * sandbox.h - a folder tree that reproduces the fault, for the demo and tests.
 *
 * Layout under `root` (standing for the system drive C:\), as the article
 * describes it after a ServerProtect patch:
 *   Program Files (x86)/Trend Micro/COMMON/TMI/<the set>             old (1.12.0.1156)
 *   Program Files (x86)/Trend Micro/COMMON/TMI/is_backup/filegroup100 good (1.12.0.1266)
 * Every file is a real PE image written by pe_fixture, with its own content.
 * A marker file makes the folder recognisable, so sandbox_remove() never
 * deletes a folder that it did not create.
 */
#ifndef TMI_SANDBOX_H
#define TMI_SANDBOX_H

#include <stddef.h>

#include "playbook.h"

#define SANDBOX_MARKER ".tmi-console-sandbox"

typedef struct sandbox_spec {
    const char *installed_version; /* the set in the TMI folder; NULL: first known-bad */
    const char *source_version;    /* the set in the source folder; NULL: expected */
    const char *source_rel;        /* source folder below TMI; NULL: "is_backup/filegroup100";
                                      "" for none */
    int program_files_32;          /* 1: "Program Files/..." as on 32-bit Windows */
    size_t pad_to;                 /* size of each file; 0: as small as possible */
    const char *service_program;   /* register the sandbox TMI service, run as
                                      `PROGRAM [--playbook P] sandbox-service ...`; NULL: none */
    const char *playbook_path;     /* passed on to the service; NULL: built-in */
} sandbox_spec;

/* The short name the sandbox registers the TMI service under. */
#define SANDBOX_SERVICE_NAME "TrendMicro Infrastructure"

/* Fill spec with the defaults (the fault as the article describes it). */
void sandbox_spec_init(sandbox_spec *spec);

/*
 * Create the tree under root (made if missing; must be empty or a previous
 * sandbox). On success, if tmi_dir is not NULL, the TMI folder path is written
 * there. Returns TMI_EEXIST when root is a non-empty folder without the marker.
 */
int sandbox_create(const playbook *pb, const char *root, const sandbox_spec *spec, char *tmi_dir,
                   size_t tmi_dir_len);

/* Remove a sandbox made by sandbox_create. Refuses (TMI_EACCES) a folder
 * without the marker; a missing folder is fine. */
int sandbox_remove(const char *root);

#endif

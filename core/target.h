/*
 * target.h - what tmi-console works on: the playbook, the folder standing for
 * the system drive, the TMI folder (when given), and the TMI service's name
 * (when given). Resolved once, where the program starts (the CLI's options,
 * the server's configuration), and passed by pointer to every scan, job and
 * handler, which read it and never change it.
 *
 * The root is absolute and canonical (plat_full_path), so `--root d` and
 * `--root /abs/d` are one root to the store. Without a root the system drive
 * is used (Windows) and the registry is asked for the TMI folder first; on
 * other systems a root is required.
 */
#ifndef TMI_TARGET_H
#define TMI_TARGET_H

#include <stddef.h>

#include "plat.h"
#include "playbook.h"

#define TARGET_SERVICE_MAX 256

typedef struct tmi_target {
    const playbook *pb;                    /* borrowed: must outlive the target */
    char root[PLAT_PATH_MAX];              /* absolute and canonical */
    char tmi_dir[PLAT_PATH_MAX];           /* "" : search for it */
    char service_name[TARGET_SERVICE_MAX]; /* "" : resolve from the playbook */
    int use_registry;                      /* 1: the real system drive, ask the registry first */
} tmi_target;

/*
 * Fill t. root: the folder standing for the system drive, or NULL for the
 * platform's default (the system drive; none on POSIX). tmi_dir, service_name:
 * NULL or "" when not given. The root must be an existing folder; tmi_dir is
 * made absolute (canonical when it exists; a missing one is reported by the
 * scan). On error returns TMI_EINVAL (no root on this system), TMI_ENOENT /
 * TMI_ENOTDIR (root), TMI_ETOOBIG (a name too long), with a one-line message
 * for the user in err that names the option ("--root DIR is required ...").
 */
int tmi_target_init(tmi_target *t, const playbook *pb, const char *root, const char *tmi_dir,
                    const char *service_name, char *err, size_t errlen);

/* The TMI folder if one was given, else NULL (the scan searches for it). */
const char *tmi_target_tmi_dir(const tmi_target *t);

/* The service's short name if one was given, else NULL. */
const char *tmi_target_service(const tmi_target *t);

#endif

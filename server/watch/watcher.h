/*
 * watcher.h - keeps an eye on the TMI folder while `serve` runs: scans it
 * when a watched folder changes (debounced, so a patch writing eight files
 * gives one scan), on a timer, and at start; records every scan with why it
 * ran; raises alerts when something changes that an admin must know; and,
 * when asked, repairs on its own after a delay.
 *
 * Watched folders: the TMI folder, every source folder the last scan
 * examined, and the folder above each (so a folder removed and made again
 * is noticed); while there is no TMI folder, the nearest existing folder
 * above each place the playbook would look. A folder that cannot be watched
 * with notifications (a network path) is polled every WATCHER_POLL_S. No
 * scan runs while a repair job runs (in this process or another): the job
 * records its own scans, and the changes it makes are its own.
 *
 * Alerts (each once per change of state; a reminder at most daily while a
 * bad state lasts; each one an audit row, action "alert"):
 *   verdict_change   the verdict changed (healthy -> affected and back)
 *   outside_change   a file changed outside tmi-console (one per file)
 *   job_failed       a job failed or was rolled back
 *   service_down     the service is not running while the files are good
 *   chain_broken     the audit chain does not verify (checked at start and
 *                    daily)
 *
 * Auto-repair (auto_repair_s > 0): when the verdict turns affected and a
 * complete good source exists, a repair job runs after that delay unless a
 * person starts something first or cancels it; at most once per occurrence
 * of the fault; never again after a failed or rolled-back auto-repair until
 * a person runs a job. Every decision is an audit row by actor "policy".
 *
 * Threads: the watcher runs on a thread of its own; watcher_status_json and
 * watcher_cancel_auto_repair may be called from any thread.
 */
#ifndef TMI_WATCHER_H
#define TMI_WATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "runner.h"
#include "target.h"

struct cJSON;

#define WATCHER_DEFAULT_INTERVAL_S (15 * 60)
#define WATCHER_POLL_S             10   /* folders without notifications */
#define WATCHER_DEBOUNCE_MS        300  /* quiet time after a change */
#define WATCHER_DEBOUNCE_MAX_MS    1500 /* a change is scanned this soon at the latest */
#define WATCHER_CHECK_S            30   /* service state and finished jobs */

typedef struct watcher_config {
    const char *data_dir;     /* copied */
    const tmi_target *target; /* borrowed: must outlive the watcher */
    runner *jobs;             /* borrowed: auto-repair runs here; its jobs pause scans */
    unsigned interval_s;      /* the timer; 0: off */
    unsigned auto_repair_s;   /* 0: off */
    /* where alerts go after their audit row (alerts.h; may be NULL: the
     * audit row and a line on stderr only) */
    alert_outputs *outputs;
} watcher_config;

typedef struct watcher watcher;

/* Start watching (the first scan runs on the watcher's thread at once).
 * TMI_OK with *out set; TMI_ENOMEM / TMI_EIO with a message in err. */
int watcher_start(const watcher_config *cfg, watcher **out, char *err, size_t errlen);

/* Stop the thread (a scan in progress finishes) and free. NULL is fine. */
void watcher_stop(watcher *w);

/*
 * {"mode": "notify" | "poll" | "off", "ok": bool, "detail": "...",
 *  "folders": N, "interval_s": N, "last_scan": {"id", "time", "reason",
 *  "verdict"} | null, "auto_repair": {"enabled", "delay_s", "state":
 *  "idle" | "scheduled" | "done" | "held", "due": time | null,
 *  "detail"}}. New tree, caller frees; NULL when out of memory.
 */
struct cJSON *watcher_status_json(watcher *w);

/* Cancel a scheduled auto-repair (a person decided); audited by user.
 * TMI_OK, or TMI_ENOENT when none is scheduled. */
int watcher_cancel_auto_repair(watcher *w, const char *user);

#endif

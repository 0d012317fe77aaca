/*
 * watch_int.h - what the watcher's files share (watcher.c: the thread, the
 * watched folders and the scans; watch_rules.c: alerts and auto-repair).
 * Not for use outside server/watch/.
 */
#ifndef TMI_WATCH_INT_H
#define TMI_WATCH_INT_H

#include "detect.h"
#include "plat.h"
#include "scans.h"
#include "store.h"
#include "watcher.h"

typedef enum auto_state {
    AUTO_IDLE = 0,  /* nothing to do */
    AUTO_SCHEDULED, /* a repair is due at auto_due_ns */
    AUTO_RUNNING,   /* its job (auto_job) runs */
    AUTO_DONE,      /* ran, or was cancelled, for this occurrence of the fault */
    AUTO_HELD,      /* it failed: held until a person runs a job */
} auto_state;

/* When the watcher scans next. */
typedef struct loop_state {
    int64_t pending_since; /* a change seen, not scanned yet (0: none) */
    int64_t pending_last;
    scan_reason pending_reason;
    int64_t next_timer, next_poll;
} loop_state;

/* The folders watched (set by the watcher's thread). */
typedef struct folder_set {
    char path[PLAT_WATCH_MAX][PLAT_PATH_MAX];
    size_t n;
} folder_set;

struct watcher {
    watcher_config cfg;
    char data_dir[PLAT_PATH_MAX];
    char subject[PLAT_PATH_MAX]; /* alert subject: the TMI folder, else the root */
    plat_thread *thread;
    plat_watch *pw;
    plat_mutex *mu; /* guards what the status shows, stopping and the auto-repair state */
    int stopping;
    /* status */
    const char *mode; /* "notify", "poll", "off" */
    int ok;
    char detail[256];
    int folders;
    int64_t last_scan_id, last_scan_ns;
    scan_reason last_reason;
    char last_verdict[32];
    /* auto-repair */
    auto_state auto_state;
    int64_t auto_due_ns;
    int64_t auto_job;
    char auto_detail[256];
    /* the watcher thread's own */
    store *st;
    folder_set *watched;
    loop_state loop;
    int watched_once;         /* the first set is in place */
    int64_t auto_due_wall_ns; /* auto_due_ns as a time of day, for the status */
    int64_t last_job_seen;
    int64_t next_check_ns, next_chain_ns;
};

/* After a recorded scan: verdict and file-change alerts, auto-repair.
 * prev_verdict is the verdict before this scan ("" when none). */
void rules_after_scan(watcher *w, const scan_result *r, int64_t scan_id, scan_reason reason,
                      const char *prev_verdict);

/* The periodic checks: finished jobs, the service, the chain (daily),
 * reminders, and a due auto-repair. */
void rules_periodic(watcher *w, int64_t now_ns);

/* Raise an alert: its audit row, then the emit callback. */
void rules_emit(watcher *w, alert *a);

#endif

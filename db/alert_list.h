/*
 * alert_list.h - the one JSON shape of the alert list, as GET /api/alerts
 * and `tmi-console alerts --json` print it:
 *
 *     {"open":   [ {"kind": "verdict", "subject": "/srv/tmi",
 *                   "state": "affected", "since": "2026-...Z",
 *                   "last_sent": "2026-...Z" or null}, ... ],
 *      "recent": {"items": [ {"seq": 41, "time": "2026-...Z",
 *                             "kind": "outside_change",
 *                             "message": "mrf.exe changed outside ...",
 *                             "details": { ...the alert's fields... }},
 *                            ... ],
 *                 "next_before": SEQ or null}}
 *
 * open: the alert states that are bad now (alert_state_list_open), the
 * longest open first. recent: the latest alerts raised, newest first, one
 * per audit row of action "alert" (its target is the alert's kind, its
 * details the alert's fields: message, verdict, file, old_version,
 * new_version, old_sha256, new_sha256, changed_by, job), as a page of the
 * audit trail (page.h: pass next_before as before for older ones).
 */
#ifndef TMI_ALERT_LIST_H
#define TMI_ALERT_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct cJSON;

/*
 * The alert list: every open alert, and a page of recent alerts of at most
 * limit rows (1..STORE_MAX_LIMIT) older than seq before (0: from the
 * newest). TMI_OK with *out a new tree (caller frees); TMI_EINVAL for a bad
 * limit or before; TMI_ENOMEM; a storage error (store_errmsg says it).
 */
int alert_list_json(store *s, int64_t before, size_t limit, struct cJSON **out);

#endif

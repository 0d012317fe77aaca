/*
 * alert_state.h - the last known state of every alert subject, so that the
 * watcher raises each alert once (the changes a scan recorded are in
 * scans.h: scans_changes).
 *
 * An alert state is keyed by (kind, subject): e.g. ("verdict", TMI folder)
 * holding "affected", ("service", name) holding "down". The watcher raises
 * an alert when a state changes, and a reminder when a bad state was last
 * sent a day ago; sent_ns says when.
 */
#ifndef TMI_ALERT_STATE_H
#define TMI_ALERT_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define ALERT_STATE_MAX 64 /* bytes of a state, its NUL included */

typedef struct alert_state_row {
    int found;
    char state[ALERT_STATE_MAX];
    int64_t since_ns; /* when it became this state */
    int64_t sent_ns;  /* when an alert about it last went out (0: never) */
} alert_state_row;

/* The state of (kind, subject); found = 0 when none was kept. */
int alert_state_get(store *s, const char *kind, const char *subject, alert_state_row *out);

/* Keep (kind, subject) = row's state, since and sent times. */
int alert_state_put(store *s, const char *kind, const char *subject, const alert_state_row *row);

/*
 * Open alerts: the states that are bad now. A state is bad when it is one
 * that raises an alert and keeps it open until the subject is well again:
 *   ("verdict", TMI folder)  "affected"
 *   ("service", name)        "down"
 *   ("chain", "audit")       "broken" or "broken:SEQ"
 * Every other state (healthy, up, intact, the auto-repair states, kinds not
 * listed) is not an open alert.
 */
int alert_state_is_bad(const char *kind, const char *state);

#define ALERT_STATE_OPEN_MAX 100 /* open alerts listed at most */

/* One open alert. kind and subject are heap, owned by the list. */
typedef struct alert_state_open {
    char *kind;
    char *subject;
    char state[ALERT_STATE_MAX];
    int64_t since_ns;
    int64_t sent_ns;
} alert_state_open;

typedef struct alert_state_open_list {
    alert_state_open *rows;
    size_t count;
} alert_state_open_list;

/*
 * The open alerts (alert_state_is_bad), the longest open first (since, then
 * kind and subject), at most ALERT_STATE_OPEN_MAX. *out is the caller's: free
 * it with alert_state_open_list_free(), also after an error (TMI_ENOMEM, a
 * storage error; then it is empty).
 */
int alert_state_list_open(store *s, alert_state_open_list *out);

/* Free the rows and zero *l. NULL and zeroed lists are fine. */
void alert_state_open_list_free(alert_state_open_list *l);

#endif

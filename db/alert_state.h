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

#endif

/*
 * stamp.h - a cheap way to tell whether the database may have changed.
 *
 * A stamp is two numbers: SQLite's `PRAGMA data_version` on the connection
 * (changes when any other connection, in this process or another, commits)
 * and the connection's own count of changed rows. If two stamps taken on the
 * same connection are equal, nothing was committed in between, so anything
 * computed from the database in between is still current. Taking a stamp
 * costs one step of a prepared statement and no disk read; the HTTP server
 * uses it to serve GET /api/status from a per-thread cache.
 */
#ifndef TMI_STAMP_H
#define TMI_STAMP_H

#include <stdint.h>

#include "store.h"

typedef struct store_stamper store_stamper;

typedef struct store_stamp {
    int64_t data_version;
    int64_t own_changes;
} store_stamp;

/* Prepare a stamper on s (which must outlive it). TMI_OK with *out set, or a
 * store error (store_errmsg(s)). */
int store_stamp_open(store *s, store_stamper **out);

/* Take a stamp. TMI_OK, or a store error. */
int store_stamp_take(store_stamper *sp, store_stamp *out);

/* Equal stamps: nothing changed in between. */
int store_stamp_equal(const store_stamp *a, const store_stamp *b);

/* Free the stamper (before closing its store). NULL is fine. */
void store_stamp_close(store_stamper *sp);

#endif

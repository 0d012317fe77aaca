/* watch.c - change stamps of a store connection (see watch.h). */
#include "watch.h"

#include <stdlib.h>

#include "err.h"
#include "store_int.h"

struct store_watch {
    store *s;
    sqlite3_stmt *st; /* PRAGMA data_version */
};

int store_watch_open(store *s, store_watch **out)
{
    store_watch *w = calloc(1, sizeof(*w));
    int rc;
    if (w == NULL)
        return TMI_ENOMEM;
    w->s = s;
    rc = store_prepare(s, "PRAGMA data_version", &w->st);
    if (rc != TMI_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return TMI_OK;
}

int store_watch_stamp(store_watch *w, store_stamp *out)
{
    int rc = sqlite3_step(w->st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(w->st);
        return store_fail_sqlite(w->s, rc, "cannot read the data version");
    }
    out->data_version = sqlite3_column_int64(w->st, 0);
    sqlite3_reset(w->st);
    out->own_changes = (int64_t)sqlite3_total_changes64(w->s->db);
    return TMI_OK;
}

int store_stamp_equal(const store_stamp *a, const store_stamp *b)
{
    return a->data_version == b->data_version && a->own_changes == b->own_changes;
}

void store_watch_close(store_watch *w)
{
    if (w == NULL)
        return;
    sqlite3_finalize(w->st);
    free(w);
}

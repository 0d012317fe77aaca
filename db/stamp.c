/* stamp.c - change stamps of a store connection (see stamp.h). */
#include "stamp.h"

#include <stdlib.h>

#include "err.h"
#include "store_int.h"

struct store_stamper {
    store *s;
    sqlite3_stmt *st; /* PRAGMA data_version */
};

int store_stamp_open(store *s, store_stamper **out)
{
    store_stamper *sp = calloc(1, sizeof(*sp));
    int rc;
    if (sp == NULL)
        return TMI_ENOMEM;
    sp->s = s;
    rc = store_prepare(s, "PRAGMA data_version", &sp->st);
    if (rc != TMI_OK) {
        free(sp);
        return rc;
    }
    *out = sp;
    return TMI_OK;
}

int store_stamp_take(store_stamper *sp, store_stamp *out)
{
    int rc = sqlite3_step(sp->st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(sp->st);
        return store_fail_sqlite(sp->s, rc, "cannot read the data version");
    }
    out->data_version = sqlite3_column_int64(sp->st, 0);
    sqlite3_reset(sp->st);
    out->own_changes = (int64_t)sqlite3_total_changes64(sp->s->db);
    return TMI_OK;
}

int store_stamp_equal(const store_stamp *a, const store_stamp *b)
{
    return a->data_version == b->data_version && a->own_changes == b->own_changes;
}

void store_stamp_close(store_stamper *sp)
{
    if (sp == NULL)
        return;
    sqlite3_finalize(sp->st);
    free(sp);
}

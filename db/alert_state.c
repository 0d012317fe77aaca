/* alert_state.c - the state of each alert subject (see alert_state.h). */
#include "alert_state.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "store_int.h"

static int check_key(store *s, const char *kind, const char *subject)
{
    if (kind == NULL || subject == NULL || kind[0] == '\0' || strlen(kind) >= 64 ||
        strlen(subject) >= PLAT_PATH_MAX)
        return store_fail(s, TMI_EINVAL, "alert state: bad kind or subject");
    return TMI_OK;
}

int alert_state_get(store *s, const char *kind, const char *subject, alert_state_row *out)
{
    sqlite3_stmt *st = NULL;
    int rc, src;
    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    memset(out, 0, sizeof(*out));
    rc = check_key(s, kind, subject);
    if (rc == TMI_OK)
        rc = store_prepare(s,
                           "SELECT state, since_ns, sent_ns FROM alert_state"
                           " WHERE kind = ? AND subject = ?",
                           &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        out->found = 1;
        snprintf(out->state, sizeof(out->state), "%s", t != NULL ? (const char *)t : "");
        out->since_ns = sqlite3_column_int64(st, 1);
        out->sent_ns = sqlite3_column_int64(st, 2);
    } else if (src != SQLITE_DONE) {
        rc = store_fail_sqlite(s, src, "cannot read the alert state");
    }
    sqlite3_finalize(st);
    return rc;
}

int alert_state_put(store *s, const char *kind, const char *subject, const alert_state_row *row)
{
    sqlite3_stmt *st = NULL;
    int rc, src;
    if (s == NULL || row == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    rc = check_key(s, kind, subject);
    if (rc == TMI_OK && strlen(row->state) >= sizeof(row->state))
        rc = store_fail(s, TMI_EINVAL, "alert state: state too long");
    if (rc == TMI_OK)
        rc = store_prepare(s,
                           "INSERT OR REPLACE INTO alert_state (kind, subject, state, since_ns,"
                           " sent_ns) VALUES (?, ?, ?, ?, ?)",
                           &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, row->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, row->since_ns);
    sqlite3_bind_int64(st, 5, row->sent_ns);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot keep the alert state");
    sqlite3_finalize(st);
    return rc;
}

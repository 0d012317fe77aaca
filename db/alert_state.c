/* alert_state.c - the state of each alert subject (see alert_state.h). */
#include "alert_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strutil.h"
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

/* ---- open alerts ---- */

/* The bad state of each kind that keeps an alert open (alert_state.h). */
static const struct {
    const char *kind;
    const char *bad;
} bad_states[] = {
    {"verdict", "affected"},
    {"service", "down"},
    {"chain", "broken"}, /* "broken" or "broken:SEQ" */
};

int alert_state_is_bad(const char *kind, const char *state)
{
    if (kind == NULL || state == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(bad_states) / sizeof(bad_states[0]); i++) {
        size_t n = strlen(bad_states[i].bad);
        if (strcmp(kind, bad_states[i].kind) == 0 && strncmp(state, bad_states[i].bad, n) == 0 &&
            (state[n] == '\0' || state[n] == ':'))
            return 1;
    }
    return 0;
}

void alert_state_open_list_free(alert_state_open_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->rows[i].kind);
        free(l->rows[i].subject);
    }
    free(l->rows);
    l->rows = NULL;
    l->count = 0;
}

/* Append the current row of st to l (room for ALERT_STATE_OPEN_MAX is made
 * by the caller). */
static int open_add(alert_state_open_list *l, sqlite3_stmt *st)
{
    const char *k = (const char *)sqlite3_column_text(st, 0);
    const char *sub = (const char *)sqlite3_column_text(st, 1);
    const char *state = (const char *)sqlite3_column_text(st, 2);
    alert_state_open *o = &l->rows[l->count];
    if (k == NULL || sub == NULL || state == NULL || !alert_state_is_bad(k, state))
        return TMI_OK;
    memset(o, 0, sizeof(*o));
    o->kind = str_dup(k);
    o->subject = str_dup(sub);
    if (o->kind == NULL || o->subject == NULL) {
        free(o->kind);
        free(o->subject);
        return TMI_ENOMEM;
    }
    snprintf(o->state, sizeof(o->state), "%s", state);
    o->since_ns = sqlite3_column_int64(st, 3);
    o->sent_ns = sqlite3_column_int64(st, 4);
    l->count++;
    return TMI_OK;
}

int alert_state_list_open(store *s, alert_state_open_list *out)
{
    sqlite3_stmt *st = NULL;
    int rc, src = SQLITE_ROW;
    if (s == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    memset(out, 0, sizeof(*out));
    out->rows = calloc(ALERT_STATE_OPEN_MAX, sizeof(out->rows[0]));
    if (out->rows == NULL)
        return TMI_ENOMEM;
    rc = store_prepare(s,
                       "SELECT kind, subject, state, since_ns, sent_ns FROM alert_state"
                       " ORDER BY since_ns, kind, subject",
                       &st);
    while (rc == TMI_OK && out->count < ALERT_STATE_OPEN_MAX) {
        src = sqlite3_step(st);
        if (src != SQLITE_ROW)
            break;
        rc = open_add(out, st);
    }
    if (rc == TMI_OK && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the alert states");
    sqlite3_finalize(st);
    if (rc != TMI_OK)
        alert_state_open_list_free(out);
    return rc;
}

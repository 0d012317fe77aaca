/*
 * audit_verify.c - checking the whole trail (audit.h): the chain walked from
 * seq 1 and its end compared with the head table, the anchor file and a head
 * the caller kept; the report as JSON; and re-anchoring, which only a report
 * of intact rows with a lost anchor allows.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit_int.h"
#include "err.h"

const char *audit_break_name(audit_break why)
{
    switch (why) {
    case AUDIT_INTACT:
        return "intact";
    case AUDIT_BAD_ROW:
        return "malformed row";
    case AUDIT_SEQ_GAP:
        return "seq gap";
    case AUDIT_BAD_HASH:
        return "hash mismatch";
    case AUDIT_TAIL_MISSING:
        return "missing rows at the end";
    case AUDIT_HEAD_MISMATCH:
        return "head mismatch";
    case AUDIT_ANCHOR_MISSING:
        return "anchor missing";
    case AUDIT_ANCHOR_MISMATCH:
        return "anchor mismatch";
    }
    return "unknown";
}

static void set_break(audit_report *rep, audit_break why, int64_t seq, const char *fmt, ...)
    TMI_PRINTF(4, 5);

static void set_break(audit_report *rep, audit_break why, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    if (!rep->intact)
        return; /* keep the first break */
    rep->intact = 0;
    rep->why = why;
    rep->broken_seq = seq;
    va_start(ap, fmt);
    vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
    va_end(ap);
}

/* What audit_verify() gathers before it judges: the anchor file, the head
 * table, and the hashes the walk found at the seqs the anchor and the
 * caller's head name ([0] the anchor, [1] the caller's). */
typedef struct verify_state {
    anchor_state ast;
    audit_head anchor;
    int table_present;
    audit_head table;
    int64_t want[2]; /* seq 0: none */
    uint8_t got[2][32];
    int found[2];
} verify_state;

/* ---- the walk ---- */

/* Is row f (hash h) the one expected at seq `expect` after hash prev? If
 * not, the break goes into rep and 0 comes back. *rc: a hashing error. */
static int row_continues(audit_report *rep, const audit_fields *f, const uint8_t *h, int bad,
                         int64_t expect, const uint8_t prev[32], int *rc)
{
    uint8_t calc[32];
    int64_t seq = f->seq;
    if (seq != expect) {
        if (seq > expect)
            set_break(rep, AUDIT_SEQ_GAP, expect,
                      "seq %" PRId64 " is missing (the next row is seq %" PRId64
                      "): rows were deleted",
                      expect, seq);
        else
            set_break(rep, AUDIT_SEQ_GAP, seq, "seq %" PRId64 " is out of order", seq);
        return 0;
    }
    if (bad || h == NULL) {
        set_break(rep, AUDIT_BAD_ROW, seq,
                  "seq %" PRId64 " is malformed (missing fields or a hash of the wrong size)", seq);
        return 0;
    }
    *rc = audit_hash(prev, f, calc);
    if (*rc != TMI_OK)
        return 0;
    if (memcmp(calc, h, 32) == 0)
        return 1;
    if (seq == 1)
        set_break(rep, AUDIT_BAD_HASH, seq,
                  "seq 1: the stored hash does not match the row's contents (the row was "
                  "edited)");
    else
        set_break(rep, AUDIT_BAD_HASH, seq,
                  "seq %" PRId64 ": the stored hash does not match the row's contents and "
                  "the hash of the row before it (this row was edited, or seq %" PRId64
                  " was replaced with a recomputed hash)",
                  seq, seq - 1);
    return 0;
}

/* Walk the rows in seq order; fills rep (chain part) and remembers the hashes
 * of rows vs->want[] into vs->got[]. prev_hash is not stored (schema v5):
 * each row's hash is recomputed from the hash walked before it, so a row
 * replaced with a recomputed hash shows at the row after it. */
static int walk_chain(store *s, audit_report *rep, verify_state *vs)
{
    sqlite3_stmt *st = NULL;
    uint8_t prev[32];
    int64_t expect = 1;
    int src;
    int rc = store_prepare(s, "SELECT " AUDIT_CHAIN_COLUMNS " FROM audit ORDER BY seq", &st);
    if (rc != TMI_OK)
        return rc;
    memcpy(prev, audit_zero_hash, 32);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        audit_fields f;
        const uint8_t *h = NULL;
        int bad = 0;
        audit_chain_row(st, &f, &h, &bad);
        rep->rows++;
        if (!row_continues(rep, &f, h, bad, expect, prev, &rc))
            break;
        for (int i = 0; i < 2; i++) {
            if (vs->want[i] == f.seq) {
                memcpy(vs->got[i], h, 32);
                vs->found[i] = 1;
            }
        }
        memcpy(prev, h, 32);
        rep->head.seq = f.seq;
        memcpy(rep->head.hash, h, 32);
        expect++;
    }
    if (rc == TMI_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot read the audit trail");
    sqlite3_finalize(st);
    return rc;
}

static int read_head_table(store *s, audit_head *h, int *present)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, "SELECT seq, hash FROM audit_head WHERE one = 1", &st);
    *present = 0;
    if (rc != TMI_OK)
        return rc;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *present = 1;
        h->seq = sqlite3_column_int64(st, 0);
        memset(h->hash, 0, 32);
        if (sqlite3_column_bytes(st, 1) == 32)
            memcpy(h->hash, sqlite3_column_blob(st, 1), 32);
        src = SQLITE_DONE;
    }
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit head");
    sqlite3_finalize(st);
    return rc;
}

/* The anchor file, then (one read snapshot) the walk and the head table.
 * The anchor first: it is written only after its rows are committed, so the
 * snapshot taken after it holds every row it names. */
static int gather(store *s, const audit_head *expect, audit_report *rep, verify_state *vs)
{
    int read_rc = TMI_OK, began = 0;
    vs->ast = audit_anchor_read(s, &vs->anchor, &read_rc);
    if (vs->ast == ANCHOR_BAD && read_rc != TMI_OK && read_rc != TMI_ETOOBIG)
        return store_fail(s, read_rc, "cannot read the audit head anchor %s: %s", s->head_path,
                          tmi_strerror(read_rc));
    if (vs->ast == ANCHOR_OK)
        vs->want[0] = vs->anchor.seq;
    if (expect != NULL)
        vs->want[1] = expect->seq;
    int rc = store_read_begin(s, &began);
    if (rc != TMI_OK)
        return rc;
    rc = walk_chain(s, rep, vs);
    if (rc == TMI_OK)
        rc = read_head_table(s, &vs->table, &vs->table_present);
    store_read_end(s, began);
    return rc;
}

/* ---- the judgement ---- */

/* Compare the walked chain with a head kept elsewhere (`what` names it). */
static void check_against(audit_report *rep, const audit_head *h, int found, const uint8_t *hash,
                          const char *what)
{
    if (h->seq > rep->head.seq) {
        set_break(rep, AUDIT_TAIL_MISSING, rep->head.seq + 1,
                  "rows %" PRId64 "..%" PRId64 " are missing at the end: %s names seq %" PRId64
                  " but the last row is %" PRId64,
                  rep->head.seq + 1, h->seq, what, h->seq, rep->head.seq);
        return;
    }
    if (!found || memcmp(hash, h->hash, 32) != 0)
        set_break(rep, AUDIT_ANCHOR_MISMATCH, h->seq,
                  "seq %" PRId64 ": its hash differs from %s (the row was rewritten and its "
                  "hash recomputed)",
                  h->seq, what);
}

/* 1. Rows missing at the end, as told by any head kept apart from them. */
static void check_tail(audit_report *rep, verify_state *vs, const audit_head *expect)
{
    if (rep->intact && vs->table_present && vs->table.seq > rep->head.seq)
        set_break(rep, AUDIT_TAIL_MISSING, rep->head.seq + 1,
                  "rows %" PRId64 "..%" PRId64 " are missing at the end: the audit_head table "
                  "names seq %" PRId64 " but the last row is %" PRId64,
                  rep->head.seq + 1, vs->table.seq, vs->table.seq, rep->head.seq);
    if (vs->ast == ANCHOR_OK && vs->anchor.seq == 0) {
        vs->found[0] = 1; /* the empty chain's anchor: every chain continues it */
        memset(vs->got[0], 0, 32);
    }
    if (rep->intact && vs->ast == ANCHOR_OK && vs->anchor.seq > rep->head.seq)
        check_against(rep, &vs->anchor, 0, NULL, "the head anchored outside the database");
    if (rep->intact && expect != NULL && expect->seq > rep->head.seq)
        check_against(rep, expect, 0, NULL, "the expected head");
}

/* 2. The table is written with every row: it must name exactly the last row. */
static void check_head_table(audit_report *rep, const verify_state *vs)
{
    const audit_head *t = &vs->table;
    if (rep->intact && rep->head.seq > 0 && !vs->table_present)
        set_break(rep, AUDIT_HEAD_MISMATCH, rep->head.seq,
                  "the audit_head table is empty but the chain has %" PRId64 " rows",
                  rep->head.seq);
    if (rep->intact && vs->table_present &&
        (t->seq != rep->head.seq || memcmp(t->hash, rep->head.hash, 32) != 0))
        set_break(rep, AUDIT_HEAD_MISMATCH, t->seq < rep->head.seq ? t->seq + 1 : t->seq,
                  "the audit_head table (seq %" PRId64 ") does not match the last row (seq %" PRId64
                  "): rows were added or rewritten outside tmi-console",
                  t->seq, rep->head.seq);
}

/* 3. The anchor outside the database. */
static void check_anchor(audit_report *rep, const verify_state *vs)
{
    if (vs->ast == ANCHOR_BAD) {
        set_break(rep, AUDIT_ANCHOR_MISMATCH, rep->head.seq,
                  "the audit head anchor file is malformed (it was edited)");
    } else if (vs->ast == ANCHOR_NONE && rep->head.seq > 0) {
        set_break(rep, AUDIT_ANCHOR_MISSING, rep->head.seq,
                  "the chain has %" PRId64 " rows but the audit head anchor file is missing",
                  rep->head.seq);
    } else if (vs->ast == ANCHOR_OK) {
        rep->anchor_seq = vs->anchor.seq;
        check_against(rep, &vs->anchor, vs->found[0], vs->got[0],
                      "the head anchored outside the database");
        if (rep->intact) {
            rep->anchored = 1;
            rep->unanchored = rep->head.seq - vs->anchor.seq;
        }
    }
}

int audit_verify(store *s, const audit_head *expect, audit_report *rep)
{
    verify_state vs;
    int rc;

    if (s == NULL || rep == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    memset(rep, 0, sizeof(*rep));
    memset(&vs, 0, sizeof(vs));
    rep->intact = 1;
    rc = gather(s, expect, rep, &vs);
    if (rc != TMI_OK)
        return rc;
    check_tail(rep, &vs, expect);
    check_head_table(rep, &vs);
    check_anchor(rep, &vs);
    /* 4. A head the caller kept elsewhere. */
    if (expect != NULL)
        check_against(rep, expect, vs.found[1], vs.got[1], "the expected head");
    if (rep->intact)
        snprintf(rep->detail, sizeof(rep->detail), "intact");
    return TMI_OK;
}

cJSON *audit_report_json(const audit_report *rep)
{
    char head[100];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    if (cJSON_AddBoolToObject(o, "intact", rep->intact) == NULL ||
        cJSON_AddNumberToObject(o, "rows", (double)rep->rows) == NULL ||
        cJSON_AddStringToObject(o, "head", audit_head_format(&rep->head, head, sizeof(head))) ==
            NULL ||
        cJSON_AddStringToObject(o, "break", audit_break_name(rep->why)) == NULL ||
        (rep->broken_seq > 0 ? cJSON_AddNumberToObject(o, "broken_seq", (double)rep->broken_seq)
                             : cJSON_AddNullToObject(o, "broken_seq")) == NULL ||
        cJSON_AddStringToObject(o, "detail", rep->detail) == NULL ||
        cJSON_AddBoolToObject(o, "anchored", rep->anchored) == NULL ||
        cJSON_AddNumberToObject(o, "anchor_seq", (double)rep->anchor_seq) == NULL ||
        cJSON_AddNumberToObject(o, "unanchored", (double)rep->unanchored) == NULL) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- re-anchor ---- */

/* The details of the audit_reanchor row: what verify found. New text, caller
 * frees with cJSON_free(); NULL when out of memory. */
static char *reanchor_details(const audit_report *rep)
{
    char head[100], *text = NULL;
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && cJSON_AddStringToObject(o, "was", audit_break_name(rep->why)) != NULL &&
        cJSON_AddStringToObject(o, "detail", rep->detail) != NULL &&
        cJSON_AddNumberToObject(o, "old_anchor_seq", (double)rep->anchor_seq) != NULL &&
        cJSON_AddStringToObject(o, "head_before",
                                audit_head_format(&rep->head, head, sizeof(head))) != NULL)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

int audit_reanchor(store *s, const audit_actor *actor, audit_report *before)
{
    audit_report rep;
    char *details = NULL;
    int rc;

    if (s == NULL || actor == NULL)
        return TMI_EINVAL;
    rc = audit_verify(s, NULL, &rep);
    if (rc != TMI_OK)
        return rc;
    if (before != NULL)
        *before = rep;
    if (rep.intact && rep.anchored)
        return store_fail(s, TMI_EEXIST, "the audit head anchor is in place and matches");
    if (!rep.intact && rep.why != AUDIT_ANCHOR_MISSING && rep.why != AUDIT_ANCHOR_MISMATCH)
        return store_fail(s, TMI_ECORRUPT,
                          "the audit rows themselves are broken at seq %" PRId64
                          " (%s): not re-anchored",
                          rep.broken_seq, audit_break_name(rep.why));
    details = reanchor_details(&rep);
    if (details == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    audit_event ev = {"audit_reanchor", STORE_HEAD_NAME, NULL, "ok", details};
    rc = audit_append(s, actor, &ev, NULL);
    if (rc != TMI_OK)
        goto out;
    /* the old anchor goes (it is recorded above); a fresh one names the head
     * that now ends with the row just appended */
    rc = plat.remove_file(s->head_path);
    if (rc != TMI_OK && rc != TMI_ENOENT) {
        rc = store_fail(s, rc, "cannot remove the old audit head anchor %s: %s", s->head_path,
                        tmi_strerror(rc));
        goto out;
    }
    store_clear_error(s);
    rc = audit_anchor_sync(s, 1);
out:
    cJSON_free(details);
    return rc;
}

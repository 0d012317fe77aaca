/*
 * audit_anchor.c - the chain's head kept outside the database (audit.h,
 * "Chain head"): the file `audit-head` read and written, made for the empty
 * chain at open, and moved forward after each commit that added rows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "err.h"
#include "hex.h"

#define HEAD_FILE_MAX 512
#define HEAD_MAGIC    "tmi-console audit head v1"

anchor_state audit_anchor_read(store *s, audit_head *h, int *rc_out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    anchor_state st = ANCHOR_BAD;
    char text[HEAD_FILE_MAX + 1];
    char hex[65];
    int rc = plat.read_file(s->head_path, HEAD_FILE_MAX, &buf, &len);
    *rc_out = rc;
    if (rc == TMI_ENOENT)
        return ANCHOR_NONE;
    if (rc != TMI_OK)
        return ANCHOR_BAD;
    memcpy(text, buf, len);
    text[len] = '\0';
    free(buf);
    /* "tmi-console audit head v1\nseq N\nhash HEX\n" */
    const char *p = text;
    size_t magic = strlen(HEAD_MAGIC);
    if (strncmp(p, HEAD_MAGIC "\nseq ", magic + 5) != 0)
        return ANCHOR_BAD;
    p += magic + 5;
    const char *nl = strchr(p, '\n');
    if (nl == NULL || audit_parse_seq(p, (size_t)(nl - p), &h->seq) != TMI_OK || h->seq < 0)
        return ANCHOR_BAD;
    p = nl + 1;
    if (strncmp(p, "hash ", 5) != 0)
        return ANCHOR_BAD;
    p += 5;
    if (strlen(p) != 65 || p[64] != '\n')
        return ANCHOR_BAD;
    memcpy(hex, p, 64);
    hex[64] = '\0';
    /* seq 0 is the empty chain's anchor: its hash is the zero hash */
    if (hex_decode(hex, 64, h->hash) == TMI_OK &&
        (h->seq > 0 || memcmp(h->hash, audit_zero_hash, 32) == 0))
        st = ANCHOR_OK;
    return st;
}

static int anchor_write(store *s, const audit_head *h)
{
    char text[HEAD_FILE_MAX];
    char hex[65];
    hex_encode(h->hash, 32, hex);
    int n = snprintf(text, sizeof(text), HEAD_MAGIC "\nseq %" PRId64 "\nhash %s\n", h->seq, hex);
    int rc = plat.write_file(s->head_tmp_path, text, (size_t)n);
    if (rc == TMI_OK)
        rc = plat.rename_replace(s->head_tmp_path, s->head_path);
    if (rc != TMI_OK) {
        plat.remove_file(s->head_tmp_path);
        return store_fail(s, rc, "cannot write the audit head anchor %s: %s", s->head_path,
                          tmi_strerror(rc));
    }
    return TMI_OK;
}

/*
 * Do rows (from.seq, last] continue the chain from `from`: contiguous seq,
 * and each row's hash recomputed from its fields and the hash before it? *ok
 * 1 if so. This guards the anchor's move (usually over the one row just
 * appended); audit_verify() checks the whole chain.
 */
static int chain_continues(store *s, const audit_head *from, int *ok)
{
    sqlite3_stmt *st = NULL;
    uint8_t prev[32], calc[32];
    int64_t expect = from->seq + 1;
    int rc = store_prepare(
        s, "SELECT " AUDIT_CHAIN_COLUMNS " FROM audit WHERE seq > ? ORDER BY seq", &st);
    *ok = 0;
    if (rc != TMI_OK)
        return rc;
    memcpy(prev, from->hash, 32);
    sqlite3_bind_int64(st, 1, from->seq);
    int src;
    int good = 1;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        audit_fields f;
        const uint8_t *h = NULL;
        int bad = 0;
        audit_chain_row(st, &f, &h, &bad);
        if (bad || h == NULL || f.seq != expect) {
            good = 0;
            src = SQLITE_DONE;
            break;
        }
        rc = audit_hash(prev, &f, calc);
        if (rc != TMI_OK)
            break;
        if (memcmp(calc, h, 32) != 0) {
            good = 0;
            src = SQLITE_DONE;
            break;
        }
        memcpy(prev, h, 32);
        expect++;
    }
    if (rc == TMI_OK && src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit chain");
    else if (rc == TMI_OK)
        *ok = good;
    sqlite3_finalize(st);
    return rc;
}

int audit_anchor_init(store *s)
{
    audit_head last, anchor;
    int read_rc = TMI_OK, rc;
    if (audit_anchor_read(s, &anchor, &read_rc) != ANCHOR_NONE)
        return TMI_OK; /* present (or damaged: evidence, left alone) */
    int src = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return store_fail_sqlite(s, src, "cannot lock the audit chain to anchor it");
    /* under the write lock, as every anchor write: no row can slip in */
    rc = audit_read_last(s, &last, NULL);
    if (rc == TMI_OK && last.seq == 0 && audit_anchor_read(s, &anchor, &read_rc) == ANCHOR_NONE)
        rc = anchor_write(s, &last);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Move the anchor from `anchor` to `last` when the rows between continue
 * the chain (the write lock is held). */
static int anchor_move(store *s, const audit_head *anchor, const audit_head *last)
{
    int ok = 0;
    if (anchor->seq >= last->seq)
        return TMI_OK; /* up to date, or rows missing: leave the evidence */
    int rc = chain_continues(s, anchor, &ok);
    if (rc != TMI_OK)
        return rc;
    if (!ok)
        return store_fail(s, TMI_ECORRUPT,
                          "the audit chain does not continue from its anchor (seq %" PRId64
                          "); anchor left as is",
                          anchor->seq);
    return anchor_write(s, last);
}

int audit_anchor_sync(store *s, int adopt)
{
    audit_head last, anchor;
    int read_rc = TMI_OK;
    int rc;
    int src = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (src != SQLITE_OK)
        return store_fail_sqlite(s, src, "cannot lock the audit chain to anchor it");
    /* Under the write lock: anchors are written in seq order by every process. */
    rc = audit_read_last(s, &last, NULL);
    if (rc != TMI_OK || last.seq == 0)
        goto out;
    switch (audit_anchor_read(s, &anchor, &read_rc)) {
    case ANCHOR_NONE:
        /* Made while the chain was still empty (audit_anchor_init); gone
         * now, it was deleted: never made again silently, which would erase
         * the evidence. verify reports it until an operator runs
         * audit_reanchor(). */
        if (adopt)
            rc = anchor_write(s, &last);
        else
            rc = store_fail(s, TMI_ECORRUPT,
                            "the audit head anchor %s is missing; not recreated (see "
                            "'tmi-console audit reanchor')",
                            s->head_path);
        break;
    case ANCHOR_BAD:
        /* Keep a damaged anchor as evidence; verify reports it. */
        rc = store_fail(s, TMI_ECORRUPT, "the audit head anchor %s is unreadable; left as is",
                        s->head_path);
        break;
    case ANCHOR_OK:
        rc = anchor_move(s, &anchor, &last);
        break;
    }
out:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

void audit_anchor_after_commit(store *s)
{
    /* The rows are committed; a failure to anchor them is reported by
     * audit_verify() as unanchored rows, and fixed by the next append. */
    if (audit_anchor_sync(s, s->anchor_adopt) == TMI_OK)
        s->anchor_adopt = 0;
}

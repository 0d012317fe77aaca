/*
 * audit_file.h - an exported audit trail checked without a database: the
 * auditor's `tmi-console audit verify --file EXPORT.json`.
 *
 * The input is the JSON export of the trail (export.h: GET
 * /api/export/audit.json, `tmi-console export --what audit --format json`):
 * one array of objects {seq, time, time_ns, actor, auth, action, target,
 * params, outcome, details, prev_hash, hash}, time_ns a decimal string,
 * params and details the JSON text exactly as hashed (or null), both hashes
 * 64 lower-case hex digits. Each row's hash is recomputed with audit_hash()
 * (the layout in audit.h) and the rows are walked in order:
 *
 *   - a row that is not an object of those fields and types, or whose
 *     "time" is not the RFC 3339 text of its time_ns (the text is not
 *     hashed, so it must be derived), or whose time goes back: AUDIT_BAD_ROW;
 *   - seq not one more than the row before: AUDIT_SEQ_GAP;
 *   - prev_hash not the row before's hash (32 zero bytes for seq 1), or the
 *     fields not giving the row's hash: AUDIT_BAD_HASH;
 *   - the text cut short (no closing ']', a record cut in the middle):
 *     AUDIT_TAIL_MISSING at the seq after the last whole row;
 *   - an expected head (--head SEQ:HASH) whose row is not in the file, or
 *     whose hash differs: AUDIT_TAIL_MISSING when the file ends before it,
 *     else AUDIT_ANCHOR_MISMATCH.
 * An export of a time range starts past seq 1: its first row's prev_hash
 * is taken as given (first_seq says where the file starts), so the check
 * proves the rows hang together and, with an expected head, that they end
 * where the server's chain ended.
 *
 * Bounds: at most AUDIT_FILE_MAX_BYTES of input, AUDIT_FILE_MAX_ROWS rows
 * (or fewer, as the caller asks) and AUDIT_FILE_MAX_RECORD bytes per
 * record; past them the check does not run (TMI_ETOOBIG). Nothing is read
 * but the given bytes; no store is opened.
 */
#ifndef TMI_AUDIT_FILE_H
#define TMI_AUDIT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"

#define AUDIT_FILE_MAX_BYTES  (256u * 1024u * 1024u)
#define AUDIT_FILE_MAX_ROWS   2000000u
#define AUDIT_FILE_MAX_RECORD (1024u * 1024u)

typedef struct audit_file_report {
    int intact;         /* 1: every row and link checks (and the head matches) */
    int64_t rows;       /* whole rows read */
    int64_t first_seq;  /* the file's first seq (0: no row) */
    audit_head head;    /* the last good row */
    audit_break why;    /* AUDIT_INTACT when intact */
    int64_t broken_seq; /* the first row that fails (0 when intact) */
    char detail[256];   /* one English sentence */
    int head_checked;   /* an expected head was given and found to match */
} audit_file_report;

/*
 * Check the export text[0..len) (need not be NUL-terminated), and when
 * expect is not NULL that its row is in the file with its hash. max_rows: 0
 * for AUDIT_FILE_MAX_ROWS, else a lower cap. Fills *rep. Returns TMI_OK
 * when the check ran (look at rep->intact); TMI_EFORMAT when the text is
 * not an audit export at all (no JSON array at its start; rep->detail
 * says); TMI_ETOOBIG past a bound (rep->detail says which); TMI_ENOMEM.
 */
int audit_file_verify(const char *text, size_t len, const audit_head *expect, size_t max_rows,
                      audit_file_report *rep);

#endif

/*
 * audit.h - the append-only, hash-chained audit trail.
 *
 * Every action (scan, backup, replace, restart, login, token change,
 * settings, ...) is one row: seq (1, 2, 3, ... without gaps), time (ns since
 * the epoch, UTC, and the RFC 3339 text derived from it), actor (OS user and
 * how it authenticated), action, target, parameters (JSON text), outcome and
 * details (JSON text: hashes and versions before/after, ...).
 *
 * Time never goes backwards along seq: a row's time is taken under the write
 * lock and, should the clock have stepped back, is raised to the previous
 * row's time. So time order is seq order, and a time range is a seq range.
 *
 * Append-only: triggers refuse UPDATE and DELETE on the stored rows and texts
 * (tables audit_log and audit_text, below), the view `audit` cannot be
 * written, and nothing in tmi-console ever issues such statements.
 *
 * Hash chain. Each row's prev_hash is the previous row's hash (32 zero bytes
 * for seq 1), and
 *
 *     hash = SHA-256( prev_hash                 32 bytes
 *                   || "TMIA1"                  5 bytes, format tag
 *                   || u64be(seq)               8 bytes
 *                   || i64be(time_ns)           8 bytes, two's complement
 *                   || F(actor) || F(auth) || F(action) || F(target)
 *                   || F(params) || F(outcome) || F(details) )
 *
 *     F(NULL) = FF FF FF FF                     (4 bytes, no data)
 *     F(s)    = u32be(byte length of s) || s    (UTF-8, exactly as given)
 *
 * (u32be/u64be: big-endian.) The RFC 3339 text is derived from time_ns and
 * is not hashed separately. audit_hash() computes this for any row, so an
 * exported trail (CSV/JSON carry time_ns and both hashes) can be re-verified
 * outside tmi-console.
 *
 * Canonical fields and their stored form. What is hashed, listed, exported
 * and verified are always the canonical fields above, as the view `audit`
 * gives them (seq, time_ns, time, actor, auth, action, target, params,
 * outcome, details, prev_hash, hash; schema.c, v5). Since schema v5 they
 * are stored compactly in the table audit_log, in a form that renders back
 * to exactly the bytes that were hashed:
 *   - actor, auth, action, target and outcome are ids into audit_text (each
 *     distinct text stored once; id 1 is 'scan'); the text is the field,
 *     byte for byte, and NULL stays NULL;
 *   - params and details are kept as given, except details that are exactly
 *     a scan summary
 *         {"scan_id":N,"verdict":"W","changed":M}
 *     with N and M non-negative integers in canonical decimal (no sign, no
 *     leading zeros, at most INT64_MAX) and W matching [a-z0-9_.-]{1,32}:
 *     those are stored as scan_back = seq - N, verdict = the id of W, and
 *     changed = M, and rendered back by that same template. Anything else,
 *     however close (spaces, key order, escapes, a sign), stays text;
 *   - prev_hash is not stored: it is the hash of the row seq - 1;
 *   - there is no time index: time order is seq order (below), so a time
 *     range is found by binary search on seq.
 * An edit to any of this (an id, a shared text in audit_text, a number of a
 * summary) changes a canonical field of every row that uses it, and verify
 * reports the first such row. The stored form itself is not hashed: the same
 * canonical row stored the other way (a summary kept as text) verifies.
 *
 * Chain head. The last row's (seq, hash) is kept in two more places:
 *   1. the table audit_head, updated in the same transaction as each row;
 *   2. the file `audit-head` in the data folder ("anchor"), rewritten
 *      atomically after each commit that added rows, never moving backwards
 *      and never moving past a break (a tampered chain keeps its old anchor
 *      as evidence). It is made with the chain's first row (or at the first
 *      append after a schema upgrade); once made, a missing file is never
 *      made again by an append: verify reports it until audit_reanchor()
 *      records the loss in the chain. Format: three lines,
 *          tmi-console audit head v1
 *          seq <decimal>
 *          hash <64 lower-case hex digits>
 * audit_verify() walks the chain from seq 1 and compares its end with both.
 *
 * What this catches, and what it cannot (honestly):
 *   - an edited row (even with the triggers dropped): its hash no longer
 *     matches (AUDIT_BAD_HASH);
 *   - a row deleted in the middle: seq gap (AUDIT_SEQ_GAP);
 *   - a row replaced with a recomputed hash: the next row's hash, made from
 *     the replaced row's old hash, no longer matches (AUDIT_BAD_HASH at the
 *     next row; its message names both possibilities, as with prev_hash not
 *     stored an edit of that row and a replacement of the one before it look
 *     alike);
 *   - rows deleted at the end: the head (table, and anchor file) names a
 *     later seq (AUDIT_TAIL_MISSING);
 *   - the last row rewritten with a recomputed hash and the audit_head table
 *     updated to match: the anchor file still holds the old hash
 *     (AUDIT_ANCHOR_MISMATCH);
 *   - the whole chain recomputed from some row on: same, the anchor differs.
 * It cannot catch someone who can write both the database and the anchor
 * file (the same folder, the same permissions) and rewrites both
 * consistently: a chain only proves integrity relative to a head kept out of
 * the attacker's reach. So publish the head elsewhere (tmi-console writes it
 * to the Windows event log / a log file after each repair; an administrator
 * can note it) and check against that copy: audit_verify(..., expect, ...)
 * and `tmi-console audit verify --head SEQ:HASH`.
 * Rows committed in the instant before a crash, before the anchor file was
 * rewritten, are reported as `unanchored` (not as broken) until the next
 * append anchors them.
 *
 * The code: audit_chain.c (hash, head text, canonical rows), audit_append.c,
 * audit_anchor.c, audit_read.c (list, JSON) and audit_verify.c (verify,
 * re-anchor); audit_int.h says what they share and which calls which.
 */
#ifndef TMI_AUDIT_H
#define TMI_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct cJSON;

/* Bounds on what is stored from outside (bytes of UTF-8). */
#define AUDIT_MAX_USER   256   /* actor user name */
#define AUDIT_MAX_WORD   32    /* action, outcome, auth: [a-z0-9_.-]+ */
#define AUDIT_MAX_TARGET 4096  /* target (often a path) */
#define AUDIT_MAX_JSON   65536 /* params, details */

/* Who did it. user NULL: the OS user of this process (plat_user_name()).
 * auth: how the user was authenticated: "cli" (local command line), "token"
 * (API bearer token), "session" (web session), "system" (tmi-console itself,
 * e.g. recovery at start), "none" (not authenticated: a failed login). */
typedef struct audit_actor {
    const char *user;
    const char *auth;
} audit_actor;

/* One action. Strings are copied; none is kept after the call. */
typedef struct audit_event {
    const char *action;  /* required: "scan", "backup", "replace", "restart", "login", ... */
    const char *target;  /* optional: a path, a service name, ... */
    const char *params;  /* optional JSON text (object or array), as requested;
                          * params and details are stored (and hashed) byte for
                          * byte as given, not re-encoded */
    const char *outcome; /* required: "ok", "failed", "refused", "started", ... */
    const char *details; /* optional JSON text: hashes/versions before and after, ... */
} audit_event;

/* One stored row (audit_list). All strings are heap, owned by the row. */
typedef struct audit_row {
    int64_t seq;
    int64_t time_ns;
    char *time; /* RFC 3339 UTC with milliseconds */
    char *actor;
    char *auth;
    char *action;
    char *target; /* may be NULL */
    char *params; /* may be NULL */
    char *outcome;
    char *details;         /* may be NULL */
    uint8_t prev_hash[32]; /* the previous row's hash (not stored: schema.c, v5) */
    uint8_t hash[32];
    int64_t job; /* the job the row belongs to, 0 for none (not hashed: schema.c, v7) */
} audit_row;

typedef struct audit_rows {
    audit_row *rows;
    size_t count;
} audit_rows;

/* Filters for audit_list(). Zero-initialise, then set what you need. */
typedef struct audit_query {
    const char *action; /* only this action, or NULL */
    int has_since;
    int64_t since_ns; /* time_ns >= since_ns */
    int has_until;
    int64_t until_ns; /* time_ns < until_ns */
    int64_t before;   /* keyset: only seq < before (0: from the newest) */
    int64_t job;      /* only the rows of this job (> 0), or 0 for all; found by
                       * the index of audit_job, not by a walk of the trail */
    size_t limit;     /* 0: STORE_DEFAULT_LIMIT; capped at STORE_MAX_LIMIT */
} audit_query;

/* The chain's last row. seq 0 (and zero hash) for an empty chain. */
typedef struct audit_head {
    int64_t seq;
    uint8_t hash[32];
} audit_head;

typedef enum audit_break {
    AUDIT_INTACT = 0,
    AUDIT_BAD_ROW,         /* a row has NULL/ill-typed fields or a hash of the wrong size */
    AUDIT_SEQ_GAP,         /* seq does not follow on (row deleted or renumbered) */
    AUDIT_BAD_HASH,        /* the row's fields do not give its hash (row edited, or the
                            * row before it replaced with a recomputed hash) */
    AUDIT_TAIL_MISSING,    /* the head names rows after the last one (tail deleted) */
    AUDIT_HEAD_MISMATCH,   /* the audit_head table disagrees with the last row */
    AUDIT_ANCHOR_MISSING,  /* rows exist but the anchor file does not */
    AUDIT_ANCHOR_MISMATCH, /* the anchored (or expected) row's hash differs: rewritten */
} audit_break;

typedef struct audit_report {
    int intact;         /* 1: no break found */
    int64_t rows;       /* rows walked */
    audit_head head;    /* the last row walked */
    audit_break why;    /* AUDIT_INTACT when intact */
    int64_t broken_seq; /* first broken seq (0 when intact) */
    char detail[256];   /* one English sentence: what is wrong, or "intact" */
    int anchored;       /* the anchor file was present and matched */
    int64_t anchor_seq; /* the anchor's seq (0 if none) */
    int64_t unanchored; /* rows after the anchor (a crash before anchoring) */
} audit_report;

/*
 * Append one row for ev done by actor, in a transaction (joining the
 * caller's if one is open on s: then it is committed, and anchored, with
 * it). Strings are checked: valid UTF-8, within the bounds above; action,
 * outcome and auth match [a-z0-9_.-]+; params/details must parse as JSON.
 * Returns TMI_OK and the new seq in *seq (may be NULL); TMI_EINVAL or
 * TMI_ETOOBIG for bad input (nothing written); TMI_ENOSPC, TMI_EBUSY, ... for
 * storage failures (nothing written).
 */
int audit_append(store *s, const audit_actor *actor, const audit_event *ev, int64_t *seq);

/*
 * A page of rows, newest first, matching q; keyset pagination: pass the last
 * row's seq as q->before for the next page. *out is the caller's: free with
 * audit_rows_free(). TMI_EINVAL for a bad query.
 */
int audit_list(store *s, const audit_query *q, audit_rows *out);

/* One row as the JSON API and `audit --json` show it: {"seq", "time",
 * "time_ns" (a string: exact beyond 2^53), "actor", "auth", "action",
 * "target", "params" and "details" (the JSON they hold, parsed), "outcome",
 * "prev_hash", "hash", "job" (the job the row belongs to, or null: the
 * "job" of its details, or the job that ran the scan a scan summary sums
 * up; not a hashed field)}. The hashed bytes are in the export (export.h). New
 * tree, caller frees; NULL when out of memory. */
struct cJSON *audit_row_json(const audit_row *r);

/* Free the rows and zero *rows. NULL and zeroed lists are fine. */
void audit_rows_free(audit_rows *rows);

/*
 * Recompute the chain from seq 1 and compare its end with the audit_head
 * table, the anchor file, and (when expect is not NULL) the caller's
 * externally kept head: the row expect->seq must exist with expect->hash.
 * Fills *rep with the first break found. Returns TMI_OK when the check ran
 * (whatever its result: look at rep->intact), or an error if it could not
 * run (I/O, locked, no memory). Reads one consistent snapshot; safe while
 * other processes append.
 */
int audit_verify(store *s, const audit_head *expect, audit_report *rep);

/* The report as the JSON API and `audit verify --json` show it: {"intact",
 * "rows", "head" ("SEQ:HEX64"), "break" (audit_break_name()), "broken_seq"
 * (null when 0), "detail", "anchored", "anchor_seq", "unanchored"}. New
 * tree, caller frees; NULL when out of memory. */
struct cJSON *audit_report_json(const audit_report *rep);

/*
 * Anchor the chain anew after its anchor file was lost or damaged: when
 * audit_verify() finds the rows themselves intact and only the anchor file
 * missing or disagreeing, append an "audit_reanchor" row that records what
 * was wrong (the break's name and detail go into its details, so the
 * evidence stays in the chain), then write the anchor at the new head.
 * *before gets the report from before (may be NULL). Returns TMI_OK when
 * re-anchored; TMI_EEXIST when the anchor is in place and matches (nothing
 * done); TMI_ECORRUPT when the rows are broken (nothing done: a broken chain
 * is not blessed); else a storage error.
 */
int audit_reanchor(store *s, const audit_actor *actor, audit_report *before);

/* The last row's seq and hash (from the audit table itself). */
int audit_head_get(store *s, audit_head *out);

/* Short name of a break kind: "intact", "hash mismatch", "seq gap", ... */
const char *audit_break_name(audit_break why);

/* Is w a valid action (or outcome) name: 1 to AUDIT_MAX_WORD bytes of
 * [a-z0-9_.-]? For checking a filter before it reaches audit_list(). */
int audit_word_valid(const char *w);

/* The fields that are hashed; strings may be NULL (encoded as F(NULL)). */
typedef struct audit_fields {
    int64_t seq;
    int64_t time_ns;
    const char *actor;
    const char *auth;
    const char *action;
    const char *target;
    const char *params;
    const char *outcome;
    const char *details;
} audit_fields;

/* hash of one row, as laid out above. TMI_OK or TMI_EIO/TMI_ENOMEM. */
int audit_hash(const uint8_t prev_hash[32], const audit_fields *f, uint8_t out[32]);

/* Parse "SEQ:HEX64" (as printed by `audit verify`). TMI_EINVAL if malformed. */
int audit_head_parse(const char *text, audit_head *out);

/* Format a head as "SEQ:HEX64" into buf (at least 86 bytes); returns buf. */
char *audit_head_format(const audit_head *h, char *buf, size_t buflen);

#endif

/*
 * audit_int.h - what the files of the audit module share (db/ only; the
 * contract for everyone else is audit.h).
 *
 * The module is five files, each calling only the ones listed after it:
 *   audit_verify.c  verify the whole chain, its report as JSON, re-anchor
 *   audit_read.c    list a page of rows, a row as JSON, time range -> seq range
 *   audit_append.c  check an event, store it in the compact form, append
 *   audit_anchor.c  the anchor file: read, write, make at open, move after commit
 *   audit_chain.c   the hash, head text, a row read back in canonical form,
 *                   the last row, the field rules
 * and all of them call store.c (store_int.h). Nothing in store.c calls them:
 * audit_append() asks the store to run audit_anchor_after_commit() after the
 * outermost commit (store_after_commit).
 */
#ifndef TMI_AUDIT_INT_H
#define TMI_AUDIT_INT_H

#include <stdint.h>

#include "audit.h"
#include "store_int.h"

/* ---- audit_chain.c ---- */

/* The hash before seq 1. */
extern const uint8_t audit_zero_hash[32];

/* The columns of the view `audit` that are hashed (and the hash), in this
 * order; audit_chain_row() reads them. */
#define AUDIT_CHAIN_COLUMNS                                                                        \
    "seq, time_ns, actor, auth, action, target, params, outcome, details, hash"

/* An AUDIT_CHAIN_COLUMNS row into *f (strings owned by st until the next
 * step) and *hash (NULL unless 32 bytes). *bad when a field is NULL where it
 * may not be, or of the wrong type, or holds a NUL byte. */
void audit_chain_row(sqlite3_stmt *st, audit_fields *f, const uint8_t **hash, int *bad);

/* The last row's seq and hash (zero for an empty chain), and (time_ns may be
 * NULL) its time. Store errors as store.h. */
int audit_read_last(store *s, audit_head *last, int64_t *time_ns);

/* A decimal seq of 1 to 18 digits (no sign) at p[0..n). TMI_EINVAL if not. */
int audit_parse_seq(const char *p, size_t n, int64_t *out);

/* One byte of an action, outcome, auth or verdict word: [a-z0-9_.-]. */
int audit_word_char(char c);

/* Check word w (what names it in the message): required, at most
 * AUDIT_MAX_WORD bytes of [a-z0-9_.-]. TMI_OK, or TMI_EINVAL / TMI_ETOOBIG
 * with the store's message set. */
int audit_check_word(store *s, const char *what, const char *w);

/* ---- audit_anchor.c ---- */

/* The anchor file's state, as audit_anchor_read() found it. */
typedef enum anchor_state { ANCHOR_NONE, ANCHOR_OK, ANCHOR_BAD } anchor_state;

/* Read the anchor file into *h. ANCHOR_NONE when absent; ANCHOR_BAD when
 * unreadable or malformed (*rc_out carries the read error, if any). */
anchor_state audit_anchor_read(store *s, audit_head *h, int *rc_out);

/* Move the anchor to the chain's last row, under the write lock: only
 * forward, only over rows that continue the chain from the anchored one.
 * adopt: a missing anchor is made (a trail from before anchors), not left
 * missing as evidence. TMI_ECORRUPT (with a message) when the anchor is
 * missing, damaged or the chain does not continue from it: left as is. */
int audit_anchor_sync(store *s, int adopt);

/* Write the empty chain's anchor (seq 0) when the chain has no row and no
 * anchor exists, so that from the first row on a missing anchor is evidence,
 * even after a crash between the first commit and its anchoring. Called by
 * store_open(). */
int audit_anchor_init(store *s);

/* The commit hook audit_append() registers (store_after_commit): anchor the
 * rows just committed. A failure does not undo them; audit_verify() reports
 * them as unanchored until the next append anchors them. */
void audit_anchor_after_commit(store *s);

/* ---- audit_read.c ---- */

/* The seq range [*lo, *hi] holding the audit rows of a time range (since
 * inclusive, until exclusive; a side without has_* is open), found by binary
 * search on seq: it relies on time never going backwards along seq
 * (audit_append), and needs no time index. An empty range comes back with
 * *lo > *hi. Call inside a read snapshot. */
int audit_seq_range(store *s, int has_since, int64_t since_ns, int has_until, int64_t until_ns,
                    int64_t *lo, int64_t *hi);

#endif

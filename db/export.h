/*
 * export.h - file history and audit trail as CSV or JSON, streamed.
 *
 * Output goes through a caller-given write callback in pieces of at most
 * EXPORT_CHUNK bytes, so a server can send it chunked without holding the
 * whole export in memory: one row is built at a time. Rows come oldest
 * first, from one consistent snapshot of the database (rows committed while
 * the export runs are not in it).
 *
 * Time range: since (inclusive) .. until (exclusive), on the observation's
 * time (the scan's start) for history and on the audit row's time for audit.
 *
 * CSV (RFC 4180): UTF-8 without BOM, a header row, CRLF line ends; every
 * text field is quoted with '"' (numbers and true/false are not), and '"'
 * inside is doubled. An SQL NULL is an empty, unquoted field; an empty text
 * is "".
 * Spreadsheet formula injection: an apostrophe (') goes before every place
 * where a spreadsheet could start a cell with a formula: at the start of the
 * text, and after each separator a spreadsheet may split on (',', ';', TAB)
 * or a line break (CR, LF), when what follows - past spaces and '"' - is
 * '=', '+', '-', '@', TAB or CR. So "x;=HYPERLINK(...)" is written as
 * "x;'=HYPERLINK(...)": a reader that splits on ';' (or misreads the
 * quoting) sees text, not a formula. The apostrophes are part of the cell
 * value: remove them before comparing with the database, or use the JSON
 * export, which is exact (numbers, hashes and times never hold those).
 *
 * JSON: one array of objects, one object per line. Audit objects carry
 * time_ns as a decimal string (exact), and params/details as the JSON text
 * exactly as stored (strings, not re-encoded objects), so that an exported
 * trail can be re-verified byte for byte with the layout in audit.h.
 *
 * Columns / keys:
 *   history: id, time, scan_id, path, name, kind, present, size, mtime,
 *            sha256, version, status, known_bad, error
 *   audit:   seq, time, time_ns, actor, auth, action, target, params,
 *            outcome, details, prev_hash, hash
 */
#ifndef TMI_EXPORT_H
#define TMI_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Largest piece handed to the write callback. */
#define EXPORT_CHUNK 16384

/* Write len bytes; return 0, or a negative TMI_E* code to stop the export
 * (which then returns that code). */
typedef int (*export_write_fn)(void *arg, const char *buf, size_t len);

typedef enum export_format {
    EXPORT_CSV = 0,
    EXPORT_JSON = 1,
} export_format;

/* Zero-initialise; set has_since/has_until to filter. */
typedef struct export_range {
    int has_since;
    int64_t since_ns; /* inclusive */
    int has_until;
    int64_t until_ns; /* exclusive */
} export_range;

/*
 * Stream the file history (every observation) / the audit trail in format
 * fmt to write(arg, ...). range may be NULL (everything). TMI_OK after the
 * last byte was written; TMI_EINVAL for a bad range (until <= since) or
 * format; the callback's code if it failed; storage errors as in store.h.
 * On error the output is incomplete: the caller discards it.
 */
int export_history(store *s, export_format fmt, const export_range *range, export_write_fn write,
                   void *arg);
int export_audit(store *s, export_format fmt, const export_range *range, export_write_fn write,
                 void *arg);

/* Write one CSV field (the rules above) for text (NULL: empty field). Used
 * by the exports; public so the encoding can be tested on its own. */
int export_csv_field(const char *text, export_write_fn write, void *arg);

/* Parse "csv"/"json" into *fmt; TMI_EINVAL otherwise. */
int export_format_parse(const char *name, export_format *fmt);

#endif

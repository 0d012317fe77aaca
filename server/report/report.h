/*
 * report.h - the incident report: what one job did, or the state now, as
 * one printable HTML document an administrator attaches to a change ticket.
 * The HTTP API (GET /api/jobs/{id}/report, GET /api/report) and the CLI
 * (`tmi-console report JOB_ID|now`) make the same document from the same
 * model.
 *
 * Two steps. report_gather_job() / report_gather_now() read the store
 * (the job's journal row and steps, its scans, its audit rows through
 * job_trail.h, a verification of the whole chain) and the system (host
 * name, the service's state, the event evidence) into a `report`.
 * report_html() writes it as HTML: every text from the store or the system
 * is escaped; the document carries no script and no inline style (the
 * console's CSP): it links the stylesheet /assets/report.css (web/report.css,
 * with its print rules), or, for a file written by the CLI, holds that
 * stylesheet's text in a <style> element.
 *
 * Times are the server's local time with its UTC offset
 * ("2026-12-02 12:27:51 +01:00").
 *
 * A job's files before are those of the job's first scan (its check before
 * it changed anything, which is also what its backup holds), or, when the
 * job made only one scan, of the newest scan before the job; after are those
 * of its last scan.
 *
 * Ownership: a report owns everything in it; report_release() frees it.
 */
#ifndef TMI_REPORT_H
#define TMI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "playbook.h"
#include "store.h"
#include "strutil.h"
#include "target.h"

struct cJSON;

/* One of the playbook's files, before and after ("" where unknown). */
typedef struct report_file {
    char name[64];
    char before_version[32], after_version[32];
    char before_sha256[65], after_sha256[65];
    char before_status[32], after_status[32];
    /* The signature in words: "valid, O=<organization>", "unsigned",
     * "invalid: <reason>" ("" where the scan recorded none). */
    char before_sig[160], after_sig[160];
} report_file;

/* Most files a report lists. */
#define REPORT_MAX_FILES 32

typedef struct report {
    int64_t job_id;    /* 0: the report of the state now */
    char host[256];    /* the server's name */
    int64_t made_ns;   /* when the report was made */
    struct cJSON *job; /* the job (jobs_get_json), or for "now" the last job
                        * (jobs_list_json's first item), or NULL */
    char summary[256]; /* the job's change in one line ("" for now) */
    char verdict_before[32], verdict_after[32]; /* "" when no scan */
    int64_t scan_before, scan_after;            /* scan ids, 0 when none */
    char tmi_dir[512];
    char root[512]; /* the root the job or the scan recorded ("" unknown) */
    report_file files[REPORT_MAX_FILES];
    size_t n_files;
    struct cJSON *service; /* evidence.h's service object, read now */
    struct cJSON *events;  /* evidence.h's events array, read now */
    audit_rows audit;      /* the job's audit rows (none for now) */
    audit_head job_head;   /* the chain head after the job's last row (seq 0: none) */
    int verify_ran;        /* the chain was verified (verify is the result) */
    audit_report verify;
} report;

/* Gather the report of job job_id. t: the target whose service and event
 * log are read; NULL to take the root the job (or the latest scan) recorded,
 * with playbook pb (the service is then "unknown" when that root is gone).
 * TMI_OK; TMI_ENOENT for an unknown job; else a store error; err (errlen
 * bytes) says what went wrong. On error nothing is left to release. */
int report_gather_job(store *s, const tmi_target *t, const playbook *pb, int64_t job_id,
                      report *out, char *err, size_t errlen);

/* Gather the report of the state now (latest scan, service, evidence, last
 * job, chain). t and pb, errors as report_gather_job. */
int report_gather_now(store *s, const tmi_target *t, const playbook *pb, report *out, char *err,
                      size_t errlen);

/* Free what the report holds and zero it. */
void report_release(report *r);

/* The document. css: NULL to link /assets/report.css, else the stylesheet's
 * text to hold in a <style> element (a file opened without the server).
 * *out is a new NUL-terminated string of *len bytes (caller frees).
 * TMI_OK or TMI_ENOMEM. */
int report_html(const report *r, const char *css, char **out, size_t *len);

/* The file name to save it as: "tmi-console-job-12.html" or
 * "tmi-console-report.html". */
void report_file_name(const report *r, char *buf, size_t buflen);

/* ---- the pieces, public so they can be tested on their own ---- */

/* A growing text; on allocation failure it stops growing and remembers
 * (ok = 0). Zero-initialise, set ok = 1. */
typedef str_buf report_buf; /* strutil.h */

void report_buf_add(report_buf *b, const char *s, size_t n);
void report_buf_str(report_buf *b, const char *s);

/* s (NULL: nothing) as HTML text or attribute value: & < > " ' as
 * entities, control characters other than tab and line feed dropped,
 * bytes that are not UTF-8 replaced by U+FFFD. */
void report_buf_escaped(report_buf *b, const char *s);

/* ns as the server's local time with its offset from UTC, into buf (at
 * least 32 bytes): "2026-12-02 12:27:51 +01:00". Returns buf. */
char *report_time(int64_t ns, char *buf, size_t buflen);

#endif

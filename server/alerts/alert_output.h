/*
 * alert_output.h - one output inside the alerts library (internal; the
 * contract users see is alerts.h): its bounded queue of formatted alerts,
 * the state alert_outputs_status_get() shows, the thread that delivers, and the
 * "report once" bookkeeping the three outputs share.
 *
 * Threads: output_push and output_status run on the callers' threads;
 * everything else on the output's own thread. All fields below "under mu"
 * are read and written with mu held, and mu is never held across I/O or a
 * call to the report function.
 *
 * Reports: a change of state queues one line (output_failed when the output
 * starts failing, output_push when it starts dropping, output_delivered /
 * output_connected when it works again, output_finish for what shutdown
 * leaves); the output's thread hands them to cfg->report with
 * output_flush_reports, outside the lock.
 */
#ifndef TMI_ALERT_OUTPUT_H
#define TMI_ALERT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "plat.h"

/* One formatted alert in a queue. */
typedef struct alert_entry {
    struct alert_entry *next;
    unsigned event_id; /* the event log's ID */
    int level;         /* the event log's level (plat_event) */
    size_t len;
    char data[]; /* syslog: the RFC 5424 message; file: the JSON line;
                    event log: ALERT_EVENT_STRINGS strings, each NUL-ended */
} alert_entry;

/* A new entry holding a copy of data[0..len) (and a NUL after it); NULL
 * when out of memory. */
alert_entry *alert_entry_new(const void *data, size_t len);

#define OUTPUT_REPORTS_MAX 4

typedef struct alert_output {
    /* set up before the thread starts, read-only afterwards */
    int configured;
    int kind; /* ALERT_OUT_* */
    char target[ALERT_TARGET_MAX];
    size_t queue_max;
    int keeps_failed; /* 1: an alert that failed stays queued (syslog) */
    void (*report)(void *arg, const char *line);
    void *report_arg;
    void (*wake)(struct alert_output *o); /* also wake the thread (or NULL) */
    void *impl;                           /* the output's own state */
    plat_thread *thread;

    plat_mutex *mu;
    plat_cond *cv; /* signalled by push and stop */
    /* under mu */
    alert_entry *head, *tail;
    size_t queued;
    int state;     /* ALERT_STATE_* */
    int dropping;  /* the queue was full and nothing was delivered since */
    uint64_t mark; /* `dropped` when the current bad period began */
    uint64_t sent, dropped;
    char error[ALERT_ERROR_MAX];
    int64_t error_ns, sent_ns;
    int stop;
    int64_t deadline_ns; /* monotonic: delivery ends here once stopping */
    int done;            /* the thread has finished */
    char reports[OUTPUT_REPORTS_MAX][640];
    int nreports;
} alert_output;

/* Set up o (zeroed first) for an output of kind that writes to target.
 * TMI_OK or TMI_ENOMEM. */
int output_init(alert_output *o, int kind, const char *target, size_t queue_max,
                void (*report)(void *, const char *), void *report_arg);

/* Free what is queued and the lock; the thread must have finished. */
void output_release(alert_output *o);

/* Append e (taken) to the queue and wake the thread; when the queue is full,
 * free e and count it as dropped. Caller's thread; never blocks on I/O. */
void output_push(alert_output *o, alert_entry *e);

/* The next entry to deliver (it stays queued), waiting for one when wait is
 * set; NULL when the queue is empty (and wait is 0), or when the output is
 * stopping and the queue is empty or the flush deadline has passed.
 * *stopping (may be NULL) tells whether stop was asked. */
alert_entry *output_next(alert_output *o, int wait, int *stopping, int64_t *deadline_ns);

/* The head entry was delivered: unqueue and free it, count it, and when
 * confirm is set, mark the output working. A recovery (from failing or
 * dropping) is reported when the queue has drained. */
void output_delivered(alert_output *o, int confirm);

/* The output works (a connection is up): mark it so, reporting a recovery. */
void output_connected(alert_output *o);

/* An attempt failed with error (one line): mark the output failing (the
 * first failure is reported), and when drop is set unqueue the head entry,
 * free it and count it as dropped. */
void output_failed(alert_output *o, const char *error, int drop);

/* Hand the queued report lines to the report function. Output thread. */
void output_flush_reports(alert_output *o);

/* Ask the thread to stop, delivering until deadline_ns (monotonic). */
void output_stop(alert_output *o, int64_t deadline_ns);

/* The thread's last act: drop (count and report) what is still queued,
 * flush the reports, and set done. */
void output_finish(alert_output *o);

/* Is the output asked to stop? *deadline_ns (may be NULL) is then when
 * delivery must end. */
int output_stopping(alert_output *o, int64_t *deadline_ns);

/* Has the thread finished? */
int output_done(alert_output *o);

/* A snapshot for alert_outputs_status_get. */
void output_status(alert_output *o, alert_output_status *st);

#endif

/*
 * workq.h - one background thread that runs jobs in the order they are
 * handed to it, while the caller goes on with the next one.
 *
 * The scan uses it to check each file's signature (a second pass over the
 * file's bytes, then the chain) while the scanning thread hashes the same
 * bytes and goes on to the next file: the two passes run side by side.
 *
 * Ownership: the caller owns each job (usually embedding workq_job in its
 * own struct). The worker calls job->run(job) once, and never touches the
 * job after run returns, so run may free it.
 *
 * Bound: each job has a weight (the scan's: the bytes the job holds), and
 * the unfinished jobs (queued or running) weigh at most the queue's budget,
 * or are a single job when one alone weighs more: workq_submit blocks until
 * enough have finished. The budget is meant to be generous: a submitter
 * that blocks at every job makes the two threads take turns instead of
 * running side by side (measured: two 16 MiB hashing passes handed over
 * file by file took 1.8 times as long as one when the queue held two files,
 * 1.2 times when it held them all). One thread submits; the queue is not
 * meant to be shared by several submitters.
 *
 * Lingering: after a job the worker watches for the next one for half a
 * millisecond before it sleeps. A thread woken from sleep is often put on
 * the core of the thread that woke it, where the two then take turns; one
 * that never slept keeps its own core. Before its first job, and once a
 * pause outlasts the half millisecond, the worker sleeps and costs nothing.
 * For the same reason the worker moves off the submitter's processor when
 * it starts (plat_thread_avoid_cpu).
 */
#ifndef TMI_WORKQ_H
#define TMI_WORKQ_H

#include <stddef.h>

typedef struct workq workq;

typedef struct workq_job {
    void (*run)(struct workq_job *job); /* called on the worker thread */
    struct workq_job *next;             /* the queue's own link */
    size_t weight;                      /* the queue's: as submitted */
} workq_job;

/* Start a queue with its thread. budget: the weight the unfinished jobs
 * may have together (see above). TMI_OK with *out set, TMI_ENOMEM, or TMI_EIO when no thread
 * could be made (*out is then NULL, and the caller can run its jobs itself:
 * workq_submit(NULL, job) does). */
int workq_start(size_t budget, workq **out);

/* Hand job, of the given weight, to the worker, waiting while it would take
 * the unfinished jobs over the budget. With q NULL the job runs here, now. */
void workq_submit(workq *q, workq_job *job, size_t weight);

/* Wait until every job submitted so far has run. NULL: returns. */
void workq_drain(workq *q);

/* Drain, end the thread and free the queue. NULL: does nothing. */
void workq_stop(workq *q);

#endif

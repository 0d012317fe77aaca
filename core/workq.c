/*
 * workq.c - a one-thread job queue (workq.h) over plat's threads, mutexes
 * and condition variables.
 */
#include "workq.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "plat.h"

/* How long the worker keeps its core after a job, watching for the next,
 * before it sleeps (see workq.h). */
#define WORKQ_LINGER_NS 500000

struct workq {
    plat_mutex *mu;
    plat_cond *work;        /* signalled: a job was queued, or stopping */
    plat_cond *done;        /* broadcast: a job finished */
    workq_job *head, *tail; /* queued, not yet taken by the worker */
    size_t unfinished;      /* jobs queued + running */
    size_t weight;          /* and their weight */
    size_t budget;
    int stopping;
    atomic_int queued; /* head != NULL or stopping, read without the lock */
    plat_thread *thread;
    int cpu; /* the submitter's processor when the queue started, or -1 */
};

/* Wait up to WORKQ_LINGER_NS for a job or a stop without giving up the
 * core (plat_now_ns is read every 256 polls only). */
static void linger(workq *q)
{
    int64_t until = plat_now_ns() + WORKQ_LINGER_NS;
    for (unsigned i = 1; atomic_load_explicit(&q->queued, memory_order_acquire) == 0; i++) {
        if ((i & 255) == 0 && plat_now_ns() > until)
            return;
    }
}

static void worker(void *arg)
{
    workq *q = arg;
    plat_thread_avoid_cpu(q->cpu); /* run beside the submitter, not in turns with it */
    int after_job = 0;
    plat_mutex_lock(q->mu);
    for (;;) {
        if (q->head == NULL && !q->stopping && after_job) {
            plat_mutex_unlock(q->mu);
            linger(q);
            plat_mutex_lock(q->mu);
        }
        while (q->head == NULL && !q->stopping)
            plat_cond_wait(q->work, q->mu);
        if (q->head == NULL)
            break; /* stopping, and nothing left */
        workq_job *job = q->head;
        q->head = job->next;
        if (q->head == NULL) {
            q->tail = NULL;
            atomic_store_explicit(&q->queued, q->stopping, memory_order_release);
        }
        plat_mutex_unlock(q->mu);
        size_t weight = job->weight;
        job->run(job); /* may free job */
        after_job = 1;
        plat_mutex_lock(q->mu);
        q->unfinished--;
        q->weight -= weight;
        plat_cond_broadcast(q->done);
    }
    plat_mutex_unlock(q->mu);
}

static void workq_free(workq *q)
{
    plat_cond_free(q->work);
    plat_cond_free(q->done);
    plat_mutex_free(q->mu);
    free(q);
}

int workq_start(size_t budget, workq **out)
{
    *out = NULL;
    workq *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return TMI_ENOMEM;
    q->budget = budget;
    atomic_init(&q->queued, 0);
    if (plat_mutex_new(&q->mu) != TMI_OK || plat_cond_new(&q->work) != TMI_OK ||
        plat_cond_new(&q->done) != TMI_OK) {
        workq_free(q);
        return TMI_ENOMEM;
    }
    q->cpu = plat_cpu_current();
    int rc = plat_thread_spawn(worker, q, &q->thread);
    if (rc != TMI_OK) {
        workq_free(q);
        return rc;
    }
    *out = q;
    return TMI_OK;
}

void workq_submit(workq *q, workq_job *job, size_t weight)
{
    if (q == NULL) {
        job->run(job);
        return;
    }
    job->next = NULL;
    job->weight = weight;
    plat_mutex_lock(q->mu);
    while (q->unfinished > 0 && (weight > q->budget || q->weight > q->budget - weight))
        plat_cond_wait(q->done, q->mu);
    if (q->tail != NULL)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->unfinished++;
    q->weight += weight;
    atomic_store_explicit(&q->queued, 1, memory_order_release);
    plat_cond_signal(q->work);
    plat_mutex_unlock(q->mu);
}

void workq_drain(workq *q)
{
    if (q == NULL)
        return;
    plat_mutex_lock(q->mu);
    while (q->unfinished > 0)
        plat_cond_wait(q->done, q->mu);
    plat_mutex_unlock(q->mu);
}

void workq_stop(workq *q)
{
    if (q == NULL)
        return;
    plat_mutex_lock(q->mu);
    q->stopping = 1;
    atomic_store_explicit(&q->queued, 1, memory_order_release);
    plat_cond_signal(q->work);
    plat_mutex_unlock(q->mu);
    plat_thread_join(q->thread); /* the worker empties the queue before it ends */
    workq_free(q);
}

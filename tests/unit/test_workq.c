/* test_workq.c - the one-thread job queue: jobs run once each, in order, on
 * another thread; the unfinished jobs never weigh more than the budget
 * (or are one heavy job alone); stop runs what is queued; no queue runs
 * the job at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"
#include "workq.h"

#define N_JOBS 64

/* What every job of one test shares. */
typedef struct shared {
    plat_mutex *mu;
    int order[N_JOBS]; /* job ids in the order they ran */
    int n_run;
    size_t weight_out; /* weight submitted and not yet finished */
    size_t max_weight_out;
    int max_jobs_out;
    int jobs_out;
    int slow;        /* each job sleeps 1 ms, so the submitter runs ahead */
    atomic_int gate; /* job 0 waits until this is 1 (when gated) */
    int gated;
} shared;

typedef struct test_job {
    workq_job base;
    shared *sh;
    int id;
    size_t weight;
    int ran_here; /* ran on the submitting thread */
} test_job;

static _Thread_local int on_submitter;

static void run(workq_job *base)
{
    test_job *j = (test_job *)base;
    shared *sh = j->sh;
    while (sh->gated && j->id == 0 && atomic_load(&sh->gate) == 0)
        plat_sleep_ms(1);
    if (sh->slow)
        plat_sleep_ms(1);
    j->ran_here = on_submitter;
    plat_mutex_lock(sh->mu);
    sh->order[sh->n_run++] = j->id;
    sh->weight_out -= j->weight;
    sh->jobs_out--;
    plat_mutex_unlock(sh->mu);
}

/* Submit, keeping the books the budget is checked against: the weight is
 * counted as out before the submit (which may block until there is room)
 * and the peak is taken after it returns, when the job is in. */
static void submit(workq *q, shared *sh, test_job *j)
{
    plat_mutex_lock(sh->mu);
    sh->weight_out += j->weight;
    sh->jobs_out++;
    plat_mutex_unlock(sh->mu);
    workq_submit(q, &j->base, j->weight);
    plat_mutex_lock(sh->mu);
    if (sh->weight_out > sh->max_weight_out)
        sh->max_weight_out = sh->weight_out;
    if (sh->jobs_out > sh->max_jobs_out)
        sh->max_jobs_out = sh->jobs_out;
    plat_mutex_unlock(sh->mu);
}

static void setup_shared(shared *sh, int slow)
{
    memset(sh, 0, sizeof(*sh));
    assert_int_equal(plat_mutex_new(&sh->mu), TMI_OK);
    sh->slow = slow;
    atomic_init(&sh->gate, 0);
    on_submitter = 1;
}

static void jobs_run_once_in_order_elsewhere(void **state)
{
    (void)state;
    shared sh;
    test_job jobs[N_JOBS];
    workq *q = NULL;
    setup_shared(&sh, 0);
    assert_int_equal(workq_start(1000, &q), TMI_OK);
    for (int i = 0; i < N_JOBS; i++) {
        jobs[i] = (test_job){{run, NULL, 0}, &sh, i, 1, -1};
        submit(q, &sh, &jobs[i]);
    }
    workq_drain(q);
    assert_int_equal(sh.n_run, N_JOBS); /* drained: all ran, none twice */
    for (int i = 0; i < N_JOBS; i++) {
        assert_int_equal(sh.order[i], i);
        assert_int_equal(jobs[i].ran_here, 0);
    }
    workq_stop(q);
    plat_mutex_free(sh.mu);
}

static void budget_bounds_unfinished_weight(void **state)
{
    (void)state;
    shared sh;
    test_job jobs[N_JOBS];
    workq *q = NULL;
    setup_shared(&sh, 1); /* slow jobs: the submitter hits the budget */
    sh.gated = 1;         /* and job 0 holds until three are in */
    assert_int_equal(workq_start(10, &q), TMI_OK);
    for (int i = 0; i < 24; i++) {
        jobs[i] = (test_job){{run, NULL, 0}, &sh, i, 3, -1};
        submit(q, &sh, &jobs[i]);
        if (i == 2) {
            assert_int_equal(sh.jobs_out, 3); /* the budget takes three of 3 */
            atomic_store(&sh.gate, 1);
        }
    }
    workq_stop(q); /* runs what is queued, then ends */
    assert_int_equal(sh.n_run, 24);
    assert_true(sh.max_weight_out <= 10); /* never a fourth on top */
    plat_mutex_free(sh.mu);
}

static void heavy_job_runs_alone(void **state)
{
    (void)state;
    shared sh;
    test_job jobs[6];
    workq *q = NULL;
    setup_shared(&sh, 1);
    assert_int_equal(workq_start(10, &q), TMI_OK);
    size_t weights[6] = {2, 2, 50, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        jobs[i] = (test_job){{run, NULL, 0}, &sh, i, weights[i], -1};
        submit(q, &sh, &jobs[i]);
        if (i == 2) /* the heavy one went in only once the others were done */
            assert_true(sh.jobs_out <= 1);
    }
    workq_stop(q);
    assert_int_equal(sh.n_run, 6);
    assert_int_equal(sh.max_weight_out, 50);
    plat_mutex_free(sh.mu);
}

static void no_queue_runs_job_at_once(void **state)
{
    (void)state;
    shared sh;
    setup_shared(&sh, 0);
    test_job j = {{run, NULL, 0}, &sh, 7, 1, -1};
    submit(NULL, &sh, &j);
    assert_int_equal(sh.n_run, 1); /* already ran, here */
    assert_int_equal(j.ran_here, 1);
    workq_drain(NULL);
    workq_stop(NULL);
    plat_mutex_free(sh.mu);
}

/* A job may free itself in run: the queue does not touch it after. */
typedef struct counted_job {
    workq_job base;
    atomic_int *count;
} counted_job;

static void self_free(workq_job *base)
{
    counted_job *j = (counted_job *)base;
    atomic_fetch_add(j->count, 1);
    free(j);
}

static void job_may_free_itself(void **state)
{
    (void)state;
    atomic_int count;
    atomic_init(&count, 0);
    workq *q = NULL;
    assert_int_equal(workq_start(4, &q), TMI_OK);
    for (int i = 0; i < 100; i++) {
        counted_job *j = malloc(sizeof(*j));
        assert_non_null(j);
        j->base.run = self_free;
        j->count = &count;
        workq_submit(q, &j->base, 1);
    }
    workq_stop(q); /* under the sanitizer a touch after free would fail here */
    assert_int_equal(atomic_load(&count), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jobs_run_once_in_order_elsewhere),
        cmocka_unit_test(budget_bounds_unfinished_weight),
        cmocka_unit_test(heavy_job_runs_alone),
        cmocka_unit_test(no_queue_runs_job_at_once),
        cmocka_unit_test(job_may_free_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * thread_posix.c - threads, mutexes and condition variables (plat.h) with
 * POSIX threads.
 */
#define _GNU_SOURCE /* sched_getcpu, pthread_{get,set}affinity_np */
#include "plat.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "err.h"

struct plat_mutex {
    pthread_mutex_t mu;
};

int plat_mutex_new(plat_mutex **out)
{
    plat_mutex *m = malloc(sizeof(*m));
    if (m == NULL)
        return TMI_ENOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return TMI_ENOMEM;
    }
    *out = m;
    return TMI_OK;
}

void plat_mutex_lock(plat_mutex *m)
{
    pthread_mutex_lock(&m->mu);
}

void plat_mutex_unlock(plat_mutex *m)
{
    pthread_mutex_unlock(&m->mu);
}

void plat_mutex_free(plat_mutex *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

typedef struct thread_start {
    void (*fn)(void *);
    void *arg;
} thread_start;

static void *thread_main(void *p)
{
    thread_start ts = *(thread_start *)p;
    free(p);
    ts.fn(ts.arg);
    return NULL;
}

int plat_thread_start(void (*fn)(void *), void *arg)
{
    pthread_t t;
    pthread_attr_t attr;
    thread_start *ts = malloc(sizeof(*ts));
    int rc;
    if (ts == NULL)
        return TMI_ENOMEM;
    ts->fn = fn;
    ts->arg = arg;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&t, &attr, thread_main, ts);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(ts);
        return rc == EAGAIN ? TMI_EIO : TMI_ENOMEM;
    }
    return TMI_OK;
}

/* ---- condition variables ---- */

struct plat_cond {
    pthread_cond_t cv;
};

int plat_cond_new(plat_cond **out)
{
    plat_cond *c = malloc(sizeof(*c));
    if (c == NULL)
        return TMI_ENOMEM;
    if (pthread_cond_init(&c->cv, NULL) != 0) {
        free(c);
        return TMI_ENOMEM;
    }
    *out = c;
    return TMI_OK;
}

void plat_cond_wait(plat_cond *c, plat_mutex *m)
{
    pthread_cond_wait(&c->cv, &m->mu);
}

void plat_cond_signal(plat_cond *c)
{
    pthread_cond_signal(&c->cv);
}

void plat_cond_broadcast(plat_cond *c)
{
    pthread_cond_broadcast(&c->cv);
}

void plat_cond_free(plat_cond *c)
{
    if (c == NULL)
        return;
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* ---- joinable threads ---- */

struct plat_thread {
    pthread_t t;
    void (*fn)(void *);
    void *arg;
};

static void *joinable_main(void *p)
{
    plat_thread *t = p;
    t->fn(t->arg);
    return NULL;
}

int plat_thread_spawn(void (*fn)(void *), void *arg, plat_thread **out)
{
    plat_thread *t = malloc(sizeof(*t));
    int rc;
    if (t == NULL)
        return TMI_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    rc = pthread_create(&t->t, NULL, joinable_main, t);
    if (rc != 0) {
        free(t);
        return rc == EAGAIN ? TMI_EIO : TMI_ENOMEM;
    }
    *out = t;
    return TMI_OK;
}

void plat_thread_join(plat_thread *t)
{
    if (t == NULL)
        return;
    pthread_join(t->t, NULL);
    free(t);
}

int plat_cpu_current(void)
{
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

void plat_thread_avoid_cpu(int cpu)
{
#ifdef __linux__
    cpu_set_t all, others;
    pthread_t self = pthread_self();
    if (cpu < 0 || cpu >= CPU_SETSIZE || pthread_getaffinity_np(self, sizeof(all), &all) != 0 ||
        !CPU_ISSET(cpu, &all) || CPU_COUNT(&all) < 2)
        return;
    others = all;
    CPU_CLR(cpu, &others);
    /* the kernel moves the thread at once; the full set back then leaves
     * it where it is, and free to move */
    if (pthread_setaffinity_np(self, sizeof(others), &others) == 0)
        pthread_setaffinity_np(self, sizeof(all), &all);
#else
    (void)cpu;
#endif
}

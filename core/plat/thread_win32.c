/*
 * thread_win32.c - threads, mutexes (SRW locks) and condition variables
 * (plat.h) with the Win32 API. Threads start with _beginthreadex, not
 * CreateThread: they use the C runtime.
 */
#include <windows.h>

#include <process.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "plat.h"

struct plat_mutex {
    SRWLOCK lock;
};

int plat_mutex_new(plat_mutex **out)
{
    plat_mutex *m = malloc(sizeof(*m));
    if (m == NULL)
        return TMI_ENOMEM;
    InitializeSRWLock(&m->lock);
    *out = m;
    return TMI_OK;
}

void plat_mutex_lock(plat_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

void plat_mutex_unlock(plat_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

void plat_mutex_free(plat_mutex *m)
{
    free(m); /* an SRW lock needs no teardown */
}

/* ---- threads ---- */

typedef struct thread_start {
    void (*fn)(void *);
    void *arg;
} thread_start;

static unsigned __stdcall thread_main(void *p)
{
    thread_start ts = *(thread_start *)p;
    free(p);
    ts.fn(ts.arg);
    return 0;
}

int plat_thread_start(void (*fn)(void *), void *arg)
{
    thread_start *ts = malloc(sizeof(*ts));
    uintptr_t h;
    if (ts == NULL)
        return TMI_ENOMEM;
    ts->fn = fn;
    ts->arg = arg;
    /* _beginthreadex, not CreateThread: the thread uses the C runtime */
    h = _beginthreadex(NULL, 0, thread_main, ts, 0, NULL);
    if (h == 0) {
        free(ts);
        return TMI_EIO;
    }
    CloseHandle((HANDLE)h); /* detached */
    return TMI_OK;
}

/* ---- condition variables ---- */

struct plat_cond {
    CONDITION_VARIABLE cv;
};

int plat_cond_new(plat_cond **out)
{
    plat_cond *c = malloc(sizeof(*c));
    if (c == NULL)
        return TMI_ENOMEM;
    InitializeConditionVariable(&c->cv);
    *out = c;
    return TMI_OK;
}

void plat_cond_wait(plat_cond *c, plat_mutex *m)
{
    SleepConditionVariableSRW(&c->cv, &m->lock, INFINITE, 0);
}

void plat_cond_signal(plat_cond *c)
{
    WakeConditionVariable(&c->cv);
}

void plat_cond_broadcast(plat_cond *c)
{
    WakeAllConditionVariable(&c->cv);
}

void plat_cond_free(plat_cond *c)
{
    free(c); /* a condition variable needs no teardown */
}

/* ---- joinable threads ---- */

struct plat_thread {
    HANDLE h;
    void (*fn)(void *);
    void *arg;
};

static unsigned __stdcall joinable_main(void *p)
{
    plat_thread *t = p;
    t->fn(t->arg);
    return 0;
}

int plat_thread_spawn(void (*fn)(void *), void *arg, plat_thread **out)
{
    plat_thread *t = malloc(sizeof(*t));
    uintptr_t h;
    if (t == NULL)
        return TMI_ENOMEM;
    t->fn = fn;
    t->arg = arg;
    h = _beginthreadex(NULL, 0, joinable_main, t, 0, NULL);
    if (h == 0) {
        free(t);
        return TMI_EIO;
    }
    t->h = (HANDLE)h;
    *out = t;
    return TMI_OK;
}

void plat_thread_join(plat_thread *t)
{
    if (t == NULL)
        return;
    WaitForSingleObject(t->h, INFINITE);
    CloseHandle(t->h);
    free(t);
}

int plat_cpu_current(void)
{
    return (int)GetCurrentProcessorNumber();
}

void plat_thread_avoid_cpu(int cpu)
{
    DWORD_PTR mask = 0, sys = 0;
    int n = 0;
    if (cpu < 0 || !GetProcessAffinityMask(GetCurrentProcess(), &mask, &sys))
        return;
    for (DWORD_PTR m = mask; m != 0; m &= m - 1)
        n++;
    if (n < 2)
        return;
    /* the next processor the process may use after cpu, wrapping round */
    for (int i = 1; i < (int)(8 * sizeof(mask)); i++) {
        int c = (cpu + i) % (int)(8 * sizeof(mask));
        if (mask & ((DWORD_PTR)1 << c)) {
            SetThreadIdealProcessor(GetCurrentThread(), (DWORD)c);
            return;
        }
    }
}

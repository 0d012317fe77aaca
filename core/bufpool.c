/*
 * bufpool.c - reusable read buffers (bufpool.h): a small array under a lock.
 */
#include "bufpool.h"

#include <stdlib.h>

#include "err.h"

struct bufpool {
    plat_mutex *mu;
    plat_cond *back; /* broadcast: a buffer was given back */
    plat_buf *kept;  /* [0..n) */
    size_t n, keep, max_cap;
    size_t out, limit; /* taken and not given back; at most limit (0: any) */
};

int bufpool_new(size_t keep, size_t max_cap, size_t limit, bufpool **out)
{
    bufpool *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (p == NULL)
        return TMI_ENOMEM;
    p->keep = keep;
    p->max_cap = max_cap;
    p->limit = limit;
    p->kept = keep > 0 ? calloc(keep, sizeof(*p->kept)) : NULL;
    if ((keep == 0 || p->kept != NULL) && plat_mutex_new(&p->mu) == TMI_OK) {
        if (plat_cond_new(&p->back) == TMI_OK) {
            *out = p;
            return TMI_OK;
        }
        plat_mutex_free(p->mu);
    }
    free(p->kept);
    free(p);
    return TMI_ENOMEM;
}

void bufpool_take(bufpool *p, plat_buf *buf)
{
    buf->data = NULL;
    buf->cap = 0;
    if (p == NULL)
        return;
    plat_mutex_lock(p->mu);
    while (p->limit > 0 && p->out >= p->limit)
        plat_cond_wait(p->back, p->mu);
    p->out++;
    if (p->n > 0) {
        size_t best = 0;
        for (size_t i = 1; i < p->n; i++) {
            if (p->kept[i].cap > p->kept[best].cap)
                best = i;
        }
        *buf = p->kept[best];
        p->kept[best] = p->kept[--p->n];
    }
    plat_mutex_unlock(p->mu);
}

void bufpool_give(bufpool *p, plat_buf *buf)
{
    if (p != NULL) {
        plat_mutex_lock(p->mu);
        if (buf->data != NULL && buf->cap <= p->max_cap && p->n < p->keep) {
            p->kept[p->n++] = *buf;
            buf->data = NULL;
            buf->cap = 0;
        }
        if (p->out > 0)
            p->out--;
        plat_cond_broadcast(p->back);
        plat_mutex_unlock(p->mu);
    }
    plat_buf_free(buf); /* not kept (when kept, buf is empty already) */
}

void bufpool_free(bufpool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        plat_buf_free(&p->kept[i]);
    free(p->kept);
    plat_cond_free(p->back);
    plat_mutex_free(p->mu);
    free(p);
}

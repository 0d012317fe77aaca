/* test_bufpool.c - the scan's reusable read buffers: a buffer given back is
 * the one taken next (the largest first); the pool keeps no more than its
 * count and no buffer over its size; without a pool every buffer is new and
 * freed; buffers given back from other threads are kept and taken again;
 * under a limit, a take waits until a buffer is given back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>

#include "bufpool.h"
#include "err.h"
#include "plat.h"

static plat_buf new_buf(size_t cap)
{
    plat_buf b = {NULL, 0};
    assert_int_equal(plat_buf_reserve(&b, cap), TMI_OK);
    return b;
}

static void given_back_is_taken_again(void **state)
{
    bufpool *p;
    plat_buf a = new_buf(65536), b = new_buf(4 * 65536), t;
    uint8_t *pa = a.data, *pb = b.data;
    (void)state;
    assert_int_equal(bufpool_new(4, 1 << 20, 0, &p), TMI_OK);
    bufpool_take(p, &t); /* empty pool: an empty buffer */
    assert_null(t.data);
    assert_int_equal(t.cap, 0);

    bufpool_give(p, &a);
    assert_null(a.data); /* the pool's now */
    bufpool_give(p, &b);
    bufpool_take(p, &t);
    assert_ptr_equal(t.data, pb); /* the largest first */
    assert_int_equal(t.cap, 4 * 65536);
    plat_buf u;
    bufpool_take(p, &u);
    assert_ptr_equal(u.data, pa);
    bufpool_take(p, &a);
    assert_null(a.data);
    bufpool_give(p, &t);
    bufpool_give(p, &u);
    bufpool_free(p); /* frees both (ASan: no leak) */
}

static void keeps_no_more_than_asked(void **state)
{
    bufpool *p;
    plat_buf b[3], big = new_buf(2 << 20), t;
    (void)state;
    assert_int_equal(bufpool_new(2, 1 << 20, 0, &p), TMI_OK);
    for (int i = 0; i < 3; i++)
        b[i] = new_buf(65536 * (size_t)(i + 1));
    uint8_t *kept0 = b[0].data, *kept1 = b[1].data;
    for (int i = 0; i < 3; i++) {
        bufpool_give(p, &b[i]);
        assert_null(b[i].data); /* kept or freed, never left with the caller */
    }
    bufpool_give(p, &big); /* over the size: freed */
    assert_null(big.data);
    bufpool_take(p, &t);
    assert_ptr_equal(t.data, kept1);
    plat_buf_free(&t);
    bufpool_take(p, &t);
    assert_ptr_equal(t.data, kept0);
    plat_buf_free(&t);
    bufpool_take(p, &t);
    assert_null(t.data);
    bufpool_free(p);
}

static void no_pool_means_new_buffers(void **state)
{
    plat_buf b = new_buf(65536), t;
    (void)state;
    bufpool_give(NULL, &b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    bufpool_take(NULL, &t);
    assert_null(t.data);
    bufpool_free(NULL);
}

/* Threads give back what the main thread took, as the signature thread
 * does; what they give back is taken again, and nothing is lost. */
#define ROUNDS 200
typedef struct giver {
    bufpool *p;
    plat_buf bufs[ROUNDS];
    int n;
} giver;

static void give_all(void *arg)
{
    giver *g = arg;
    for (int i = 0; i < g->n; i++)
        bufpool_give(g->p, &g->bufs[i]);
}

static void shared_between_threads(void **state)
{
    static giver g;
    plat_thread *th;
    (void)state;
    assert_int_equal(bufpool_new(4, 1 << 20, 0, &g.p), TMI_OK);
    for (int round = 0; round < 20; round++) {
        g.n = 0;
        for (int i = 0; i < 10; i++) {
            bufpool_take(g.p, &g.bufs[g.n]);
            if (g.bufs[g.n].data == NULL)
                g.bufs[g.n] = new_buf(65536);
            g.bufs[g.n].data[0] = (uint8_t)i;
            g.n++;
        }
        assert_int_equal(plat_thread_spawn(give_all, &g, &th), TMI_OK);
        plat_thread_join(th);
        for (int i = 0; i < g.n; i++)
            assert_null(g.bufs[i].data);
    }
    int kept = 0;
    plat_buf t;
    for (bufpool_take(g.p, &t); t.data != NULL; bufpool_take(g.p, &t)) {
        kept++;
        plat_buf_free(&t);
    }
    assert_int_equal(kept, 4);
    bufpool_free(g.p);
}

/* Limit one: the second take waits for the other thread's give, and gets
 * the very buffer it gave back. */
typedef struct holder {
    bufpool *p;
    plat_buf buf;
    atomic_int given; /* 1 once the holder has given its buffer back */
} holder;

static void give_later(void *arg)
{
    holder *h = arg;
    plat_sleep_ms(30);
    atomic_store(&h->given, 1);
    bufpool_give(h->p, &h->buf);
}

static void take_waits_under_the_limit(void **state)
{
    static holder h;
    plat_thread *th;
    plat_buf t;
    (void)state;
    assert_int_equal(bufpool_new(1, 1 << 20, 1, &h.p), TMI_OK);
    atomic_init(&h.given, 0);
    bufpool_take(h.p, &h.buf); /* empty pool: empty, and out */
    assert_null(h.buf.data);
    assert_int_equal(plat_buf_reserve(&h.buf, 4096), TMI_OK);
    uint8_t *mine = h.buf.data;
    assert_int_equal(plat_thread_spawn(give_later, &h, &th), TMI_OK);
    bufpool_take(h.p, &t);
    assert_int_equal(atomic_load(&h.given), 1); /* it waited */
    assert_ptr_equal(t.data, mine);
    plat_thread_join(th);
    bufpool_give(h.p, &t);
    /* an empty buffer given back frees the place too */
    bufpool_take(h.p, &t);
    plat_buf_free(&t);
    bufpool_give(h.p, &t);
    bufpool_take(h.p, &t);
    assert_null(t.data);
    bufpool_give(h.p, &t);
    bufpool_free(h.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(given_back_is_taken_again),  cmocka_unit_test(keeps_no_more_than_asked),
        cmocka_unit_test(no_pool_means_new_buffers),  cmocka_unit_test(shared_between_threads),
        cmocka_unit_test(take_waits_under_the_limit),
    };
    return cmocka_run_group_tests_name("bufpool", tests, NULL, NULL);
}

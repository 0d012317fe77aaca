/*
 * httpd.c - the HTTP/1.1 engine (see httpd.h): an event thread that accepts
 * connections and reads request heads, and a pool of workers that serve the
 * requests.
 *
 * Every connection is a slot. Its state says who owns it: the event thread
 * owns S_IDLE (open, no byte of a request yet), S_HEAD (part of a head) and
 * S_LINGER (closing: the answer is out, what the client still sends is read
 * and dropped for a moment, so that the client reads the answer rather than
 * a reset); a worker owns S_ACTIVE; S_QUEUED waits for a worker. State
 * changes happen under the mutex; the owner alone touches the socket and
 * the buffer. Unconsumed bytes of a connection are buf[pos, len); outside a
 * worker, pos is 0.
 */
#include "httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"

#define CONN_BUF     (16 * 1024) /* a head longer than this is refused (431) */
#define LINGER_MS    500         /* closing: how long to read and drop */
#define LINGER_BYTES (64 * 1024) /* ... and how much at most */
#define NEXT_WAIT_MS 2 /* a worker waits this long for a kept-alive client's next request */
#define ACCEPT_BURST 64
#define REFUSAL_MAX  2048

enum conn_state { S_FREE = 0, S_IDLE, S_HEAD, S_QUEUED, S_ACTIVE, S_LINGER };

struct httpd_conn {
    httpd *h;
    int state;
    plat_socket sock;
    char peer[48];
    int64_t since; /* S_IDLE: idle since; S_HEAD: first byte; S_LINGER: until */
    char *buf;     /* CONN_BUF bytes, made on the first byte */
    size_t pos, len;
    size_t dropped;   /* S_LINGER: bytes read and dropped */
    httpd_conn *next; /* in the work queue */
    /* while a worker serves a request */
    httpd_head head;
    void *worker;
    int has_body, body_done, chunked, continue_sent, close_after;
    long long body_left;
    httpd_chunked ch;
    int64_t body_deadline;
};

struct httpd {
    httpd_config cfg;
    plat_socket listener, wake[2];
    int port;
    plat_mutex *mu;
    plat_cond *cv;
    httpd_conn *slots; /* cfg.max_conns */
    httpd_conn *q_head, *q_tail;
    int stopping;
    httpd_stats stats;
    plat_thread *event;
    plat_thread **workers;
    unsigned n_workers;
    /* the event thread's own */
    plat_pollfd *pfd;
    httpd_conn **pconn;
    char *scratch;
};

void httpd_config_init(httpd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ip = "127.0.0.1";
    cfg->workers = 16;
    cfg->max_conns = 256;
    cfg->max_per_peer = 64;
    cfg->head_ms = 3000;
    cfg->idle_ms = 5000;
    cfg->io_ms = 10000;
}

static int64_t now_ms(void)
{
    return plat_monotonic_ns() / 1000000;
}

static void wake_event(httpd *h)
{
    char b = 1;
    plat_sock_send(h->wake[1], &b, 1); /* a full pipe is awake already */
}

/* ---- slots (callers hold h->mu unless said) ---- */

static void slot_free(httpd_conn *c)
{
    plat_sock_close(c->sock);
    free(c->buf);
    c->sock = PLAT_SOCKET_NONE;
    c->buf = NULL;
    c->pos = c->len = c->dropped = 0;
    c->state = S_FREE;
    c->h->stats.open--;
}

static void queue_push(httpd *h, httpd_conn *c)
{
    c->state = S_QUEUED;
    c->next = NULL;
    if (h->q_tail != NULL)
        h->q_tail->next = c;
    else
        h->q_head = c;
    h->q_tail = c;
    plat_cond_signal(h->cv);
}

/* Answer status (through the refusal callback) and start closing c. The
 * caller owns c (event thread, or a worker with c S_ACTIVE). Locks. */
static void refuse(httpd *h, httpd_conn *c, int status, const char *why)
{
    char out[REFUSAL_MAX];
    size_t n =
        h->cfg.refusal != NULL ? h->cfg.refusal(h->cfg.arg, status, why, out, sizeof(out)) : 0;
    if (n > sizeof(out))
        n = 0;
    if (n > 0)
        plat_sock_send(c->sock, out, n); /* small: it fits the send buffer */
    plat_sock_shutdown_send(c->sock);
    plat_mutex_lock(h->mu);
    h->stats.refused++;
    if (status == 408)
        h->stats.timed_out++;
    c->state = S_LINGER;
    c->since = now_ms() + LINGER_MS;
    c->dropped = 0;
    plat_mutex_unlock(h->mu);
}

/* ---- the event thread ---- */

/* The slot for a new connection from peer, making room by closing the
 * connection that has waited longest for its head (of the same peer when
 * that peer is at its cap). NULL: no room (the newcomer is refused). */
static httpd_conn *admit(httpd *h, const char *peer)
{
    httpd_conn *free_slot = NULL, *oldest = NULL, *oldest_peer = NULL, *linger = NULL;
    unsigned same = 0;
    for (unsigned i = 0; i < h->cfg.max_conns; i++) {
        httpd_conn *c = &h->slots[i];
        int waiting = c->state == S_IDLE || c->state == S_HEAD;
        if (c->state == S_FREE) {
            if (free_slot == NULL)
                free_slot = c;
            continue;
        }
        if (c->state == S_LINGER) {
            linger = c;
            continue;
        }
        int mine = strcmp(c->peer, peer) == 0;
        same += mine;
        if (waiting && (oldest == NULL || c->since < oldest->since))
            oldest = c;
        if (waiting && mine && (oldest_peer == NULL || c->since < oldest_peer->since))
            oldest_peer = c;
    }
    if (same >= h->cfg.max_per_peer) {
        if (oldest_peer == NULL)
            return NULL;
        slot_free(oldest_peer);
        h->stats.evicted++;
        return free_slot != NULL ? free_slot : oldest_peer;
    }
    if (free_slot != NULL)
        return free_slot;
    if (linger == NULL && oldest != NULL)
        h->stats.evicted++;
    if (linger == NULL)
        linger = oldest;
    if (linger != NULL)
        slot_free(linger);
    return linger;
}

static void accept_some(httpd *h)
{
    for (int i = 0; i < ACCEPT_BURST; i++) {
        char peer[48];
        plat_socket s;
        httpd_conn *c;
        if (plat_tcp_accept(h->listener, &s, peer, sizeof(peer)) != TMI_OK)
            return;
        plat_mutex_lock(h->mu);
        h->stats.accepted++;
        c = admit(h, peer);
        if (c != NULL) {
            c->sock = s;
            snprintf(c->peer, sizeof(c->peer), "%s", peer);
            c->state = S_IDLE;
            c->since = now_ms();
            c->pos = c->len = 0;
            h->stats.open++;
            if (h->stats.open > h->stats.peak_open)
                h->stats.peak_open = h->stats.open;
        }
        plat_mutex_unlock(h->mu);
        if (c == NULL) {
            char out[REFUSAL_MAX];
            size_t n =
                h->cfg.refusal != NULL
                    ? h->cfg.refusal(h->cfg.arg, 503, "too many connections", out, sizeof(out))
                    : 0;
            if (n > 0 && n <= sizeof(out))
                plat_sock_send(s, out, n);
            plat_sock_close(s);
            plat_mutex_lock(h->mu);
            h->stats.refused++;
            plat_mutex_unlock(h->mu);
        }
    }
}

/* A complete head in c->buf? Refuse a bad one, queue a good one. */
static void check_head(httpd *h, httpd_conn *c)
{
    const char *why = "";
    long end = httpd_head_end(c->buf, c->len);
    int st;
    if (end < 0) {
        refuse(h, c, 400, "malformed request head (a bare CR or LF, or a NUL byte)");
        return;
    }
    if (end == 0) {
        if (c->len >= CONN_BUF)
            refuse(h, c, 431, "the request head is too large");
        return;
    }
    memcpy(h->scratch, c->buf, (size_t)end);
    st = httpd_parse_head(h->scratch, (size_t)end, &c->head, &why);
    if (st != 0) {
        refuse(h, c, st, why);
        return;
    }
    plat_mutex_lock(h->mu);
    queue_push(h, c);
    plat_mutex_unlock(h->mu);
}

static void on_readable(httpd *h, httpd_conn *c)
{
    char drop[4096];
    long n;
    if (c->state == S_LINGER) {
        n = plat_sock_recv(c->sock, drop, sizeof(drop));
        if (n == TMI_EBUSY)
            return;
        c->dropped += n > 0 ? (size_t)n : 0;
        if (n <= 0 || c->dropped > LINGER_BYTES) {
            plat_mutex_lock(h->mu);
            slot_free(c);
            plat_mutex_unlock(h->mu);
        }
        return;
    }
    if (c->buf == NULL) {
        c->buf = malloc(CONN_BUF);
        if (c->buf == NULL) {
            refuse(h, c, 503, "out of memory");
            return;
        }
    }
    n = plat_sock_recv(c->sock, c->buf + c->len, CONN_BUF - c->len);
    if (n == TMI_EBUSY)
        return;
    if (n <= 0) {
        plat_mutex_lock(h->mu);
        slot_free(c);
        plat_mutex_unlock(h->mu);
        return;
    }
    if (c->state == S_IDLE) {
        c->state = S_HEAD;
        c->since = now_ms();
    }
    c->len += (size_t)n;
    check_head(h, c);
}

/* Close what has waited too long. */
static void expire(httpd *h, int64_t now)
{
    for (unsigned i = 0; i < h->cfg.max_conns; i++) {
        httpd_conn *c = &h->slots[i];
        if (c->state == S_HEAD && now - c->since >= h->cfg.head_ms) {
            refuse(h, c, 408, "the request head did not arrive in time");
        } else if ((c->state == S_IDLE && now - c->since >= h->cfg.idle_ms) ||
                   (c->state == S_LINGER && now >= c->since)) {
            plat_mutex_lock(h->mu);
            slot_free(c);
            plat_mutex_unlock(h->mu);
        }
    }
}

/* Build the poll set; returns its size and sets *timeout to the nearest
 * deadline. 0 when stopping. */
static size_t poll_set(httpd *h, int *timeout)
{
    int64_t now = now_ms(), next = now + 1000;
    size_t n = 0;
    plat_mutex_lock(h->mu);
    if (h->stopping) {
        plat_mutex_unlock(h->mu);
        return 0;
    }
    memset(h->pfd, 0, (h->cfg.max_conns + 2) * sizeof(*h->pfd));
    h->pfd[n].sock = h->wake[0];
    h->pfd[n].want = PLAT_POLL_IN;
    h->pconn[n++] = NULL;
    h->pfd[n].sock = h->listener;
    h->pfd[n].want = PLAT_POLL_IN;
    h->pconn[n++] = NULL;
    for (unsigned i = 0; i < h->cfg.max_conns; i++) {
        httpd_conn *c = &h->slots[i];
        int64_t due;
        if (c->state == S_IDLE)
            due = c->since + h->cfg.idle_ms;
        else if (c->state == S_HEAD)
            due = c->since + h->cfg.head_ms;
        else if (c->state == S_LINGER)
            due = c->since;
        else
            continue;
        if (due < next)
            next = due;
        h->pfd[n].sock = c->sock;
        h->pfd[n].want = PLAT_POLL_IN;
        h->pconn[n++] = c;
    }
    plat_mutex_unlock(h->mu);
    *timeout = next <= now ? 0 : (int)(next - now);
    return n;
}

static void event_main(void *arg)
{
    httpd *h = arg;
    char drain[64];
    for (;;) {
        int timeout = 1000;
        size_t n = poll_set(h, &timeout);
        if (n == 0)
            break;
        if (plat_sock_poll(h->pfd, n, timeout) < 0)
            plat_sleep_ms(10);
        if (h->pfd[0].got != 0) {
            while (plat_sock_recv(h->wake[0], drain, sizeof(drain)) > 0) {
            }
        }
        for (size_t i = 2; i < n; i++) {
            if (h->pfd[i].got != 0)
                on_readable(h, h->pconn[i]);
        }
        if (h->pfd[1].got != 0)
            accept_some(h);
        expire(h, now_ms());
    }
}

/* ---- workers ---- */

/* Wait until c's socket is ready for want, or the deadline (ms) passes. */
static int wait_ready(httpd_conn *c, short want, int64_t deadline)
{
    plat_pollfd p;
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return TMI_ETIMEDOUT;
    p.sock = c->sock;
    p.want = want;
    p.got = 0;
    int rc = plat_sock_poll(&p, 1, (int)left);
    if (rc == 0)
        return TMI_ETIMEDOUT;
    return rc < 0 ? rc : TMI_OK;
}

int httpd_conn_write(httpd_conn *c, const void *buf, size_t len)
{
    const char *p = buf;
    int64_t deadline = now_ms() + c->h->cfg.io_ms;
    while (len > 0) {
        long n = plat_sock_send(c->sock, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n != TMI_EBUSY && n != 0) {
            c->close_after = 1;
            return TMI_EIO;
        }
        int rc = wait_ready(c, PLAT_POLL_OUT, deadline);
        if (rc != TMI_OK) {
            c->close_after = 1;
            return rc == TMI_ETIMEDOUT ? rc : TMI_EIO;
        }
    }
    return TMI_OK;
}

/* More bytes into buf[len, CONN_BUF) (compacting first), within the body's
 * deadline. > 0, or TMI_EIO (closed) / TMI_ETIMEDOUT. */
static long fill(httpd_conn *c)
{
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    for (;;) {
        long n = plat_sock_recv(c->sock, c->buf + c->len, CONN_BUF - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            return n;
        }
        if (n != TMI_EBUSY)
            return TMI_EIO;
        int rc = wait_ready(c, PLAT_POLL_IN, c->body_deadline);
        if (rc != TMI_OK)
            return rc == TMI_ETIMEDOUT ? rc : TMI_EIO;
    }
}

long httpd_conn_read(httpd_conn *c, void *buf, size_t len)
{
    const char *why;
    if (!c->has_body || c->body_done || len == 0)
        return 0;
    if (c->head.expect_continue && !c->continue_sent) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->continue_sent = 1;
        if (httpd_conn_write(c, cont, sizeof(cont) - 1) != TMI_OK)
            return TMI_EIO;
    }
    for (;;) {
        size_t avail = c->len - c->pos;
        if (avail == 0) {
            long n = fill(c);
            if (n < 0) {
                c->close_after = 1;
                return n;
            }
            continue;
        }
        if (!c->chunked) {
            size_t k = avail < len ? avail : len;
            if ((long long)k > c->body_left)
                k = (size_t)c->body_left;
            memcpy(buf, c->buf + c->pos, k);
            c->pos += k;
            c->body_left -= (long long)k;
            c->body_done = c->body_left == 0;
            return (long)k;
        }
        size_t in = avail < len ? avail : len, out = 0;
        int done = 0;
        long used = httpd_chunked_decode(&c->ch, c->buf + c->pos, in, &out, &done, &why);
        if (used < 0) {
            c->close_after = 1;
            return TMI_EFORMAT;
        }
        memcpy(buf, c->buf + c->pos, out);
        c->pos += (size_t)used;
        c->body_done = done;
        if (out > 0 || done)
            return (long)out;
    }
}

const httpd_head *httpd_conn_head(const httpd_conn *c)
{
    return &c->head;
}

const char *httpd_conn_peer(const httpd_conn *c)
{
    return c->peer;
}

void *httpd_conn_worker(const httpd_conn *c)
{
    return c->worker;
}

int httpd_conn_has_body(const httpd_conn *c)
{
    return c->has_body;
}

void httpd_conn_close_after(httpd_conn *c)
{
    c->close_after = 1;
}

int httpd_conn_closing(const httpd_conn *c)
{
    int stopping;
    plat_mutex_lock(c->h->mu);
    stopping = c->h->stopping;
    plat_mutex_unlock(c->h->mu);
    return c->close_after || c->head.close || (c->has_body && !c->body_done) || stopping;
}

/* Parse the head at the start of c->buf (end bytes long) into the worker's
 * buffer and set up the body. 0, or the status of a refusal. */
static int begin_request(httpd_conn *c, char *headbuf, long end, const char **why)
{
    int st;
    memcpy(headbuf, c->buf, (size_t)end);
    st = httpd_parse_head(headbuf, (size_t)end, &c->head, why);
    if (st != 0)
        return st;
    c->pos = (size_t)end;
    c->chunked = c->head.chunked;
    c->body_left = c->head.content_length > 0 ? c->head.content_length : 0;
    c->has_body = c->chunked || c->body_left > 0;
    c->body_done = !c->has_body;
    c->continue_sent = 0;
    c->close_after = 0;
    c->body_deadline = now_ms() + c->h->cfg.io_ms;
    httpd_chunked_init(&c->ch);
    return 0;
}

/* After an answer: drop what was consumed. */
static void compact(httpd_conn *c)
{
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
}

/* Give c back: to linger (closing), to the queue (a whole head is there
 * already), or to the event thread. */
static void hand_back(httpd *h, httpd_conn *c, int closing)
{
    int stopping;
    plat_mutex_lock(h->mu);
    stopping = h->stopping;
    if (closing && stopping) {
        slot_free(c);
    } else if (closing) {
        plat_sock_shutdown_send(c->sock);
        c->state = S_LINGER;
        c->since = now_ms() + LINGER_MS;
        c->dropped = 0;
    } else if (c->len > 0 && httpd_head_end(c->buf, c->len) > 0) {
        queue_push(h, c);
    } else {
        c->state = c->len > 0 ? S_HEAD : S_IDLE;
        c->since = now_ms();
    }
    plat_mutex_unlock(h->mu);
    if (!(closing && stopping))
        wake_event(h);
}

/* With nobody else waiting for a worker, give a kept-alive client a moment
 * to send its next request, so a busy client is served without a trip
 * through the event thread. 1 when a whole head is now there. */
static int next_request_soon(httpd *h, httpd_conn *c)
{
    int idle;
    plat_mutex_lock(h->mu);
    idle = h->q_head == NULL && !h->stopping;
    plat_mutex_unlock(h->mu);
    if (!idle || c->len > 0 || wait_ready(c, PLAT_POLL_IN, now_ms() + NEXT_WAIT_MS) != TMI_OK)
        return 0;
    long n = plat_sock_recv(c->sock, c->buf, CONN_BUF);
    if (n <= 0)
        return 0;
    c->len = (size_t)n;
    return httpd_head_end(c->buf, c->len) > 0;
}

/* Serve requests on c while their heads are at hand. */
static void serve(httpd *h, httpd_conn *c, char *headbuf)
{
    for (;;) {
        const char *why = "";
        long end = httpd_head_end(c->buf, c->len);
        int st = end > 0 ? begin_request(c, headbuf, end, &why) : 400;
        int closing;
        if (st != 0) {
            refuse(h, c, st, why[0] ? why : "malformed request head");
            wake_event(h);
            return;
        }
        h->cfg.handle(h->cfg.arg, c);
        closing = httpd_conn_closing(c);
        plat_mutex_lock(h->mu);
        h->stats.served++;
        plat_mutex_unlock(h->mu);
        compact(c);
        if (closing || !next_request_soon(h, c)) {
            hand_back(h, c, closing);
            return;
        }
    }
}

static void worker_main(void *arg)
{
    httpd *h = arg;
    void *state = h->cfg.worker_init != NULL ? h->cfg.worker_init(h->cfg.arg) : NULL;
    char *headbuf = malloc(CONN_BUF);
    plat_mutex_lock(h->mu);
    for (;;) {
        httpd_conn *c;
        while (h->q_head == NULL && !h->stopping)
            plat_cond_wait(h->cv, h->mu);
        c = h->q_head;
        if (c == NULL)
            break;
        h->q_head = c->next;
        if (h->q_head == NULL)
            h->q_tail = NULL;
        c->state = S_ACTIVE;
        c->worker = state;
        plat_mutex_unlock(h->mu);
        if (headbuf != NULL) {
            serve(h, c, headbuf);
        } else {
            refuse(h, c, 503, "out of memory");
            wake_event(h);
        }
        plat_mutex_lock(h->mu);
    }
    plat_mutex_unlock(h->mu);
    free(headbuf);
    if (h->cfg.worker_exit != NULL)
        h->cfg.worker_exit(h->cfg.arg, state);
}

/* ---- start and stop ---- */

static void free_all(httpd *h)
{
    if (h->slots != NULL) {
        for (unsigned i = 0; i < h->cfg.max_conns; i++) {
            if (h->slots[i].state != S_FREE)
                slot_free(&h->slots[i]);
        }
    }
    plat_sock_close(h->listener);
    plat_sock_close(h->wake[0]);
    plat_sock_close(h->wake[1]);
    plat_cond_free(h->cv);
    plat_mutex_free(h->mu);
    free(h->slots);
    free(h->pfd);
    free(h->pconn);
    free(h->scratch);
    free(h->workers);
    free(h);
}

static int alloc_all(httpd *h)
{
    size_t n = h->cfg.max_conns;
    h->slots = calloc(n, sizeof(*h->slots));
    h->pfd = calloc(n + 2, sizeof(*h->pfd));
    h->pconn = calloc(n + 2, sizeof(*h->pconn));
    h->scratch = malloc(CONN_BUF);
    h->workers = calloc(h->cfg.workers, sizeof(*h->workers));
    if (h->slots == NULL || h->pfd == NULL || h->pconn == NULL || h->scratch == NULL ||
        h->workers == NULL)
        return TMI_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        h->slots[i].h = h;
        h->slots[i].sock = PLAT_SOCKET_NONE;
    }
    if (plat_mutex_new(&h->mu) != TMI_OK)
        return TMI_ENOMEM;
    return plat_cond_new(&h->cv);
}

static void stop_threads(httpd *h)
{
    plat_mutex_lock(h->mu);
    h->stopping = 1;
    plat_cond_broadcast(h->cv);
    plat_mutex_unlock(h->mu);
    wake_event(h);
    plat_thread_join(h->event);
    h->event = NULL;
    for (unsigned i = 0; i < h->n_workers; i++)
        plat_thread_join(h->workers[i]);
    h->n_workers = 0;
}

int httpd_start(const httpd_config *cfg, httpd **out, char *err, size_t errlen)
{
    httpd *h;
    int rc;
    *out = NULL;
    if (cfg->handle == NULL || cfg->workers == 0 || cfg->max_conns == 0 || cfg->max_per_peer == 0) {
        snprintf(err, errlen, "bad HTTP engine configuration");
        return TMI_EINVAL;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return TMI_ENOMEM;
    }
    h->cfg = *cfg;
    h->listener = h->wake[0] = h->wake[1] = PLAT_SOCKET_NONE;
    rc = alloc_all(h);
    if (rc == TMI_OK)
        rc = plat_net_init();
    if (rc == TMI_OK)
        rc = plat_sock_pair(h->wake);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot set up the server: %s", tmi_strerror(rc));
        free_all(h);
        return rc;
    }
    rc = plat_tcp_listen(cfg->ip, cfg->port, 128, &h->listener, &h->port);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->ip, cfg->port,
                 rc == TMI_EBUSY ? "the port is in use" : tmi_strerror(rc));
        free_all(h);
        return rc;
    }
    rc = plat_thread_spawn(event_main, h, &h->event);
    for (unsigned i = 0; rc == TMI_OK && i < cfg->workers; i++) {
        rc = plat_thread_spawn(worker_main, h, &h->workers[i]);
        if (rc == TMI_OK)
            h->n_workers++;
    }
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot start the server's threads: %s", tmi_strerror(rc));
        if (h->event != NULL)
            stop_threads(h);
        free_all(h);
        return rc;
    }
    *out = h;
    return TMI_OK;
}

int httpd_port(const httpd *h)
{
    return h->port;
}

void httpd_get_stats(httpd *h, httpd_stats *out)
{
    plat_mutex_lock(h->mu);
    *out = h->stats;
    plat_mutex_unlock(h->mu);
}

void httpd_stop(httpd *h)
{
    if (h == NULL)
        return;
    stop_threads(h);
    free_all(h);
}

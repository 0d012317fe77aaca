/*
 * httpd.h - the HTTP/1.1 engine under the request pipeline (http.c).
 *
 * It owns the listening socket (127.0.0.1) and every connection. One event
 * thread reads request heads from all connections at once (poll, no thread
 * per connection) and hands complete, strictly parsed heads (httpd_parse.h)
 * to a fixed pool of worker threads, which read the body, run the handler
 * and write the answer. So a client that sends its head slowly costs a
 * buffer, never a worker, and it is bounded:
 *
 *   - the whole head must arrive within head_ms of its first byte, else 408
 *     and the connection is closed;
 *   - a kept-alive connection with no new request is closed after idle_ms;
 *   - open connections are capped in all (max_conns) and per client address
 *     (max_per_peer). At a cap the connection that has waited longest for its
 *     head is closed to make room, so a request that arrives whole always
 *     gets in; when none is waiting, the newcomer gets 503 and is closed;
 *   - a worker reads a body and writes each answer within io_ms.
 * What the engine refuses itself (a head it cannot parse, too large, too
 * slow, a cap) is answered with the response the `refusal` callback writes,
 * then the connection is closed after the client had a moment to read it.
 *
 * Keep-alive: after an answer, a connection whose request body was read to
 * its end and that did not ask to close stays open. Pipelined requests are
 * served in order.
 *
 * Threads: httpd_start and httpd_stop from one controlling thread; the
 * handler runs on the workers, one request per worker at a time; a
 * httpd_conn is the handler's only for the duration of the call.
 */
#ifndef TMI_HTTPD_H
#define TMI_HTTPD_H

#include <stddef.h>

#include "httpd_parse.h"

typedef struct httpd httpd;
typedef struct httpd_conn httpd_conn;

typedef struct httpd_config {
    const char *ip; /* "127.0.0.1" */
    int port;       /* 0: a free one */
    unsigned workers;
    unsigned max_conns;
    unsigned max_per_peer;
    unsigned head_ms; /* the whole head, from its first byte */
    unsigned idle_ms; /* a kept-alive connection without a new request */
    unsigned io_ms;   /* a body, and each write */
    /* One request, on a worker: answer with httpd_conn_write. */
    void (*handle)(void *arg, httpd_conn *c);
    /* The whole response (head and body) for a refusal with status and a
     * short reason, written into out (outlen bytes); its length, or 0 to
     * close without a word. Called on the event thread. */
    size_t (*refusal)(void *arg, int status, const char *detail, char *out, size_t outlen);
    /* Per-worker state, made when the worker starts and released when it
     * ends (both may be NULL). */
    void *(*worker_init)(void *arg);
    void (*worker_exit)(void *arg, void *state);
    void *arg;
} httpd_config;

/* Defaults: 16 workers, 256 connections, 64 per address, 3 s for a head,
 * 5 s idle, 10 s for a body or a write. */
void httpd_config_init(httpd_config *cfg);

/* Listen and start the threads. TMI_OK with *out set; TMI_EBUSY when the
 * port is taken; other TMI_E* codes with a message in err. */
int httpd_start(const httpd_config *cfg, httpd **out, char *err, size_t errlen);

/* The port bound. */
int httpd_port(const httpd *h);

/* Stop: no new connections, idle ones closed, requests in flight finished,
 * threads joined, everything freed. NULL is fine. */
void httpd_stop(httpd *h);

/* Counters for tests and the benchmark. */
typedef struct httpd_stats {
    unsigned long long accepted, served, refused, evicted, timed_out;
    unsigned open, peak_open;
} httpd_stats;
void httpd_get_stats(httpd *h, httpd_stats *out);

/* ---- for the handler, on a worker ---- */

const httpd_head *httpd_conn_head(const httpd_conn *c);
const char *httpd_conn_peer(const httpd_conn *c); /* "127.0.0.1" */
void *httpd_conn_worker(const httpd_conn *c);     /* worker_init's state */

/* Does the request carry a body (Content-Length > 0, or chunked)? */
int httpd_conn_has_body(const httpd_conn *c);

/*
 * Read body bytes (the payload: chunked framing removed). The first call
 * answers "100 Continue" when the client asked for it. Returns the count
 * (> 0), 0 at the end of the body, or TMI_EFORMAT (malformed chunked
 * framing), TMI_ETIMEDOUT (the body did not arrive within io_ms), TMI_EIO
 * (the connection ended before the body did).
 */
long httpd_conn_read(httpd_conn *c, void *buf, size_t len);

/* Write all of buf within io_ms. TMI_OK, TMI_ETIMEDOUT or TMI_EIO. */
int httpd_conn_write(httpd_conn *c, const void *buf, size_t len);

/* Close the connection after this answer (and say so: the answer should
 * carry "Connection: close"). */
void httpd_conn_close_after(httpd_conn *c);

/* Will the connection close after this answer? (The client asked, HTTP/1.0,
 * a body left unread, close_after, or the server is stopping.) */
int httpd_conn_closing(const httpd_conn *c);

#endif

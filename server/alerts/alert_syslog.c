/*
 * alert_syslog.c - the syslog output's thread (alert_syslog.h): connect,
 * send in order, notice a dead connection, back off and reconnect. The
 * thread waits in plat_sock_poll on a socket pair that output_push and
 * output_stop write a byte to, and on the TCP connection itself, so it
 * sleeps without a timer while nothing happens and learns at once of a
 * collector that went away.
 */
#include "alert_syslog.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"

typedef struct syslog_impl {
    alert_syslog_url url;
    plat_socket wake[2];
    plat_socket sock;
    char ip[16];
    unsigned retry_min, retry_max, backoff; /* ms */
    unsigned connect_timeout, send_timeout; /* ms */
    int64_t next_try_ns;                    /* monotonic; 0: now */
    int refused_once;                       /* UDP: the last send was refused */
    int suspect, clean;                     /* UDP: refused lately; clean sends since */
    char frame[ALERT_SYSLOG_TCP_MAX + 24];
} syslog_impl;

#define MS 1000000LL

static void wake(alert_output *o)
{
    syslog_impl *s = o->impl;
    char b = 1;
    plat_sock_send(s->wake[1], &b, 1); /* a full pair is awake already */
}

/* Milliseconds from now to t (monotonic ns), 0..INT_MAX. */
static int ms_until(int64_t t)
{
    int64_t d = (t - plat_monotonic_ns() + MS - 1) / MS;
    return d <= 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
}

static void close_sock(syslog_impl *s)
{
    plat_sock_close(s->sock);
    s->sock = PLAT_SOCKET_NONE;
}

/* The next attempt after the current backoff, which then doubles. */
static void schedule_retry(syslog_impl *s)
{
    s->next_try_ns = plat_monotonic_ns() + (int64_t)s->backoff * MS;
    s->backoff = s->backoff > s->retry_max / 2 ? s->retry_max : s->backoff * 2;
}

/* Is the TCP connection still up? Anything the collector sent (it should
 * send nothing) is read and thrown away. */
static int connection_alive(syslog_impl *s)
{
    plat_pollfd p = {s->sock, PLAT_POLL_IN, 0};
    char buf[256];
    long n;
    if (plat_sock_poll(&p, 1, 0) <= 0)
        return 1;
    n = plat_sock_recv(s->sock, buf, sizeof(buf));
    return n > 0 || n == TMI_EBUSY;
}

static void drain_wake(syslog_impl *s);

/* Sleep until woken or timeout_ms (-1: no limit), watching the TCP
 * connection too when watch is set. 1 when it was found closed. */
static int wait_event(syslog_impl *s, int timeout_ms, int watch)
{
    plat_pollfd p[2] = {{s->wake[0], PLAT_POLL_IN, 0}, {s->sock, PLAT_POLL_IN, 0}};
    size_t n = watch && s->sock != PLAT_SOCKET_NONE ? 2 : 1;
    if (plat_sock_poll(p, n, timeout_ms) <= 0)
        return 0;
    if (p[0].got != 0)
        drain_wake(s);
    return n == 2 && p[1].got != 0 && !connection_alive(s);
}

/* Resolve (a name, every time) and connect; err says why not. */
static int syslog_connect(syslog_impl *s, int64_t deadline, char *err, size_t errlen)
{
    const char *ip = s->url.host;
    char via[24] = "";
    int rc, timeout = (int)s->connect_timeout;
    if (!s->url.is_ip) {
        rc = plat_resolve_ipv4(s->url.host, s->ip, sizeof(s->ip));
        if (rc != TMI_OK) {
            snprintf(err, errlen, "cannot resolve %s: %s", s->url.host,
                     rc == TMI_ENOENT     ? "no such host name (or no IPv4 address for it)"
                     : rc == TMI_EUNREACH ? "no name server answered"
                                          : tmi_strerror(rc));
            return rc;
        }
        ip = s->ip;
        snprintf(via, sizeof(via), " (%s)", ip);
    }
    if (deadline > 0 && ms_until(deadline) < timeout)
        timeout = ms_until(deadline) > 0 ? ms_until(deadline) : 1;
    if (s->url.proto == ALERT_PROTO_TCP)
        rc = plat_tcp_connect(ip, s->url.port, timeout, &s->sock);
    else
        rc = plat_udp_connect(ip, s->url.port, &s->sock);
    if (rc != TMI_OK)
        snprintf(err, errlen, "cannot connect to %s:%d%s: %s", s->url.host, s->url.port, via,
                 tmi_strerror(rc));
    return rc;
}

/* Drain the wake-up pair. */
static void drain_wake(syslog_impl *s)
{
    char drain[64];
    while (plat_sock_recv(s->wake[0], drain, sizeof(drain)) > 0) {
    }
}

/* Send all of p[0..n) before until_ns (monotonic), or before the flush
 * deadline once the output is asked to stop (the wait for the collector
 * watches the wake-up pair for that). */
static int send_all(alert_output *o, syslog_impl *s, const char *p, size_t n, int64_t until_ns)
{
    int64_t deadline;
    while (n > 0) {
        long k = plat_sock_send(s->sock, p, n);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
            continue;
        }
        if (k != 0 && k != TMI_EBUSY)
            return (int)k;
        plat_pollfd q[2] = {{s->sock, PLAT_POLL_OUT, 0}, {s->wake[0], PLAT_POLL_IN, 0}};
        int ms = ms_until(until_ns), r;
        if (ms <= 0)
            return TMI_ETIMEDOUT;
        r = plat_sock_poll(q, 2, ms);
        if (r < 0)
            return r;
        if (q[1].got != 0) {
            drain_wake(s);
            if (output_stopping(o, &deadline) && deadline < until_ns)
                until_ns = deadline;
        }
    }
    return TMI_OK;
}

static void send_tcp(alert_output *o, syslog_impl *s, const alert_entry *e, int64_t until)
{
    char err[ALERT_ERROR_MAX];
    size_t n;
    int rc;
    if (!connection_alive(s)) {
        close_sock(s);
        snprintf(err, sizeof(err), "%s:%d closed the connection", s->url.host, s->url.port);
        output_failed(o, err, 0);
        schedule_retry(s);
        return;
    }
    n = alert_syslog_frame(e->data, e->len, s->frame, sizeof(s->frame));
    if (n == 0) {
        output_failed(o, "a message too large to frame was dropped", 1);
        return;
    }
    rc = send_all(o, s, s->frame, n, until);
    if (rc == TMI_OK) {
        s->backoff = s->retry_min;
        output_delivered(o, 1);
        return;
    }
    close_sock(s);
    if (rc == TMI_ETIMEDOUT)
        snprintf(err, sizeof(err), "%s:%d took no message for %u ms (the collector is stalled)",
                 s->url.host, s->url.port, s->send_timeout);
    else
        snprintf(err, sizeof(err), "sending to %s:%d failed: %s", s->url.host, s->url.port,
                 tmi_strerror(rc));
    output_failed(o, err, 0);
    schedule_retry(s);
}

static void send_udp(alert_output *o, syslog_impl *s, const alert_entry *e, int64_t until)
{
    char err[ALERT_ERROR_MAX];
    int rc = send_all(o, s, e->data, e->len, until);
    if (rc == TMI_OK) {
        s->refused_once = 0;
        s->backoff = s->retry_min;
        if (s->suspect && ++s->clean >= 2)
            s->suspect = 0;
        output_delivered(o, !s->suspect);
        return;
    }
    if ((rc == TMI_EREFUSED || rc == TMI_ERESET) && !s->refused_once) {
        /* the refusal was for an earlier datagram: send this one again */
        s->refused_once = 1;
        s->suspect = 1;
        s->clean = 0;
        snprintf(err, sizeof(err), "%s:%d refused a datagram (nothing listens on UDP port %d)",
                 s->url.host, s->url.port, s->url.port);
        output_failed(o, err, 0);
        return;
    }
    if (rc == TMI_ETOOBIG) {
        output_failed(o, "a message too large for a datagram was dropped", 1);
        return;
    }
    close_sock(s);
    snprintf(err, sizeof(err), "sending to %s:%d failed: %s", s->url.host, s->url.port,
             tmi_strerror(rc));
    output_failed(o, err, 0);
    schedule_retry(s);
}

/* Not connected: wait for the next attempt, or make it. */
static void reconnect(alert_output *o, syslog_impl *s, int stopping, int64_t deadline)
{
    char err[ALERT_ERROR_MAX];
    int64_t when = s->next_try_ns;
    if (stopping && when > deadline)
        when = deadline;
    if (plat_monotonic_ns() < when) {
        wait_event(s, ms_until(when), 0);
        return;
    }
    if (syslog_connect(s, stopping ? deadline : 0, err, sizeof(err)) != TMI_OK) {
        output_failed(o, err, 0);
        schedule_retry(s);
        return;
    }
    s->refused_once = 0;
    if (s->url.proto == ALERT_PROTO_TCP)
        output_connected(o);
}

static void syslog_main(void *arg)
{
    alert_output *o = arg;
    syslog_impl *s = o->impl;
    int stopping = 0;
    int64_t deadline = 0, until;
    for (;;) {
        alert_entry *e = output_next(o, 0, &stopping, &deadline);
        output_flush_reports(o);
        if (stopping && (e == NULL || plat_monotonic_ns() >= deadline))
            break;
        if (s->sock == PLAT_SOCKET_NONE) {
            reconnect(o, s, stopping, deadline);
            continue;
        }
        if (e == NULL) {
            /* idle: a collector that closes an idle connection is quietly
             * reconnected (after the backoff, so one that closes every
             * connection at once is not hammered) */
            if (wait_event(s, -1, s->url.proto == ALERT_PROTO_TCP)) {
                close_sock(s);
                schedule_retry(s);
            }
            continue;
        }
        until = plat_monotonic_ns() + (int64_t)s->send_timeout * MS;
        if (stopping && deadline < until)
            until = deadline;
        if (s->url.proto == ALERT_PROTO_TCP)
            send_tcp(o, s, e, until);
        else
            send_udp(o, s, e, until);
    }
    close_sock(s);
    output_finish(o);
}

int alert_syslog_start(alert_output *o, const alert_syslog_url *url,
                       const alert_outputs_config *cfg)
{
    syslog_impl *s = calloc(1, sizeof(*s));
    int rc;
    if (s == NULL)
        return TMI_ENOMEM;
    s->url = *url;
    s->wake[0] = s->wake[1] = s->sock = PLAT_SOCKET_NONE;
    s->retry_min = s->backoff = cfg->retry_min_ms;
    s->retry_max = cfg->retry_max_ms;
    s->connect_timeout = cfg->connect_timeout_ms;
    s->send_timeout = cfg->send_timeout_ms;
    o->impl = s;
    o->keeps_failed = 1;
    rc = plat_net_init();
    if (rc == TMI_OK)
        rc = plat_sock_pair(s->wake);
    if (rc != TMI_OK)
        return TMI_EIO;
    o->wake = wake;
    return plat_thread_spawn(syslog_main, o, &o->thread);
}

size_t alert_syslog_max(const alert_output *o)
{
    const syslog_impl *s = o->impl;
    return s->url.proto == ALERT_PROTO_TCP ? ALERT_SYSLOG_TCP_MAX : ALERT_SYSLOG_UDP_MAX;
}

void alert_syslog_release(alert_output *o)
{
    syslog_impl *s = o->impl;
    if (s == NULL)
        return;
    plat_sock_close(s->wake[0]);
    plat_sock_close(s->wake[1]);
    plat_sock_close(s->sock);
    free(s);
    o->impl = NULL;
    o->wake = NULL;
}

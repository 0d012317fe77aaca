/* test_alerts.c - the alert outputs (server/alerts/alerts.h) with real
 * files and real loopback sockets: JSON lines appended (never truncated, a
 * cut line closed first), a failing file reported once and its recovery;
 * TCP frames received by a listener made here, the queue's bound and its
 * drops, a collector that goes away and comes back; the event log (the
 * sandbox's log on POSIX); the status and its JSON; bad configurations.
 * Waits for a condition are bounded (10 s) and fail with a message; no
 * assertion is about speed. */
#ifndef _WIN32
#define _DEFAULT_SOURCE /* symlink */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "err.h"
#include "plat.h"
#include "testutil.h"

#define WAIT_MS 10000

/* ---- report lines, captured ---- */

typedef struct reports {
    plat_mutex *mu;
    char lines[64][1024];
    int n;
} reports;

static void capture(void *arg, const char *line)
{
    reports *r = arg;
    plat_mutex_lock(r->mu);
    if (r->n < 64)
        snprintf(r->lines[r->n++], sizeof(r->lines[0]), "%s", line);
    plat_mutex_unlock(r->mu);
}

/* How many captured lines contain needle. */
static int count_reports(reports *r, const char *needle)
{
    int n = 0;
    plat_mutex_lock(r->mu);
    for (int i = 0; i < r->n; i++)
        n += strstr(r->lines[i], needle) != NULL;
    plat_mutex_unlock(r->mu);
    return n;
}

static void print_reports(reports *r)
{
    for (int i = 0; i < r->n; i++)
        fprintf(stderr, "  report: %s\n", r->lines[i]);
}

static int setup(void **state)
{
    reports *r = calloc(1, sizeof(*r));
    if (r == NULL || plat_mutex_new(&r->mu) != TMI_OK || plat_net_init() != TMI_OK)
        return -1;
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    reports *r = *state;
    plat_mutex_free(r->mu);
    free(r);
    return 0;
}

static void config(alert_outputs_config *cfg, reports *r)
{
    alert_outputs_config_init(cfg);
    cfg->hostname = "testhost";
    cfg->report = capture;
    cfg->report_arg = r;
    cfg->retry_min_ms = 20;
    cfg->retry_max_ms = 100;
}

static alert make_alert(const char *kind, const char *message)
{
    alert a = {.kind = kind, .severity = 4, .time_ns = plat_now_ns(), .message = message};
    a.verdict = "affected";
    a.file = "mrf.exe";
    a.audit_seq = 7;
    return a;
}

/* Wait until output i has sent + dropped >= n; the status then. */
static alert_output_status wait_handled(alert_outputs *o, int i, uint64_t n)
{
    alert_outputs_status st;
    int64_t end = plat_monotonic_ns() + (int64_t)WAIT_MS * 1000000;
    do {
        alert_outputs_status_get(o, &st);
        if (st.out[i].sent + st.out[i].dropped >= n)
            return st.out[i];
        plat_sleep_ms(5);
    } while (plat_monotonic_ns() < end);
    fail_msg("output %d: %llu sent + %llu dropped, %llu expected within %d ms", i,
             (unsigned long long)st.out[i].sent, (unsigned long long)st.out[i].dropped,
             (unsigned long long)n, WAIT_MS);
    return st.out[i];
}

static alert_output_status wait_state(alert_outputs *o, int i, int state)
{
    alert_outputs_status st;
    int64_t end = plat_monotonic_ns() + (int64_t)WAIT_MS * 1000000;
    do {
        alert_outputs_status_get(o, &st);
        if (st.out[i].state == state)
            return st.out[i];
        plat_sleep_ms(5);
    } while (plat_monotonic_ns() < end);
    fail_msg("output %d: state %d, %d expected within %d ms (error: %s)", i, st.out[i].state, state,
             WAIT_MS, st.out[i].error);
    return st.out[i];
}

static char *read_text(const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char *s;
    assert_int_equal(plat.read_file(path, 1 << 20, &buf, &len), TMI_OK);
    s = realloc(buf, len + 1);
    assert_non_null(s);
    s[len] = '\0';
    return s;
}

/* ---- the JSON-lines file ---- */

static void file_appends_one_line_per_alert(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX], err[256], *text, *line;
    const char *kinds[] = {"verdict_change", "outside_change", "job_failed"};
    int n = 0;
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(path, sizeof(path), dir, "alerts.jsonl");
    tu_write(path, "{\"earlier\":1}\n{\"cut", 19); /* a line cut short earlier */
    config(&cfg, r);
    cfg.file_path = path;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    for (int i = 0; i < 3; i++) {
        alert a = make_alert(kinds[i], "one \"line\"\nonly");
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    }
    wait_handled(o, ALERT_OUT_FILE, 3);
    alert_outputs_free(o);
    text = read_text(path);
    /* the old content is kept, the cut line closed, then one object a line */
    assert_memory_equal(text, "{\"earlier\":1}\n{\"cut\n", 20);
    line = text + 20;
    for (char *end; (end = strchr(line, '\n')) != NULL; line = end + 1) {
        cJSON *j;
        *end = '\0';
        j = cJSON_Parse(line);
        assert_non_null(j);
        assert_string_equal(cJSON_GetObjectItem(j, "kind")->valuestring, kinds[n]);
        assert_string_equal(cJSON_GetObjectItem(j, "host")->valuestring, "testhost");
        cJSON_Delete(j);
        n++;
    }
    assert_int_equal(n, 3);
    assert_string_equal(line, ""); /* ends with a line end */
    assert_int_equal(r->n, 0);     /* nothing to report */
    free(text);
}

/* A folder that is not there: reported once, alerts dropped and counted;
 * once it exists the file is written and the recovery reported once. */
static void file_failure_reported_once_then_recovery(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    char dir[PLAT_PATH_MAX], sub[PLAT_PATH_MAX], path[PLAT_PATH_MAX], err[256], *text;
    alert a = make_alert("service_down", "the service is down");
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(sub, sizeof(sub), dir, "later");
    tu_join(path, sizeof(path), sub, "alerts.jsonl");
    config(&cfg, r);
    cfg.file_path = path;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    st = wait_handled(o, ALERT_OUT_FILE, 4);
    assert_int_equal(st.state, ALERT_STATE_FAILING);
    assert_int_equal(st.dropped, 4);
    assert_int_equal(st.sent, 0);
    assert_non_null(strstr(st.error, "cannot write to"));
    tu_mkdirs(sub);
    assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    st = wait_handled(o, ALERT_OUT_FILE, 5);
    assert_int_equal(st.state, ALERT_STATE_OK);
    assert_int_equal(st.sent, 1);
    assert_non_null(strstr(st.error, "cannot write to")); /* the last error is kept */
    alert_outputs_free(o);
    if (r->n != 2 || count_reports(r, "alerts are dropped until it works again") != 1 ||
        count_reports(r, "works again (4 alert(s) dropped meanwhile)") != 1) {
        print_reports(r);
        fail_msg("expected one failure and one recovery report");
    }
    text = read_text(path);
    assert_non_null(strstr(text, "\"kind\":\"service_down\""));
    free(text);
}

#ifndef _WIN32
#include <unistd.h> /* symlink */

/* /dev/full: every write fails with ENOSPC; reported once, nothing crashes. */
static void file_full_disk_reported_once(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    char err[256];
    alert a = make_alert("verdict_change", "full disk");
    config(&cfg, r);
    cfg.file_path = "/dev/full";
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    st = wait_handled(o, ALERT_OUT_FILE, 20);
    assert_int_equal(st.dropped, 20);
    assert_int_equal(st.state, ALERT_STATE_FAILING);
    assert_non_null(strstr(st.error, "no space left on device"));
    alert_outputs_free(o);
    if (r->n != 1 || count_reports(r, "/dev/full: cannot write to /dev/full: no space left") != 1) {
        print_reports(r);
        fail_msg("expected one report");
    }
}

/* A link at the path is never followed: its target stays as it is. */
static void file_link_never_followed(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    char dir[PLAT_PATH_MAX], target[PLAT_PATH_MAX], path[PLAT_PATH_MAX], err[256], *text;
    alert a = make_alert("verdict_change", "through a link?");
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(target, sizeof(target), dir, "target");
    tu_join(path, sizeof(path), dir, "alerts.jsonl");
    tu_write(target, "precious\n", 9);
    assert_int_equal(symlink(target, path), 0);
    config(&cfg, r);
    cfg.file_path = path;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    st = wait_handled(o, ALERT_OUT_FILE, 1);
    assert_int_equal(st.dropped, 1);
    assert_non_null(strstr(st.error, "is a link, which is never followed"));
    alert_outputs_free(o);
    text = read_text(target);
    assert_string_equal(text, "precious\n");
    free(text);
    assert_int_equal(count_reports(r, "is a link"), 1);
}
#endif

/* ---- syslog over TCP ---- */

/* Accept one connection on l within WAIT_MS. */
static plat_socket accept_one(plat_socket l)
{
    plat_pollfd p = {l, PLAT_POLL_IN, 0};
    plat_socket s = PLAT_SOCKET_NONE;
    char peer[32];
    assert_true(plat_sock_poll(&p, 1, WAIT_MS) == 1);
    assert_int_equal(plat_tcp_accept(l, &s, peer, sizeof(peer)), TMI_OK);
    return s;
}

/* Read n octet-counted frames from s into msgs (each NUL-terminated). */
static void read_frames(plat_socket s, char msgs[][4096], int n)
{
    static char buf[65536];
    size_t len = 0;
    int got = 0;
    int64_t end = plat_monotonic_ns() + (int64_t)WAIT_MS * 1000000;
    while (got < n) {
        char *sp = memchr(buf, ' ', len);
        if (sp != NULL) {
            size_t msglen = (size_t)strtoul(buf, NULL, 10), head = (size_t)(sp - buf) + 1;
            assert_true(buf[0] >= '1' && buf[0] <= '9'); /* MSG-LEN: NONZERO-DIGIT *DIGIT */
            assert_true(msglen < sizeof(msgs[0]));
            if (len >= head + msglen) {
                memcpy(msgs[got], buf + head, msglen);
                msgs[got++][msglen] = '\0';
                memmove(buf, buf + head + msglen, len - head - msglen);
                len -= head + msglen;
                continue;
            }
        }
        plat_pollfd p = {s, PLAT_POLL_IN, 0};
        if (plat_monotonic_ns() > end)
            fail_msg("%d of %d frames within %d ms", got, n, WAIT_MS);
        if (plat_sock_poll(&p, 1, 100) == 1) {
            long k = plat_sock_recv(s, buf + len, sizeof(buf) - len);
            if (k == 0)
                fail_msg("the connection closed after %d of %d frames", got, n);
            if (k > 0)
                len += (size_t)k;
        }
    }
    assert_int_equal(len, 0); /* nothing after the last frame */
}

static void tcp_delivers_octet_counted_frames(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    plat_socket l, s;
    int port;
    char url[64], err[256], msgs[3][4096];
    const char *kinds[] = {"verdict_change", "outside_change", "chain_broken"};
    assert_int_equal(plat_tcp_listen("127.0.0.1", 0, 16, &l, &port), TMI_OK);
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    config(&cfg, r);
    cfg.syslog_url = url;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    s = accept_one(l); /* connected at start, before any alert */
    wait_state(o, ALERT_OUT_SYSLOG, ALERT_STATE_OK);
    for (int i = 0; i < 3; i++) {
        alert a = make_alert(kinds[i], "over TCP");
        a.severity = i + 2;
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    }
    read_frames(s, msgs, 3);
    for (int i = 0; i < 3; i++) {
        char head[64];
        snprintf(head, sizeof(head), "<%d>1 ", 3 * 8 + i + 2);
        assert_memory_equal(msgs[i], head, strlen(head));
        assert_non_null(strstr(msgs[i], kinds[i]));
        assert_non_null(strstr(msgs[i], " testhost tmi-console "));
        assert_non_null(strstr(msgs[i], "] \xEF\xBB\xBFover TCP"));
    }
    wait_handled(o, ALERT_OUT_SYSLOG, 3);
    alert_outputs_free(o);
    plat_sock_close(s);
    plat_sock_close(l);
    assert_int_equal(r->n, 0);
}

/* Listen on port again (it may take a moment to be free). */
static plat_socket listen_again(int port)
{
    plat_socket l = PLAT_SOCKET_NONE;
    int got = 0, rc = TMI_EBUSY;
    for (int i = 0; i < 200 && rc == TMI_EBUSY; i++) {
        rc = plat_tcp_listen("127.0.0.1", port, 16, &l, &got);
        if (rc == TMI_EBUSY)
            plat_sleep_ms(50);
    }
    assert_int_equal(rc, TMI_OK);
    return l;
}

/* No collector: a small queue fills, the rest is dropped and counted; the
 * collector appears, the queued alerts arrive in order; one report for the
 * failure, one for the full queue, one for the recovery with the count. */
static void tcp_queue_bound_and_reconnect(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    plat_socket l, s;
    int port;
    char url[64], err[256], msgs[4][4096], text[32];
    assert_int_equal(plat_tcp_listen("127.0.0.1", 0, 16, &l, &port), TMI_OK);
    plat_sock_close(l); /* a port where nothing listens */
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    config(&cfg, r);
    cfg.syslog_url = url;
    cfg.queue_max = 4;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    st = wait_state(o, ALERT_OUT_SYSLOG, ALERT_STATE_FAILING);
    assert_non_null(strstr(st.error, "connection refused"));
    for (int i = 0; i < 10; i++) {
        alert a;
        snprintf(text, sizeof(text), "alert %d", i);
        a = make_alert("outside_change", text);
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    }
    st = wait_handled(o, ALERT_OUT_SYSLOG, 6); /* the 6 that did not fit */
    assert_int_equal(st.dropped, 6);
    assert_int_equal(st.queued, 4);
    assert_int_equal(st.sent, 0);
    l = listen_again(port);
    s = accept_one(l);
    read_frames(s, msgs, 4);
    for (int i = 0; i < 4; i++) {
        snprintf(text, sizeof(text),
                 "\xEF\xBB\xBF"
                 "alert %d",
                 i);
        assert_non_null(strstr(msgs[i], text)); /* the first four, in order */
    }
    st = wait_handled(o, ALERT_OUT_SYSLOG, 10);
    assert_int_equal(st.sent, 4);
    assert_int_equal(st.state, ALERT_STATE_OK);
    alert_outputs_free(o);
    plat_sock_close(s);
    plat_sock_close(l);
    if (count_reports(r, "connection refused; alerts wait in the queue") != 1 ||
        count_reports(r, "the queue is full (4 alerts)") != 1 ||
        count_reports(r, "works again (6 alert(s) dropped meanwhile)") != 1 || r->n != 3) {
        print_reports(r);
        fail_msg("expected three reports: failing, queue full, works again");
    }
}

/* The collector goes away while idle and comes back: what was sent
 * meanwhile waits and arrives; nothing is dropped. */
static void tcp_collector_restarts(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    plat_socket l, s;
    int port;
    char url[64], err[256], msgs[2][4096];
    assert_int_equal(plat_tcp_listen("127.0.0.1", 0, 16, &l, &port), TMI_OK);
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    config(&cfg, r);
    cfg.syslog_url = url;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    s = accept_one(l);
    wait_state(o, ALERT_OUT_SYSLOG, ALERT_STATE_OK);
    plat_sock_close(s); /* the collector dies */
    plat_sock_close(l);
    wait_state(o, ALERT_OUT_SYSLOG, ALERT_STATE_FAILING);
    {
        alert a = make_alert("job_failed", "while down 1"), b = make_alert("job_failed", "down 2");
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
        assert_int_equal(alert_outputs_send(o, &b), TMI_OK);
    }
    l = listen_again(port);
    s = accept_one(l);
    read_frames(s, msgs, 2);
    assert_non_null(strstr(msgs[0], "while down 1"));
    assert_non_null(strstr(msgs[1], "down 2"));
    st = wait_handled(o, ALERT_OUT_SYSLOG, 2);
    assert_int_equal(st.dropped, 0);
    alert_outputs_free(o);
    plat_sock_close(s);
    plat_sock_close(l);
    if (count_reports(r, "alerts wait in the queue") != 1 ||
        count_reports(r, "works again (0 alert(s) dropped meanwhile)") != 1 || r->n != 2) {
        print_reports(r);
        fail_msg("expected one failure and one recovery report");
    }
}

/* A collector that accepts and never reads: sends still return, the queue
 * fills and drops are counted; shutdown gives up within its bound. */
static void tcp_stalled_collector_never_blocks(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    plat_socket l;
    int port;
    char url[64], err[256], *big = malloc(4000);
    assert_non_null(big);
    memset(big, 'x', 3999);
    big[3999] = '\0';
    assert_int_equal(plat_tcp_listen("127.0.0.1", 0, 16, &l, &port), TMI_OK);
    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    config(&cfg, r);
    cfg.syslog_url = url;
    cfg.queue_max = 16;
    cfg.send_timeout_ms = 200;
    cfg.flush_ms = 200;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    for (int i = 0; i < 3000; i++) {
        alert a = make_alert("verdict_change", big);
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    }
    st = wait_handled(o, ALERT_OUT_SYSLOG, 3000 - 16);
    assert_true(st.dropped > 0);
    assert_true(count_reports(r, "the queue is full (16 alerts)") >= 1);
    alert_outputs_free(o);
    plat_sock_close(l);
    free(big);
}

/* ---- the event log ---- */

static void event_log_writes_the_kind_id(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    alert_output_status st;
    char dir[PLAT_PATH_MAX], err[256];
    alert a = make_alert("outside_change", "mrf.exe changed outside tmi-console");
    tu_mkdtemp(dir, sizeof(dir));
    config(&cfg, r);
    cfg.event_log = 1;
    cfg.event_log_scope = dir; /* the sandbox's log on POSIX; ignored on Windows */
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    st = wait_handled(o, ALERT_OUT_EVENT_LOG, 1);
    assert_int_equal(st.sent, 1);
    alert_outputs_free(o);
#ifndef _WIN32
    {
        plat_event ev[4];
        size_t n = 0;
        assert_int_equal(plat.event_query(dir, "tmi-console", -1, 0, ev, 4, &n), TMI_OK);
        assert_int_equal(n, 1);
        assert_int_equal(ev[0].id, ALERT_EVENT_OUTSIDE_CHANGE);
        assert_int_equal(ev[0].level, 3); /* severity 4: warning */
        assert_string_equal(ev[0].message, "mrf.exe changed outside tmi-console");
    }
    /* without a sandbox there is no event log here: refused at once */
    config(&cfg, r);
    cfg.event_log = 1;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_EINVAL);
    assert_string_equal(err, "the event log output needs the sandbox's folder on this system");
    /* a sandbox folder that cannot hold the log: reported once */
    {
        char file[PLAT_PATH_MAX];
        tu_join(file, sizeof(file), dir, "not-a-folder");
        tu_write(file, "x", 1);
        config(&cfg, r);
        cfg.event_log = 1;
        cfg.event_log_scope = file;
        assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
        st = wait_handled(o, ALERT_OUT_EVENT_LOG, 2);
        assert_int_equal(st.dropped, 2);
        assert_non_null(strstr(st.target, "event log of the sandbox"));
        alert_outputs_free(o);
        if (r->n != 1 || count_reports(r, "cannot write to the event log") != 1) {
            print_reports(r);
            fail_msg("expected one report");
        }
    }
#endif
}

/* ---- status, configuration, calls ---- */

static void status_json_shape(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX], err[256];
    cJSON *j, *f, *sl;
    tu_mkdtemp(dir, sizeof(dir));
    tu_join(path, sizeof(path), dir, "a.jsonl");
    config(&cfg, r);
    cfg.file_path = path;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    {
        alert a = make_alert("job_failed", "x");
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
    }
    wait_handled(o, ALERT_OUT_FILE, 1);
    j = alert_outputs_status_json(o);
    assert_non_null(j);
    f = cJSON_GetObjectItem(j, "file");
    sl = cJSON_GetObjectItem(j, "syslog");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "configured")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "working")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "error")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(f, "last_sent")));
    assert_int_equal(cJSON_GetObjectItem(f, "sent")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(f, "dropped")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(f, "queued")->valueint, 0);
    assert_non_null(strstr(cJSON_GetObjectItem(f, "target")->valuestring, "a.jsonl"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(sl, "configured")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(sl, "target")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(sl, "working")));
    assert_non_null(cJSON_GetObjectItem(j, "event_log"));
    assert_int_equal(cJSON_GetArraySize(j), 3);
    cJSON_Delete(j);
    alert_outputs_free(o);
    /* no outputs at all, and a NULL object */
    config(&cfg, r);
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
    {
        alert a = make_alert("job_failed", "x");
        assert_int_equal(alert_outputs_send(o, &a), TMI_OK);
        assert_int_equal(alert_outputs_send(NULL, &a), TMI_OK);
    }
    alert_outputs_free(o);
    j = alert_outputs_status_json(NULL);
    assert_non_null(j);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "file"), "configured")));
    cJSON_Delete(j);
    alert_outputs_free(NULL);
}

static void bad_config_and_alerts_refused(void **state)
{
    reports *r = *state;
    alert_outputs_config cfg;
    alert_outputs *o = (alert_outputs *)1;
    char err[256];
    config(&cfg, r);
    cfg.syslog_url = "udp://host";
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_EINVAL);
    assert_null(o);
    assert_string_equal(err, "syslog URL: missing :PORT after the host (syslog collectors "
                             "usually listen on 514)");
    config(&cfg, r);
    cfg.syslog_facility = 24;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_EINVAL);
    config(&cfg, r);
    cfg.app_name = "tmi console";
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_EINVAL);
    config(&cfg, r);
    cfg.hostname = "h\xc3\xa9";
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_EINVAL);
    config(&cfg, r);
    cfg.queue_max = 0;
    assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_EINVAL);
    /* a bad alert is refused and nothing is queued */
    {
        char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX];
        alert a = make_alert("no_such_kind", "x");
        alert_output_status st;
        tu_mkdtemp(dir, sizeof(dir));
        tu_join(path, sizeof(path), dir, "a.jsonl");
        config(&cfg, r);
        cfg.file_path = path;
        assert_int_equal(alert_outputs_new(&cfg, &o, err, sizeof(err)), TMI_OK);
        assert_int_equal(alert_outputs_send(o, &a), TMI_EINVAL);
        a = make_alert("job_failed", "x");
        a.old_sha256 = "not a hash";
        assert_int_equal(alert_outputs_send(o, &a), TMI_EINVAL);
        st = wait_state(o, ALERT_OUT_FILE, ALERT_STATE_OK); /* created at start */
        assert_int_equal(st.sent + st.dropped + st.queued, 0);
        alert_outputs_free(o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(file_appends_one_line_per_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(file_failure_reported_once_then_recovery, setup, teardown),
#ifndef _WIN32
        cmocka_unit_test_setup_teardown(file_full_disk_reported_once, setup, teardown),
        cmocka_unit_test_setup_teardown(file_link_never_followed, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(tcp_delivers_octet_counted_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(tcp_queue_bound_and_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(tcp_collector_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(tcp_stalled_collector_never_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(event_log_writes_the_kind_id, setup, teardown),
        cmocka_unit_test_setup_teardown(status_json_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_config_and_alerts_refused, setup, teardown),
    };
    return cmocka_run_group_tests_name("alerts/outputs", tests, NULL, NULL);
}

/*
 * alert_output.c - the queue, state and reports of one alert output
 * (alert_output.h).
 */
#include "alert_output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "strutil.h"

alert_entry *alert_entry_new(const void *data, size_t len)
{
    alert_entry *e;
    if (len > SIZE_MAX - sizeof(*e) - 1)
        return NULL;
    e = malloc(sizeof(*e) + len + 1);
    if (e == NULL)
        return NULL;
    memset(e, 0, sizeof(*e));
    memcpy(e->data, data, len);
    e->data[len] = '\0';
    e->len = len;
    return e;
}

int output_init(alert_output *o, int kind, const char *target, size_t queue_max,
                void (*report)(void *, const char *), void *report_arg)
{
    memset(o, 0, sizeof(*o));
    o->configured = 1;
    o->kind = kind;
    snprintf(o->target, sizeof(o->target), "%s", target);
    o->queue_max = queue_max;
    o->report = report;
    o->report_arg = report_arg;
    if (plat_mutex_new(&o->mu) != TMI_OK)
        return TMI_ENOMEM;
    if (plat_cond_new(&o->cv) != TMI_OK) {
        plat_mutex_free(o->mu);
        o->mu = NULL;
        return TMI_ENOMEM;
    }
    return TMI_OK;
}

void output_release(alert_output *o)
{
    alert_entry *e = o->head, *next;
    for (; e != NULL; e = next) {
        next = e->next;
        free(e);
    }
    o->head = o->tail = NULL;
    plat_cond_free(o->cv);
    plat_mutex_free(o->mu);
    o->cv = NULL;
    o->mu = NULL;
}

/* Queue a report line (mu held). When the list is full the last line is
 * replaced: the newest state is the one that matters. */
static void add_report(alert_output *o, const char *fmt, ...) TMI_PRINTF(2, 3);
static void add_report(alert_output *o, const char *fmt, ...)
{
    va_list ap;
    int i = o->nreports < OUTPUT_REPORTS_MAX ? o->nreports++ : OUTPUT_REPORTS_MAX - 1;
    va_start(ap, fmt);
    vsnprintf(o->reports[i], sizeof(o->reports[i]), fmt, ap);
    va_end(ap);
}

static int in_bad_period(const alert_output *o)
{
    return o->state == ALERT_STATE_FAILING || o->dropping;
}

void output_push(alert_output *o, alert_entry *e)
{
    plat_mutex_lock(o->mu);
    if (o->queued >= o->queue_max) {
        if (!o->dropping) {
            if (!in_bad_period(o))
                o->mark = o->dropped;
            o->dropping = 1;
            add_report(o,
                       "%s: the queue is full (%zu alerts): new alerts are dropped until it drains",
                       o->target, o->queue_max);
        }
        o->dropped++;
        free(e);
    } else {
        e->next = NULL;
        if (o->tail != NULL)
            o->tail->next = e;
        else
            o->head = e;
        o->tail = e;
        o->queued++;
    }
    plat_cond_signal(o->cv);
    plat_mutex_unlock(o->mu);
    if (o->wake != NULL)
        o->wake(o);
}

alert_entry *output_next(alert_output *o, int wait, int *stopping, int64_t *deadline_ns)
{
    alert_entry *e = NULL;
    plat_mutex_lock(o->mu);
    for (;;) {
        if (o->stop && (o->head == NULL || plat_monotonic_ns() >= o->deadline_ns))
            break;
        if (o->head != NULL || !wait || o->nreports > 0) {
            e = o->head;
            break;
        }
        plat_cond_wait(o->cv, o->mu);
    }
    if (stopping != NULL)
        *stopping = o->stop;
    if (deadline_ns != NULL)
        *deadline_ns = o->deadline_ns;
    plat_mutex_unlock(o->mu);
    return e;
}

/* The end of a bad period (mu held): report it once. */
static void recovered(alert_output *o)
{
    if (in_bad_period(o))
        add_report(o, "%s: works again (%llu alert(s) dropped meanwhile)", o->target,
                   (unsigned long long)(o->dropped - o->mark));
    o->state = ALERT_STATE_OK;
    o->dropping = 0;
}

/* Unqueue the head (mu held) and return it. */
static alert_entry *unqueue(alert_output *o)
{
    alert_entry *e = o->head;
    if (e == NULL)
        return NULL;
    o->head = e->next;
    if (o->head == NULL)
        o->tail = NULL;
    o->queued--;
    return e;
}

void output_delivered(alert_output *o, int confirm)
{
    alert_entry *e;
    plat_mutex_lock(o->mu);
    e = unqueue(o);
    o->sent++;
    o->sent_ns = plat_now_ns();
    /* a full queue has recovered once it has drained: reporting the end of
     * dropping at every delivery would report every alert of a burst */
    if (o->dropping && o->queued > 0) {
        if (confirm)
            o->state = ALERT_STATE_OK;
    } else if (confirm) {
        recovered(o);
    } else {
        o->dropping = 0;
    }
    plat_mutex_unlock(o->mu);
    free(e);
}

void output_connected(alert_output *o)
{
    plat_mutex_lock(o->mu);
    if (!o->dropping)
        recovered(o);
    else
        o->state = ALERT_STATE_OK; /* still dropping: recovered when it drains */
    plat_mutex_unlock(o->mu);
}

void output_failed(alert_output *o, const char *error, int drop)
{
    alert_entry *e = NULL;
    plat_mutex_lock(o->mu);
    if (o->state != ALERT_STATE_FAILING) {
        if (!in_bad_period(o))
            o->mark = o->dropped;
        add_report(o, "%s: %s; %s", o->target, error,
                   o->keeps_failed ? "alerts wait in the queue and go out when it works again"
                                   : "alerts are dropped until it works again");
    }
    o->state = ALERT_STATE_FAILING;
    snprintf(o->error, sizeof(o->error), "%s", error);
    o->error_ns = plat_now_ns();
    if (drop) {
        e = unqueue(o);
        if (e != NULL)
            o->dropped++;
    }
    plat_mutex_unlock(o->mu);
    free(e);
}

void output_flush_reports(alert_output *o)
{
    char lines[OUTPUT_REPORTS_MAX][sizeof(o->reports[0])];
    int n;
    plat_mutex_lock(o->mu);
    n = o->nreports;
    memcpy(lines, o->reports, (size_t)n * sizeof(lines[0]));
    o->nreports = 0;
    plat_mutex_unlock(o->mu);
    for (int i = 0; i < n; i++)
        o->report(o->report_arg, lines[i]);
}

void output_stop(alert_output *o, int64_t deadline_ns)
{
    plat_mutex_lock(o->mu);
    o->stop = 1;
    o->deadline_ns = deadline_ns;
    plat_cond_broadcast(o->cv);
    plat_mutex_unlock(o->mu);
    if (o->wake != NULL)
        o->wake(o);
}

void output_finish(alert_output *o)
{
    alert_entry *e, *left = NULL;
    size_t n = 0;
    plat_mutex_lock(o->mu);
    while ((e = unqueue(o)) != NULL) {
        e->next = left;
        left = e;
        n++;
    }
    o->dropped += n;
    if (n > 0)
        add_report(o, "%s: %zu alert(s) not delivered at shutdown", o->target, n);
    plat_mutex_unlock(o->mu);
    for (; left != NULL; left = e) {
        e = left->next;
        free(left);
    }
    output_flush_reports(o);
    plat_mutex_lock(o->mu);
    o->done = 1;
    plat_mutex_unlock(o->mu);
}

int output_stopping(alert_output *o, int64_t *deadline_ns)
{
    int stop;
    plat_mutex_lock(o->mu);
    stop = o->stop;
    if (deadline_ns != NULL)
        *deadline_ns = o->deadline_ns;
    plat_mutex_unlock(o->mu);
    return stop;
}

int output_done(alert_output *o)
{
    int done;
    plat_mutex_lock(o->mu);
    done = o->done;
    plat_mutex_unlock(o->mu);
    return done;
}

void output_status(alert_output *o, alert_output_status *st)
{
    memset(st, 0, sizeof(*st));
    if (!o->configured)
        return;
    st->configured = 1;
    snprintf(st->target, sizeof(st->target), "%s", o->target);
    plat_mutex_lock(o->mu);
    st->state = o->state;
    snprintf(st->error, sizeof(st->error), "%s", o->error);
    st->error_ns = o->error_ns;
    st->last_sent_ns = o->sent_ns;
    st->sent = o->sent;
    st->dropped = o->dropped;
    st->queued = o->queued;
    plat_mutex_unlock(o->mu);
}

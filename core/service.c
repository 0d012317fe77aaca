/* service.c - waiting and verification around the platform service calls. */
#include "service.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

#define POLL_MS 50

const char *service_state_name(plat_svc_state s)
{
    switch (s) {
    case PLAT_SVC_STOPPED:
        return "stopped";
    case PLAT_SVC_START_PENDING:
        return "start_pending";
    case PLAT_SVC_STOP_PENDING:
        return "stop_pending";
    case PLAT_SVC_RUNNING:
        return "running";
    case PLAT_SVC_NOT_FOUND:
    default:
        return "not_found";
    }
}

int service_resolve(const playbook *pb, const char *scope, const char *override_name,
                    service_ref *out)
{
    const char *short_name = override_name ? override_name : pb->service_short_name;
    memset(out, 0, sizeof(*out));
    out->scope = scope;
    return plat.svc_resolve(scope, short_name, pb->service_display_name, pb->service_image_name,
                            out->name, sizeof(out->name));
}

int service_wait(const service_ref *s, plat_svc_state want, unsigned timeout_ms,
                 plat_svc_status *last)
{
    plat_svc_status st;
    int64_t deadline = plat_monotonic_ns() + (int64_t)timeout_ms * 1000000LL;
    for (;;) {
        int rc = plat.svc_query(s->scope, s->name, &st);
        if (rc != TMI_OK)
            return rc;
        if (last != NULL)
            *last = st;
        if (st.state == want)
            return TMI_OK;
        if (st.state == PLAT_SVC_NOT_FOUND)
            return TMI_ENOENT;
        if (plat_monotonic_ns() >= deadline)
            return TMI_ETIMEDOUT;
        plat_sleep_ms(POLL_MS);
    }
}

int service_stop_wait(const service_ref *s, unsigned timeout_ms, plat_svc_status *last)
{
    plat_svc_status st;
    int rc = plat.svc_query(s->scope, s->name, &st);
    if (rc != TMI_OK)
        return rc;
    if (last != NULL)
        *last = st;
    if (st.state == PLAT_SVC_NOT_FOUND)
        return TMI_ENOENT;
    if (st.state == PLAT_SVC_STOPPED)
        return TMI_OK;
    rc = plat.svc_stop(s->scope, s->name);
    if (rc != TMI_OK)
        return rc;
    return service_wait(s, PLAT_SVC_STOPPED, timeout_ms, last);
}

int service_start_verify(const service_ref *s, unsigned timeout_ms, unsigned stay_ms,
                         plat_svc_status *last, char *why, size_t whylen)
{
    plat_svc_status st;
    int64_t until;
    int rc = plat.svc_start(s->scope, s->name);
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (rc != TMI_OK) {
        snprintf(why, whylen, "the service could not be started: %s", tmi_strerror(rc));
        return rc;
    }
    /* after a successful start request, STOPPED means it has already ended */
    until = plat_monotonic_ns() + (int64_t)timeout_ms * 1000000LL;
    for (;;) {
        rc = plat.svc_query(s->scope, s->name, &st);
        if (rc != TMI_OK)
            return rc;
        if (last != NULL)
            *last = st;
        if (st.state == PLAT_SVC_RUNNING)
            break;
        if (st.state == PLAT_SVC_STOPPED || st.state == PLAT_SVC_NOT_FOUND) {
            snprintf(why, whylen, "the service started and then stopped (exit code %d)",
                     st.has_exit_code ? st.exit_code : -1);
            return TMI_ESERVICE;
        }
        if (plat_monotonic_ns() >= until) {
            snprintf(why, whylen, "the service did not reach RUNNING within %u ms (state %s)",
                     timeout_ms, service_state_name(st.state));
            return TMI_ETIMEDOUT;
        }
        plat_sleep_ms(POLL_MS);
    }
    until = plat_monotonic_ns() + (int64_t)stay_ms * 1000000LL;
    while (plat_monotonic_ns() < until) {
        plat_sleep_ms(POLL_MS);
        rc = plat.svc_query(s->scope, s->name, &st);
        if (rc != TMI_OK)
            return rc;
        if (last != NULL)
            *last = st;
        if (st.state != PLAT_SVC_RUNNING) {
            snprintf(why, whylen, "the service started and then stopped (exit code %d)",
                     st.has_exit_code ? st.exit_code : -1);
            return TMI_ESERVICE;
        }
    }
    return TMI_OK;
}

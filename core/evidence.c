/* evidence.c - the service's state and event-log records as JSON (see
 * evidence.h). */
#include "evidence.h"

#include <stdio.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "plat.h"
#include "service.h"
#include "timefmt.h"

cJSON *evidence_service_json(const tmi_target *t)
{
    service_ref svc;
    plat_svc_status st;
    cJSON *o = cJSON_CreateObject();
    int rc;
    if (o == NULL)
        return NULL;
    rc = service_resolve(t->pb, t->root, tmi_target_service(t), &svc);
    if (rc == TMI_ENOENT) {
        cJSON_AddStringToObject(o, "state", "not_found");
        cJSON_AddStringToObject(o, "detail",
                                "no service named \"Trend Micro Management "
                                "Infrastructure\" or running mrf.exe is registered");
        return o;
    }
    if (rc == TMI_OK)
        rc = plat.svc_query(svc.scope, svc.name, &st);
    if (rc != TMI_OK) {
        cJSON_AddStringToObject(o, "state", "unknown");
        cJSON_AddStringToObject(o, "detail", tmi_strerror(rc));
        return o;
    }
    cJSON_AddStringToObject(o, "state", service_state_name(st.state));
    cJSON_AddStringToObject(o, "name", svc.name);
    cJSON_AddStringToObject(o, "display_name",
                            st.display_name[0] ? st.display_name : t->pb->service_display_name);
    if (st.pid > 0)
        cJSON_AddNumberToObject(o, "pid", (double)st.pid);
    else
        cJSON_AddNullToObject(o, "pid");
    if (st.has_exit_code)
        cJSON_AddNumberToObject(o, "exit_code", st.exit_code);
    else
        cJSON_AddNullToObject(o, "exit_code");
    cJSON_AddStringToObject(o, "detail",
                            st.state == PLAT_SVC_RUNNING ? "the service is running"
                            : st.has_exit_code           ? "the service is not running; see "
                                                           "its last exit code"
                                                         : "the service is not running");
    return o;
}

cJSON *evidence_events_json(const tmi_target *t, int64_t since_ns, size_t max)
{
    plat_event ev[EVIDENCE_EVENTS_MAX];
    size_t n = 0;
    char when[40];
    cJSON *arr = cJSON_CreateArray();
    const playbook *pb = t->pb;
    if (arr == NULL || pb->event_provider == NULL)
        return arr;
    if (max > EVIDENCE_EVENTS_MAX)
        max = EVIDENCE_EVENTS_MAX;
    if (plat.event_query(t->root, pb->event_provider, pb->event_id, since_ns, ev, max, &n) !=
        TMI_OK)
        return arr;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            break;
        cJSON_AddStringToObject(o, "time", time_format_utc(ev[i].time_ns, when, sizeof(when)));
        cJSON_AddNumberToObject(o, "id", ev[i].id);
        cJSON_AddStringToObject(o, "provider", ev[i].provider);
        cJSON_AddNumberToObject(o, "level", ev[i].level);
        cJSON_AddStringToObject(o, "message", ev[i].message);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

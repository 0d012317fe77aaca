/*
 * service.h - the TMI service as the repair sees it: find it, and stop or
 * start it with waiting and verification on top of the platform's
 * non-waiting calls.
 *
 * The fault shows itself as a service that "started and then stopped", so
 * service_start_verify() does not trust a RUNNING state alone: it keeps
 * watching for stay_ms and fails if the service stops in that window.
 */
#ifndef TMI_SERVICE_H
#define TMI_SERVICE_H

#include <stddef.h>

#include "plat.h"
#include "playbook.h"

typedef struct service_ref {
    const char *scope; /* see plat.h; borrowed, must outlive the ref */
    char name[256];    /* the service's short name */
} service_ref;

/* "running", "stopped", "start_pending", "stop_pending", "not_found". */
const char *service_state_name(plat_svc_state s);

/* Resolve the playbook's service: the override name if given, else the
 * playbook's short name, display name, then image name. TMI_ENOENT if none. */
int service_resolve(const playbook *pb, const char *scope, const char *override_name,
                    service_ref *out);

/* Poll until the service reaches `want` or timeout_ms passes (TMI_ETIMEDOUT).
 * *last (may be NULL) receives the last status seen. */
int service_wait(const service_ref *s, plat_svc_state want, unsigned timeout_ms,
                 plat_svc_status *last);

/* Stop if running and wait for STOPPED. A stopped service is TMI_OK. */
int service_stop_wait(const service_ref *s, unsigned timeout_ms, plat_svc_status *last);

/*
 * Start, wait for RUNNING (timeout_ms), then check that it stays running for
 * stay_ms. TMI_ESERVICE when it stopped again (why says so, with its exit
 * code), TMI_ETIMEDOUT when it never reached RUNNING. *last (may be NULL)
 * receives the last status seen.
 */
int service_start_verify(const service_ref *s, unsigned timeout_ms, unsigned stay_ms,
                         plat_svc_status *last, char *why, size_t whylen);

#endif

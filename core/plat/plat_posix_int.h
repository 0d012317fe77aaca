/* plat_posix_int.h - functions shared between the POSIX backend's files. */
#ifndef TMI_PLAT_POSIX_INT_H
#define TMI_PLAT_POSIX_INT_H

#include "plat.h"

/* errno as a TMI_E* code (the backend's one translation). */
int posix_err(int e);

int posix_svc_resolve(const char *scope, const char *short_name, const char *display_name,
                      const char *image_name, char *name, size_t namelen);
int posix_svc_query(const char *scope, const char *name, plat_svc_status *st);
int posix_svc_start(const char *scope, const char *name);
int posix_svc_stop(const char *scope, const char *name);
int posix_event_query(const char *scope, const char *provider, int event_id, int64_t since_ns,
                      plat_event *out, size_t max, size_t *n);

#endif

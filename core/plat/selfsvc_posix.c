/*
 * selfsvc_posix.c - elevation and "this program as a service" (plat.h) on
 * POSIX: there is no Service Control Manager to register with, no event
 * source to register, and no split token (see plat_is_elevated in plat.h).
 */
#include "plat.h"

#include "err.h"

int plat_is_elevated(void)
{
    return 1;
}

int plat_service_install(const char *name, const char *display_name, const char *description,
                         const char *const *args)
{
    (void)name;
    (void)display_name;
    (void)description;
    (void)args;
    return TMI_ENOTSUP;
}

int plat_service_uninstall(const char *name)
{
    (void)name;
    return TMI_ENOTSUP;
}

int plat_event_source_install(const char *source)
{
    (void)source;
    return TMI_ENOTSUP;
}

int plat_event_source_uninstall(const char *source)
{
    (void)source;
    return TMI_ENOTSUP;
}

int plat_run_as_service(int (*main_fn)(void *), void *arg)
{
    (void)main_fn;
    (void)arg;
    return TMI_ENOTSUP;
}

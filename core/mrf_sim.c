/* mrf_sim.c - the sandbox's mrf.exe (see mrf_sim.h). */
#include "mrf_sim.h"

#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "pathutil.h"
#include "pe_version.h"
#include "plat.h"

#define STARTUP_MS 300

int mrf_sim_check(const playbook *pb, const char *dir, char *why, size_t whylen)
{
    char path[PLAT_PATH_MAX], v[TMI_VERSION_STRLEN];
    for (size_t i = 0; i < pb->n_files; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        pe_version_info info;
        int rc = path_find_ci(dir, pb->files[i], path, sizeof(path));
        if (rc == TMI_OK)
            rc = plat.read_file(path, pb->max_file_size, &buf, &len);
        if (rc != TMI_OK) {
            snprintf(why, whylen, "%s: %s", pb->files[i], tmi_strerror(rc));
            return 0;
        }
        rc = pe_version_read(buf, len, &info);
        free(buf);
        if (rc != TMI_OK || !info.has_fixed) {
            snprintf(why, whylen, "%s: no usable version resource", pb->files[i]);
            return 0;
        }
        if (version_compare(&info.file_version, &pb->expected_version) < 0) {
            snprintf(why, whylen, "%s is %s", pb->files[i],
                     version_format(&info.file_version, v, sizeof(v)));
            return 0;
        }
    }
    return 1;
}

int mrf_sim_run(const playbook *pb, const char *scope, const char *dir)
{
    char why[512];
    plat_install_stop_handler();
    /* a real service takes a moment to load its modules before it fails */
    plat_sleep_ms(STARTUP_MS);
    if (!mrf_sim_check(pb, dir, why, sizeof(why))) {
        fprintf(stderr, "mrf: not ready: %s\n", why);
        if (pb->event_provider != NULL && pb->event_id >= 0)
            plat_event_write(scope, pb->event_provider, pb->event_id, 2, MRF_SIM_EVENT_MESSAGE);
        return 1;
    }
    fprintf(stderr, "mrf: running\n");
    while (!plat_stop_requested())
        plat_sleep_ms(50);
    fprintf(stderr, "mrf: stopped\n");
    return 0;
}

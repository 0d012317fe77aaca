/* mrf_sim.c - the sandbox's mrf.exe (see mrf_sim.h). */
#include "mrf_sim.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "pathutil.h"
#include "pe_version.h"
#include "plat.h"

#define STARTUP_MS  300
#define WATCH_TICKS 10 /* look at the files every 10 x 50 ms */

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

/* A cheap fingerprint of the files' sizes and modification times (and
 * presence), to notice a change without reading them. */
static uint64_t files_stamp(const playbook *pb, const char *dir)
{
    char path[PLAT_PATH_MAX];
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the stat fields */
    for (size_t i = 0; i < pb->n_files; i++) {
        plat_stat st;
        uint64_t v[2] = {0, 0};
        if (path_find_ci(dir, pb->files[i], path, sizeof(path)) == TMI_OK &&
            plat.stat(path, &st) == TMI_OK) {
            v[0] = st.size;
            v[1] = (uint64_t)st.mtime_ns;
        }
        for (size_t k = 0; k < 2; k++) {
            for (int b = 0; b < 64; b += 8) {
                h ^= (v[k] >> b) & 0xff;
                h *= 1099511628211ULL;
            }
        }
    }
    return h;
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
    uint64_t seen = files_stamp(pb, dir);
    for (int tick = 1; !plat_stop_requested(); tick++) {
        plat_sleep_ms(50);
        if (tick % WATCH_TICKS != 0)
            continue;
        /* the real service holds its files; here they can change under it:
         * it stays up only while they are all still good */
        uint64_t now = files_stamp(pb, dir);
        if (now == seen)
            continue;
        seen = now;
        if (!mrf_sim_check(pb, dir, why, sizeof(why))) {
            fprintf(stderr, "mrf: files changed while running: %s\n", why);
            if (pb->event_provider != NULL && pb->event_id >= 0)
                plat_event_write(scope, pb->event_provider, pb->event_id, 2, MRF_SIM_EVENT_MESSAGE);
            return 1;
        }
    }
    fprintf(stderr, "mrf: stopped\n");
    return 0;
}

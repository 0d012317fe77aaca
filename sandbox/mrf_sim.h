/*
 * mrf_sim.h - a stand-in for mrf.exe, for the sandbox service.
 *
 * It behaves like the real TMI service as far as this fault goes: at start it
 * checks the files of its folder; unless every one is at the playbook's
 * expected version (or newer) it writes the event-800 record
 * ("... errcode=-107, MRFServer.cpp|108") to the event log and exits at once,
 * so the service "started and then stopped". Otherwise it runs until it is
 * asked to stop, or until its files change to a set that is not all good
 * (looked at twice a second): then it logs the same record and exits, as
 * the real service would on its next start. It stays up only while its
 * folder holds the good set.
 */
#ifndef TMI_MRF_SIM_H
#define TMI_MRF_SIM_H

#include <stddef.h>

#include "playbook.h"

/* The message the real service logs with event 800. */
#define MRF_SIM_EVENT_MESSAGE                                                                      \
    "Trend Micro Management Infrastructure (TMI) is not ready. Error message: errcode=-107, "      \
    "MRFServer.cpp|108"

/* 1 when dir holds every file at the expected version or newer, else 0 with
 * the first problem in why. */
int mrf_sim_check(const playbook *pb, const char *dir, char *why, size_t whylen);

/* The service body: returns the process exit code (0 stopped on request,
 * 1 refused to start). scope is the event log's scope (plat.h). */
int mrf_sim_run(const playbook *pb, const char *scope, const char *dir);

#endif

/*
 * testutil.h - small helpers shared by the unit tests (not part of the product).
 */
#ifndef TMI_TESTUTIL_H
#define TMI_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

/* Make a fresh empty folder for one test under $TMI_TEST_TMP (or /tmp) and
 * write its path into buf. Aborts the test binary on failure. */
void tu_mkdtemp(char *buf, size_t buflen);

/* Join a and b with the platform separator into buf ('/' in b becomes the
 * platform separator too, as in path_join); aborts if too long. */
void tu_join(char *buf, size_t buflen, const char *a, const char *b);

/* Write a PE fixture at path with the file version "a.b.c.d" (NULL: no version
 * resource), padded to pad_to bytes, padding derived from seed. Aborts on error. */
void tu_write_pe(const char *path, const char *version, size_t pad_to, uint32_t seed);

/* Write raw bytes at path; aborts on error. */
void tu_write(const char *path, const void *data, size_t len);

/* mkdir -p; aborts on error. */
void tu_mkdirs(const char *path);

/* A target on root (and tmi_dir, may be NULL) as given, without the checks
 * and canonical form of tmi_target_init, so tests can point it at a root
 * that is missing or not a folder. */
struct playbook;
struct tmi_target;
void tu_target(struct tmi_target *t, const struct playbook *pb, const char *root,
               const char *tmi_dir);

#endif

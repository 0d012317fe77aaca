/*
 * storetest.h - helpers shared by the store's unit tests (not part of the
 * product): hand-built scan results, raw SQL on the real database file, and
 * file snapshots to prove that a refused file was not changed.
 */
#ifndef TMI_STORETEST_H
#define TMI_STORETEST_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "detect.h"
#include "store.h"

/* A cmocka test named like a path: ST_TEST("/store/x/y", fn). */
#define ST_TEST(name, fn)                                                                          \
    {                                                                                              \
        name, fn, NULL, NULL, NULL                                                                 \
    }

/* Test actor: user "tester", auth "cli". */
extern const audit_actor st_actor;

/* Audit details around the scan summary form (audit.h): summary 1 when the
 * text is exactly a summary (stored as numbers), 0 when it only looks like
 * one (stored as text), and NULL. */
typedef struct st_details_case {
    const char *details;
    int summary;
} st_details_case;
extern const st_details_case st_details_cases[];
extern const size_t st_n_details_cases;

/* A fresh empty folder; path into buf (PLAT_PATH_MAX). */
void st_tmpdir(char *buf, size_t buflen);

/* Open the store in dir; fails the test on error. */
store *st_open(const char *dir);

/*
 * A hand-built, healthy scan: n_files TMI files under tmi_dir (names
 * "f0.dll", ...; distinct sizes and hashes), and n_sources source folders
 * "backup0", ... under tmi_dir with per_source files each. Every string is
 * heap and every array calloc'd, so scan_result_free() releases it.
 */
scan_result *st_scan(const char *tmi_dir, size_t n_files, size_t n_sources, size_t per_source);

/* Run SQL on the store's connection; fails the test on error. */
void st_exec(store *s, const char *sql);
/* Primary SQLite result code of running sql (0 = SQLITE_OK). */
int st_exec_rc(store *s, const char *sql);
/* The first column of the first row of sql as an integer. */
int64_t st_int(store *s, const char *sql);

/* Whole file into a new buffer (caller frees); fails the test on error. */
uint8_t *st_slurp(const char *path, size_t *len);
/* Assert that path holds exactly data[0..len). */
void st_assert_file_is(const char *path, const uint8_t *data, size_t len);

/* dir/name into buf. */
void st_path(char *buf, size_t buflen, const char *dir, const char *name);

/* A growing buffer for export output; st_sink_write is an export_write_fn. */
typedef struct st_sink {
    char *data;
    size_t len;
    size_t cap;
    size_t calls;
    size_t max_piece;
    int fail_after; /* >0: return TMI_EIO on that call */
} st_sink;
int st_sink_write(void *arg, const char *buf, size_t len);
void st_sink_free(st_sink *k);

#endif

/*
 * plat.h - the one platform interface. Backends: plat_posix.c and
 * plat_win32.c, chosen by CMake. Everything above core/plat/ is portable.
 *
 * Paths are UTF-8 at this interface (backends convert to UTF-16 at the Win32
 * call). Every error is a TMI_E* code from err.h, translated from errno /
 * GetLastError() once, inside the backend.
 *
 * File system calls go through the table `plat` so that tests can replace one
 * entry to inject a failure at any step (save the old pointer, restore after).
 */
#ifndef TMI_PLAT_H
#define TMI_PLAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef _WIN32
#define PLAT_SEP '\\'
#define PLAT_SEP_STR "\\"
#else
#define PLAT_SEP '/'
#define PLAT_SEP_STR "/"
#endif

/* Longest path handled anywhere, in bytes of UTF-8 including the NUL. */
#define PLAT_PATH_MAX 4096
/* Most entries list_dir returns before failing with TMI_ETOOBIG. */
#define PLAT_DIR_MAX_ENTRIES 100000

typedef struct plat_stat {
    int is_dir;
    int is_file;
    uint64_t size;
    int64_t mtime_ns; /* modification time, ns since the Unix epoch (UTC) */
} plat_stat;

/* Names in one folder ("." and ".." left out), in no particular order. */
typedef struct plat_dirlist {
    char **names;
    size_t count;
} plat_dirlist;

/* Release the names; the struct itself is the caller's. Safe on a zeroed one. */
void plat_dirlist_free(plat_dirlist *list);

struct plat_ops {
    /* Fill *st. TMI_ENOENT when the path does not exist. */
    int (*stat)(const char *path, plat_stat *st);
    /* Read a whole regular file into a new buffer (caller frees). Reads at
     * most max_bytes: a larger file fails with TMI_ETOOBIG and reads nothing. */
    int (*read_file)(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len);
    /* List a folder. On success the caller frees with plat_dirlist_free(). */
    int (*list_dir)(const char *path, plat_dirlist *out);
    /* Create or truncate path, write len bytes, flush to stable storage. */
    int (*write_file)(const char *path, const void *data, size_t len);
    /* Create one folder. TMI_EEXIST when it exists already. */
    int (*make_dir)(const char *path);
    /* Remove one file. TMI_ENOENT when it does not exist. */
    int (*remove_file)(const char *path);
    /* Rename `from` over `to` atomically (same folder), replacing `to`. */
    int (*rename_replace)(const char *from, const char *to);
};

/* The table in use; starts as the OS backend. */
extern struct plat_ops plat;
/* The OS backend, untouched: tests restore entries from it. */
extern const struct plat_ops plat_os_ops;

/* SHA-256 of a buffer (libcrypto on POSIX, CNG on Windows). TMI_EIO if the
 * crypto library fails. */
int plat_sha256(const void *data, size_t len, uint8_t out[32]);

/* Incremental SHA-256 for data that arrives in pieces. The context is opaque
 * and heap-allocated by init; final (or free on error paths) releases it. */
typedef struct plat_sha256_ctx plat_sha256_ctx;
int plat_sha256_init(plat_sha256_ctx **ctx);
int plat_sha256_update(plat_sha256_ctx *ctx, const void *data, size_t len);
int plat_sha256_final(plat_sha256_ctx *ctx, uint8_t out[32]); /* frees ctx */
void plat_sha256_free(plat_sha256_ctx *ctx);

/* Fill buf with cryptographically secure random bytes. */
int plat_random(void *buf, size_t len);

/* Make a folder and any missing parents (like mkdir -p). Existing is fine. */
int plat_make_dirs(const char *path);

/* Remove a folder tree (used for sandboxes and tests only). Missing is fine. */
int plat_remove_tree(const char *path);

/* The per-machine data folder: %ProgramData%\tmi-console on Windows,
 * $XDG_STATE_HOME/tmi-console or ~/.local/state/tmi-console on POSIX. */
int plat_default_data_dir(char *buf, size_t buflen);

/* The default scan root: the system drive ("C:\") on Windows; TMI_ENOTSUP on
 * POSIX, where --root is required. */
int plat_default_root(char *buf, size_t buflen);

/* A string value from HKLM (both registry views are tried, 64-bit first).
 * TMI_ENOENT when absent; TMI_ENOTSUP on POSIX. */
int plat_registry_string(const char *key, const char *value, char *buf, size_t buflen);

/* Name of the user running this process, UTF-8. */
int plat_user_name(char *buf, size_t buflen);

/* Current time in ns since the Unix epoch, UTC. */
int64_t plat_now_ns(void);

/* Monotonic clock in ns, for timeouts and measurements. */
int64_t plat_monotonic_ns(void);

/* Sleep for ms milliseconds. */
void plat_sleep_ms(unsigned ms);

#endif

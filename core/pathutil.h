/*
 * pathutil.h - path joining and Windows-style case-insensitive lookup.
 *
 * Windows matches file names without regard to letter case; the POSIX sandbox
 * must behave the same, so every lookup below lists the folder and compares
 * names with ASCII case folding (the names this tool looks for are ASCII).
 * When several entries differ only in case (possible on POSIX), an exact
 * match wins, else the one that sorts first, so results are deterministic.
 * All paths are UTF-8; output buffers are the caller's.
 */
#ifndef TMI_PATHUTIL_H
#define TMI_PATHUTIL_H

#include <stddef.h>

/* Most folders a glob may expand to. */
#define PATH_GLOB_MAX 64

/* buf = a + separator + b, where '/' in b becomes the platform separator.
 * TMI_ETOOBIG if it does not fit. a may end with a separator already. */
int path_join(char *buf, size_t buflen, const char *a, const char *b);

/* Case-insensitive match of name against pat with '*' and '?' (ASCII folding). */
int path_wildcard_match(const char *pat, const char *name);

/* ASCII case-insensitive equality. */
int path_equal_ci(const char *a, const char *b);

/* Find the entry of folder dir named name (any letter case); writes the full
 * path with the real name into out. TMI_ENOENT when there is none. */
int path_find_ci(const char *dir, const char *name, char *out, size_t outlen);

/* Resolve a '/'-separated relative path under base, component by component,
 * case-insensitively. TMI_ENOENT when a component is missing. */
int path_resolve_ci(const char *base, const char *rel, char *out, size_t outlen);

/* Expand a '/'-separated glob under base into the folders it matches
 * (case-insensitive, '*' and '?' within one component). On TMI_OK *matches
 * (sorted, caller frees with path_list_free) and *n are set; zero matches is
 * TMI_OK with *n == 0. More than PATH_GLOB_MAX matches: TMI_ETOOBIG. */
int path_glob_dirs(const char *base, const char *glob, char ***matches, size_t *n);

void path_list_free(char **list, size_t n);

#endif

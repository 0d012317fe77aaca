/* pathutil.c - see pathutil.h. */
#include "pathutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"

static int fold(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

int path_equal_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        if (fold((unsigned char)*a) != fold((unsigned char)*b))
            return 0;
    }
    return *a == *b;
}

static int cmp_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        int d = fold((unsigned char)*a) - fold((unsigned char)*b);
        if (d != 0)
            return d;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int path_join(char *buf, size_t buflen, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int sep = la > 0 && a[la - 1] != '/' && a[la - 1] != PLAT_SEP;
    if (la + (size_t)sep + lb + 1 > buflen)
        return TMI_ETOOBIG;
    memmove(buf, a, la);
    if (sep)
        buf[la++] = PLAT_SEP;
    for (size_t i = 0; i < lb; i++)
        buf[la + i] = b[i] == '/' ? PLAT_SEP : b[i];
    buf[la + lb] = '\0';
    return TMI_OK;
}

int path_wildcard_match(const char *pat, const char *name)
{
    const char *star = NULL, *resume = NULL;
    while (*name) {
        if (*pat == '*') {
            star = pat++;
            resume = name;
        } else if (*pat == '?' ||
                   (*pat && fold((unsigned char)*pat) == fold((unsigned char)*name))) {
            pat++;
            name++;
        } else if (star != NULL) {
            pat = star + 1;
            name = ++resume;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

int path_find_ci(const char *dir, const char *name, char *out, size_t outlen)
{
    plat_dirlist list = {NULL, 0};
    const char *best = NULL;
    int rc = plat.list_dir(dir, &list);
    if (rc != TMI_OK)
        return rc;
    for (size_t i = 0; i < list.count; i++) {
        const char *cand = list.names[i];
        if (!path_equal_ci(cand, name))
            continue;
        if (strcmp(cand, name) == 0) {
            best = cand;
            break;
        }
        if (best == NULL || strcmp(cand, best) < 0)
            best = cand;
    }
    rc = best != NULL ? path_join(out, outlen, dir, best) : TMI_ENOENT;
    plat_dirlist_free(&list);
    return rc;
}

int path_resolve_ci(const char *base, const char *rel, char *out, size_t outlen)
{
    char cur[PLAT_PATH_MAX], part[PLAT_PATH_MAX];
    const char *p = rel;
    int rc;
    if (strlen(base) >= sizeof(cur))
        return TMI_ETOOBIG;
    snprintf(cur, sizeof(cur), "%s", base);
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof(part))
            return TMI_ETOOBIG;
        memcpy(part, p, n);
        part[n] = '\0';
        p += n;
        if (*p == '/')
            p++;
        if (n == 0)
            continue;
        rc = path_find_ci(cur, part, out, outlen);
        if (rc != TMI_OK)
            return rc;
        snprintf(cur, sizeof(cur), "%s", out);
    }
    if (strlen(cur) >= outlen)
        return TMI_ETOOBIG;
    snprintf(out, outlen, "%s", cur);
    return TMI_OK;
}

void path_list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static int has_wild(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '*' || s[i] == '?')
            return 1;
    }
    return 0;
}

static int sort_ci(const void *a, const void *b)
{
    return cmp_ci(*(char *const *)a, *(char *const *)b);
}

typedef struct glob_state {
    char **items;
    size_t n;
    int rc;
} glob_state;

static void glob_add(glob_state *st, const char *path)
{
    char **grown;
    if (st->rc != TMI_OK)
        return;
    if (st->n == PATH_GLOB_MAX) {
        st->rc = TMI_ETOOBIG;
        return;
    }
    grown = realloc(st->items, (st->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        st->rc = TMI_ENOMEM;
        return;
    }
    st->items = grown;
    st->items[st->n] = malloc(strlen(path) + 1);
    if (st->items[st->n] == NULL) {
        st->rc = TMI_ENOMEM;
        return;
    }
    memcpy(st->items[st->n], path, strlen(path) + 1);
    st->n++;
}

/* Match the remaining pattern `rest` below folder `dir`. */
static void glob_walk(glob_state *st, const char *dir, const char *rest, int depth)
{
    char part[PLAT_PATH_MAX], next[PLAT_PATH_MAX];
    const char *slash;
    size_t n;
    plat_stat sb;
    if (st->rc != TMI_OK || depth > 32)
        return;
    while (*rest == '/')
        rest++;
    if (*rest == '\0') {
        if (plat.stat(dir, &sb) == TMI_OK && sb.is_dir)
            glob_add(st, dir);
        return;
    }
    slash = strchr(rest, '/');
    n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n >= sizeof(part)) {
        st->rc = TMI_ETOOBIG;
        return;
    }
    memcpy(part, rest, n);
    part[n] = '\0';
    rest += n;
    if (!has_wild(part, n)) {
        if (path_find_ci(dir, part, next, sizeof(next)) == TMI_OK)
            glob_walk(st, next, rest, depth + 1);
        return;
    }
    plat_dirlist list = {NULL, 0};
    if (plat.list_dir(dir, &list) != TMI_OK)
        return; /* an unreadable folder simply matches nothing */
    if (list.count > 1)
        qsort(list.names, list.count, sizeof(*list.names), sort_ci);
    for (size_t i = 0; i < list.count && st->rc == TMI_OK; i++) {
        if (!path_wildcard_match(part, list.names[i]))
            continue;
        if (path_join(next, sizeof(next), dir, list.names[i]) != TMI_OK) {
            st->rc = TMI_ETOOBIG;
            break;
        }
        glob_walk(st, next, rest, depth + 1);
    }
    plat_dirlist_free(&list);
}

int path_glob_dirs(const char *base, const char *glob, char ***matches, size_t *n)
{
    glob_state st = {NULL, 0, TMI_OK};
    glob_walk(&st, base, glob, 0);
    if (st.rc != TMI_OK) {
        path_list_free(st.items, st.n);
        return st.rc;
    }
    *matches = st.items;
    *n = st.n;
    return TMI_OK;
}

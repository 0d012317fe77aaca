/*
 * privdir_posix.c - plat_check_private_dir() on POSIX: the data folder and
 * everything in it must belong to the effective user and be writable by
 * nobody else; a link in it is refused (tmi-console makes none).
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include "plat.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "strutil.h" /* TMI_PRINTF */
#include "plat_posix_int.h"

/* Deepest folder examined below the data folder (the demo's sandbox is the
 * deepest thing tmi-console makes there, at 8). */
#define WALK_MAX_DEPTH 16

typedef struct walk {
    const char *top; /* the data folder, as given */
    uid_t uid;       /* the effective user */
    size_t left;     /* entries still to examine */
    char *why;
    size_t whylen;
} walk;

/* path in single quotes for a POSIX shell ('\'' for a quote inside). */
static void shell_quote(const char *path, char *buf, size_t buflen)
{
    size_t n = 0;
    if (buflen < 3) {
        if (buflen > 0)
            buf[0] = '\0';
        return;
    }
    buf[n++] = '\'';
    for (const char *p = path; *p != '\0' && n + 6 < buflen; p++) {
        if (*p == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *p;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
}

static const char *user_name(uid_t uid, char *buf, size_t buflen)
{
    struct passwd *pw = getpwuid(uid);
    if (pw != NULL)
        snprintf(buf, buflen, "%s", pw->pw_name);
    else
        snprintf(buf, buflen, "uid %u", (unsigned)uid);
    return buf;
}

static int refuse(walk *w, const char *fmt, ...) TMI_PRINTF(2, 3);

static int refuse(walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, w->whylen, fmt, ap);
    va_end(ap);
    return TMI_EACCES;
}

/* Is the object at path (lstat'ed into sb) one the user alone controls? */
static int check_one(walk *w, const char *path, const struct stat *sb)
{
    char top[PLAT_PATH_MAX + 64], name[64], owner[64], self[64];
    shell_quote(w->top, top, sizeof(top));
    if (S_ISLNK(sb->st_mode)) {
        char q[PLAT_PATH_MAX + 64];
        shell_quote(path, q, sizeof(q));
        return refuse(w,
                      "%s is a link, and tmi-console makes none in its data folder; fix (after "
                      "checking what it points to): rm %s",
                      path, q);
    }
    if (sb->st_uid != w->uid) {
        user_name(w->uid, name, sizeof(name));
        return refuse(w,
                      "%s is owned by %s, not by %s (uid %u), who runs tmi-console; fix (after "
                      "checking what is in it): chown -R %s %s && chmod -R go-w %s",
                      path, user_name(sb->st_uid, owner, sizeof(owner)),
                      user_name(w->uid, self, sizeof(self)), (unsigned)w->uid, name, top, top);
    }
    if (sb->st_mode & (S_IWGRP | S_IWOTH))
        return refuse(w,
                      "%s is writable by %s (mode %04o); fix (after checking what is in it): "
                      "chmod -R go-w %s",
                      path,
                      (sb->st_mode & S_IWGRP) && (sb->st_mode & S_IWOTH) ? "its group and others"
                      : (sb->st_mode & S_IWGRP)                          ? "its group"
                                                                         : "others",
                      (unsigned)(sb->st_mode & 07777), top);
    return TMI_OK;
}

/* Check every entry of the folder dir, and below it. */
static int check_tree(walk *w, const char *dir, int depth)
{
    char path[PLAT_PATH_MAX];
    struct stat sb;
    struct dirent *de;
    int rc = TMI_OK;
    DIR *d;
    if (depth > WALK_MAX_DEPTH)
        return refuse(w, "%s is nested deeper than tmi-console makes folders; remove it", dir);
    d = opendir(dir);
    if (d == NULL)
        return posix_err(errno);
    while (rc == TMI_OK && (errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (w->left-- == 0) {
            rc = TMI_ETOOBIG;
            break;
        }
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
            rc = TMI_ETOOBIG;
            break;
        }
        if (lstat(path, &sb) != 0) {
            rc = errno == ENOENT ? TMI_OK : posix_err(errno); /* gone meanwhile */
            continue;
        }
        rc = check_one(w, path, &sb);
        if (rc == TMI_OK && S_ISDIR(sb.st_mode))
            rc = check_tree(w, path, depth + 1);
    }
    if (rc == TMI_OK && de == NULL && errno != 0)
        rc = posix_err(errno);
    closedir(d);
    return rc;
}

int plat_check_private_dir(const char *path, char *why, size_t whylen)
{
    walk w;
    struct stat sb;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (path == NULL || path[0] == '\0' || why == NULL || whylen == 0)
        return TMI_EINVAL;
    /* the folder itself may be reached through a link the user made (its
     * --data): what counts is the folder it leads to */
    if (stat(path, &sb) != 0)
        return posix_err(errno);
    if (!S_ISDIR(sb.st_mode))
        return TMI_ENOTDIR;
    w.top = path;
    w.uid = geteuid();
    w.left = PLAT_DIR_MAX_ENTRIES;
    w.why = why;
    w.whylen = whylen;
    int rc = check_one(&w, path, &sb);
    if (rc == TMI_OK)
        rc = check_tree(&w, path, 1);
    return rc;
}

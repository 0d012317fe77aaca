/*
 * watch_inotify.c - watching folders (plat.h) with Linux's inotify, and an
 * eventfd to wake the waiter. errno is translated here only.
 */
#include "plat.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "err.h"

#define WATCH_EVENTS                                                                               \
    (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |            \
     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct plat_watch {
    int fd;   /* inotify */
    int wake; /* eventfd */
    int wd[PLAT_WATCH_MAX];
    size_t n;
};

int plat_watch_new(plat_watch **out)
{
    plat_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return TMI_ENOMEM;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->fd < 0 || w->wake < 0) {
        int rc = errno == ENOSYS ? TMI_ENOTSUP : TMI_ENOMEM;
        if (w->fd >= 0)
            close(w->fd);
        if (w->wake >= 0)
            close(w->wake);
        free(w);
        return rc;
    }
    *out = w;
    return TMI_OK;
}

int plat_watch_add(plat_watch *w, const char *dir)
{
    int wd;
    if (w->n >= PLAT_WATCH_MAX)
        return TMI_ETOOBIG;
    wd = inotify_add_watch(w->fd, dir, WATCH_EVENTS);
    if (wd < 0) {
        switch (errno) {
        case ENOENT:
            return TMI_ENOENT;
        case ENOTDIR:
            return TMI_ENOTDIR;
        case EACCES:
            return TMI_EACCES;
        case ENOSPC:
        case ENOMEM:
            return TMI_ENOTSUP; /* out of watches: poll instead */
        default:
            return TMI_ENOTSUP;
        }
    }
    w->wd[w->n++] = wd;
    return TMI_OK;
}

void plat_watch_clear(plat_watch *w)
{
    for (size_t i = 0; i < w->n; i++)
        inotify_rm_watch(w->fd, w->wd[i]); /* a removed folder's watch is gone already */
    w->n = 0;
}

/* Is wd one of the folders watched now? (Notifications of a watch this
 * process removed, its IN_IGNORED among them, are not changes.) */
static int watched(const plat_watch *w, int wd)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->wd[i] == wd)
            return 1;
    }
    return 0;
}

/* Take every pending notification; 1 when any was a change. */
static int drain(plat_watch *w)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int any = 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n <= 0)
            return any;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof(*ev) + ev->len;
            if (!watched(w, ev->wd))
                continue;
            if (ev->mask & IN_IGNORED) {
                /* the folder is gone: drop its watch descriptor */
                for (size_t i = 0; i < w->n; i++) {
                    if (w->wd[i] == ev->wd) {
                        w->wd[i] = w->wd[--w->n];
                        break;
                    }
                }
            }
            any = 1;
        }
    }
}

int plat_watch_wait(plat_watch *w, int timeout_ms)
{
    struct pollfd p[2];
    uint64_t v;
    int rc;
    p[0].fd = w->fd;
    p[0].events = POLLIN;
    p[1].fd = w->wake;
    p[1].events = POLLIN;
    rc = poll(p, 2, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : TMI_EIO;
    if (p[1].revents & POLLIN) {
        if (read(w->wake, &v, sizeof(v)) < 0) {
            /* nothing to take: another wake raced us */
        }
    }
    if (p[0].revents & POLLIN)
        return drain(w);
    return 0;
}

void plat_watch_wake(plat_watch *w)
{
    uint64_t one = 1;
    if (write(w->wake, &one, sizeof(one)) < 0) {
        /* the counter is full: the waiter is woken anyway */
    }
}

void plat_watch_free(plat_watch *w)
{
    if (w == NULL)
        return;
    close(w->fd);
    close(w->wake);
    free(w);
}

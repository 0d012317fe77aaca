/*
 * civetweb_wsapoll.c - civetweb for the Windows build, using poll() instead
 * of select().
 *
 * civetweb's own Windows poll() emulates poll with select(), which crashes
 * wine's wineserver; built with HAVE_POLL it calls poll(), which Windows
 * spells WSAPoll. WSAPoll refuses (WSAEINVAL) event flags it only ever
 * reports, such as POLLERR, which civetweb's mg_poll() asks for: the wrapper
 * passes only the flags WSAPoll accepts and puts the caller's flags back.
 * Errors and hang-ups are reported in revents either way.
 */
#include <winsock2.h>

#include <stdlib.h>

static int tmi_wsapoll(struct pollfd *fds, unsigned int n, int timeout_ms)
{
    enum { ACCEPTED = POLLRDNORM | POLLRDBAND | POLLWRNORM };
    SHORT local[16], *saved = local;
    unsigned int i;
    int rc;
    if (n > sizeof(local) / sizeof(local[0])) {
        saved = malloc(n * sizeof(*saved));
        if (saved == NULL) {
            WSASetLastError(WSAENOBUFS);
            return -1;
        }
    }
    for (i = 0; i < n; i++) {
        saved[i] = fds[i].events;
        fds[i].events &= ACCEPTED;
    }
    rc = WSAPoll(fds, (ULONG)n, timeout_ms);
    for (i = 0; i < n; i++)
        fds[i].events = saved[i];
    if (saved != local)
        free(saved);
    return rc;
}

#define poll tmi_wsapoll
#include "civetweb.c"

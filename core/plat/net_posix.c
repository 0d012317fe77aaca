/*
 * net_posix.c - sockets (plat.h) with BSD sockets: TCP for the HTTP server,
 * and the client side (name resolution, TCP connect, UDP) for the syslog
 * alert output. errno and getaddrinfo's codes are translated to TMI_E*
 * codes here only.
 */
#define _GNU_SOURCE /* accept4 */
#include "plat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"

static int net_err(int e)
{
    switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EADDRINUSE:
        return TMI_EBUSY;
    case EINTR:
        return TMI_EINTR;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
        return TMI_ENOMEM;
    case EACCES:
    case EPERM:
        return TMI_EACCES;
    case EINVAL:
    case EADDRNOTAVAIL:
        return TMI_EINVAL;
    case ETIMEDOUT:
        return TMI_ETIMEDOUT;
    case ECONNREFUSED:
        return TMI_EREFUSED;
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENOTCONN:
        return TMI_ERESET;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
        return TMI_EUNREACH;
    case EMSGSIZE:
        return TMI_ETOOBIG;
    default:
        return TMI_EIO;
    }
}

int plat_net_init(void)
{
    return TMI_OK;
}

static void no_delay(int fd)
{
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

int plat_tcp_listen(const char *ip, int port, int backlog, plat_socket *out, int *bound_port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd, on = 1, rc;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    if (port < 0 || port > 65535 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        return TMI_EINVAL;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return net_err(errno);
    /* a restart may bind again at once; another process still cannot take a
     * port that is listened on (Linux refuses a second listener) */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        rc = net_err(errno);
        close(fd);
        return rc;
    }
    *bound_port = ntohs(a.sin_port);
    *out = fd;
    return TMI_OK;
}

int plat_tcp_accept(plat_socket listener, plat_socket *out, char *peer, size_t peerlen)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = accept4((int)listener, (struct sockaddr *)&a, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return net_err(errno == ECONNABORTED ? EAGAIN : errno);
    no_delay(fd);
    if (peerlen > 0 && (a.sin_family != AF_INET ||
                        inet_ntop(AF_INET, &a.sin_addr, peer, (socklen_t)peerlen) == NULL))
        snprintf(peer, peerlen, "?");
    *out = fd;
    return TMI_OK;
}

long plat_sock_recv(plat_socket s, void *buf, size_t len)
{
    ssize_t n = recv((int)s, buf, len, 0);
    if (n < 0)
        return net_err(errno);
    return (long)n;
}

long plat_sock_send(plat_socket s, const void *buf, size_t len)
{
    ssize_t n = send((int)s, buf, len, MSG_NOSIGNAL);
    if (n < 0)
        return net_err(errno);
    return (long)n;
}

void plat_sock_shutdown_send(plat_socket s)
{
    shutdown((int)s, SHUT_WR);
}

void plat_sock_close(plat_socket s)
{
    if (s != PLAT_SOCKET_NONE)
        close((int)s);
}

int plat_sock_poll(plat_pollfd *fds, size_t n, int timeout_ms)
{
    struct pollfd local[64], *p = local;
    int rc;
    if (n > sizeof(local) / sizeof(local[0])) {
        p = malloc(n * sizeof(*p));
        if (p == NULL)
            return TMI_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].fd = (int)fds[i].sock;
        p[i].events = (short)(((fds[i].want & PLAT_POLL_IN) ? POLLIN : 0) |
                              ((fds[i].want & PLAT_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
    rc = poll(p, (nfds_t)n, timeout_ms);
    if (rc < 0) {
        rc = net_err(errno);
    } else {
        for (size_t i = 0; i < n; i++) {
            fds[i].got =
                (short)(((p[i].revents & POLLIN) ? PLAT_POLL_IN : 0) |
                        ((p[i].revents & POLLOUT) ? PLAT_POLL_OUT : 0) |
                        ((p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) ? PLAT_POLL_ERR : 0));
        }
    }
    if (p != local)
        free(p);
    return rc;
}

int plat_sock_pair(plat_socket pair[2])
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0)
        return net_err(errno);
    pair[0] = fds[0];
    pair[1] = fds[1];
    return TMI_OK;
}

/* ---- client sockets ---- */

int plat_resolve_ipv4(const char *host, char *ip, size_t iplen)
{
    struct addrinfo hints, *res = NULL;
    const struct sockaddr_in *a;
    int rc;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM; /* one entry per address, not one per protocol */
    rc = getaddrinfo(host, NULL, &hints, &res);
    switch (rc) {
    case 0:
        break;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
        return TMI_ENOENT;
    case EAI_AGAIN:
        return TMI_EUNREACH;
    case EAI_MEMORY:
        return TMI_ENOMEM;
    case EAI_SYSTEM:
        return net_err(errno);
    default:
        return TMI_EIO;
    }
    rc = TMI_ENOENT;
    if (res != NULL && res->ai_family == AF_INET && res->ai_addrlen >= sizeof(*a)) {
        a = (const struct sockaddr_in *)res->ai_addr;
        rc = inet_ntop(AF_INET, &a->sin_addr, ip, (socklen_t)iplen) != NULL ? TMI_OK : TMI_ETOOBIG;
    }
    freeaddrinfo(res);
    return rc;
}

static int client_addr(const char *ip, int port, struct sockaddr_in *a)
{
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons((unsigned short)port);
    if (ip == NULL || port < 1 || port > 65535 || inet_pton(AF_INET, ip, &a->sin_addr) != 1)
        return TMI_EINVAL;
    return TMI_OK;
}

/* Wait for a non-blocking connect to finish: TMI_OK or why it failed. */
static int connect_wait(int fd, int timeout_ms)
{
    struct pollfd p;
    int err = 0, rc;
    socklen_t len = sizeof(err);
    p.fd = fd;
    p.events = POLLOUT;
    p.revents = 0;
    do {
        rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return TMI_ETIMEDOUT;
    if (rc < 0)
        return net_err(errno);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return net_err(errno);
    return err == 0 ? TMI_OK : net_err(err);
}

int plat_tcp_connect(const char *ip, int port, int timeout_ms, plat_socket *out)
{
    struct sockaddr_in a;
    int fd, rc = client_addr(ip, port, &a);
    if (rc != TMI_OK)
        return rc;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return net_err(errno);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        rc = errno == EINPROGRESS ? connect_wait(fd, timeout_ms) : net_err(errno);
    if (rc != TMI_OK) {
        close(fd);
        return rc;
    }
    no_delay(fd);
    *out = fd;
    return TMI_OK;
}

int plat_udp_connect(const char *ip, int port, plat_socket *out)
{
    struct sockaddr_in a;
    int fd, rc = client_addr(ip, port, &a);
    if (rc != TMI_OK)
        return rc;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return net_err(errno);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        rc = net_err(errno);
        close(fd);
        return rc;
    }
    *out = fd;
    return TMI_OK;
}

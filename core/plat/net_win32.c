/*
 * net_win32.c - sockets (plat.h) with Winsock 2: TCP for the HTTP server,
 * and the client side (name resolution, TCP connect, UDP) for the syslog
 * alert output. WSAGetLastError() and getaddrinfo's codes are translated to
 * TMI_E* codes here only.
 *
 * Polling is WSAPoll, asked only for the events it accepts (POLLRDNORM,
 * POLLWRNORM): it refuses flags it only ever reports, such as POLLERR, and
 * reports errors and hang-ups in revents either way. select() is not used.
 * A connect is waited for with WSAEventSelect (FD_CONNECT), not WSAPoll,
 * which does not report a refused connection before Windows 10 2004.
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plat.h"

static int net_err(int e)
{
    switch (e) {
    case WSAEWOULDBLOCK:
    case WSAEADDRINUSE:
    case WSAEACCES: /* another process holds the port exclusively */
        return TMI_EBUSY;
    case WSAEINTR:
        return TMI_EINTR;
    case WSAENOBUFS:
    case WSAEMFILE:
        return TMI_ENOMEM;
    case WSAEINVAL:
    case WSAEADDRNOTAVAIL:
        return TMI_EINVAL;
    case WSAETIMEDOUT:
        return TMI_ETIMEDOUT;
    case WSAECONNREFUSED:
        return TMI_EREFUSED;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENOTCONN:
    case WSAESHUTDOWN:
        return TMI_ERESET;
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
    case WSAENETDOWN:
    case WSAEHOSTDOWN:
        return TMI_EUNREACH;
    case WSAEMSGSIZE:
        return TMI_ETOOBIG;
    default:
        return TMI_EIO;
    }
}

static int last_net_err(void)
{
    return net_err(WSAGetLastError());
}

int plat_net_init(void)
{
    WSADATA wsa;
    return WSAStartup(MAKEWORD(2, 2), &wsa) == 0 ? TMI_OK : TMI_EIO;
}

static int non_blocking(SOCKET s)
{
    u_long on = 1;
    return ioctlsocket(s, FIONBIO, &on) == 0 ? TMI_OK : last_net_err();
}

static void private_socket(SOCKET s)
{
    BOOL on = TRUE;
    SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&on, sizeof(on));
}

int plat_tcp_listen(const char *ip, int port, int backlog, plat_socket *out, int *bound_port)
{
    struct sockaddr_in a;
    int len = sizeof(a), rc;
    BOOL on = TRUE;
    SOCKET s;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((u_short)port);
    if (port < 0 || port > 65535 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        return TMI_EINVAL;
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET)
        return last_net_err();
    SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
    /* no other process may bind this port too (SO_REUSEADDR would let it) */
    setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&on, sizeof(on));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, backlog) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0) {
        rc = last_net_err();
        closesocket(s);
        return rc;
    }
    rc = non_blocking(s);
    if (rc != TMI_OK) {
        closesocket(s);
        return rc;
    }
    *bound_port = ntohs(a.sin_port);
    *out = (plat_socket)s;
    return TMI_OK;
}

int plat_tcp_accept(plat_socket listener, plat_socket *out, char *peer, size_t peerlen)
{
    struct sockaddr_in a;
    int len = sizeof(a), rc;
    SOCKET s = accept((SOCKET)listener, (struct sockaddr *)&a, &len);
    if (s == INVALID_SOCKET) {
        int e = WSAGetLastError();
        return net_err(e == WSAECONNRESET ? WSAEWOULDBLOCK : e);
    }
    rc = non_blocking(s);
    if (rc != TMI_OK) {
        closesocket(s);
        return rc;
    }
    private_socket(s);
    if (peerlen > 0 &&
        (a.sin_family != AF_INET || inet_ntop(AF_INET, &a.sin_addr, peer, peerlen) == NULL))
        snprintf(peer, peerlen, "?");
    *out = (plat_socket)s;
    return TMI_OK;
}

long plat_sock_recv(plat_socket s, void *buf, size_t len)
{
    int n = recv((SOCKET)s, buf, len > 0x7fffffff ? 0x7fffffff : (int)len, 0);
    return n == SOCKET_ERROR ? last_net_err() : n;
}

long plat_sock_send(plat_socket s, const void *buf, size_t len)
{
    int n = send((SOCKET)s, buf, len > 0x7fffffff ? 0x7fffffff : (int)len, 0);
    return n == SOCKET_ERROR ? last_net_err() : n;
}

void plat_sock_shutdown_send(plat_socket s)
{
    shutdown((SOCKET)s, SD_SEND);
}

void plat_sock_close(plat_socket s)
{
    if (s != PLAT_SOCKET_NONE)
        closesocket((SOCKET)s);
}

int plat_sock_poll(plat_pollfd *fds, size_t n, int timeout_ms)
{
    WSAPOLLFD local[64], *p = local;
    int rc;
    if (n > sizeof(local) / sizeof(local[0])) {
        p = malloc(n * sizeof(*p));
        if (p == NULL)
            return TMI_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].fd = (SOCKET)fds[i].sock;
        p[i].events = (SHORT)(((fds[i].want & PLAT_POLL_IN) ? POLLRDNORM : 0) |
                              ((fds[i].want & PLAT_POLL_OUT) ? POLLWRNORM : 0));
        p[i].revents = 0;
    }
    rc = WSAPoll(p, (ULONG)n, timeout_ms);
    if (rc == SOCKET_ERROR) {
        rc = last_net_err();
    } else {
        for (size_t i = 0; i < n; i++) {
            fds[i].got =
                (short)(((p[i].revents & (POLLRDNORM | POLLRDBAND)) ? PLAT_POLL_IN : 0) |
                        ((p[i].revents & POLLWRNORM) ? PLAT_POLL_OUT : 0) |
                        ((p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) ? PLAT_POLL_ERR : 0));
        }
    }
    if (p != local)
        free(p);
    return rc;
}

/* A loopback pair: listen on a free port, connect, accept, and check that
 * the accepted end is our own connection (another local process could race
 * to connect to the brief listener). */
int plat_sock_pair(plat_socket pair[2])
{
    struct sockaddr_in a, mine, theirs;
    int len = sizeof(a), rc = TMI_EIO;
    SOCKET l = INVALID_SOCKET, c = INVALID_SOCKET, s = INVALID_SOCKET;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (l == INVALID_SOCKET || c == INVALID_SOCKET || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
        listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len) ||
        connect(c, (struct sockaddr *)&a, sizeof(a)))
        goto out;
    len = sizeof(mine);
    if (getsockname(c, (struct sockaddr *)&mine, &len))
        goto out;
    len = sizeof(theirs);
    s = accept(l, (struct sockaddr *)&theirs, &len);
    if (s == INVALID_SOCKET || theirs.sin_port != mine.sin_port ||
        theirs.sin_addr.s_addr != mine.sin_addr.s_addr)
        goto out;
    if (non_blocking(s) != TMI_OK || non_blocking(c) != TMI_OK)
        goto out;
    private_socket(s);
    private_socket(c);
    pair[0] = (plat_socket)s;
    pair[1] = (plat_socket)c;
    s = c = INVALID_SOCKET;
    rc = TMI_OK;
out:
    if (rc != TMI_OK && WSAGetLastError() != 0)
        rc = last_net_err();
    if (l != INVALID_SOCKET)
        closesocket(l);
    if (s != INVALID_SOCKET)
        closesocket(s);
    if (c != INVALID_SOCKET)
        closesocket(c);
    return rc;
}

/* ---- client sockets ---- */

int plat_resolve_ipv4(const char *host, char *ip, size_t iplen)
{
    struct addrinfo hints, *res = NULL;
    const struct sockaddr_in *a;
    int rc;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    /* host names reach here as checked ASCII (letters, digits, '-', '.') */
    rc = getaddrinfo(host, NULL, &hints, &res);
    switch (rc) {
    case 0:
        break;
    case WSAHOST_NOT_FOUND:
    case WSANO_DATA:
        return TMI_ENOENT;
    case WSATRY_AGAIN:
        return TMI_EUNREACH;
    case WSA_NOT_ENOUGH_MEMORY:
        return TMI_ENOMEM;
    default:
        return TMI_EIO;
    }
    rc = TMI_ENOENT;
    if (res != NULL && res->ai_family == AF_INET && res->ai_addrlen >= sizeof(*a)) {
        a = (const struct sockaddr_in *)res->ai_addr;
        rc = inet_ntop(AF_INET, &a->sin_addr, ip, iplen) != NULL ? TMI_OK : TMI_ETOOBIG;
    }
    freeaddrinfo(res);
    return rc;
}

static int client_addr(const char *ip, int port, struct sockaddr_in *a)
{
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons((u_short)port);
    if (ip == NULL || port < 1 || port > 65535 || inet_pton(AF_INET, ip, &a->sin_addr) != 1)
        return TMI_EINVAL;
    return TMI_OK;
}

/* Connect s (associated with ev for FD_CONNECT) and wait for the outcome. */
static int connect_evented(SOCKET s, WSAEVENT ev, const struct sockaddr_in *a, int timeout_ms)
{
    WSANETWORKEVENTS ne;
    DWORD w;
    if (connect(s, (const struct sockaddr *)a, sizeof(*a)) == 0)
        return TMI_OK;
    if (WSAGetLastError() != WSAEWOULDBLOCK)
        return last_net_err();
    w = WSAWaitForMultipleEvents(1, &ev, FALSE, timeout_ms < 0 ? WSA_INFINITE : (DWORD)timeout_ms,
                                 FALSE);
    if (w == WSA_WAIT_TIMEOUT)
        return TMI_ETIMEDOUT;
    if (w != WSA_WAIT_EVENT_0 || WSAEnumNetworkEvents(s, ev, &ne) != 0)
        return last_net_err();
    if (!(ne.lNetworkEvents & FD_CONNECT))
        return TMI_EIO;
    return ne.iErrorCode[FD_CONNECT_BIT] == 0 ? TMI_OK : net_err(ne.iErrorCode[FD_CONNECT_BIT]);
}

int plat_tcp_connect(const char *ip, int port, int timeout_ms, plat_socket *out)
{
    struct sockaddr_in a;
    WSAEVENT ev = WSA_INVALID_EVENT;
    SOCKET s = INVALID_SOCKET;
    int rc = client_addr(ip, port, &a);
    if (rc != TMI_OK)
        return rc;
    s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ev = WSACreateEvent();
    if (s == INVALID_SOCKET || ev == WSA_INVALID_EVENT) {
        rc = last_net_err();
        goto out;
    }
    /* WSAEventSelect makes the socket non-blocking */
    rc = WSAEventSelect(s, ev, FD_CONNECT) == 0 ? connect_evented(s, ev, &a, timeout_ms)
                                                : last_net_err();
    if (rc == TMI_OK && WSAEventSelect(s, NULL, 0) != 0)
        rc = last_net_err();
    if (rc == TMI_OK)
        rc = non_blocking(s);
    if (rc == TMI_OK) {
        private_socket(s);
        *out = (plat_socket)s;
        s = INVALID_SOCKET;
    }
out:
    if (s != INVALID_SOCKET)
        closesocket(s);
    if (ev != WSA_INVALID_EVENT)
        WSACloseEvent(ev);
    return rc;
}

int plat_udp_connect(const char *ip, int port, plat_socket *out)
{
    struct sockaddr_in a;
    SOCKET s;
    int rc = client_addr(ip, port, &a);
    if (rc != TMI_OK)
        return rc;
    s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (s == INVALID_SOCKET)
        return last_net_err();
    SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
    rc = non_blocking(s);
    if (rc == TMI_OK && connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
        rc = last_net_err();
    if (rc != TMI_OK) {
        closesocket(s);
        return rc;
    }
    *out = (plat_socket)s;
    return TMI_OK;
}

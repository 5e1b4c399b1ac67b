#define _GNU_SOURCE
#include "CDatagram.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int skylens_udp_open(const char *host, int port, int receive_buffer, int *bound_port) {
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &found) != 0 || found == NULL) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(found);
        return -1;
    }
    /* No SO_REUSEADDR: UDP has no TIME_WAIT to outlast, and on Linux it would let a second socket bind a port this
       one holds (unicast then reaches only one of them). */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
        int saved = errno;
        freeaddrinfo(found);
        close(fd);
        errno = saved;
        return -1;
    }
    freeaddrinfo(found);
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *bound_port = address.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&address)->sin6_port)
                                                : ntohs(((struct sockaddr_in *)&address)->sin_port);
    return fd;
}

int skylens_udp_receive(int fd, uint8_t *buffer, size_t stride, size_t slot, int count, uint32_t *lengths, int timeout_ms) {
    if (count > 64) count = 64;
    struct pollfd waiting = {.fd = fd, .events = POLLIN, .revents = 0};
    int ready = poll(&waiting, 1, timeout_ms);
    if (ready <= 0) return ready < 0 && errno != EINTR ? -1 : 0;
    struct mmsghdr messages[64];
    struct iovec vectors[64];
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = buffer + (size_t)i * stride;
        vectors[i].iov_len = slot;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, messages, (unsigned int)count, MSG_DONTWAIT, NULL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) lengths[i] = messages[i].msg_len;
    return n;
}

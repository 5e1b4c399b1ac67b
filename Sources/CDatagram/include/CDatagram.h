#ifndef SKYLENS_CDATAGRAM_H
#define SKYLENS_CDATAGRAM_H

#include <stddef.h>
#include <stdint.h>

/// Opens a UDP socket bound to host:port (port 0: the system picks one) with a receive buffer of `receive_buffer`
/// bytes. Returns the descriptor and stores the bound port, or returns -1 with errno set (a host that does not
/// resolve: EADDRNOTAVAIL).
int skylens_udp_open(const char *host, int port, int receive_buffer, int *bound_port);

/// Waits up to `timeout_ms` for datagrams, then takes up to `count` of them with one recvmmsg call into `buffer`
/// (`count` slots of `slot` bytes each, in order, the i-th at `i * stride`), storing each one's length in
/// `lengths`. Returns how many were taken (0 when none came in time), or -1 with errno set.
int skylens_udp_receive(int fd, uint8_t *buffer, size_t stride, size_t slot, int count, uint32_t *lengths, int timeout_ms);

#endif

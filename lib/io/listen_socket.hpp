// Listening sockets. Each worker loop binds its own socket to the same address with
// SO_REUSEPORT, so the kernel spreads connections across workers without a shared accept lock.
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <uv.h>

namespace perch::io {

// Resolves a numeric host ("127.0.0.1", "::1", "0.0.0.0") or "localhost" and a port into a
// socket address. No DNS: listen addresses must be literal.
core::Result<sockaddr_storage> listen_address(const std::string &host, uint16_t port);

// Creates a non-blocking TCP socket with SO_REUSEADDR and (when `reuse_port`) SO_REUSEPORT,
// bound to `addr` and listening with `backlog`. Returns the fd; the caller hands it to
// uv_tcp_open(). Without reuse_port, an address another socket listens on is refused
// (EADDRINUSE): for a listener that must never share its connections (the admin endpoint).
core::Result<int> open_listen_socket(const sockaddr_storage &addr, int backlog,
                                     bool reuse_port = true);

// Hands the listening socket `fd` to `tcp` (initialised on its loop) and starts accepting with
// `on_connection`. Returns 0 or a libuv error; on an error before libuv adopted the fd, the fd
// is closed here (afterwards closing `tcp` releases it).
int start_listening(uv_tcp_t &tcp, int fd, int backlog, uv_connection_cb on_connection);

// The port a bound socket got (useful with port 0).
uint16_t bound_port(int fd);

} // namespace perch::io

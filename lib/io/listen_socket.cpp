#include "io/listen_socket.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

namespace perch::io {

using core::Code;
using core::Error;
using core::Source;

core::Result<sockaddr_storage> listen_address(const std::string &host, uint16_t port) {
    sockaddr_storage ss{};
    std::string h = host == "localhost" ? "127.0.0.1" : host;
    auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        return ss;
    }
    if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        return ss;
    }
    return Error::make(Code::invalid_argument, Source::config, "not a numeric address: " + host);
}

core::Result<int> open_listen_socket(const sockaddr_storage &addr, int backlog, bool reuse_port) {
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::make(Code::io, Source::internal, strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (bind(fd, reinterpret_cast<const sockaddr *>(&addr), len) != 0 || listen(fd, backlog) != 0) {
        std::string msg = strerror(errno);
        close(fd);
        return Error::make(Code::io, Source::internal, msg);
    }
    return fd;
}

uint16_t bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return 0;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
    return 0;
}

int start_listening(uv_tcp_t &tcp, int fd, int backlog, uv_connection_cb on_connection) {
    if (int rc = uv_tcp_open(&tcp, fd); rc != 0) {
        ::close(fd); // not adopted by libuv: still ours
        return rc;
    }
    return uv_listen(reinterpret_cast<uv_stream_t *>(&tcp), backlog, on_connection);
}

} // namespace perch::io

#include "io/listen_socket.hpp"

#include "uv_test_loop.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace perch;
using perch::test::UvTestLoop;

namespace {

std::string numeric_host(const sockaddr_storage &ss) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(ss).sin_addr, text, sizeof text);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 &>(ss).sin6_addr, text,
                  sizeof text);
    return text;
}

uint16_t port_of(const sockaddr_storage &ss) {
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in &>(ss).sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6 &>(ss).sin6_port);
}

sockaddr_storage address(const std::string &host, uint16_t port) {
    auto a = io::listen_address(host, port);
    REQUIRE(a.ok());
    return a.value();
}

int int_option(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    REQUIRE(getsockopt(fd, level, name, &v, &len) == 0);
    return v;
}

// A blocking client connection to 127.0.0.1:port; the kernel completes it from the backlog.
int connect_loopback(uint16_t port) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(c, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    return c;
}

bool fd_is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

} // namespace

TEST_CASE("io/listen_socket: listen_address takes numeric hosts and localhost") {
    struct Row {
        const char *host;
        int family;
        const char *numeric;
    };
    const Row rows[] = {
        {"127.0.0.1", AF_INET, "127.0.0.1"},
        {"0.0.0.0", AF_INET, "0.0.0.0"},
        {"localhost", AF_INET, "127.0.0.1"},
        {"10.1.2.3", AF_INET, "10.1.2.3"},
        {"::1", AF_INET6, "::1"},
        {"::", AF_INET6, "::"},
        {"fe80::1", AF_INET6, "fe80::1"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.host);
        auto a = io::listen_address(row.host, 8080);
        REQUIRE(a.ok());
        CHECK(a->ss_family == row.family);
        CHECK(numeric_host(*a) == row.numeric);
        CHECK(port_of(*a) == 8080);
    }
}

TEST_CASE("io/listen_socket: listen_address refuses names that would need DNS") {
    for (const char *host : {"example.com", "", "127.0.0.1.", "[::1]", "127.0.0.1:80", "local"}) {
        CAPTURE(host);
        auto a = io::listen_address(host, 80);
        REQUIRE(!a.ok());
        CHECK(a.error().code == core::Code::invalid_argument);
        CHECK(a.error().source == core::Source::config);
        CHECK(a.error().context == std::string("not a numeric address: ") + host);
    }
}

TEST_CASE("io/listen_socket: a socket opened on 127.0.0.1 port 0 is listening on a bound port") {
    auto fd = io::open_listen_socket(address("127.0.0.1", 0), 8);
    REQUIRE(fd.ok());
    uint16_t port = io::bound_port(*fd);
    CHECK(port != 0);
    CHECK(int_option(*fd, SOL_SOCKET, SO_ACCEPTCONN) == 1);
    CHECK(int_option(*fd, SOL_SOCKET, SO_REUSEADDR) != 0);
    CHECK(int_option(*fd, SOL_SOCKET, SO_REUSEPORT) != 0);
    CHECK((fcntl(*fd, F_GETFL) & O_NONBLOCK) != 0);
    CHECK((fcntl(*fd, F_GETFD) & FD_CLOEXEC) != 0);
    int client = connect_loopback(port); // the backlog takes it before any accept
    close(client);
    close(*fd);
}

TEST_CASE("io/listen_socket: a socket on ::1 is IPv6-only and gets a bound port") {
    auto fd = io::open_listen_socket(address("::1", 0), 8);
    REQUIRE_MESSAGE(fd.ok(), (fd.ok() ? "" : fd.error().context));
    CHECK(io::bound_port(*fd) != 0);
    CHECK(int_option(*fd, IPPROTO_IPV6, IPV6_V6ONLY) == 1);
    close(*fd);
}

TEST_CASE("io/listen_socket: two sockets with SO_REUSEPORT share one address") {
    auto first = io::open_listen_socket(address("127.0.0.1", 0), 8);
    REQUIRE(first.ok());
    uint16_t port = io::bound_port(*first);
    auto second = io::open_listen_socket(address("127.0.0.1", port), 8);
    REQUIRE_MESSAGE(second.ok(), (second.ok() ? "" : second.error().context));
    CHECK(io::bound_port(*second) == port);
    close(*second);
    close(*first);
}

TEST_CASE("io/listen_socket: an address held without reuse_port is refused with EADDRINUSE") {
    auto held = io::open_listen_socket(address("127.0.0.1", 0), 8, /*reuse_port=*/false);
    REQUIRE(held.ok());
    CHECK(int_option(*held, SOL_SOCKET, SO_REUSEPORT) == 0);
    uint16_t port = io::bound_port(*held);
    for (bool reuse : {true, false}) {
        CAPTURE(reuse);
        auto other = io::open_listen_socket(address("127.0.0.1", port), 8, reuse);
        REQUIRE(!other.ok());
        CHECK(other.error().code == core::Code::io);
        CHECK(other.error().context == strerror(EADDRINUSE));
    }
    close(*held);
}

TEST_CASE("io/listen_socket: a socket without reuse_port may not join an address being shared") {
    auto shared = io::open_listen_socket(address("127.0.0.1", 0), 8);
    REQUIRE(shared.ok());
    auto exclusive =
        io::open_listen_socket(address("127.0.0.1", io::bound_port(*shared)), 8, false);
    REQUIRE(!exclusive.ok());
    CHECK(exclusive.error().context == strerror(EADDRINUSE));
    close(*shared);
}

TEST_CASE("io/listen_socket: an address this machine does not have is refused, not bound") {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host. bind() sends nothing.
    auto fd = io::open_listen_socket(address("192.0.2.1", 0), 8);
    REQUIRE(!fd.ok());
    CHECK(fd.error().code == core::Code::io);
    CHECK(fd.error().context == strerror(EADDRNOTAVAIL));
}

TEST_CASE("io/listen_socket: bound_port of something that is not a bound socket is 0") {
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    CHECK(io::bound_port(pipe_fds[0]) == 0);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    CHECK(io::bound_port(-1) == 0);
}

TEST_CASE("io/listen_socket: start_listening accepts connections on the loop") {
    UvTestLoop loop;
    auto fd = io::open_listen_socket(address("127.0.0.1", 0), 8);
    REQUIRE(fd.ok());
    uint16_t port = io::bound_port(*fd);
    struct Server {
        uv_tcp_t tcp;
        int connections = 0;
        int last_status = 1;
    } server;
    uv_tcp_init(loop.get(), &server.tcp);
    server.tcp.data = &server;
    REQUIRE(io::start_listening(server.tcp, *fd, 8, [](uv_stream_t *s, int status) {
                auto *srv = static_cast<Server *>(s->data);
                srv->last_status = status;
                auto *peer = new uv_tcp_t;
                uv_tcp_init(s->loop, peer);
                if (uv_accept(s, reinterpret_cast<uv_stream_t *>(peer)) == 0) ++srv->connections;
                uv_close(reinterpret_cast<uv_handle_t *>(peer),
                         [](uv_handle_t *h) { delete reinterpret_cast<uv_tcp_t *>(h); });
            }) == 0);
    int c1 = connect_loopback(port);
    int c2 = connect_loopback(port);
    CHECK(loop.run_until([&] { return server.connections == 2; }));
    CHECK(server.last_status == 0);
    close(c1);
    close(c2);
    loop.close(reinterpret_cast<uv_handle_t *>(&server.tcp)); // closing the handle closes the fd
    CHECK(!fd_is_open(*fd));
}

TEST_CASE("io/listen_socket: start_listening closes the fd when libuv does not adopt it") {
    UvTestLoop loop;
    auto first = io::open_listen_socket(address("127.0.0.1", 0), 8);
    auto second = io::open_listen_socket(address("127.0.0.1", 0), 8);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    uv_tcp_t tcp;
    uv_tcp_init(loop.get(), &tcp);
    REQUIRE(uv_tcp_open(&tcp, *first) == 0);
    // The handle already has a socket: uv_tcp_open refuses the second one.
    int rc = io::start_listening(tcp, *second, 8, [](uv_stream_t *, int) {});
    CHECK(rc < 0);
    CHECK(!fd_is_open(*second));
    CHECK(fd_is_open(*first)); // the handle's own socket is left alone
    loop.close(reinterpret_cast<uv_handle_t *>(&tcp));
}

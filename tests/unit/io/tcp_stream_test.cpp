#include "core/block_pool.hpp"
#include "core/buffer.hpp"
#include "io/buffer_pool.hpp"
#include "io/listen_socket.hpp"
#include "io/tcp_stream.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <uv.h>
#include <vector>

using namespace perch;

namespace {

// A loopback pair: `server` accepted into a TcpStream on a uv loop, `client` a blocking socket
// read by a thread until it has `expect` bytes.
struct Pair {
    uv_loop_t loop;
    io::BufferPool pool;
    uv_tcp_t listener;
    io::TcpStream *server = nullptr;
    int client = -1;

    Pair() {
        uv_loop_init(&loop);
        auto addr = io::listen_address("127.0.0.1", 0);
        auto fd = io::open_listen_socket(addr.value(), 8);
        uint16_t port = io::bound_port(fd.value());
        uv_tcp_init(&loop, &listener);
        uv_tcp_open(&listener, fd.value());
        listener.data = this;
        uv_listen(reinterpret_cast<uv_stream_t *>(&listener), 8, [](uv_stream_t *s, int) {
            auto *p = static_cast<Pair *>(s->data);
            p->server = new io::TcpStream(&p->loop, p->pool);
            p->server->accept(s);
        });
        client = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(connect(client, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
        while (!server)
            uv_run(&loop, UV_RUN_ONCE);
    }
    ~Pair() {
        close(client);
        server->close();
        uv_close(reinterpret_cast<uv_handle_t *>(&listener), nullptr);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
};

struct Done final : io::Stream::WriteOp {
    int status = 1;
    void on_write_done(int s) override { status = s; }
};

std::string read_n(int fd, size_t n) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) break;
        out.append(buf, size_t(r));
    }
    return out;
}

} // namespace

TEST_CASE("io/tcp_stream: a body of pool blocks larger than the socket takes is written whole") {
    Pair p;
    core::Ref<core::BlockPool> pool = core::BlockPool::create(64 << 20);
    const size_t blocks =
        768; // 48 MiB, far beyond any loopback socket buffer: libuv queues the rest
    std::vector<core::Ref<core::Buffer>> body;
    std::vector<uv_buf_t> bufs;
    std::string want;
    for (size_t b = 0; b < blocks; ++b) {
        body.push_back(core::Buffer::create_in(*pool));
        REQUIRE(body.back());
        uint8_t *d = body.back()->data();
        for (size_t i = 0; i < core::BlockPool::block_size; ++i)
            d[i] = uint8_t(i * 7 + b);
        body.back()->grow(core::BlockPool::block_size);
        want.append(body.back()->view());
        bufs.push_back(
            uv_buf_init(reinterpret_cast<char *>(d), unsigned(core::BlockPool::block_size)));
    }
    Done done;
    std::string got;
    // The client reads only after the write has been handed over, so the socket fills up.
    REQUIRE(p.server->write(bufs.data(), unsigned(bufs.size()), &done) == 0);
    CHECK(done.status == 1); // never completes synchronously
    CHECK(p.server->write_queue_bytes() > 0);
    std::thread reader([&] { got = read_n(p.client, want.size()); });
    while (done.status == 1)
        uv_run(&p.loop, UV_RUN_ONCE);
    reader.join();
    CHECK(done.status == 0);
    REQUIRE(got.size() == want.size());
    CHECK(got == want);
}

TEST_CASE("io/tcp_stream: writes taken at once complete on a later turn, in order with queued ones") {
    Pair p;
    std::string small1(100, 'a'), big(32 << 20, 'b'), small2(100, 'c');
    uv_buf_t b1 = uv_buf_init(small1.data(), unsigned(small1.size()));
    uv_buf_t b2 = uv_buf_init(big.data(), unsigned(big.size()));
    uv_buf_t b3 = uv_buf_init(small2.data(), unsigned(small2.size()));
    struct Ordered final : io::Stream::WriteOp {
        std::vector<int> *order;
        int id;
        int status = 1;
        void on_write_done(int s) override {
            status = s;
            order->push_back(id);
        }
    };
    std::vector<int> order;
    Ordered d1, d2, d3;
    d1.order = d2.order = d3.order = &order;
    d1.id = 1, d2.id = 2, d3.id = 3;
    REQUIRE(p.server->write(&b1, 1, &d1) == 0); // the socket takes it whole
    CHECK(p.server->write_queue_bytes() == 0);
    CHECK(d1.status == 1); // not from inside write()
    REQUIRE(p.server->write(&b2, 1, &d2) == 0); // far more than the socket takes
    CHECK(p.server->write_queue_bytes() > 0);
    REQUIRE(p.server->write(&b3, 1, &d3) == 0); // queued behind it
    std::string got;
    std::thread reader([&] { got = read_n(p.client, small1.size() + big.size() + small2.size()); });
    while (d3.status == 1)
        uv_run(&p.loop, UV_RUN_ONCE);
    reader.join();
    CHECK(order == std::vector<int>{1, 2, 3});
    CHECK(d1.status == 0);
    CHECK(d3.status == 0);
    REQUIRE(got.size() == small1.size() + big.size() + small2.size());
    CHECK(got == small1 + big + small2);
}

TEST_CASE("io/tcp_stream: a viewer a few microseconds away gets a send buffer of its BDP, not 4 MiB") {
    Pair p; // loopback: a handshake RTT of microseconds (more only on a badly loaded machine)
    uv_os_fd_t fd;
    REQUIRE(uv_fileno(reinterpret_cast<const uv_handle_t *>(p.server->uv_handle()), &fd) == 0);
    tcp_info ti{};
    socklen_t ti_len = sizeof ti;
    REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &ti_len) == 0);
    REQUIRE(ti.tcpi_rtt > 0); // the handshake's sample, unchanged since: nothing was sent
    int sndbuf = 0;
    socklen_t len = sizeof sndbuf;
    REQUIRE(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == 0);
    // Fixed (the kernel doubles what it is given) when near; the kernel's own size otherwise.
    if (ti.tcpi_rtt <= 100)
        CHECK(sndbuf == 2 * 256 * 1024);
    else
        CHECK(sndbuf != 2 * 256 * 1024);
}

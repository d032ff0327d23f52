#include "core/memfd_arena.hpp"
#include "io/buffer_pool.hpp"
#include "io/listen_socket.hpp"
#include "io/tcp_stream.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
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

TEST_CASE("io/tcp_stream: write_with_files sends memory and file-backed buffers in order") {
    Pair p;
    core::Ref<core::MemfdArena> arena = core::MemfdArena::create(64 << 20);
    core::Ref<core::Buffer> body = core::Buffer::create_in(*arena, 200000);
    std::string payload;
    for (int i = 0; i < 200000; ++i)
        payload += char('a' + i % 26);
    body->append(payload.data(), payload.size());
    std::string head = "HEAD\r\n", tail = "\r\nTAIL";
    uv_buf_t bufs[3] = {uv_buf_init(head.data(), unsigned(head.size())),
                        uv_buf_init(reinterpret_cast<char *>(body->data()), unsigned(body->size())),
                        uv_buf_init(tail.data(), unsigned(tail.size()))};
    io::Stream::FileSpan files[3] = {{}, {body->file_fd(), body->file_offset()}, {}};
    Done done;
    std::string got;
    std::thread reader([&] { got = read_n(p.client, head.size() + payload.size() + tail.size()); });
    REQUIRE(p.server->write_with_files(bufs, files, 3, &done) == 0);
    CHECK(done.status == 1); // never completes synchronously
    while (done.status == 1)
        uv_run(&p.loop, UV_RUN_ONCE);
    reader.join();
    CHECK(done.status == 0);
    CHECK(got == head + payload + tail);
}

TEST_CASE("io/tcp_stream: a file-backed body larger than the socket takes finishes through libuv") {
    Pair p;
    core::Ref<core::MemfdArena> arena = core::MemfdArena::create(256 << 20);
    const size_t size = 48 << 20; // far beyond any loopback socket buffer: sendfile is partial
    core::Ref<core::Buffer> body = core::Buffer::create_in(*arena, size);
    for (size_t i = 0; i < size; ++i)
        body->data()[i] = uint8_t(i * 7 + i / 4096);
    body->grow(size);
    uv_buf_t buf = uv_buf_init(reinterpret_cast<char *>(body->data()), unsigned(size));
    io::Stream::FileSpan file{body->file_fd(), body->file_offset()};
    Done done;
    std::string got;
    // The client reads only after the write has been handed over, so the socket fills up.
    REQUIRE(p.server->write_with_files(&buf, &file, 1, &done) == 0);
    CHECK(p.server->write_queue_bytes() > 0); // the rest is queued in libuv
    std::thread reader([&] { got = read_n(p.client, size); });
    while (done.status == 1)
        uv_run(&p.loop, UV_RUN_ONCE);
    reader.join();
    CHECK(done.status == 0);
    REQUIRE(got.size() == size);
    CHECK(got == std::string(reinterpret_cast<char *>(body->data()), size));
}

TEST_CASE("io/tcp_stream: with writes queued, write_with_files keeps the order by queueing too") {
    Pair p;
    core::Ref<core::MemfdArena> arena = core::MemfdArena::create(256 << 20);
    const size_t size = 32 << 20;
    core::Ref<core::Buffer> first = core::Buffer::create(size);
    std::memset(first->data(), '1', size);
    first->grow(size);
    core::Ref<core::Buffer> second = core::Buffer::create_in(*arena, 1000);
    std::memset(second->data(), '2', 1000);
    second->grow(1000);
    uv_buf_t b1 = uv_buf_init(reinterpret_cast<char *>(first->data()), unsigned(size));
    uv_buf_t b2 = uv_buf_init(reinterpret_cast<char *>(second->data()), 1000);
    Done d1, d2;
    REQUIRE(p.server->write(&b1, 1, &d1) == 0);
    io::Stream::FileSpan f2{second->file_fd(), second->file_offset()};
    REQUIRE(p.server->write_with_files(&b2, &f2, 1, &d2) == 0);
    std::string got;
    std::thread reader([&] { got = read_n(p.client, size + 1000); });
    while (d1.status == 1 || d2.status == 1)
        uv_run(&p.loop, UV_RUN_ONCE);
    reader.join();
    REQUIRE(got.size() == size + 1000);
    CHECK(got.find('2') == size);
}

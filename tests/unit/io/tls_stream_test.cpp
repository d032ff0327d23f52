// TlsStream's write path: records sealed from the caller's buffers, sized by RecordSizing,
// read back by a real TLS client that also sees every record's header on the wire.
#include "io/buffer_pool.hpp"
#include "io/deadline_list.hpp"
#include "io/listen_socket.hpp"
#include "io/tcp_stream.hpp"
#include "io/tls_context.hpp"
#include "io/tls_records.hpp"
#include "io/tls_stream.hpp"

#include <doctest/doctest.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <cstdlib>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <uv.h>
#include <vector>

using namespace perch;

TEST_CASE("io/tls_records: records start at one segment and grow to 16 KiB, again after idle") {
    io::RecordSizing s;
    uint64_t now = 5000;
    size_t sent = 0;
    int small = 0;
    while (sent < io::RecordSizing::boost_after) {
        size_t p = s.next_payload(now);
        CHECK(p == io::RecordSizing::small_payload);
        s.sent(p);
        sent += p;
        ++small;
    }
    CHECK(small == 13); // 16 KiB in records of 1,360 bytes
    CHECK(s.next_payload(now + 999) == io::RecordSizing::full_payload); // still busy
    CHECK(s.next_payload(now + 999 + io::RecordSizing::idle_ms) == io::RecordSizing::small_payload);
}

namespace {

struct Cert {
    std::string dir, cert, key;
    Cert() {
        char tmpl[] = "/tmp/perch-tls-test-XXXXXX";
        dir = mkdtemp(tmpl);
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                          "-subj /CN=localhost -days 1 -keyout " +
                          key + " -out " + cert + " >/dev/null 2>&1";
        REQUIRE(std::system(cmd.c_str()) == 0);
    }
    ~Cert() { std::system(("rm -rf " + dir).c_str()); }
};

struct Ignore final : io::Stream::Handler {
    void on_stream_data(const core::Ref<core::Buffer> &, const uint8_t *, size_t) override {}
    void on_stream_end(int) override {}
    void on_stream_closed() override {}
};

struct Done final : io::Stream::WriteOp {
    int status = 1;
    void on_write_done(int s) override { status = s; }
};

// A blocking TLS client over memory BIOs, so that it sees each record's header as it arrives.
struct RecordingClient {
    int fd;
    std::vector<std::pair<uint8_t, size_t>> records; // (content type, length) as on the wire
    std::string plaintext;
    std::string wire;     // bytes not yet split into records
    size_t wire_seen = 0; // of `wire`, bytes already accounted to records

    void note_records() {
        while (wire.size() - wire_seen >= 5) {
            const auto *h = reinterpret_cast<const uint8_t *>(wire.data() + wire_seen);
            size_t len = size_t(h[3]) << 8 | h[4];
            if (wire.size() - wire_seen < 5 + len) break;
            records.emplace_back(h[0], len);
            wire_seen += 5 + len;
        }
    }

    void run(size_t expect) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_method());
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
        SSL *ssl = SSL_new(ctx);
        BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, in, out);
        SSL_set_connect_state(ssl);
        timeval tv{5, 0}; // a lost byte fails the test instead of hanging it
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[65536];
        while (plaintext.size() < expect) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n > 0) {
                plaintext.append(buf, size_t(n));
                continue;
            }
            int err = SSL_get_error(ssl, n);
            while (BIO_pending(out) > 0) {
                int m = BIO_read(out, buf, sizeof buf);
                REQUIRE(send(fd, buf, size_t(m), MSG_NOSIGNAL) == m);
            }
            REQUIRE(err == SSL_ERROR_WANT_READ);
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0) break;
            wire.append(buf, size_t(r));
            note_records();
            BIO_write(in, buf, int(r));
        }
        SSL_free(ssl);
        SSL_CTX_free(ctx);
    }
};

} // namespace

TEST_CASE("io/tls_stream: a large write goes out intact, in records that grow to 16 KiB") {
    Cert cert;
    auto ctx = io::TlsServerContext::create(cert.cert, cert.key, 0x0304);
    REQUIRE(ctx.ok());
    uv_loop_t loop;
    uv_loop_init(&loop);
    {
        io::BufferPool pool;
        io::Deadlines deadlines(&loop);
        auto addr = io::listen_address("127.0.0.1", 0);
        auto lfd = io::open_listen_socket(addr.value(), 8);
        uint16_t port = io::bound_port(lfd.value());
        uv_tcp_t listener;
        uv_tcp_init(&loop, &listener);
        uv_tcp_open(&listener, lfd.value());
        io::TcpStream *tcp = nullptr;
        struct Accept {
            uv_loop_t *loop;
            io::BufferPool *pool;
            io::TcpStream **tcp;
        } accept_ctx{&loop, &pool, &tcp};
        listener.data = &accept_ctx;
        uv_listen(reinterpret_cast<uv_stream_t *>(&listener), 8, [](uv_stream_t *s, int) {
            auto *a = static_cast<Accept *>(s->data);
            *a->tcp = new io::TcpStream(a->loop, *a->pool);
            (*a->tcp)->accept(s);
        });

        // A head, a 3 MiB body and a chunk trailer in one write; then a second, small write.
        std::string head(300, 'H'), trailer = "\r\n0\r\n\r\n", second(1000, 'S');
        std::string body(3 << 20, '\0');
        for (size_t i = 0; i < body.size(); ++i)
            body[i] = char(i * 31 + i / 7919);
        std::string expect = head + body + trailer + second;

        RecordingClient client;
        client.fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(connect(client.fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0);
        std::thread reader([&] { client.run(expect.size()); });
        while (!tcp)
            uv_run(&loop, UV_RUN_ONCE);
        io::TlsStream *tls = io::TlsStream::wrap_server(tcp, *ctx.value(), pool, deadlines);
        Ignore ignore;
        tls->set_handler(&ignore);
        tls->start_read();
        uv_buf_t bufs[3] = {uv_buf_init(head.data(), unsigned(head.size())),
                            uv_buf_init(body.data(), unsigned(body.size())),
                            uv_buf_init(trailer.data(), unsigned(trailer.size()))};
        uv_buf_t small = uv_buf_init(second.data(), unsigned(second.size()));
        Done d1, d2;
        REQUIRE(tls->write(bufs, 3, &d1) == 0);
        REQUIRE(tls->write(&small, 1, &d2) == 0);
        while (d1.status == 1 || d2.status == 1)
            uv_run(&loop, UV_RUN_ONCE);
        reader.join();
        CHECK(d1.status == 0);
        CHECK(d2.status == 0);
        REQUIRE(client.plaintext.size() == expect.size());
        CHECK(client.plaintext == expect);

        // Application data records: TLS 1.3 wraps everything after ServerHello in type 23.
        const size_t small_rec = io::RecordSizing::small_payload + 17;
        const size_t full_rec = io::RecordSizing::full_payload + 17;
        size_t app = 0, smalls = 0, fulls = 0, first_full = 0, last_small_before_full = 0;
        for (size_t i = 0; i < client.records.size(); ++i) {
            auto [type, len] = client.records[i];
            if (type != 23) continue;
            ++app;
            CHECK(len <= full_rec);
            if (len == small_rec) {
                ++smalls;
                if (!fulls) last_small_before_full = i;
            }
            if (len == full_rec && !fulls++) first_full = i;
        }
        CHECK(smalls >= 12);            // the first 16 KiB go in one-segment records
        CHECK(first_full > last_small_before_full);
        CHECK(fulls >= expect.size() / (2 * io::RecordSizing::full_payload)); // then 16 KiB ones
        CHECK(app < expect.size() / io::RecordSizing::full_payload + 60);
        tls->close();
        close(client.fd);
        uv_close(reinterpret_cast<uv_handle_t *>(&listener), nullptr);
        uv_run(&loop, UV_RUN_DEFAULT);
        deadlines.close();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

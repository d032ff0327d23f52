// How the HTTP origin connector fails: timeouts, refused and stalled connections, responses
// cut short, a pooled connection closed under a request. Every failure is one
// on_origin_error, never a completion, and never from inside fetch().
#include "origin/http_origin.hpp"

#include "origin/fake_origin.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace perch;
using perch::test::FakeOrigin;
using perch::test::GetRequest;
using perch::test::OriginFixture;
using perch::test::OriginServices;
using perch::test::Recorder;
using perch::test::response;
using perch::test::UvTestLoop;

namespace {

// A port whose SYNs go unanswered: a listener with a backlog of 0 that never accepts, its
// queue already taken by one connection. Connecting there hangs (the kernel drops the SYN).
struct StalledListener {
    int listener = -1, filler = -1;
    uint16_t port = 0;
    StalledListener() {
        auto fd = io::open_listen_socket(io::listen_address("127.0.0.1", 0).value(), 0, false);
        REQUIRE(fd.ok());
        listener = *fd;
        port = io::bound_port(listener);
        filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(connect(filler, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    }
    ~StalledListener() {
        close(filler);
        close(listener);
    }
};

// A port bound but not listening: connections to it are refused at once.
struct RefusingPort {
    int fd = -1;
    uint16_t port = 0;
    RefusingPort() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
        port = io::bound_port(fd);
    }
    ~RefusingPort() { close(fd); }
};

origin::HttpOriginOptions options_for_port(uint16_t port) {
    origin::HttpOriginOptions opts;
    opts.host = "127.0.0.1";
    opts.http_port = port;
    return opts;
}

bool has(const std::string &text, const std::string &part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("origin/http_origin: a connection that never completes ends in origin_timeout") {
    UvTestLoop loop;
    StalledListener stalled;
    OriginServices svc(loop);
    auto opts = options_for_port(stalled.port);
    opts.connect_timeout_ms = 40;
    opts.connection_attempts = 2;
    origin::HttpOrigin origin(svc.get(), opts);
    GetRequest get;
    Recorder rec;
    uv_update_time(loop.get());
    uint64_t started = uv_now(loop.get());
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "error PERCH_E_ORIGIN_TIMEOUT");
    REQUIRE(rec.error);
    CHECK(rec.error->source == core::Source::origin);
    CHECK(rec.error->retryable); // nothing was sent: another origin may be tried
    CHECK(has(rec.error->context, "cannot connect to 127.0.0.1:" + std::to_string(stalled.port)));
    CHECK(uv_now(loop.get()) - started >= 2 * 40); // both attempts waited their timeout
}

TEST_CASE("origin/http_origin: a refused connection ends in origin_connect") {
    UvTestLoop loop;
    RefusingPort refusing;
    OriginServices svc(loop);
    auto opts = options_for_port(refusing.port);
    opts.connection_attempts = 3;
    origin::HttpOrigin origin(svc.get(), opts);
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(rec.events.empty());
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "error PERCH_E_ORIGIN_CONNECT");
    CHECK(rec.error->retryable);
    CHECK(has(rec.error->context, uv_strerror(UV_ECONNREFUSED)));
}

TEST_CASE("origin/http_origin: an origin that never answers ends in origin_timeout") {
    UvTestLoop loop;
    FakeOrigin server(loop); // reads the request, says nothing
    OriginServices svc(loop);
    auto opts = perch::test::options_for(server);
    opts.read_timeout_ms = 40;
    origin::HttpOrigin origin(svc.get(), opts);
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(server.requests.size() == 1);
    CHECK(rec.trace() == "error PERCH_E_ORIGIN_TIMEOUT");
    CHECK(rec.error->context == "origin response timeout");
    CHECK(loop.run_until([&] { return server.conns[0]->peer_closed; }));
}

TEST_CASE("origin/http_origin: an origin that stalls mid-body ends in origin_timeout") {
    UvTestLoop loop;
    FakeOrigin server(loop);
    OriginServices svc(loop);
    auto opts = perch::test::options_for(server);
    opts.read_timeout_ms = 40;
    origin::HttpOrigin origin(svc.get(), opts);
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, body, error PERCH_E_ORIGIN_TIMEOUT");
    CHECK(rec.error->context == "origin read timeout");
    CHECK(rec.body == "partial");
}

TEST_CASE_FIXTURE(
    OriginFixture,
    "origin/http_origin: a body shorter than its Content-Length is an error, not an end") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b");
        c.close_after_writes(); // a clean FIN, 90 bytes early
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, body, error PERCH_E_ORIGIN_PROTOCOL");
    CHECK(rec.body == "only ten b");
    CHECK(rec.error->context == "origin closed the connection mid-body");
    CHECK(!rec.error->retryable); // part of the response was already delivered
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a chunked body cut off before its last chunk is an error") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        c.close_after_writes();
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, body, error PERCH_E_ORIGIN_PROTOCOL");
}

TEST_CASE_FIXTURE(OriginFixture, "origin/http_origin: a reset mid-body is an error, not an end") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\n\r\nclose-delimited, then reset"); // no length
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return !rec.body.empty(); }));
    server.conns[0]->reset();
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, body, error PERCH_E_ORIGIN_PROTOCOL");
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a body without a length ends cleanly with the connection") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\n\r\nuntil the end");
        c.close_after_writes();
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, body, complete");
    CHECK(rec.body == "until the end");
    CHECK(!rec.info.content_length);
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: bytes that are not HTTP are an origin_protocol error") {
    server.on_request(
        [](FakeOrigin::Conn &c, const std::string &) { c.send("SSH-2.0-OpenSSH_9.2\r\n\r\n"); });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "error PERCH_E_ORIGIN_PROTOCOL");
}

TEST_CASE_FIXTURE(
    OriginFixture,
    "origin/http_origin: a retryable request whose pooled connection closes is resent") {
    // The first connection answers once, then closes as the second request arrives (as an
    // origin whose keep-alive timeout races the request does).
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        if (&c == c.origin->conns[0].get() && c.requests == 2) return c.close();
        c.send(response("answer from connection " + std::to_string(c.origin->accepted())));
    });
    GetRequest get("/", /*retryable=*/true);
    Recorder first, second;
    first.start(origin, get);
    CHECK(loop.run_until([&] { return first.finished(); }));
    second.start(origin, get);
    CHECK(loop.run_until([&] { return second.finished(); }));
    CHECK(second.trace() == "head 200, body, complete");
    CHECK(second.body == "answer from connection 2");
    CHECK(server.requests.size() == 3);
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a request that may not be resent fails when its pooled "
                  "connection closes") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        if (c.requests == 2) return c.close();
        c.send(response("once"));
    });
    GetRequest get("/", /*retryable=*/false);
    Recorder first, second;
    first.start(origin, get);
    CHECK(loop.run_until([&] { return first.finished(); }));
    second.start(origin, get); // reuses the connection: it sat idle for well under 2 s
    CHECK(loop.run_until([&] { return second.finished(); }));
    CHECK(second.trace() == "error PERCH_E_ORIGIN_PROTOCOL");
    CHECK(server.accepted() == 1);
    CHECK(server.requests.size() == 2);
}

TEST_CASE("origin/http_origin: errors known at fetch() time still come on a later turn") {
    UvTestLoop loop;
    OriginServices svc(loop);
    SUBCASE("an HTTPS origin without a TLS context") {
        auto opts = options_for_port(443);
        origin::HttpOrigin origin(svc.get(), opts);
        GetRequest get;
        get.request.https = true;
        Recorder rec;
        rec.start(origin, get);
        CHECK(rec.events.empty());
        CHECK(loop.run_until([&] { return rec.finished(); }));
        CHECK(rec.trace() == "error PERCH_E_UNSUPPORTED");
    }
    SUBCASE("a host name libuv refuses before any lookup") {
        auto opts = options_for_port(80);
        opts.host = "\xff\xfe.invalid"; // not UTF-8: no DNS query is made
        origin::HttpOrigin origin(svc.get(), opts);
        GetRequest get;
        Recorder rec;
        rec.start(origin, get);
        CHECK(rec.events.empty());
        CHECK(loop.run_until([&] { return rec.finished(); }));
        CHECK(rec.trace() == "error PERCH_E_ORIGIN_CONNECT");
        CHECK(has(rec.error->context, "cannot resolve"));
        CHECK(rec.error->retryable);
    }
}

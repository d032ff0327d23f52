// The HTTP origin connector against an in-process origin on a loopback port: streaming, the
// keep-alive pool, flow control and cancellation. Failures: http_origin_failures_test.cpp.
#include "origin/http_origin.hpp"

#include "origin/fake_origin.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace perch;
using perch::test::FakeOrigin;
using perch::test::GetRequest;
using perch::test::OriginFixture;
using perch::test::OriginServices;
using perch::test::Recorder;
using perch::test::response;
using perch::test::UvTestLoop;

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a GET streams the head, then the body as it arrives") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Test: yes\r\n\r\nhello");
    });
    GetRequest get("/dir/a.txt?x=1");
    Recorder rec;
    REQUIRE(rec.start(origin, get));
    CHECK(rec.events.empty()); // never from inside fetch()
    CHECK(loop.run_until([&] { return rec.body == "hello"; }));
    CHECK(!rec.finished()); // 6 bytes are still to come
    REQUIRE(rec.head);
    CHECK(rec.head->status == 200);
    CHECK(rec.head->reason == "OK");
    CHECK(rec.head->headers.get("x-test") == "yes");
    CHECK(rec.info.content_length == 11u);
    CHECK(!rec.info.no_body);
    server.conns[0]->send(" world");
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.body == "hello world");
    CHECK(rec.events.front() == "head 200");
    CHECK(rec.count("body") >= 2);
    CHECK(rec.count("head 200") == 1);
    CHECK(rec.events.back() == "complete");
    CHECK(rec.count("complete") == 1);
    REQUIRE(server.requests.size() == 1);
    const std::string &req = server.requests[0];
    CHECK(req.rfind("GET /dir/a.txt?x=1 HTTP/1.1\r\n", 0) == 0);
    CHECK(req.find("\r\nHost: origin.test\r\n") != std::string::npos);
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a chunked body reaches the handler without its framing") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n");
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.completed());
    CHECK(rec.body == "hello, world");
    CHECK(!rec.info.content_length);
}

TEST_CASE_FIXTURE(
    OriginFixture,
    "origin/http_origin: a HEAD response completes without a body, whatever its length") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    });
    GetRequest get;
    get.head.method = core::Method::head;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, complete");
    CHECK(rec.info.no_body);
    CHECK(!rec.info.content_length); // no body follows; the field itself stays in the head
    CHECK(rec.head->headers.get("content-length") == "1000");
    CHECK(server.requests[0].rfind("HEAD / HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: two sequential fetches share one keep-alive connection") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send(response("answer " + std::to_string(c.requests)));
    });
    for (int i = 1; i <= 2; ++i) {
        CAPTURE(i);
        std::string target = "/";
        target += std::to_string(i); // ("/" + to_string trips GCC 12 -O3 -Wrestrict, PR 105651)
        GetRequest get(target);
        Recorder rec;
        rec.start(origin, get);
        CHECK(loop.run_until([&] { return rec.finished(); }));
        CHECK(rec.completed());
        CHECK(rec.body == "answer " + std::to_string(i));
    }
    CHECK(server.accepted() == 1);
    CHECK(server.conns[0]->requests == 2);
    CHECK(svc.live.count() == 1); // the idle connection, pooled

    // close_idle() lets the pooled connection go; the next fetch connects afresh.
    origin.close_idle();
    CHECK(loop.run_until([&] { return server.conns[0]->peer_closed; }));
    GetRequest get("/3");
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.completed());
    CHECK(server.accepted() == 2);
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a response with Connection: close is not pooled") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send(response("bye", "Connection: close\r\n"));
    });
    GetRequest get;
    Recorder first, second;
    first.start(origin, get);
    CHECK(loop.run_until([&] { return first.finished(); }));
    CHECK(first.completed());
    CHECK(loop.run_until([&] { return server.conns[0]->peer_closed; }));
    second.start(origin, get);
    CHECK(loop.run_until([&] { return second.finished(); }));
    CHECK(second.completed());
    CHECK(server.accepted() == 2);
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a pooled connection the origin closes leaves the pool") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) { c.send(response("fine")); });
    GetRequest get;
    Recorder first, second;
    first.start(origin, get);
    CHECK(loop.run_until([&] { return first.finished(); }));
    CHECK(svc.live.count() == 1);
    server.conns[0]->close(); // the origin's keep-alive timeout
    CHECK(loop.run_until([&] { return svc.live.count() == 0; }));
    second.start(origin, get);
    CHECK(loop.run_until([&] { return second.finished(); }));
    CHECK(second.completed());
    CHECK(second.body == "fine");
    CHECK(server.accepted() == 2);
}

TEST_CASE("origin/http_origin: pause_response holds the body back until resume_response") {
    UvTestLoop loop;
    FakeOrigin server(loop);
    OriginServices svc(loop);
    auto opts = perch::test::options_for(server);
    opts.read_timeout_ms = 30; // shorter than the pause: a paused fetch does not time out
    origin::HttpOrigin origin(svc.get(), opts);
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    });
    GetRequest get;
    Recorder rec;
    rec.on_head = [](Recorder &r) { r.fetch->pause_response(); };
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.head.has_value(); }));
    FakeOrigin::Conn &conn = *server.conns[0];
    conn.send("0123456789");
    CHECK(loop.run_until([&] { return conn.all_written(); }));
    loop.run_for(100); // the bytes wait in the socket
    CHECK(rec.trace() == "head 200");
    REQUIRE(rec.fetch);
    rec.fetch->resume_response();
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.events.back() == "complete");
    CHECK(rec.body == "0123456789");
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a fetch paused mid-body continues where it stopped") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nfirst:");
    });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.body == "first:"; }));
    rec.fetch->pause_response();
    FakeOrigin::Conn &conn = *server.conns[0];
    conn.send("second");
    CHECK(loop.run_until([&] { return conn.all_written(); }));
    loop.run_for(50);
    CHECK(rec.body == "first:");
    REQUIRE(rec.fetch);
    rec.fetch->resume_response();
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.completed());
    CHECK(rec.body == "first:second");
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: cancel() from inside on_origin_head stops every callback") {
    server.on_request([](FakeOrigin::Conn &c, const std::string &) {
        c.send(response("the body follows the head in the same read"));
    });
    GetRequest get;
    Recorder rec;
    rec.on_head = [](Recorder &r) {
        r.fetch->cancel();
        r.fetch = nullptr; // gone
    };
    rec.start(origin, get);
    CHECK(loop.run_until([&] { return rec.head.has_value(); }));
    // A connection left mid-response cannot be reused: it is closed, not pooled.
    CHECK(loop.run_until([&] { return server.conns[0]->peer_closed; }));
    CHECK(loop.run_until([&] { return svc.live.count() == 0; }));
    loop.run_for(20);
    CHECK(rec.trace() == "head 200");
    CHECK(rec.body.empty());
}

TEST_CASE_FIXTURE(OriginFixture,
                  "origin/http_origin: a fetch cancelled at once never calls its handler") {
    server.on_request(
        [](FakeOrigin::Conn &c, const std::string &) { c.send(response("unwanted")); });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get)->cancel();
    loop.run_for(50);
    CHECK(rec.events.empty());
    CHECK(server.requests.empty());
    CHECK(svc.live.count() == 0);
}

TEST_CASE("origin/http_origin: the origin going away first leaves its connections to close") {
    UvTestLoop loop;
    FakeOrigin server(loop);
    OriginServices svc(loop);
    auto origin = std::make_unique<origin::HttpOrigin>(svc.get(), perch::test::options_for(server));
    server.on_request([](FakeOrigin::Conn &c, const std::string &) { c.send(response("x")); });
    GetRequest get;
    Recorder rec;
    rec.start(*origin, get);
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(svc.live.count() == 1);
    origin.reset(); // with a pooled connection
    CHECK(loop.run_until([&] { return svc.live.count() == 0; }));
    CHECK(loop.run_until([&] { return server.conns[0]->peer_closed; }));
}

TEST_CASE("origin/http_origin: a fetch paused before its head waits, without timing out") {
    UvTestLoop loop;
    FakeOrigin server(loop);
    OriginServices svc(loop);
    auto opts = perch::test::options_for(server);
    opts.read_timeout_ms = 30;
    origin::HttpOrigin origin(svc.get(), opts);
    server.on_request([](FakeOrigin::Conn &c, const std::string &) { c.send(response("late")); });
    GetRequest get;
    Recorder rec;
    rec.start(origin, get)->pause_response();
    CHECK(loop.run_until([&] {
        return !server.conns.empty() && server.conns[0]->writes > 0 &&
               server.conns[0]->all_written();
    }));
    loop.run_for(100);
    CHECK(rec.trace() == "");
    REQUIRE(rec.fetch);
    rec.fetch->resume_response();
    CHECK(loop.run_until([&] { return rec.finished(); }));
    CHECK(rec.trace() == "head 200, body, complete");
}

// The transaction against a scripted origin: collapsing (with a leader that leaves), custom
// error pages, ranges on a miss, and the pull-model sink's flow control.
#include "edge_harness.hpp"

#include <doctest/doctest.h>

using namespace perch;
using namespace perch::test;

TEST_CASE("edge/transaction: concurrent misses collapse onto one origin request") {
    EdgeHarness h(one_origin());
    TestViewer &a = h.get("/c");
    TestViewer &b = h.get("/c");
    TestViewer &c = h.get("/c");
    REQUIRE(h.origin().count() == 1);
    auto &f = h.origin().last();
    f.respond(200, {{"Cache-Control", "max-age=60"}}, 6);
    f.body("abc");
    h.settle();
    CHECK(b.body == "abc"); // waiters stream the response as it arrives
    f.body("def");
    f.complete();
    h.settle();
    for (TestViewer *v : {&a, &b, &c}) {
        CHECK(v->done);
        CHECK(v->body == "abcdef");
    }
    CHECK(a.x_cache() == "Miss from perch");
    CHECK(b.x_cache() == "Hit from perch");
    CHECK(h.origin().count() == 1);
}

TEST_CASE("edge/transaction: a leader that leaves before the head lets a waiter lead") {
    EdgeHarness h(one_origin());
    TestViewer &leader = h.get("/l");
    TestViewer &w1 = h.get("/l");
    TestViewer &w2 = h.get("/l");
    leader.txn.cancel();
    CHECK(h.origin().last().cancelled);
    h.settle();
    REQUIRE(h.origin().count() == 2); // one new leader among the waiters, not two
    h.origin().last().reply(200, {{"Cache-Control", "max-age=60"}}, "body");
    h.settle();
    CHECK(w1.body == "body");
    CHECK(w2.body == "body");
    CHECK(h.origin().count() == 2);
}

TEST_CASE("edge/transaction: a leader that leaves mid-body hands the fetch over whole") {
    EdgeHarness h(one_origin());
    TestViewer &leader = h.get("/m");
    TestViewer &waiter = h.get("/m");
    auto &f = h.origin().last();
    f.respond(200, {{"Cache-Control", "max-age=60"}}, 4);
    f.body("ab");
    h.settle();
    leader.txn.cancel();
    CHECK_FALSE(f.cancelled); // the feed goes on for the waiter and the store
    f.body("cd");
    f.complete();
    h.settle();
    CHECK(waiter.done);
    CHECK(waiter.body == "abcd");
    TestViewer &later = h.get("/m");
    CHECK(later.x_cache() == "Hit from perch");
    CHECK(later.body == "abcd");
}

TEST_CASE("edge/transaction: a viewer that leaves alone cancels its fetch and stores nothing") {
    EdgeHarness h(one_origin());
    TestViewer &v = h.get("/alone");
    auto &f = h.origin().last();
    f.respond(200, {{"Cache-Control", "max-age=60"}}, 4);
    f.body("ab");
    v.txn.cancel();
    CHECK(f.cancelled);
    h.get("/alone");
    CHECK(h.origin().count() == 2);
}

TEST_CASE("edge/transaction: a custom error page is fetched through its own behavior, served "
          "with the response code, and cached for error_caching_min_ttl") {
    EdgeHarness h(one_origin(60, 31536000, 0, R"(, "custom_error_response": [
        {"error_code": 404, "response_code": 200, "response_page_path": "/404.html",
         "error_caching_min_ttl": 30}])"));
    TestViewer &v = h.get("/missing");
    h.origin().last().reply(404, {}, "origin's 404");
    REQUIRE(h.origin().count() == 2);
    CHECK(h.origin().last().path() == "/404.html");
    h.origin().last().reply(200, {{"Content-Type", "text/html"}}, "<p>not here</p>");
    CHECK(v.done);
    CHECK(v.status == 200);
    CHECK(v.body == "<p>not here</p>");
    h.advance_s(20);
    TestViewer &again = h.get("/missing");
    CHECK(again.done);
    CHECK(again.body == "<p>not here</p>");
    CHECK(h.origin().count() == 2); // the 404 and the page are both stored
    h.advance_s(11);
    h.get("/missing");
    CHECK(h.origin().count() == 3); // the error's 30 s are over
}

TEST_CASE("edge/transaction: an unreachable origin gets the custom error page for 502") {
    EdgeHarness h(one_origin(60, 31536000, 0, R"(, "custom_error_response": [
        {"error_code": 502, "response_code": 503, "response_page_path": "/down.html"}])"));
    TestViewer &v = h.get("/x");
    h.origin().last().fail(core::Code::origin_connect);
    REQUIRE(h.origin().count() == 2);
    CHECK(h.origin().last().path() == "/down.html");
    h.origin().last().reply(200, {}, "down");
    CHECK(v.status == 503);
    CHECK(v.body == "down");
}

TEST_CASE("edge/transaction: a range on a miss is answered as the bytes arrive while the "
          "whole object is stored") {
    EdgeHarness h(one_origin());
    TestViewer &v = h.viewer();
    v.start("/r", {{"Range", "bytes=2-5"}});
    auto &f = h.origin().last();
    CHECK_FALSE(f.field("range")); // the origin is asked for the whole object
    f.respond(200, {{"Cache-Control", "max-age=60"}}, 10);
    CHECK(v.status == 206);
    CHECK(v.field("Content-Range") == "bytes 2-5/10");
    f.body("0123");
    CHECK(v.body == "23");
    f.body("456789");
    CHECK(v.body == "2345");
    CHECK(v.last);
    f.complete();
    CHECK(v.done);
    TestViewer &whole = h.get("/r");
    CHECK(whole.x_cache() == "Hit from perch");
    CHECK(whole.body == "0123456789");
}

TEST_CASE("edge/transaction: the viewer answered before the body keeps the fetch going for the "
          "store") {
    EdgeHarness h(one_origin());
    TestViewer &v = h.viewer();
    v.start("/h", {}, core::Method::head);
    auto &f = h.origin().last();
    CHECK(f.request.method == core::Method::get); // a HEAD miss fetches the whole object
    f.respond(200, {{"Cache-Control", "max-age=60"}}, 3);
    CHECK(v.done);
    CHECK(v.body.empty());
    f.body("abc");
    f.complete();
    CHECK(h.get("/h").body == "abc");
    CHECK(h.origin().count() == 1);
}

TEST_CASE("edge/transaction: body chunks go out only when the sink asks, and the origin waits "
          "meanwhile") {
    EdgeHarness h(one_origin());
    TestViewer &v = h.viewer();
    v.hold = true;
    v.start("/p");
    auto &f = h.origin().last();
    f.respond(200, {{"Cache-Control", "no-store"}}, 6);
    CHECK(v.sends == 1); // the head
    f.body("ab");
    CHECK(v.body.empty()); // not asked yet
    CHECK(f.paused);
    v.txn.proceed();
    CHECK(v.body == "ab");
    CHECK_FALSE(f.paused);
    v.txn.proceed(); // asked before the bytes came: they go out as they arrive
    f.body("cd");
    CHECK(v.body == "abcd");
    f.body("ef");
    f.complete();
    CHECK_FALSE(v.last);
    v.txn.proceed();
    CHECK(v.body == "abcdef");
    CHECK(v.last);
    CHECK(v.done);
}

TEST_CASE("edge/transaction: a stored object larger than one chunk is sent chunk by chunk on "
          "proceed()") {
    EdgeHarness h(one_origin());
    h.get("/big");
    auto &f = h.origin().last();
    std::string piece(64 * 1024, 'x');
    f.respond(200, {{"Cache-Control", "max-age=60"}}, std::nullopt); // chunked: many buffers
    for (int i = 0; i < 320; ++i) // 20 MiB: more than 16 stored buffers
        f.body(piece);
    f.complete();
    TestViewer &v = h.viewer();
    v.hold = true;
    v.start("/big");
    size_t sends = v.sends;
    CHECK_FALSE(v.last);
    while (!v.last && v.sends < 100)
        v.txn.proceed();
    CHECK(v.sends > sends);
    CHECK(v.body.size() == 320 * piece.size());
    CHECK(v.done);
}

TEST_CASE("edge/transaction: a background transaction (no sink) stores the refresh and "
          "reports done once") {
    EdgeHarness h(one_origin());
    h.get("/bg");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, stale-while-revalidate=60"}}, "1");
    h.advance_s(2);
    h.get("/bg");
    h.get("/bg"); // no second refresh while one is in flight
    REQUIRE(h.origin().count() == 2);
    auto &refresh = h.origin().last();
    CHECK(refresh.request.method == core::Method::get);
    refresh.reply(200, {{"Cache-Control", "max-age=60"}}, "2");
    h.settle();
    CHECK(h.get("/bg").body == "2");
}

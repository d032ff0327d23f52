// The transaction on simulated time against a scripted origin: expiry, revalidation, TTL rules
// and stale content (moved here from process tests that slept to let objects expire).
#include "edge_harness.hpp"

#include <doctest/doctest.h>

using namespace perch;
using namespace perch::test;

namespace {
const Fields max_age_1 = {{"Cache-Control", "max-age=1"}};
} // namespace

TEST_CASE("edge/transaction: a miss is stored, then hits age with the clock until it expires") {
    EdgeHarness h(one_origin());
    TestViewer &a = h.get("/a");
    REQUIRE(h.origin().count() == 1);
    h.origin().last().reply(200, {{"Cache-Control", "max-age=10"}}, "hello");
    CHECK(a.done);
    CHECK(a.status == 200);
    CHECK(a.body == "hello");
    CHECK(a.x_cache() == "Miss from perch");

    h.advance_s(4);
    TestViewer &b = h.get("/a");
    CHECK(b.done);
    CHECK(b.x_cache() == "Hit from perch");
    CHECK(b.age() == 4);
    CHECK(b.body == "hello");
    CHECK(h.origin().count() == 1);

    h.advance_s(7); // 11 s old: stale, and without validators it is fetched again
    TestViewer &c = h.get("/a");
    REQUIRE(h.origin().count() == 2);
    CHECK_FALSE(c.done);
    CHECK_FALSE(h.origin().last().field("if-none-match"));
    h.origin().last().reply(200, {{"Cache-Control", "max-age=10"}}, "hello again");
    CHECK(c.x_cache() == "Miss from perch");
    CHECK(c.body == "hello again");
}

TEST_CASE("edge/transaction: a stale object with an ETag is revalidated and becomes a "
          "RefreshHit, fresh again for its max-age") {
    EdgeHarness h(one_origin());
    h.get("/e");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1"}, {"ETag", "\"v1\""}}, "e\n");
    h.advance_s(1.2);
    TestViewer &v = h.get("/e");
    REQUIRE(h.origin().count() == 2);
    auto &reval = h.origin().last();
    CHECK(reval.field("if-none-match") == "\"v1\"");
    reval.respond(304, {{"Cache-Control", "max-age=1"}, {"ETag", "\"v1\""}}, std::nullopt, true);
    reval.complete();
    CHECK(v.done);
    CHECK(v.status == 200);
    CHECK(v.body == "e\n");
    CHECK(v.x_cache() == "RefreshHit from perch");
    TestViewer &again = h.get("/e");
    CHECK(again.x_cache() == "Hit from perch");
    CHECK(h.origin().count() == 2);
}

TEST_CASE("edge/transaction: a 304 that does not select the stored response is asked again "
          "without validators") {
    EdgeHarness h(one_origin());
    h.get("/e");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1"}, {"ETag", "\"v1\""}}, "old");
    h.advance_s(2);
    TestViewer &v = h.get("/e");
    h.origin().last().respond(304, {{"ETag", "\"v2\""}}, std::nullopt, true);
    REQUIRE(h.origin().count() == 3);
    CHECK_FALSE(h.origin().last().field("if-none-match"));
    h.origin().last().reply(200, {{"ETag", "\"v2\""}}, "new");
    CHECK(v.body == "new");
    CHECK(v.x_cache() == "Miss from perch");
}

TEST_CASE("edge/transaction: s-maxage beats max-age for the edge") {
    EdgeHarness h(one_origin());
    h.get("/s");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, s-maxage=60"}}, "s");
    h.advance_s(1.2);
    CHECK(h.get("/s").x_cache() == "Hit from perch");
    CHECK(h.origin().count() == 1);
}

TEST_CASE("edge/transaction: max_ttl caps the origin's max-age, min_ttl raises it") {
    SUBCASE("max_ttl") {
        EdgeHarness h(one_origin(2, 2));
        h.get("/m");
        h.origin().last().reply(200, {{"Cache-Control", "max-age=60"}, {"ETag", "\"m\""}}, "m");
        h.advance_s(1.9);
        CHECK(h.get("/m").x_cache() == "Hit from perch");
        h.advance_s(0.2);
        TestViewer &v = h.get("/m");
        REQUIRE(h.origin().count() == 2);
        CHECK(h.origin().last().field("if-none-match") == "\"m\"");
        h.origin().last().respond(304, {}, std::nullopt, true);
        h.origin().last().complete();
        CHECK(v.x_cache() == "RefreshHit from perch");
    }
    SUBCASE("min_ttl") {
        EdgeHarness h(one_origin(5, 100, 5));
        h.get("/n");
        h.origin().last().reply(200, {{"Cache-Control", "max-age=1"}}, "n");
        h.advance_s(4);
        CHECK(h.get("/n").x_cache() == "Hit from perch");
        CHECK(h.origin().count() == 1);
    }
}

TEST_CASE("edge/transaction: stale-while-revalidate serves at once and refreshes once") {
    EdgeHarness h(one_origin());
    h.get("/swr");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, stale-while-revalidate=30"}},
                            "fresh 1");
    h.advance_s(1.3);
    std::vector<TestViewer *> vs;
    for (int i = 0; i < 5; ++i)
        vs.push_back(&h.get("/swr"));
    for (TestViewer *v : vs) { // all served the stale copy without waiting for the origin
        CHECK(v->done);
        CHECK(v->x_cache() == "Hit from perch");
        CHECK(v->body == "fresh 1");
        CHECK(v->age() >= 1);
    }
    REQUIRE(h.origin().count() == 2); // one background refresh
    CHECK(h.origin().live_count() == 1);
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, stale-while-revalidate=30"}},
                            "fresh 2");
    h.settle();
    TestViewer &after = h.get("/swr");
    CHECK(after.x_cache() == "Hit from perch");
    CHECK(after.age() == 0);
    CHECK(after.body == "fresh 2");
    CHECK(h.origin().count() == 2);
}

TEST_CASE("edge/transaction: s-maxage with stale-while-revalidate is served stale") {
    EdgeHarness h(one_origin());
    h.get("/s");
    h.origin().last().reply(200, {{"Cache-Control", "s-maxage=1, stale-while-revalidate=30"}}, "s");
    h.advance_s(1.3);
    TestViewer &v = h.get("/s");
    CHECK(v.done);
    CHECK(v.x_cache() == "Hit from perch");
    CHECK(h.origin().count() == 2);
}

TEST_CASE("edge/transaction: past the stale-while-revalidate window the viewer waits") {
    EdgeHarness h(one_origin());
    h.get("/w");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, stale-while-revalidate=1"}}, "1");
    h.advance_s(2.3);
    TestViewer &v = h.get("/w");
    CHECK_FALSE(v.done); // waits for the origin
    REQUIRE(h.origin().count() == 2);
    h.origin().last().reply(200, {}, "2");
    CHECK(v.done);
    CHECK(v.x_cache() == "Miss from perch");
    CHECK(v.body == "2");
}

TEST_CASE("edge/transaction: an origin 5xx serves the stale copy for the error caching TTL") {
    EdgeHarness h(one_origin());
    h.get("/flip");
    h.origin().last().reply(200, max_age_1, "fresh 1\n");
    h.advance_s(1.3);
    TestViewer &v = h.get("/flip");
    h.origin().last().reply(500, {}, "boom");
    CHECK(v.status == 200);
    CHECK(v.body == "fresh 1\n");
    CHECK(v.x_cache() == "Hit from perch");
    CHECK(h.origin().count() == 2);
    // Kept for CloudFront's default error caching TTL (10 s): no new origin request.
    h.advance_s(9);
    CHECK(h.get("/flip").body == "fresh 1\n");
    CHECK(h.origin().count() == 2);
    h.advance_s(2);
    h.get("/flip");
    CHECK(h.origin().count() == 3);
}

TEST_CASE("edge/transaction: any 5xx, or an unreachable origin, serves the stale copy") {
    for (int code : {0, 501, 502, 503, 504, 505}) {
        CAPTURE(code);
        EdgeHarness h(one_origin());
        h.get("/x");
        h.origin().last().reply(200, max_age_1, "stale");
        h.advance_s(1.3);
        TestViewer &v = h.get("/x");
        if (code == 0)
            h.origin().last().fail(core::Code::origin_connect);
        else
            h.origin().last().reply(uint16_t(code), {}, "err");
        CHECK(v.status == 200);
        CHECK(v.body == "stale");
        CHECK(v.x_cache() == "Hit from perch");
    }
}

TEST_CASE("edge/transaction: stale-if-error=0, must-revalidate and s-maxage alone let the "
          "error through") {
    for (const char *cc :
         {"max-age=1, stale-if-error=0", "max-age=1, must-revalidate", "s-maxage=1"}) {
        CAPTURE(cc);
        EdgeHarness h(one_origin());
        h.get("/x");
        h.origin().last().reply(200, {{"Cache-Control", cc}}, "stale");
        h.advance_s(1.3);
        TestViewer &v = h.get("/x");
        h.origin().last().reply(500, {}, "err");
        CHECK(v.status == 500);
    }
}

TEST_CASE("edge/transaction: stale-if-error bounds how stale a copy may be") {
    EdgeHarness h(one_origin());
    h.get("/in");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, stale-if-error=30"}}, "in");
    h.get("/out");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1, stale-if-error=1"}}, "out");
    h.advance_s(2.3); // 1.3 s past expiry: inside the first window, outside the second
    TestViewer &in = h.get("/in");
    h.origin().last().reply(500, {}, "err");
    CHECK(in.status == 200);
    CHECK(in.body == "in");
    TestViewer &out = h.get("/out");
    h.origin().last().reply(500, {}, "err");
    CHECK(out.status == 500);
}

TEST_CASE("edge/transaction: a response cut short is never stored and its viewer sees it cut") {
    EdgeHarness h(one_origin());
    TestViewer &v = h.get("/t");
    auto &f = h.origin().last();
    f.respond(200, {}, 10);
    f.body("12345");
    f.complete(); // 5 of 10 bytes
    CHECK(v.aborted);
    CHECK_FALSE(v.last);
    TestViewer &again = h.get("/t");
    CHECK_FALSE(again.done);
    CHECK(h.origin().count() == 2);
}

TEST_CASE("edge/transaction: a revalidated error keeps its error caching TTL") {
    EdgeHarness h(one_origin(60, 31536000, 0, R"(, "custom_error_response": [
        {"error_code": 404, "error_caching_min_ttl": 2}])"));
    h.get("/gone");
    h.origin().last().reply(404, {{"Cache-Control", "max-age=0"}, {"ETag", "\"g\""}}, "gone");
    for (int i = 0; i < 2; ++i) {
        h.advance_s(2); // the 2 s error TTL has passed: revalidated, fresh for 2 s again
        // (whole seconds: Date has no finer resolution, and a stored age counts from it)
        TestViewer &v = h.get("/gone");
        REQUIRE(h.origin().count() == size_t(2 + i));
        CHECK(h.origin().last().field("if-none-match") == "\"g\"");
        h.origin().last().respond(304, {{"Cache-Control", "max-age=0"}}, std::nullopt, true);
        h.origin().last().complete();
        CHECK(v.status == 404);
        CHECK(v.x_cache() == "Error from perch");
        h.advance_s(1);
        CHECK(h.get("/gone").status == 404);
        CHECK(h.origin().count() == size_t(2 + i)); // within the error TTL: no new request
    }
}

TEST_CASE("edge/transaction: a viewer leaving while a refreshed error fetches its page is "
          "harmless") {
    EdgeHarness h(one_origin(60, 31536000, 0, R"(, "custom_error_response": [
        {"error_code": 404, "response_code": 404, "response_page_path": "/page.html",
         "error_caching_min_ttl": 1}])"));
    TestViewer &first = h.get("/e");
    h.origin().last().reply(404, {{"Cache-Control", "max-age=0"}, {"ETag", "\"e\""}}, "404");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=0"}}, "page");
    CHECK(first.body == "page");
    h.advance_s(2); // the error and the page are stale
    TestViewer &v = h.get("/e");
    h.origin().last().respond(304, {}, std::nullopt, true);
    h.origin().last().complete();
    REQUIRE(h.origin().count() == 4);
    CHECK(h.origin().last().path() == "/page.html"); // the page is on its way
    v.txn.cancel();
    CHECK(h.origin().last().cancelled);
    TestViewer &later = h.get("/e"); // the refreshed error is fresh; its page is fetched again
    REQUIRE(h.origin().count() == 5);
    CHECK(h.origin().last().path() == "/page.html");
    h.origin().last().reply(200, {}, "page");
    CHECK(later.done);
    CHECK(later.status == 404);
    CHECK(later.body == "page");
}

TEST_CASE("edge/transaction: a 304 with Set-Cookie does not put the cookie in the shared copy") {
    EdgeHarness h(one_origin());
    h.get("/c");
    h.origin().last().reply(200, {{"Cache-Control", "max-age=1"}, {"ETag", "\"c\""}}, "body");
    h.advance_s(1.2);
    TestViewer &v = h.get("/c");
    h.origin().last().respond(304, {{"Set-Cookie", "session=viewer-1"}}, std::nullopt, true);
    h.origin().last().complete();
    CHECK(v.x_cache() == "RefreshHit from perch");
    CHECK(v.body == "body");
    CHECK_FALSE(v.field("Set-Cookie"));
    TestViewer &next = h.get("/c");
    CHECK(next.x_cache() == "Hit from perch");
    CHECK_FALSE(next.field("Set-Cookie"));
}

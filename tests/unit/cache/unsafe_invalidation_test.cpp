#include "cache/unsafe_invalidation.hpp"

#include <doctest/doctest.h>

using perch::cache::invalidated_paths;
using perch::cache::invalidates_stored;
using perch::core::HeaderMap;
using perch::core::Method;

TEST_CASE("cache/unsafe_invalidation: only non-error answers to unsafe methods invalidate") {
    CHECK(invalidates_stored(Method::post, 200));
    CHECK(invalidates_stored(Method::put, 201));
    CHECK(invalidates_stored(Method::del, 204));
    CHECK(invalidates_stored(Method::patch, 303));
    CHECK(invalidates_stored(Method::other, 200)); // unknown methods are unsafe
    CHECK_FALSE(invalidates_stored(Method::post, 404));
    CHECK_FALSE(invalidates_stored(Method::post, 500));
    CHECK_FALSE(invalidates_stored(Method::post, 100));
    CHECK_FALSE(invalidates_stored(Method::get, 200));
    CHECK_FALSE(invalidates_stored(Method::head, 200));
    CHECK_FALSE(invalidates_stored(Method::options, 200));
}

TEST_CASE("cache/unsafe_invalidation: same-host Location and Content-Location are invalidated") {
    struct Case {
        const char *location;
        const char *expected; // "" : not invalidated
    };
    const Case cases[] = {
        {"/b", "/b"},
        {"/b?x=1#f", "/b"},
        {"http://example.com/c/./d", "/c/d"},
        {"HTTPS://EXAMPLE.COM/e", "/e"},
        {"http://other.com/f", ""},
        {"//example.com/g", ""},        // network-path reference: skipped
        {"http://u@example.com/h", ""}, // userinfo: never the same origin
        {"ftp://example.com/i", ""},
        {"relative/j", "/dir/relative/j"}, // resolved against the request's path
        {"../k", "/k"},
        {"./", "/dir/"},
        {"?q=1", ""},                        // the request's own URI
        {"http://example.com:8080/l", "/l"}, // the host part is compared, not the port
        {"https://EXAMPLE.com:443/m", "/m"},
        {"mailto:x@example.com", ""},
        {"http:/n", ""}, // no authority
        {"a:b/o", ""},   // a scheme of its own
        {"/bad%zz", ""},
        {"/dir/a", ""}, // the request's own path: listed once
    };
    for (const Case &c : cases) {
        CAPTURE(c.location);
        HeaderMap h;
        h.add("Location", c.location);
        auto paths = invalidated_paths("/dir/a", "example.com", h);
        REQUIRE(!paths.empty());
        CHECK(paths[0] == "/dir/a");
        if (*c.expected) {
            REQUIRE(paths.size() == 2);
            CHECK(paths[1] == c.expected);
        } else {
            CHECK(paths.size() == 1);
        }
    }
    HeaderMap both;
    both.add("Location", "/x");
    both.add("Content-Location", "http://example.com/y");
    CHECK(invalidated_paths("/a", "example.com", both) ==
          std::vector<std::string>{"/a", "/x", "/y"});
    HeaderMap ported;
    ported.add("Location", "http://example.com/z");
    CHECK(invalidated_paths("/a", "Example.com:8080", ported) ==
          std::vector<std::string>{"/a", "/z"});
}

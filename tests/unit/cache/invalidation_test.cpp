#include "cache/invalidation.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace perch::cache;
using Json = nlohmann::json;

TEST_CASE("cache/invalidation: valid paths are normalized as request paths are") {
    struct Case {
        const char *text;
        const char *path;
        bool prefix;
    };
    const Case cases[] = {
        {"/a.html", "/a.html", false},
        {"/a%2Eb", "/a.b", false},
        {"/a%2fb", "/a%2Fb", false},
        {"/a/../b", "/b", false},
        {"//a///b", "/a/b", false},
        {"/dir/", "/dir/", false},
        {"/Img/A.JPG", "/Img/A.JPG", false}, // case is kept: matching is case-sensitive
        {"/*", "/", true},
        {"/img/*", "/img/", true},
        {"/img*", "/img", true},
        {"/a/..*", "/a/..", true}, // a partial last segment is not a ".." segment
        {"/a/.*", "/a/.", true},
        {"/a/b/../c*", "/a/c", true},
        {"/%7Euser*", "/~user", true},
    };
    for (const Case &c : cases) {
        CAPTURE(c.text);
        InvalidationTarget t;
        REQUIRE(parse_invalidation_path(c.text, t) == nullptr);
        CHECK(t.path == c.path);
        CHECK(t.prefix == c.prefix);
    }
}

TEST_CASE("cache/invalidation: invalid paths are refused with the reason") {
    struct Case {
        std::string text;
        std::string reason;
    };
    const Case cases[] = {
        {"", "must start with '/'"},
        {"a.html", "must start with '/'"},
        {"*", "must start with '/'"},
        {"/a*b", "'*' is allowed only as the last character"},
        {"/**", "'*' is allowed only as the last character"},
        {"/a b", "must be URL-encoded (no spaces, control or non-ASCII characters)"},
        {"/caf\xc3\xa9", "must be URL-encoded (no spaces, control or non-ASCII characters)"},
        {"/a\n", "must be URL-encoded (no spaces, control or non-ASCII characters)"},
        {"/a?x=1", "must not have a query string (a path is invalidated with every query string)"},
        {"/a#f", "must not have a query string (a path is invalidated with every query string)"},
        {"/a%zz", "has a malformed percent-escape"},
        {"/a%00", "has a malformed percent-escape"},
        {"/a%2*", "has a malformed percent-escape"},
        {"/" + std::string(4000, 'a'), "must be at most 4000 characters"},
    };
    for (const Case &c : cases) {
        CAPTURE(c.text);
        InvalidationTarget t;
        const char *why = parse_invalidation_path(c.text, t);
        REQUIRE(why != nullptr);
        CHECK(std::string(why) == c.reason);
    }
    InvalidationTarget t;
    CHECK(parse_invalidation_path("/" + std::string(3999, 'a'), t) == nullptr);
}

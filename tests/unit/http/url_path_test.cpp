#include "http/url_path.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("http/url_path: paths are normalized before behaviors, keys and the origin see them") {
    const std::pair<const char *, const char *> rows[] = {
        {"/a/b.html", "/a/b.html"},
        {"/", "/"},
        {"", "/"},
        {"/secret/a.txt", "/secret/a.txt"},
        {"/pub/../secret/a.txt", "/secret/a.txt"}, // dot segments removed
        {"/%73ecret/a.txt", "/secret/a.txt"},      // unreserved escapes decoded
        {"//secret//a.txt", "/secret/a.txt"},      // repeated slashes merged
        {"/./a/./b", "/a/b"},
        {"/a/b/..", "/a/"},
        {"/a/b/.", "/a/b/"},
        {"/../../etc/passwd", "/etc/passwd"}, // never above the root
        {"/%2e%2e/secret", "/secret"},        // encoded dots are dots
        {"/dir/", "/dir/"},
        {"/a%2fb", "/a%2Fb"}, // reserved escapes stay, upper-cased
        {"/a%20b", "/a%20b"},
        {"/caf%C3%A9", "/caf%C3%A9"},
        {"/~user/x-y_z.1", "/~user/x-y_z.1"},
    };
    for (auto [raw, expected] : rows) {
        INFO(raw);
        auto got = perch::http::normalize_path(raw);
        REQUIRE(got);
        CHECK(*got == expected);
    }
    for (const char *bad : {"/a%", "/a%2", "/a%zz", "/a%00b", "/%G0"}) {
        INFO(bad);
        CHECK_FALSE(perch::http::normalize_path(bad));
    }
}

TEST_CASE("http/url_path: normalize_path_into agrees with normalize_path") {
    std::string out = "previous";
    for (const char *raw :
         {"/", "/a", "/a/", "/a/b.txt", "/a//b", "//a", "/a/./b", "/a/../b", "/a/.", "/a/..",
          "/%7Euser", "/a%2fb", "/.hidden/x", "/a..b/c.", "relative", "", "/bad%zz", "/a/b/"}) {
        CAPTURE(raw);
        auto expected = perch::http::normalize_path(raw);
        bool ok = perch::http::normalize_path_into(raw, out);
        REQUIRE(ok == expected.has_value());
        if (ok) CHECK(out == *expected);
    }
}

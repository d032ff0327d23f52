#include "config/path_pattern.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

using perch::config::path_pattern_matches;

namespace {

struct MatchCase {
    std::string_view pattern;
    std::string_view path;
    bool matches;
};

void check_cases(const MatchCase *begin, const MatchCase *end) {
    for (const MatchCase *c = begin; c != end; ++c) {
        INFO("pattern '", c->pattern, "' path '", c->path, "'");
        CHECK(path_pattern_matches(c->pattern, c->path) == c->matches);
    }
}

} // namespace

TEST_CASE("config/path_pattern: a star matches zero or more characters, slashes included") {
    const MatchCase cases[] = {
        {"/images/*", "/images/a.jpg", true},
        {"/images/*", "/images/", true},
        {"/images/*", "/images/2024/06/a.jpg", true},
        {"/images/*", "/images", false},
        {"/images/*", "/Images/a.jpg", false},
        {"/images/*.jpg", "/images/a.jpg", true},
        {"/images/*.jpg", "/images/sub/dir/a.jpg", true},
        {"/images/*.jpg", "/images/.jpg", true},
        {"/images/*.jpg", "/images/a.jpeg", false},
        {"/images/*.jpg", "/images/a.jpg.png", false},
        {"/images/*.jpg", "/images/a.jpg/x.jpg", true},
        {"*.gif", "/a/b/c.gif", true},
        {"*.gif", "/c.GIF", false},
        {"/*", "/", true},
        {"/*", "/anything/at/all?not-a-query", true},
        {"/a*b*c", "/abc", true},
        {"/a*b*c", "/aXXbYYc", true},
        {"/a*b*c", "/aXXbYY", false},
        {"/a*b*c", "/acb", false},
        {"/a**b", "/ab", true},
        {"/a**b", "/aZZZb", true},
        {"/a*", "/a", true},
        {"/*/x", "//x", true},
        {"/*/x", "/x", false},
        {"/*a", "/banana", true},
        {"/*ana", "/banana", true},
        {"/*nab", "/banana", false},
    };
    check_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("config/path_pattern: a question mark matches exactly one character") {
    const MatchCase cases[] = {
        {"/file?.txt", "/file1.txt", true},
        {"/file?.txt", "/file.txt", false},
        {"/file?.txt", "/file12.txt", false},
        {"/file??.txt", "/file12.txt", true},
        {"/a?c", "/a/c", true},
        {"/?", "/", false},
        {"/?", "/x", true},
        {"/?*", "/", false},
        {"/?*", "/xy", true},
        {"/*?", "/", false},
        {"/*?", "/z", true},
    };
    check_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("config/path_pattern: matching is case-sensitive and literal elsewhere") {
    const MatchCase cases[] = {
        {"/index.html", "/index.html", true},
        {"/index.html", "/INDEX.HTML", false},
        {"/index.html", "/index.htm", false},
        {"/index.html", "/index.html/", false},
        {"/index.html", "/index.html5", false},
        {"/a.b", "/aXb", false}, // '.' is not a wildcard
        {"/api/v1", "/api/v1", true},
        {"/api/v1", "/api/v1/users", false},
        {"/%20*", "/%20file", true}, // no percent-decoding
        {"/%20*", "/ file", false},
    };
    check_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("config/path_pattern: a pattern without a leading slash matches as if it had one") {
    const MatchCase cases[] = {
        {"images/*", "/images/a.jpg", true},
        {"images/*", "images/a.jpg", false}, // the path keeps its own bytes
        {"images/*", "/x/images/a.jpg", false},
        {"index.html", "/index.html", true},
        {"?ndex.html", "/index.html", true},
        {"", "/", true},
        {"", "", false},
        {"", "/a", false},
        {"/", "/", true},
        {"/", "", false},
    };
    check_cases(std::begin(cases), std::end(cases));
}

TEST_CASE("config/path_pattern: the lone star matches every path, even an empty one") {
    for (std::string_view path : {"/", "", "/a/b/c", "*", "no-slash", "/?q=1"}) {
        INFO("path '", path, "'");
        CHECK(path_pattern_matches("*", path));
    }
    CHECK(path_pattern_matches("/*", "/"));
    CHECK(!path_pattern_matches("/*", ""));
}

TEST_CASE("config/path_pattern: a pathological pattern finishes quickly") {
    // With naive backtracking "*a*a*a...*b" against "aaaa...a" is exponential.
    std::string pattern = "/";
    for (int i = 0; i < 40; ++i)
        pattern += "*a";
    pattern += "*b";
    const std::string path = "/" + std::string(5000, 'a');
    const auto start = std::chrono::steady_clock::now();
    CHECK(!path_pattern_matches(pattern, path));
    CHECK(path_pattern_matches(pattern, path + "b"));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("config/path_pattern: matching is noexcept") {
    static_assert(noexcept(path_pattern_matches(std::string_view{}, std::string_view{})));
    CHECK(true);
}

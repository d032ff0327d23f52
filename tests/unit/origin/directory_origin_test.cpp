#include "origin/directory_origin.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

using perch::origin::media_type_for;
using perch::origin::safe_relative_path;

TEST_CASE("origin/directory_origin: media types follow the file name's extension") {
    struct Row {
        std::string_view name, type;
    };
    const Row rows[] = {
        {"/index.html", "text/html; charset=utf-8"},
        {"/old.htm", "text/html; charset=utf-8"},
        {"/css/site.css", "text/css; charset=utf-8"},
        {"/js/app.js", "text/javascript; charset=utf-8"},
        {"/js/mod.mjs", "text/javascript; charset=utf-8"},
        {"/img/logo.svg", "image/svg+xml"},
        {"/img/photo.jpeg", "image/jpeg"},
        {"/img/photo.jpg", "image/jpeg"},
        {"/data.json", "application/json"},
        {"/fonts/a.woff2", "font/woff2"},
        {"/live/index.m3u8", "application/vnd.apple.mpegurl"},
        {"/live/seg1.ts", "video/mp2t"},
        {"/INDEX.HTML", "text/html; charset=utf-8"}, // extensions ignore case
        {"/Logo.Svg", "image/svg+xml"},
        {"/archive.tar.gz", "application/octet-stream"}, // only the last extension counts
        {"/page.html.bak", "application/octet-stream"},
        {"/file.unknown", "application/octet-stream"},
        {"/README", "application/octet-stream"},
        {"/v1.2/README", "application/octet-stream"}, // a dot in a directory, not the file
        {"/v1.2/page.css", "text/css; charset=utf-8"},
        {"/trailing.", "application/octet-stream"},
        {"index.html", "text/html; charset=utf-8"}, // a bare file name
        {"", "application/octet-stream"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        CHECK(media_type_for(row.name) == row.type);
    }
}

TEST_CASE("origin/directory_origin: safe_relative_path decodes paths that stay inside the root") {
    struct Row {
        std::string_view url;
        std::string_view path;
    };
    const Row rows[] = {
        {"/a/b.html", "/a/b.html"},
        {"/", "/"},
        {"/dir/", "/dir/"},
        {"/a%20b", "/a b"},
        {"/%41%62c", "/Abc"},
        {"/caf%C3%A9.html", "/caf\xC3\xA9.html"},
        {"/a%2fb", "/a/b"},
        {"/...", "/..."}, // a name made of dots is not a "." or ".." segment
        {"/..a/b..", "/..a/b.."},
        {"/.well-known/x", "/.well-known/x"},
        {"/a//b", "/a//b"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.url);
        std::optional<std::string> p = safe_relative_path(row.url);
        REQUIRE(p);
        CHECK(*p == row.path);
    }
}

TEST_CASE("origin/directory_origin: safe_relative_path refuses paths that could leave the root") {
    const std::string_view rows[] = {
        "/%2e%2e/etc/passwd",
        "/%2E%2E/etc/passwd",
        "/.%2e/x",
        "/../x",
        "/a/../b",
        "/a/..",
        "/..",
        "/./x",
        "/a/.",
        "/.",
        "/a%2f..%2fb", // an encoded slash must not hide a ".." segment
        "/a%00b",
        "/a\\b",
        "/a%5cb", // an encoded backslash
        "%2",
        "/a%2",
        "/a%",
        "%zz",
        "/a%zzb",
        "/a%g0",
        "relative",
        "",
    };
    for (std::string_view url : rows) {
        CAPTURE(url);
        CHECK(!safe_relative_path(url));
    }
}

TEST_CASE("origin/directory_origin: safe_relative_path refuses a NUL byte given raw") {
    const std::string url("/a\0b", 4);
    CHECK(!safe_relative_path(url));
}

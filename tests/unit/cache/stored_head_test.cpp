#include "cache/stored_head.hpp"

#include "edge/request_shaping.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using perch::core::HeaderMap;
using perch::core::ResponseHead;
using namespace perch::cache;
using perch::edge::append_response_head;
namespace config = perch::config;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields fields_of(const HeaderMap &h) {
    Fields out;
    for (size_t i = 0; i < h.size(); ++i)
        out.emplace_back(h.name(i), h.value(i));
    return out;
}

HeaderMap map_of(const Fields &fields) {
    HeaderMap h;
    for (const auto &[name, value] : fields)
        h.add(name, value);
    return h;
}

const std::string stored = "HTTP/1.1 200 OK\r\n"
                           "Content-Type: text/html\r\n"
                           "Cache-Control: max-age=60\r\n"
                           "ETag: \"v1\"\r\n"
                           "Content-Length: 1234\r\n"
                           "X-Origin: a\r\n"
                           "Via: 1.1 perch\r\n";

} // namespace

// ---- replace_status_line ----

TEST_CASE("cache/stored_head: replace_status_line swaps only the first line") {
    struct Row {
        uint16_t status;
        std::string line;
    };
    const Row rows[] = {
        {404, "HTTP/1.1 404 Not Found\r\n"},
        {503, "HTTP/1.1 503 Service Unavailable\r\n"},
        {200, "HTTP/1.1 200 OK\r\n"},
        {299, "HTTP/1.1 299 \r\n"}, // no standard reason phrase
    };
    const std::string fields = "Content-Type: text/html\r\nContent-Length: 5\r\n";
    for (const Row &row : rows) {
        CAPTURE(row.status);
        std::string head = "HTTP/1.1 500 Internal Server Error\r\n" + fields;
        replace_status_line(head, row.status);
        CHECK(head == row.line + fields);
    }
}

TEST_CASE("cache/stored_head: replace_status_line on a head of one line without CRLF") {
    std::string head = "HTTP/1.1 200 OK";
    replace_status_line(head, 404);
    CHECK(head == "HTTP/1.1 404 Not Found\r\n");
}

// ---- parse_stored_head ----

TEST_CASE("cache/stored_head: parse_stored_head reads the status, reason and fields") {
    ResponseHead h;
    parse_stored_head(stored, h);
    CHECK(h.status == 200);
    CHECK(h.reason == "OK");
    const Fields expected = {{"Content-Type", "text/html"},
                             {"Cache-Control", "max-age=60"},
                             {"ETag", "\"v1\""},
                             {"Content-Length", "1234"},
                             {"X-Origin", "a"},
                             {"Via", "1.1 perch"}};
    CHECK(fields_of(h.headers) == expected);
}

TEST_CASE("cache/stored_head: parse_stored_head trims values and keeps colons inside them") {
    ResponseHead h;
    parse_stored_head("HTTP/1.1 301 Moved Permanently\r\n"
                      "Location:   https://example.com:8443/a?b=c  \r\n"
                      "Date: Tue, 01 Oct 2024 10:00:00 GMT\r\n",
                      h);
    CHECK(h.status == 301);
    CHECK(h.reason == "Moved Permanently");
    CHECK(h.headers.get("location") == "https://example.com:8443/a?b=c");
    CHECK(h.headers.get("date") == "Tue, 01 Oct 2024 10:00:00 GMT");
}

TEST_CASE("cache/stored_head: parse_stored_head replaces what the head held before") {
    ResponseHead h;
    h.status = 500;
    h.reason = "old";
    h.headers.add("X-Old", "1");
    parse_stored_head("HTTP/1.1 204 No Content\r\n", h);
    CHECK(h.status == 204);
    CHECK(h.reason == "No Content");
    CHECK(h.headers.empty());
}

TEST_CASE("cache/stored_head: a head written by append_response_head parses back the same") {
    ResponseHead origin;
    origin.status = 404;
    origin.reason = "Not Found";
    origin.headers.add("Content-Type", "text/plain");
    origin.headers.add("Cache-Control", "max-age=10");
    origin.headers.add("Set-Cookie", "a=1");
    std::string text;
    origin.headers.add("Date", "Sun, 06 Nov 1994 08:49:37 GMT");
    append_response_head(origin, 404, true, 0, text);

    ResponseHead back;
    parse_stored_head(text, back);
    CHECK(back.status == 404);
    CHECK(back.reason == "Not Found");
    const Fields expected = {{"Content-Type", "text/plain"},
                             {"Cache-Control", "max-age=10"},
                             {"Set-Cookie", "a=1"},
                             {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"},
                             {"Via", "1.1 perch"}};
    CHECK(fields_of(back.headers) == expected);
}

TEST_CASE("cache/stored_head: merging a 304 without fields returns the stored head unchanged") {
    CHECK(merge_stored_head(stored, HeaderMap{}, false) == stored);
}

// ---- merge_stored_head ----

TEST_CASE("cache/stored_head: fields named in a 304 replace the stored ones") {
    HeaderMap nm = map_of({{"Cache-Control", "max-age=300"}, {"ETag", "\"v2\""}});
    std::string merged = merge_stored_head(stored, nm, false);
    ResponseHead h;
    parse_stored_head(merged, h);
    CHECK(h.status == 200);
    CHECK(h.reason == "OK");
    CHECK(h.headers.count("cache-control") == 1);
    CHECK(h.headers.get("cache-control") == "max-age=300");
    CHECK(h.headers.count("etag") == 1);
    CHECK(h.headers.get("etag") == "\"v2\"");
    // Stored fields the 304 does not name remain.
    CHECK(h.headers.get("content-type") == "text/html");
    CHECK(h.headers.get("x-origin") == "a");
    CHECK(merged.rfind("HTTP/1.1 200 OK\r\n", 0) == 0); // the status line stays first
    CHECK(merged.size() >= 2);
    CHECK(merged.substr(merged.size() - 2) == "\r\n");
    CHECK(merged.find("\r\n\r\n") == std::string::npos); // no blank line
}

TEST_CASE("cache/stored_head: a 304 field replaces every stored field of that name") {
    const std::string two = "HTTP/1.1 200 OK\r\nLink: <a>\r\nX: 1\r\nlink: <b>\r\n";
    std::string merged = merge_stored_head(two, map_of({{"Link", "<c>"}, {"LINK", "<d>"}}), false);
    ResponseHead h;
    parse_stored_head(merged, h);
    CHECK(h.headers.joined("link") == "<c>, <d>");
    CHECK(h.headers.get("x") == "1");
}

TEST_CASE("cache/stored_head: framing, Age, Via and hop-by-hop fields of a 304 are not taken") {
    HeaderMap nm = map_of({{"Content-Length", "0"},
                           {"Transfer-Encoding", "chunked"},
                           {"Age", "100"},
                           {"Via", "1.1 other-cache"},
                           {"Connection", "keep-alive"},
                           {"Keep-Alive", "timeout=5"},
                           {"Content-Range", "bytes 0-1/2"},
                           {"Date", "Wed, 02 Oct 2024 10:00:00 GMT"}});
    std::string merged = merge_stored_head(stored, nm, false);
    ResponseHead h;
    parse_stored_head(merged, h);
    CHECK(h.headers.count("content-length") == 1);
    CHECK(h.headers.get("content-length") == "1234");
    CHECK(!h.headers.contains("transfer-encoding"));
    CHECK(!h.headers.contains("age"));
    CHECK(h.headers.count("via") == 1);
    CHECK(h.headers.get("via") == "1.1 perch");
    CHECK(!h.headers.contains("connection"));
    CHECK(!h.headers.contains("keep-alive"));
    CHECK(!h.headers.contains("content-range"));
    CHECK(h.headers.get("date") == "Wed, 02 Oct 2024 10:00:00 GMT"); // end-to-end: taken
}

TEST_CASE("cache/stored_head: fields a 304 lists in its Connection field are not taken") {
    // RFC 9110 §7.6.1: fields named by Connection are hop-by-hop for that message.
    HeaderMap nm = map_of({{"Connection", "X-Hop"}, {"X-Hop", "1"}, {"X-End", "2"}});
    std::string merged = merge_stored_head(stored, nm, false);
    ResponseHead h;
    parse_stored_head(merged, h);
    CHECK(!h.headers.contains("x-hop"));
    CHECK(h.headers.get("x-end") == "2");
}

TEST_CASE("cache/stored_head: the stored status line stays whatever the 304 says") {
    const std::string head404 = "HTTP/1.1 404 Not Found\r\nCache-Control: max-age=10\r\n";
    std::string merged =
        merge_stored_head(head404, map_of({{"Cache-Control", "max-age=20"}}), false);
    CHECK(merged == "HTTP/1.1 404 Not Found\r\nCache-Control: max-age=20\r\n");
}

TEST_CASE("cache/stored_head: a 304's Set-Cookie is taken only when the behavior forwards "
          "cookies") {
    HeaderMap nm = map_of({{"Set-Cookie", "session=viewer-1"}, {"X-End", "2"}});
    ResponseHead shared, keyed;
    parse_stored_head(merge_stored_head(stored, nm, false), shared);
    CHECK(!shared.headers.contains("set-cookie")); // never shown to another viewer
    CHECK(shared.headers.get("x-end") == "2");
    parse_stored_head(merge_stored_head(stored, nm, true), keyed);
    CHECK(keyed.headers.get("set-cookie") == "session=viewer-1");
}

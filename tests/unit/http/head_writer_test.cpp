#include "http/head_writer.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

using perch::core::HeaderMap;
using perch::http::format_chunk_header;
using perch::http::HeadWriter;
using perch::http::HopByHopFields;
using perch::http::is_hop_by_hop;
using perch::http::is_single_line;

TEST_CASE("http/head_writer: a status line has the three-digit code and the standard phrase") {
    struct Row {
        uint16_t status;
        std::string_view reason;
        std::string_view line;
    };
    const Row rows[] = {
        {200, "", "HTTP/1.1 200 OK\r\n"},
        {404, "", "HTTP/1.1 404 Not Found\r\n"},
        {501, "", "HTTP/1.1 501 Not Implemented\r\n"},
        {200, "Fine", "HTTP/1.1 200 Fine\r\n"}, // the origin's own phrase is kept
        {299, "", "HTTP/1.1 299 \r\n"},         // no standard phrase: empty (RFC 9112 §4)
        {100, "", "HTTP/1.1 100 Continue\r\n"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.status);
        std::string out;
        HeadWriter(out).status_line(row.status, row.reason);
        CHECK(out == row.line);
    }
}

TEST_CASE("http/head_writer: a reason phrase with CR or LF gives way to the standard one") {
    for (std::string_view reason : {std::string_view("OK\r\nSet-Cookie: a=1"),
                                    std::string_view("OK\nX: 1"), std::string_view("O\0K", 3)}) {
        std::string out;
        HeadWriter(out).status_line(200, reason);
        CHECK(out == "HTTP/1.1 200 OK\r\n");
    }
}

TEST_CASE("http/head_writer: a request line is method, target and HTTP/1.1") {
    std::string out;
    HeadWriter(out).request_line("GET", "/a/b?c=d");
    CHECK(out == "GET /a/b?c=d HTTP/1.1\r\n");
}

TEST_CASE("http/head_writer: fields are name, colon, space, value and CRLF; a head ends with a "
          "blank line") {
    std::string out;
    HeadWriter w(out);
    w.status_line(200, {});
    CHECK(w.field("Content-Type", "text/plain"));
    CHECK(w.field("X-Empty", ""));
    CHECK(w.field("Content-Length", uint64_t(0)));
    CHECK(w.field("X-Big", std::numeric_limits<uint64_t>::max()));
    w.end();
    CHECK(out == "HTTP/1.1 200 OK\r\n"
                 "Content-Type: text/plain\r\n"
                 "X-Empty: \r\n"
                 "Content-Length: 0\r\n"
                 "X-Big: 18446744073709551615\r\n"
                 "\r\n");
}

TEST_CASE("http/head_writer: writing appends to the caller's string") {
    std::string out = "HTTP/1.1 200 OK\r\n";
    out.reserve(256);
    const char *storage = out.data();
    HeadWriter w(out);
    w.field("Age", uint64_t(12));
    w.field("X-Cache", "Hit from perch");
    CHECK(out == "HTTP/1.1 200 OK\r\nAge: 12\r\nX-Cache: Hit from perch\r\n");
    CHECK(out.data() == storage); // within the reserved capacity: no reallocation
    out.clear();
    HeadWriter(out).field("Age", uint64_t(1));
    CHECK(out == "Age: 1\r\n");
    CHECK(out.data() == storage); // clear() kept the capacity
}

TEST_CASE("http/head_writer: a field value with CR or LF is refused") {
    const std::string_view values[] = {
        "a\r\nSet-Cookie: session=stolen", // response splitting
        "a\nX-Injected: 1",
        "a\rb",
        "trailing\r\n",
        std::string_view("nul\0byte", 8),
    };
    for (std::string_view v : values) {
        CAPTURE(v);
        std::string out = "HTTP/1.1 200 OK\r\n";
        HeadWriter w(out);
        CHECK(!w.field("Location", v));
        CHECK(out == "HTTP/1.1 200 OK\r\n"); // nothing written
        CHECK(w.field("Location", "/ok"));   // and the writer goes on
        CHECK(out == "HTTP/1.1 200 OK\r\nLocation: /ok\r\n");
    }
}

TEST_CASE("http/head_writer: a field name that is not a token is refused") {
    const std::string_view names[] = {"",    "Bad Name", "Bad:Name", "X\r\nInjected",
                                      "X\n", "(comment)"};
    for (std::string_view n : names) {
        CAPTURE(n);
        std::string out;
        CHECK(!HeadWriter(out).field(n, "v"));
        CHECK(!HeadWriter(out).field(n, uint64_t(1)));
        CHECK(out.empty());
    }
    std::string out;
    CHECK(HeadWriter(out).field("X-Token!#$%&'*+-.^_`|~09", "v"));
}

TEST_CASE("http/head_writer: is_single_line refuses exactly CR, LF and NUL") {
    CHECK(is_single_line(""));
    CHECK(is_single_line("text with spaces,\ttabs and \"quotes\" \x7f \xff"));
    CHECK(!is_single_line("\r"));
    CHECK(!is_single_line("\n"));
    CHECK(!is_single_line(std::string_view("\0", 1)));
}

TEST_CASE("http/head_writer: a chunk header is the size in lowercase hex and CRLF") {
    struct Row {
        uint64_t size;
        std::string_view text;
    };
    const Row rows[] = {
        {0, "0\r\n"},
        {1, "1\r\n"},
        {255, "ff\r\n"},
        {4096, "1000\r\n"},
        {std::numeric_limits<uint64_t>::max(), "ffffffffffffffff\r\n"}, // the longest: 18 bytes
    };
    for (const Row &row : rows) {
        CAPTURE(row.size);
        char out[20];
        size_t n = format_chunk_header(row.size, out);
        CHECK(std::string_view(out, n) == row.text);
    }
}

TEST_CASE("http/head_writer: hop-by-hop and framing fields are recognised in any case") {
    const std::string_view hop[] = {"Connection",
                                    "keep-alive",
                                    "Proxy-Connection",
                                    "TE",
                                    "Trailer",
                                    "UPGRADE",
                                    "Transfer-Encoding",
                                    "content-length",
                                    "Proxy-Authenticate",
                                    "Proxy-Authorization"};
    for (std::string_view n : hop) {
        CAPTURE(n);
        CHECK(is_hop_by_hop(n));
    }
    const std::string_view end_to_end[] = {"Host",        "Via",       "Content-Type",  "Trailers",
                                           "Connections", "X-Upgrade", "Authorization", ""};
    for (std::string_view n : end_to_end) {
        CAPTURE(n);
        CHECK(!is_hop_by_hop(n));
    }
}

TEST_CASE("http/head_writer: a field named in any Connection field is hop-by-hop too") {
    HeaderMap h;
    h.add("Connection", "keep-alive, X-Secret");
    h.add("X-Secret", "1");
    h.add("connection", " x-Other ,,close");
    HopByHopFields listed(h);
    CHECK(listed.covers("x-secret"));
    CHECK(listed.covers("X-OTHER"));
    CHECK(listed.covers("Keep-Alive"));
    CHECK(listed.covers("close"));
    CHECK(!listed.covers("X-Sec"));
    CHECK(!listed.covers("Host"));
    CHECK(!HopByHopFields(HeaderMap()).covers("X-Secret"));
    CHECK(HopByHopFields(HeaderMap()).covers("Transfer-Encoding")); // hop-by-hop by name
}

TEST_CASE("http/head_writer: Connection options beyond the few kept inline are still found") {
    HeaderMap h;
    std::string many;
    for (int i = 0; i < 20; ++i)
        many += "x-opt-" + std::to_string(i) + ", ";
    h.add("Connection", many);
    h.add("Connection", "x-last");
    HopByHopFields listed(h);
    for (int i = 0; i < 20; ++i)
        CHECK(listed.covers("X-Opt-" + std::to_string(i)));
    CHECK(listed.covers("x-last"));
    CHECK(!listed.covers("x-opt-20"));
}

#include "edge/range_response.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::RequestHead;
using perch::edge::RangeResponse;

namespace {

const std::string stored = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"e\"\r\n"
                           "Content-Length: 26\r\n";
const std::string alphabet = "abcdefghijklmnopqrstuvwxyz";

RequestHead request(const char *range) {
    RequestHead r;
    r.method = perch::core::Method::get;
    r.target.push_back('/'); // (GCC 12 misreports assigning "/": PR 105651)
    if (range) r.headers.add("Range", range);
    return r;
}

// Feeds the alphabet in pieces of `piece` bytes; returns what would be sent.
std::string feed(RangeResponse &rr, size_t piece) {
    std::vector<BufferSlice> out;
    for (size_t at = 0; at < alphabet.size(); at += piece) {
        size_t n = std::min(piece, alphabet.size() - at);
        auto b = Buffer::create(n);
        b->append(alphabet.data() + at, n);
        rr.select(at, BufferSlice(b, b->data(), n), out);
    }
    std::string s;
    for (const BufferSlice &x : out)
        s.append(x.view());
    return s;
}

} // namespace

TEST_CASE("edge/range_response: one range picks its bytes across any piece boundaries") {
    for (size_t piece : {1, 3, 7, 26}) {
        RangeResponse rr;
        REQUIRE(rr.prepare(request("bytes=5-9"), stored, 26, 1));
        CHECK(rr.status() == 206);
        CHECK(rr.body_length() == 5);
        CHECK(feed(rr, piece) == "fghij");
        CHECK(rr.done());
    }
    RangeResponse rr;
    REQUIRE(rr.prepare(request("bytes=-3"), stored, 26, 1));
    CHECK(rr.head().find("Content-Range: bytes 23-25/26\r\n") != std::string::npos);
    CHECK(rr.head().find("Content-Length") == std::string::npos);
    CHECK(rr.head().rfind("HTTP/1.1 206 ", 0) == 0);
    CHECK(rr.head().find("ETag: \"e\"\r\n") != std::string::npos);
    CHECK(feed(rr, 4) == "xyz");
}

TEST_CASE("edge/range_response: several ranges make a multipart body of the announced length") {
    for (size_t piece : {1, 5, 26}) {
        RangeResponse rr;
        REQUIRE(rr.prepare(request("bytes=0-1,10-12,24-"), stored, 26, 42));
        CHECK(rr.status() == 206);
        CHECK(rr.head().find("Content-Type: multipart/byteranges; boundary=") != std::string::npos);
        CHECK(rr.head().find("Content-Type: text/plain") == std::string::npos);
        std::string body = feed(rr, piece);
        CHECK(body.size() == rr.body_length());
        CHECK(body.find("Content-Range: bytes 0-1/26\r\n\r\nab\r\n") != std::string::npos);
        CHECK(body.find("Content-Range: bytes 10-12/26\r\n\r\nklm\r\n") != std::string::npos);
        CHECK(body.find("Content-Range: bytes 24-25/26\r\n\r\nyz\r\n") != std::string::npos);
        CHECK(body.find("Content-Type: text/plain\r\n") != std::string::npos);
        CHECK(std::string_view(body).ends_with("--\r\n"));
        CHECK(rr.done());
    }
}

TEST_CASE("edge/range_response: unsatisfiable ranges get 416, ignored ones the full 200") {
    RangeResponse rr;
    REQUIRE(rr.prepare(request("bytes=30-40"), stored, 26, 1));
    CHECK(rr.status() == 416);
    CHECK(rr.body_length() == 0);
    CHECK(rr.head().find("Content-Range: bytes */26\r\n") != std::string::npos);
    CHECK(rr.done());
    CHECK_FALSE(rr.prepare(request(nullptr), stored, 26, 1));
    CHECK_FALSE(rr.prepare(request("bytes=9-2"), stored, 26, 1));
    RequestHead if_range = request("bytes=0-1");
    if_range.headers.add("If-Range", "\"other\"");
    CHECK_FALSE(rr.prepare(if_range, stored, 26, 1));
    CHECK_FALSE(rr.prepare(request("bytes=0-1"), "HTTP/1.1 404 Not Found\r\n", 26, 1));
}

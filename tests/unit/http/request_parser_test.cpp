#include "http/request_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Method;
using perch::core::Ref;
using perch::core::RequestHead;
using perch::http::RequestLimits;
using perch::http::RequestParser;

namespace {

// What the handler saw of one request.
struct Seen {
    Method method = Method::other;
    std::string method_text;
    std::string target;
    int version_major = 0, version_minor = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
    std::vector<BufferSlice> chunks;
    bool complete = false;
};

struct Recorder final : RequestParser::Handler {
    std::vector<Seen> requests;
    int heads = 0, completions = 0;

    void on_request_head(RequestHead &head) override {
        ++heads;
        Seen s;
        s.method = head.method;
        s.method_text = head.method_text;
        s.target = head.target;
        s.version_major = head.version_major;
        s.version_minor = head.version_minor;
        for (size_t i = 0; i < head.headers.size(); ++i)
            s.fields.emplace_back(head.headers.name(i), head.headers.value(i));
        requests.push_back(std::move(s));
    }
    void on_request_body(const BufferSlice &chunk) override {
        REQUIRE(!requests.empty());
        requests.back().body.append(chunk.view());
        requests.back().chunks.push_back(chunk);
    }
    void on_request_complete() override {
        ++completions;
        REQUIRE(!requests.empty());
        requests.back().complete = true;
    }
};

Ref<Buffer> buffer_of(std::string_view text) {
    Ref<Buffer> b = Buffer::create(text.size());
    b->append(text.data(), text.size());
    return b;
}

// Feeds all of `text` in one buffer, resuming after each request the way a connection does
// once it has answered; stops at a failure. Returns the bytes consumed.
size_t feed_all(RequestParser &p, const Ref<Buffer> &buf) {
    size_t pos = 0;
    while (pos < buf->size()) {
        size_t n = p.execute(buf, buf->data() + pos, buf->size() - pos);
        pos += n;
        if (p.failure()) break;
        if (p.paused())
            p.resume();
        else if (n == 0)
            break;
    }
    return pos;
}

// Feeds `text` one byte per buffer (each read a fresh buffer), resuming after each request.
size_t feed_bytewise(RequestParser &p, std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
        Ref<Buffer> one = buffer_of(text.substr(pos, 1));
        size_t n = p.execute(one, one->data(), 1);
        pos += n;
        if (p.failure()) break;
        if (p.paused())
            p.resume();
        else if (n == 0)
            break;
    }
    return pos;
}

struct Harness {
    Recorder rec;
    RequestParser parser;
    explicit Harness(const RequestLimits &limits = {}) : parser(rec, limits) {}

    // Feeds the whole text at once; returns the bytes consumed.
    size_t feed(std::string_view text) { return feed_all(parser, buffer_of(text)); }
    uint16_t failure_status() const {
        return parser.failure() ? parser.failure()->status : uint16_t(0);
    }
};

const std::string simple_get = "GET /index.html?lang=en&x=%20y HTTP/1.1\r\n"
                               "Host: Example.COM\r\n"
                               "X-Custom-Header:   padded value \t \r\n"
                               "accept: */*\r\n"
                               "\r\n";

} // namespace

TEST_CASE("http/request_parser: a simple GET gives its method, raw target, version and fields") {
    Harness h;
    CHECK(h.feed(simple_get) == simple_get.size());
    REQUIRE(h.rec.requests.size() == 1);
    const Seen &r = h.rec.requests[0];
    CHECK(r.method == Method::get);
    CHECK(r.method_text == "GET");
    CHECK(r.target == "/index.html?lang=en&x=%20y");
    CHECK(r.version_major == 1);
    CHECK(r.version_minor == 1);
    REQUIRE(r.fields.size() == 3);
    // Names keep their case as received; values lose leading and trailing whitespace.
    CHECK(r.fields[0].first == "Host");
    CHECK(r.fields[0].second == "Example.COM");
    CHECK(r.fields[1].first == "X-Custom-Header");
    CHECK(r.fields[1].second == "padded value");
    CHECK(r.fields[2].first == "accept");
    CHECK(r.fields[2].second == "*/*");
    CHECK(r.complete);
    CHECK(r.body.empty());
    CHECK(!h.parser.failure());
    CHECK(!h.parser.has_body());
    CHECK(!h.parser.content_length());
    CHECK(!h.parser.in_message());
    CHECK(!h.parser.in_head());
}

TEST_CASE("http/request_parser: the head stays available from head() after the request") {
    Harness h;
    h.feed(simple_get);
    CHECK(h.parser.head().path() == "/index.html");
    CHECK(h.parser.head().query() == "lang=en&x=%20y");
    CHECK(h.parser.head().headers.get("HOST") == "Example.COM");
}

TEST_CASE("http/request_parser: methods map to their enum and unknown ones to other") {
    struct Row {
        std::string text;
        Method method;
    };
    const Row rows[] = {
        {"GET", Method::get},     {"HEAD", Method::head},   {"POST", Method::post},
        {"PUT", Method::put},     {"DELETE", Method::del},  {"OPTIONS", Method::options},
        {"PATCH", Method::patch}, {"TRACE", Method::trace}, {"PROPFIND", Method::other},
    };
    for (const Row &row : rows) {
        CAPTURE(row.text);
        Harness h;
        std::string req = std::string(row.text) + " / HTTP/1.1\r\nHost: a\r\n\r\n";
        h.feed(req);
        REQUIRE(h.rec.requests.size() == 1);
        CHECK(h.rec.requests[0].method == row.method);
        CHECK(h.rec.requests[0].method_text == row.text);
    }
}

TEST_CASE("http/request_parser: the head is complete only at the blank line") {
    Harness h;
    auto buf = buffer_of("GET / HTTP/1.1\r\nHost: a\r\n");
    CHECK(h.parser.execute(buf, buf->data(), buf->size()) == buf->size());
    CHECK(h.rec.heads == 0);
    CHECK(h.parser.in_head());
    CHECK(h.parser.in_message());
    auto rest = buffer_of("\r\n");
    CHECK(h.parser.execute(rest, rest->data(), rest->size()) == 2);
    CHECK(h.rec.heads == 1);
    CHECK(h.rec.completions == 1);
    CHECK(!h.parser.in_head());
    CHECK(!h.parser.in_message());
}

TEST_CASE("http/request_parser: pipelined requests pause after each message until resume") {
    const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string second = "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    const std::string third = "GET /three HTTP/1.1\r\nHost: a\r\n\r\n";
    Harness h;
    auto buf = buffer_of(first + second + third);
    const uint8_t *data = buf->data();
    size_t len = buf->size();

    size_t n1 = h.parser.execute(buf, data, len);
    CHECK(n1 == first.size());
    CHECK(h.parser.paused());
    REQUIRE(h.rec.requests.size() == 1);
    CHECK(h.rec.requests[0].target == "/one");
    // While paused nothing more is parsed.
    CHECK(h.parser.execute(buf, data + n1, len - n1) == 0);
    CHECK(h.rec.requests.size() == 1);

    h.parser.resume();
    CHECK(!h.parser.paused());
    size_t n2 = h.parser.execute(buf, data + n1, len - n1);
    CHECK(n2 == second.size());
    CHECK(h.parser.paused());
    REQUIRE(h.rec.requests.size() == 2);
    CHECK(h.rec.requests[1].target == "/two");
    CHECK(h.rec.requests[1].body == "abc");

    h.parser.resume();
    size_t n3 = h.parser.execute(buf, data + n1 + n2, len - n1 - n2);
    CHECK(n3 == third.size());
    REQUIRE(h.rec.requests.size() == 3);
    CHECK(h.rec.requests[2].target == "/three");
    CHECK(h.rec.requests[2].fields.size() == 1); // fields of earlier requests are gone
    CHECK(h.rec.completions == 3);
}

TEST_CASE("http/request_parser: a Content-Length body arrives as slices of the input buffer") {
    const std::string head = "PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
    const std::string text = head + "hello world";
    Harness h;
    auto buf = buffer_of(text);
    CHECK(h.parser.execute(buf, buf->data(), buf->size()) == text.size());
    REQUIRE(h.rec.requests.size() == 1);
    const Seen &r = h.rec.requests[0];
    CHECK(r.body == "hello world");
    CHECK(h.parser.has_body());
    CHECK(h.parser.content_length() == 11u);
    REQUIRE(!r.chunks.empty());
    // Zero copy: every slice points into the input buffer and holds a reference to it.
    const uint8_t *begin = buf->data() + head.size();
    const uint8_t *end = buf->data() + buf->size();
    for (const BufferSlice &c : r.chunks) {
        CHECK(c.buf.get() == buf.get());
        CHECK(c.ptr >= begin);
        CHECK(c.ptr + c.len <= end);
    }
    CHECK(r.chunks.front().ptr == begin);
}

TEST_CASE("http/request_parser: a body split over two reads gives slices of each read buffer") {
    Harness h;
    auto a = buffer_of("POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc");
    auto b = buffer_of("def");
    CHECK(h.parser.execute(a, a->data(), a->size()) == a->size());
    CHECK(h.parser.in_message());
    CHECK(!h.parser.in_head());
    CHECK(h.parser.execute(b, b->data(), b->size()) == 3);
    REQUIRE(h.rec.requests.size() == 1);
    const Seen &r = h.rec.requests[0];
    CHECK(r.body == "abcdef");
    REQUIRE(r.chunks.size() == 2);
    CHECK(r.chunks[0].buf.get() == a.get());
    CHECK(r.chunks[1].buf.get() == b.get());
    CHECK(r.chunks[1].ptr == b->data());
    CHECK(r.complete);
}

TEST_CASE("http/request_parser: a chunked body is reassembled without its framing") {
    const std::string text = "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n"
                             "1;ext=1\r\n \r\n"
                             "5\r\nworld\r\n"
                             "0\r\n\r\n";
    Harness h;
    CHECK(h.feed(text) == text.size());
    CHECK(!h.parser.failure());
    REQUIRE(h.rec.requests.size() == 1);
    CHECK(h.rec.requests[0].body == "hello world");
    CHECK(h.rec.requests[0].complete);
    CHECK(h.parser.has_body());
    CHECK(!h.parser.content_length());
}

TEST_CASE("http/request_parser: feeding a byte at a time gives the same requests") {
    const std::string text = simple_get +
                             "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nx=1&y" +
                             "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    Harness whole, bytes;
    CHECK(whole.feed(text) == text.size());
    CHECK(feed_bytewise(bytes.parser, text) == text.size());
    CHECK(!whole.parser.failure());
    CHECK(!bytes.parser.failure());
    REQUIRE(whole.rec.requests.size() == 3);
    REQUIRE(bytes.rec.requests.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        const Seen &a = whole.rec.requests[i];
        const Seen &b = bytes.rec.requests[i];
        CHECK(a.method == b.method);
        CHECK(a.target == b.target);
        CHECK(a.fields == b.fields);
        CHECK(a.body == b.body);
        CHECK(a.complete == b.complete);
    }
    CHECK(bytes.rec.requests[1].body == "x=1&y");
    CHECK(bytes.rec.requests[2].body == "abcde");
    CHECK(bytes.rec.requests[0].fields[1].second == "padded value");
}

TEST_CASE("http/request_parser: size limits answer 414, 431 and 413") {
    RequestLimits limits;
    limits.max_uri_bytes = 32;
    limits.max_header_bytes = 128;
    limits.max_body_bytes = 10;
    const std::string long_uri = "/" + std::string(40, 'a');
    const std::string big_field = "X-Big: " + std::string(200, 'b') + "\r\n";
    struct Row {
        std::string name;
        std::string text;
        uint16_t status;
    };
    const Row rows[] = {
        {"URI over max_uri_bytes", "GET " + long_uri + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
        {"one field over max_header_bytes", "GET / HTTP/1.1\r\n" + big_field + "\r\n", 431},
        {"many small fields over max_header_bytes",
         "GET / HTTP/1.1\r\n" +
             [] {
                 std::string s;
                 for (int i = 0; i < 20; ++i)
                     s += "X-F" + std::to_string(i) + ": 0123456789\r\n";
                 return s;
             }() +
             "\r\n",
         431},
        {"Content-Length over max_body_bytes",
         "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n01234567890", 413},
        {"chunked body over max_body_bytes",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
         "6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n",
         413},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness whole(limits), bytes(limits);
        whole.feed(row.text);
        CHECK(whole.failure_status() == row.status);
        CHECK(whole.rec.completions == 0);
        feed_bytewise(bytes.parser, row.text);
        CHECK(bytes.failure_status() == row.status);
        CHECK(bytes.rec.completions == 0);
    }
}

TEST_CASE(
    "http/request_parser: a limit crossed before a syntax error wins, whole or byte by byte") {
    // In one read llhttp meets the bad byte before it has handed over the span holding it; the
    // span's earlier bytes still count, as they do when they arrive in reads of their own.
    RequestLimits limits;
    limits.max_uri_bytes = 32;
    limits.max_header_bytes = 128;
    struct Row {
        std::string name;
        std::string text;
        uint16_t status;
    };
    const Row rows[] = {
        {"a NUL after max_uri_bytes of target",
         "GET /" + std::string(40, 'a') + std::string(1, '\0') + " HTTP/1.1\r\n\r\n", 414},
        {"a NUL after max_header_bytes of field value",
         "GET / HTTP/1.1\r\nX-Big: " + std::string(200, 'b') + std::string(1, '\0') + "\r\n\r\n",
         431},
        {"a space after max_header_bytes of field name",
         "GET / HTTP/1.1\r\nX" + std::string(200, 'n') + " : v\r\n\r\n", 431},
        {"a DEL in the target before a NUL",
         "GET /a\x7f" + std::string(1, '\0') + " HTTP/1.1\r\n\r\n", 400},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness whole(limits), bytes(limits);
        whole.feed(row.text);
        feed_bytewise(bytes.parser, row.text);
        CHECK(whole.failure_status() == row.status);
        CHECK(bytes.failure_status() == row.status);
        REQUIRE(whole.parser.failure());
        REQUIRE(bytes.parser.failure());
        CHECK(std::string_view(whole.parser.failure()->reason) ==
              std::string_view(bytes.parser.failure()->reason));
    }
}

TEST_CASE("http/request_parser: requests exactly at the limits are accepted") {
    RequestLimits limits;
    limits.max_uri_bytes = 8;
    limits.max_body_bytes = 4;
    Harness h(limits);
    const std::string text = "POST /1234567 HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd";
    CHECK(h.feed(text) == text.size());
    CHECK(!h.parser.failure());
    REQUIRE(h.rec.requests.size() == 1);
    CHECK(h.rec.requests[0].target == "/1234567");
    CHECK(h.rec.requests[0].body == "abcd");
}

TEST_CASE("http/request_parser: the head size limit applies to each pipelined request") {
    RequestLimits limits;
    limits.max_header_bytes = 100;
    const std::string one = "GET /" + std::string(30, 'p') +
                            " HTTP/1.1\r\nX-A: " + std::string(30, 'v') +
                            "\r\n\r\n"; // about 70 bytes counted
    Harness h(limits);
    const std::string text = one + one + one;
    CHECK(h.feed(text) == text.size());
    CHECK(!h.parser.failure());
    CHECK(h.rec.completions == 3);
}

TEST_CASE("http/request_parser: a failure stops parsing and later input is refused") {
    Harness h;
    h.feed("GET / HTTP/2.0\r\nHost: a\r\n\r\n");
    REQUIRE(h.parser.failure());
    CHECK(h.rec.completions == 0);
    auto next = buffer_of("GET / HTTP/1.1\r\n\r\n");
    CHECK(h.parser.execute(next, next->data(), next->size()) == 0);
    CHECK(h.rec.completions == 0);
}

TEST_CASE("http/request_parser: bad requests answer the status that says why") {
    struct Row {
        std::string name;
        std::string text;
        uint16_t status;
    };
    const Row rows[] = {
        {"HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"unknown version HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 400},
        {"HTTP/0.9 request line (no version)", "GET /\r\n\r\n", 505},
        {"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405},
        {"garbage", "\x01\x02 nonsense\r\n\r\n", 400},
        {"lowercase method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"bad field name token", "GET / HTTP/1.1\r\nBad(Name): x\r\n\r\n", 400},
        {"space before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        {"tab before the colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
        {"space inside a field name", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
        {"control character in a value",
         "GET / HTTP/1.1\r\nX: a\x01"
         "b\r\n\r\n",
         400},
        {"bare LF inside a value", "GET / HTTP/1.1\r\nX: a\nb: c\r\n\r\n", 400},
        {"field without a colon", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        {"Content-Length and Transfer-Encoding",
         "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabc\r\n0\r\n\r\n",
         400},
        {"two differing Content-Length fields",
         "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
        {"Content-Length that is not a number", "POST / HTTP/1.1\r\nContent-Length: 3x\r\n\r\nabc",
         400},
        {"Transfer-Encoding not ending in chunked",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc", 400},
        {"Transfer-Encoding gzip alone", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc",
         400},
        {"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness h;
        h.feed(row.text);
        CHECK(h.failure_status() == row.status);
        CHECK(h.rec.completions == 0);
    }
}

TEST_CASE("http/request_parser: two identical Content-Length fields are rejected as well (400)") {
    // llhttp refuses any repeated Content-Length; RFC 9112 §6.3 allows either outcome for
    // identical values, and refusing is the safe one against request smuggling.
    Harness h;
    h.feed("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
    CHECK(h.failure_status() == 400);
    CHECK(h.rec.completions == 0);
}

TEST_CASE("http/request_parser: keep_alive follows the version and the Connection field") {
    struct Row {
        std::string name;
        std::string text;
        bool keep_alive;
    };
    const Row rows[] = {
        {"HTTP/1.1 by default", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        {"HTTP/1.1 with Connection: close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
        {"HTTP/1.1 with Connection: Close, in a list",
         "GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n", false},
        {"HTTP/1.0 by default", "GET / HTTP/1.0\r\nHost: a\r\n\r\n", false},
        {"HTTP/1.0 with Connection: keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
         true},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness h;
        h.feed(row.text);
        REQUIRE(h.rec.completions == 1);
        CHECK(h.parser.keep_alive() == row.keep_alive);
    }
}

TEST_CASE("http/request_parser: keep_alive is decided again for each pipelined request") {
    Harness h;
    h.feed("GET /a HTTP/1.1\r\nConnection: close\r\n\r\n");
    CHECK(!h.parser.keep_alive());
    Harness h2;
    auto buf = buffer_of("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n");
    size_t n = h2.parser.execute(buf, buf->data(), buf->size());
    CHECK(h2.parser.keep_alive());
    h2.parser.resume();
    h2.parser.execute(buf, buf->data() + n, buf->size() - n);
    CHECK(h2.rec.completions == 2);
    CHECK(!h2.parser.keep_alive());
}

TEST_CASE("http/request_parser: has_body and content_length describe the announced body") {
    struct Row {
        std::string name;
        std::string text;
        bool has_body;
        std::optional<uint64_t> content_length;
    };
    const Row rows[] = {
        {"no framing fields", "GET / HTTP/1.1\r\n\r\n", false, std::nullopt},
        {"Content-Length: 0", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", false, 0},
        {"Content-Length: 2", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", true, 2},
        {"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true,
         std::nullopt},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness h;
        h.feed(row.text);
        REQUIRE(h.rec.completions == 1);
        CHECK(h.parser.has_body() == row.has_body);
        CHECK(h.parser.content_length() == row.content_length);
    }
}

TEST_CASE("http/request_parser: a later request does not inherit the body of an earlier one") {
    Harness h;
    h.feed("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nabGET / HTTP/1.1\r\n\r\n");
    REQUIRE(h.rec.completions == 2);
    CHECK(!h.parser.has_body());
    CHECK(!h.parser.content_length());
    CHECK(h.rec.requests[1].body.empty());
}

TEST_CASE("http/request_parser: finish on a partial request fails it") {
    struct Row {
        std::string name;
        std::string text;
    };
    const Row rows[] = {
        {"inside the request line", "GET /ind"},
        {"inside the fields", "GET / HTTP/1.1\r\nHost: a\r\n"},
        {"inside a Content-Length body", "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"},
        {"inside a chunked body", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness h;
        h.feed(row.text);
        CHECK(!h.parser.failure());
        CHECK(h.parser.in_message());
        h.parser.finish();
        REQUIRE(h.parser.failure());
        CHECK(h.parser.failure()->status == 400);
        CHECK(h.rec.completions == 0);
    }
}

TEST_CASE("http/request_parser: finish between requests is not a failure") {
    Harness h;
    h.feed("GET / HTTP/1.1\r\n\r\n");
    h.parser.resume();
    h.parser.finish();
    CHECK(!h.parser.failure());

    Harness idle;
    idle.parser.finish();
    CHECK(!idle.parser.failure());
}

TEST_CASE("http/request_parser: trailer fields are not merged into the request head") {
    // RFC 9110 §6.5.1: trailers are kept apart from the header section (or discarded). The
    // head was handed over before the body; it must not change under its user afterwards.
    Harness h;
    const std::string text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "1\r\nx\r\n0\r\nHost: evil\r\nX-Trailer: 1\r\n\r\n";
    CHECK(h.feed(text) == text.size());
    CHECK(!h.parser.failure());
    REQUIRE(h.rec.completions == 1);
    CHECK(h.rec.requests[0].body == "x");
    const auto &headers = h.parser.head().headers;
    CHECK(headers.count("host") == 1);
    CHECK(headers.get("host") == "a");
    CHECK(!headers.contains("x-trailer"));
}

TEST_CASE("http/request_parser: an Upgrade request is answered as a plain request") {
    Harness h;
    const std::string text = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
                             "Upgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
    CHECK(h.feed(text) == text.size());
    CHECK(!h.parser.failure());
    REQUIRE(h.rec.requests.size() == 2);
    CHECK(h.rec.requests[0].target == "/ws");
    CHECK(h.rec.requests[1].target == "/next");
}

TEST_CASE("http/request_parser: a Transfer-Encoding other than chunked is refused before the "
          "head is delivered") {
    // RFC 9112 §6.3: a final coding other than chunked leaves the body's length unknown (400);
    // §6.1: codings we do not implement are refused (501) rather than dropped on the way on.
    struct Row {
        std::string name;
        std::string fields;
        uint16_t status;
    };
    const Row rows[] = {
        {"gzip alone", "Transfer-Encoding: gzip\r\n", 400},
        {"a token that only contains chunked", "Transfer-Encoding: xchunked\r\n", 400},
        {"chunked with a parameter", "Transfer-Encoding: chunked;x=1\r\n", 400},
        {"chunked then gzip", "Transfer-Encoding: chunked, gzip\r\n", 400},
        {"chunked twice", "Transfer-Encoding: chunked, chunked\r\n", 400},
        {"chunked twice in two fields",
         "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
        {"an empty value", "Transfer-Encoding: \r\n", 400},
        {"chunked and a tab (llhttp does not frame it as chunked)",
         "Transfer-Encoding: chunked\t\r\n", 400},
        {"gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", 501},
        {"gzip then chunked in two fields",
         "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", 501},
        {"identity then chunked", "Transfer-Encoding: identity,chunked\r\n", 501},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        const std::string text =
            "GET /cached HTTP/1.1\r\nHost: a\r\n" + row.fields + "\r\n0\r\n\r\n";
        Harness whole, bytes;
        whole.feed(text);
        CHECK(whole.failure_status() == row.status);
        CHECK(whole.rec.heads == 0);
        feed_bytewise(bytes.parser, text);
        CHECK(bytes.failure_status() == row.status);
        CHECK(bytes.rec.heads == 0);
    }
}

TEST_CASE("http/request_parser: chunked in any case and with optional whitespace is accepted") {
    const std::string values[] = {"chunked", "Chunked", "CHUNKED", "  chunked  ", ", chunked"};
    for (const std::string &v : values) {
        CAPTURE(v);
        Harness h;
        const std::string text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + v +
                                 "\r\n\r\n2\r\nab\r\n0\r\n\r\n";
        CHECK(h.feed(text) == text.size());
        CHECK(!h.parser.failure());
        REQUIRE(h.rec.completions == 1);
        CHECK(h.rec.requests[0].body == "ab");
    }
}

TEST_CASE("http/request_parser: an HTTP/1.0 request with Transfer-Encoding has faulty framing") {
    // RFC 9112 §6.1: treated as faulty even with chunked (and with a Content-Length beside it).
    for (std::string fields : {"Transfer-Encoding: chunked\r\n",
                               "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n"}) {
        CAPTURE(fields);
        Harness h;
        h.feed("POST / HTTP/1.0\r\nHost: a\r\n" + fields + "\r\n2\r\nab\r\n0\r\n\r\n");
        CHECK(h.failure_status() == 400);
        CHECK(h.rec.heads == 0);
    }
}

TEST_CASE("http/request_parser: smuggling shapes are refused with 400, whole or byte by byte") {
    struct Row {
        std::string name;
        std::string text;
    };
    const Row rows[] = {
        {"two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"two spaces before the version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"a tab after the method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"a leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"a fragment in the target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"a raw non-ASCII byte in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"DEL in the target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: good\r\n evil\r\n\r\n"},
        {"obs-fold with a tab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\nHost: a\r\n\r\n"},
        {"an empty field name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n"},
        {"NUL in a field name", std::string("GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n", 28)},
        {"NUL in a field value", std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29)},
        {"CR alone in a field value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"},
        {"DEL in a field value", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n"},
        {"any two bytes after chunk data",
         "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloAB0\r\n\r\n"},
        {"bare LF after chunk data",
         "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n"},
        {"bare LF ending a chunked body",
         "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\n"},
        {"bare LF ending a chunked body after a trailer",
         "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n\n"},
        {"bare CR in a chunk extension", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
                                         "chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n"},
        {"a chunk size over 64 bits",
         "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
         "10000000000000000\r\nx\r\n"},
        {"Content-Length with a sign",
         "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc"},
        {"Content-Length in hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x3\r\n\r\nabc"},
        {"Content-Length as a list of differing values",
         "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd"},
        {"Transfer-Encoding chunked, identity",
         "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness whole;
        whole.feed(row.text);
        CHECK(whole.failure_status() == 400);
        CHECK(whole.rec.completions == 0);
        Harness bytes;
        feed_bytewise(bytes.parser, row.text);
        CHECK(bytes.failure_status() == 400);
        CHECK(bytes.rec.completions == 0);
    }
}

TEST_CASE("http/request_parser: the request line checks hold across reads and pipelined requests") {
    // Spans that straddle reads, a second request on the same stream, and an absolute-form target
    // and an empty-valued field are still accepted.
    const std::string text = "GET http://a.example/x?y=1 HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n"
                             "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
                             "GET /%C3%A9 HTTP/1.0\r\n\r\n";
    Harness whole, bytes;
    CHECK(whole.feed(text) == text.size());
    CHECK(feed_bytewise(bytes.parser, text) == text.size());
    CHECK(!whole.parser.failure());
    CHECK(!bytes.parser.failure());
    REQUIRE(bytes.rec.requests.size() == 3);
    CHECK(bytes.rec.requests[0].target == "http://a.example/x?y=1");
    CHECK(bytes.rec.requests[0].fields[1].second == "");
    CHECK(bytes.rec.requests[1].target == "*");
    CHECK(bytes.rec.requests[2].target == "/%C3%A9");
    CHECK(bytes.rec.requests[2].version_minor == 0);
}

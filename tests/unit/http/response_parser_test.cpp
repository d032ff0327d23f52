#include "http/response_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;
using perch::core::ResponseHead;
using perch::http::ResponseParser;

namespace {

struct Recorder final : ResponseParser::Handler {
    int heads = 0, completions = 0;
    uint16_t status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string body;
    std::vector<BufferSlice> chunks;

    void on_response_head(ResponseHead &head) override {
        ++heads;
        status = head.status;
        reason = head.reason;
        fields.clear();
        for (size_t i = 0; i < head.headers.size(); ++i)
            fields.emplace_back(head.headers.name(i), head.headers.value(i));
    }
    void on_response_body(const BufferSlice &chunk) override {
        body.append(chunk.view());
        chunks.push_back(chunk);
    }
    void on_response_complete() override { ++completions; }
    // Each interim head: "status: name=value;..." (100 never comes here).
    std::vector<std::string> interims;
    void on_response_interim(const ResponseHead &head) override {
        std::string s = std::to_string(head.status) + ":";
        for (size_t i = 0; i < head.headers.size(); ++i)
            s += std::string(head.headers.name(i)) + "=" + std::string(head.headers.value(i)) + ";";
        interims.push_back(s);
    }
};

Ref<Buffer> buffer_of(std::string_view text) {
    Ref<Buffer> b = Buffer::create(text.size());
    b->append(text.data(), text.size());
    return b;
}

struct Harness {
    Recorder rec;
    ResponseParser parser;
    explicit Harness(uint32_t max_header_bytes = 65536) : parser(rec, max_header_bytes) {
        parser.reset(false);
    }
    size_t feed(std::string_view text) {
        auto buf = buffer_of(text);
        return parser.execute(buf, buf->data(), buf->size());
    }
    // One read per byte; returns the bytes consumed before the parser stopped taking them.
    size_t feed_bytewise(std::string_view text) {
        size_t pos = 0;
        for (; pos < text.size(); ++pos) {
            auto one = buffer_of(text.substr(pos, 1));
            if (parser.execute(one, one->data(), 1) != 1) break;
        }
        return pos;
    }
};

} // namespace

TEST_CASE("http/response_parser: status, reason and fields of a Content-Length response") {
    const std::string text = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Cache-Control:  max-age=60 \r\n"
                             "Content-Length: 5\r\n"
                             "\r\n"
                             "hello";
    Harness h;
    CHECK(h.feed(text) == text.size());
    CHECK(h.rec.heads == 1);
    CHECK(h.rec.status == 200);
    CHECK(h.rec.reason == "OK");
    REQUIRE(h.rec.fields.size() == 3);
    CHECK(h.rec.fields[0] == std::pair<std::string, std::string>("Content-Type", "text/plain"));
    CHECK(h.rec.fields[1] == std::pair<std::string, std::string>("Cache-Control", "max-age=60"));
    CHECK(h.rec.body == "hello");
    CHECK(h.rec.completions == 1);
    CHECK(h.parser.complete());
    CHECK(h.parser.got_head());
    CHECK(!h.parser.failure());
    CHECK(h.parser.content_length() == 5u);
    CHECK(!h.parser.close_delimited());
    CHECK(h.parser.keep_alive());
    CHECK(h.parser.head().status == 200);
}

TEST_CASE("http/response_parser: a reason phrase with spaces is kept whole") {
    Harness h;
    h.feed("HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n");
    CHECK(h.rec.status == 404);
    CHECK(h.rec.reason == "Not Found Here");
    CHECK(h.parser.complete());
}

TEST_CASE("http/response_parser: body slices point into the read buffer") {
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
    Harness h;
    auto buf = buffer_of(head + "body");
    CHECK(h.parser.execute(buf, buf->data(), buf->size()) == buf->size());
    REQUIRE(h.rec.chunks.size() == 1);
    CHECK(h.rec.chunks[0].buf.get() == buf.get());
    CHECK(h.rec.chunks[0].ptr == buf->data() + head.size());
    CHECK(h.rec.chunks[0].len == 4);
}

TEST_CASE("http/response_parser: a chunked body is reassembled") {
    const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "4\r\nWiki\r\n"
                             "6\r\npedia \r\n"
                             "E\r\nin \r\n\r\nchunks.\r\n"
                             "0\r\n\r\n";
    SUBCASE("in one read") {
        Harness h;
        CHECK(h.feed(text) == text.size());
        CHECK(h.rec.body == "Wikipedia in \r\n\r\nchunks.");
        CHECK(h.parser.complete());
        CHECK(!h.parser.content_length());
        CHECK(!h.parser.close_delimited());
        CHECK(h.parser.keep_alive());
    }
    SUBCASE("a byte per read") {
        Harness h;
        CHECK(h.feed_bytewise(text) == text.size());
        CHECK(h.rec.body == "Wikipedia in \r\n\r\nchunks.");
        CHECK(h.parser.complete());
    }
}

TEST_CASE("http/response_parser: trailer fields are not merged into the response head") {
    // RFC 9110 §6.5.1: trailers are kept apart from the header section (or discarded).
    Harness h;
    const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                             "Cache-Control: no-store\r\n\r\n"
                             "2\r\nok\r\n0\r\nCache-Control: max-age=9999\r\nX-Sum: 1\r\n\r\n";
    CHECK(h.feed(text) == text.size());
    CHECK(h.parser.complete());
    CHECK(h.rec.body == "ok");
    const auto &headers = h.parser.head().headers;
    CHECK(headers.count("cache-control") == 1);
    CHECK(headers.get("cache-control") == "no-store");
    CHECK(!headers.contains("x-sum"));
}

TEST_CASE("http/response_parser: a body without length ends when the origin closes") {
    Harness h;
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstream of bytes";
    CHECK(h.feed(text) == text.size());
    CHECK(h.parser.got_head());
    CHECK(h.parser.close_delimited());
    CHECK(!h.parser.complete());
    CHECK(h.feed(" and more") == 9);
    h.parser.finish();
    CHECK(!h.parser.failure());
    CHECK(h.parser.complete());
    CHECK(h.rec.completions == 1);
    CHECK(h.rec.body == "stream of bytes and more");
    CHECK(!h.parser.keep_alive()); // the connection is spent
}

TEST_CASE("http/response_parser: finish in the middle of a body is a failure") {
    struct Row {
        std::string name;
        std::string text;
    };
    const Row rows[] = {
        {"Content-Length body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"},
        {"chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
        {"chunked body between chunks",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness h;
        h.feed(row.text);
        CHECK(h.parser.got_head());
        CHECK(!h.parser.failure());
        h.parser.finish();
        REQUIRE(h.parser.failure() != nullptr);
        CHECK(std::string_view(h.parser.failure()) == "origin closed the connection mid-body");
        CHECK(!h.parser.complete());
        CHECK(h.rec.completions == 0);
    }
}

TEST_CASE("http/response_parser: finish before or inside the head is a failure") {
    Harness none;
    none.parser.finish();
    REQUIRE(none.parser.failure() != nullptr);
    CHECK(std::string_view(none.parser.failure()) ==
          "origin closed the connection before responding");
    CHECK(!none.parser.complete());

    Harness partial;
    partial.feed("HTTP/1.1 200 OK\r\nContent-Le");
    partial.parser.finish();
    REQUIRE(partial.parser.failure() != nullptr);
    CHECK(!partial.parser.complete());
    CHECK(partial.rec.heads == 0);
}

TEST_CASE("http/response_parser: 100 Continue is skipped and the final response reported once") {
    const std::string text = "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    SUBCASE("in one read") {
        Harness h;
        CHECK(h.feed(text) == text.size());
        CHECK(h.rec.heads == 1);
        CHECK(h.rec.status == 200);
        CHECK(h.rec.reason == "OK");
        REQUIRE(h.rec.fields.size() == 1); // nothing left over from the 1xx heads
        CHECK(h.rec.fields[0].first == "Content-Length");
        CHECK(h.rec.body == "ok");
        CHECK(h.rec.completions == 1);
        CHECK(h.parser.complete());
        // The 103 is reported on its own, with its own fields; the 100 is not.
        CHECK(h.rec.interims == std::vector<std::string>{"103:Link=</style.css>; rel=preload;"});
    }
    SUBCASE("a byte per read") {
        Harness h;
        CHECK(h.feed_bytewise(text) == text.size());
        CHECK(h.rec.heads == 1);
        CHECK(h.rec.status == 200);
        CHECK(h.rec.body == "ok");
        CHECK(h.rec.completions == 1);
    }
}

TEST_CASE("http/response_parser: 101 Switching Protocols is refused") {
    Harness h;
    h.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
    CHECK(h.parser.failure() != nullptr);
    CHECK(h.rec.heads == 0);
    CHECK(!h.parser.complete());
}

TEST_CASE("http/response_parser: 204 and 304 responses have no body even with a length") {
    for (std::string status : {"204 No Content", "304 Not Modified"}) {
        CAPTURE(status);
        const std::string first =
            "HTTP/1.1 " + status + "\r\nContent-Length: 42\r\nETag: \"v1\"\r\n\r\n";
        const std::string next = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
        Harness h;
        CHECK(h.feed(first + next) == first.size()); // what follows is not part of it
        CHECK(h.rec.heads == 1);
        CHECK(h.rec.body.empty());
        CHECK(h.parser.complete());
        CHECK(!h.parser.content_length());
        CHECK(!h.parser.close_delimited());
        CHECK(h.parser.keep_alive());
    }
}

TEST_CASE("http/response_parser: a response to HEAD has no body despite its Content-Length") {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    Harness h;
    h.parser.reset(true);
    CHECK(h.feed(text) == text.size());
    CHECK(h.rec.heads == 1);
    CHECK(h.rec.body.empty());
    CHECK(h.parser.complete());
    CHECK(h.rec.completions == 1);
    CHECK(!h.parser.close_delimited());
    // The head still says how long the object is.
    CHECK(h.parser.head().headers.get("content-length") == "1234");
}

TEST_CASE("http/response_parser: a response to HEAD without length does not wait for close") {
    Harness h;
    h.parser.reset(true);
    h.feed("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n");
    CHECK(h.parser.complete());
    CHECK(!h.parser.close_delimited());
}

TEST_CASE("http/response_parser: keep_alive follows the version and the Connection field") {
    struct Row {
        std::string name;
        std::string text;
        bool keep_alive;
    };
    const Row rows[] = {
        {"HTTP/1.1 default", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
        {"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
         false},
        {"HTTP/1.0 default", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 keep-alive",
         "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        Harness h;
        h.feed(row.text);
        REQUIRE(h.parser.complete());
        CHECK(h.parser.keep_alive() == row.keep_alive);
    }
}

TEST_CASE("http/response_parser: a head over max_header_bytes fails") {
    const std::string big =
        "HTTP/1.1 200 OK\r\nX-Big: " + std::string(300, 'v') + "\r\nContent-Length: 0\r\n\r\n";
    SUBCASE("one large field") {
        Harness h(128);
        h.feed(big);
        REQUIRE(h.parser.failure() != nullptr);
        CHECK(std::string_view(h.parser.failure()) == "response head too large");
        CHECK(h.rec.heads == 0);
        CHECK(!h.parser.complete());
    }
    SUBCASE("many fields, a byte per read") {
        std::string text = "HTTP/1.1 200 OK\r\n";
        for (int i = 0; i < 30; ++i)
            text += "X-F" + std::to_string(i) + ": 0123456789\r\n";
        text += "\r\n";
        Harness h(128);
        CHECK(h.feed_bytewise(text) < text.size());
        REQUIRE(h.parser.failure() != nullptr);
        CHECK(h.rec.heads == 0);
    }
    SUBCASE("a large reason phrase") {
        Harness h(64);
        h.feed("HTTP/1.1 200 " + std::string(100, 'r') + "\r\n\r\n");
        CHECK(h.parser.failure() != nullptr);
    }
    SUBCASE("the same head under a larger limit is fine") {
        Harness h(1024);
        CHECK(h.feed(big) == big.size());
        CHECK(!h.parser.failure());
        CHECK(h.parser.complete());
    }
}

TEST_CASE("http/response_parser: a head over the limit before a syntax error fails as too large") {
    // In one read llhttp meets the space before it has handed over the name holding it; the
    // name's earlier bytes still count, as they do when they arrive in reads of their own.
    const std::string text =
        "HTTP/1.1 200 OK\r\nX" + std::string(300, 'n') + " : v\r\nContent-Length: 0\r\n\r\n";
    Harness whole(128), bytes(128);
    whole.feed(text);
    bytes.feed_bytewise(text);
    REQUIRE(whole.parser.failure() != nullptr);
    REQUIRE(bytes.parser.failure() != nullptr);
    CHECK(std::string_view(whole.parser.failure()) == "response head too large");
    CHECK(std::string_view(bytes.parser.failure()) == "response head too large");
}

TEST_CASE("http/response_parser: malformed responses fail") {
    const std::string rows[] = {
        "garbage\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad(Name): x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
    };
    for (const std::string &text : rows) {
        CAPTURE(text);
        Harness h;
        h.feed(text);
        CHECK(h.parser.failure() != nullptr);
        CHECK(!h.parser.complete());
        // A failed parser takes nothing more.
        CHECK(h.feed("HTTP/1.1 200 OK\r\n\r\n") == 0);
    }
}

TEST_CASE("http/response_parser: whitespace before a field's colon is refused or removed") {
    // RFC 9112 §5.1: a proxy must remove it before forwarding the response downstream, so
    // either the response fails or the stored name has no whitespace.
    for (std::string name : {"Name ", "Name\t", "Bad Name"}) {
        CAPTURE(name);
        Harness h;
        h.feed("HTTP/1.1 200 OK\r\n" + name + ": x\r\nContent-Length: 0\r\n\r\n");
        if (h.parser.failure()) continue;
        for (const auto &[field, value] : h.rec.fields)
            CHECK(field.find_first_of(" \t") == std::string::npos);
    }
}

TEST_CASE("http/response_parser: one parser serves two responses through reset") {
    Harness h;
    const std::string first = "HTTP/1.1 200 OK\r\nETag: \"a\"\r\nContent-Length: 3\r\n\r\none";
    const std::string second = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\ntwo\r\n0\r\n\r\n";
    CHECK(h.feed(first) == first.size());
    CHECK(h.parser.complete());
    CHECK(h.feed(second) == 0); // complete: nothing more until reset
    h.parser.reset(false);
    CHECK(!h.parser.complete());
    CHECK(!h.parser.got_head());
    CHECK(!h.parser.content_length());
    CHECK(h.feed(second) == second.size());
    CHECK(h.parser.complete());
    CHECK(h.rec.heads == 2);
    CHECK(h.rec.completions == 2);
    CHECK(h.rec.status == 404);
    CHECK(h.rec.reason == "Not Found");
    CHECK(h.rec.body == "onetwo");
    CHECK(!h.parser.content_length());
    CHECK(!h.parser.head().headers.contains("etag"));
}

TEST_CASE("http/response_parser: reset after a failure makes the parser usable again") {
    Harness h;
    h.feed("garbage\r\n\r\n");
    REQUIRE(h.parser.failure() != nullptr);
    h.parser.reset(false);
    CHECK(h.parser.failure() == nullptr);
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    CHECK(h.feed(ok) == ok.size());
    CHECK(h.parser.complete());
}

TEST_CASE("http/response_parser: reset from a HEAD response back to GET expects a body again") {
    Harness h;
    h.parser.reset(true);
    h.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    CHECK(h.parser.complete());
    h.parser.reset(false);
    h.feed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
    CHECK(h.parser.complete());
    CHECK(h.rec.body == "abc");
}

TEST_CASE("http/response_parser: a status outside 100-599 fails the response") {
    for (const char *status : {"999", "600", "099", "000"}) {
        CAPTURE(status);
        Harness h;
        h.feed(std::string("HTTP/1.1 ") + status + " Odd\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(h.parser.failure());
        CHECK(std::string_view(h.parser.failure()) == "status outside 100-599");
        CHECK(h.rec.heads == 0); // never passed on
    }
    Harness ok;
    ok.feed("HTTP/1.1 599 Edge\r\nContent-Length: 0\r\n\r\n");
    CHECK(!ok.parser.failure());
}

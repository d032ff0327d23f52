// Viewer request parsing (lib/http/request_parser): the input is what a viewer sends on one
// connection (pipelined requests, bodies, garbage). It is fed as one read and again one byte per
// read; both must give the same requests, bodies, failure and bytes consumed. Each read is
// consumed at most whole, body slices point into the read that carried them, a delivered head
// is within the limits, and a completed body has its Content-Length.
#include "core/ascii.hpp"
#include "core/buffer.hpp"
#include "fuzz_check.hpp"
#include "http/request_parser.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;
using perch::core::RequestHead;
using perch::http::RequestLimits;
using perch::http::RequestParser;

constexpr RequestLimits limits{256, 1024, 1024};

// What a connection would see, in order; one entry per head, body (pieces joined) and end.
struct Trace final : RequestParser::Handler {
    RequestParser *parser = nullptr;
    const Ref<Buffer> *read = nullptr; // the read being parsed
    std::vector<std::string> events;
    std::optional<uint64_t> content_length;
    uint64_t body_bytes = 0;

    void on_request_head(RequestHead &head) override {
        PERCH_FUZZ_CHECK(!head.method_text.empty() && !head.target.empty());
        PERCH_FUZZ_CHECK(head.target.size() <= limits.max_uri_bytes);
        PERCH_FUZZ_CHECK(head.headers.bytes() <= limits.max_header_bytes);
        PERCH_FUZZ_CHECK(head.version_major == 1 && head.version_minor <= 9);
        std::string e = "head " + head.method_text + " " + head.target + " " +
                        std::to_string(head.version_minor);
        for (size_t i = 0; i < head.headers.size(); ++i) {
            PERCH_FUZZ_CHECK(perch::core::is_token(head.headers.name(i)));
            e.append("\n").append(head.headers.name(i)).append(": ").append(head.headers.value(i));
        }
        events.push_back(std::move(e));
        content_length = parser->content_length();
        body_bytes = 0;
    }
    void on_request_body(const BufferSlice &chunk) override {
        const Buffer &b = **read;
        PERCH_FUZZ_CHECK(chunk.buf.get() == read->get());
        PERCH_FUZZ_CHECK(chunk.ptr >= b.data() && chunk.ptr + chunk.len <= b.data() + b.size());
        PERCH_FUZZ_CHECK(!events.empty() && events.back() != "complete");
        if (!events.back().starts_with("body ")) events.push_back("body ");
        events.back().append(chunk.view());
        body_bytes += chunk.len;
        PERCH_FUZZ_CHECK(!content_length || body_bytes <= *content_length);
        PERCH_FUZZ_CHECK(body_bytes <= limits.max_body_bytes);
    }
    void on_request_complete() override {
        PERCH_FUZZ_CHECK(!content_length || body_bytes == *content_length);
        events.push_back("complete");
    }
};

struct Outcome {
    std::vector<std::string> events;
    size_t consumed = 0;
    uint16_t status = 0;
    std::string reason;
    bool keep_alive = false;
};

// Feeds `input` in reads of at most `step` bytes, resuming after each request.
Outcome parse(std::string_view input, size_t step) {
    Trace trace;
    RequestParser parser(trace, limits);
    trace.parser = &parser;
    size_t pos = 0;
    while (pos < input.size()) {
        const size_t n = std::min(step, input.size() - pos);
        const Ref<Buffer> read = Buffer::copy_of(input.substr(pos, n));
        trace.read = &read;
        const size_t used = parser.execute(read, read->data(), n);
        PERCH_FUZZ_CHECK(used <= n);
        pos += used;
        if (parser.failure()) break;
        if (parser.paused()) {
            parser.resume();
        } else {
            PERCH_FUZZ_CHECK(used == n);
        }
    }
    if (!parser.failure()) parser.finish();
    Outcome out{std::move(trace.events), pos, 0, "", parser.keep_alive()};
    if (parser.failure()) {
        out.status = parser.failure()->status;
        out.reason = parser.failure()->reason;
        const uint16_t s = out.status;
        PERCH_FUZZ_CHECK(s == 400 || s == 405 || s == 413 || s == 414 || s == 431 || s == 501 ||
                         s == 505);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    const Outcome whole = parse(input, input.size());
    const Outcome bytes = parse(input, 1);
    PERCH_FUZZ_CHECK(whole.events == bytes.events);
    // Where a failure stops depends on the reads (llhttp reports a span's error at the end of
    // the span or of the read); the connection closes then, so only why it failed must agree.
    if (whole.status == 0) PERCH_FUZZ_CHECK(whole.consumed == bytes.consumed);
    PERCH_FUZZ_CHECK(whole.status == bytes.status && whole.reason == bytes.reason);
    PERCH_FUZZ_CHECK(whole.keep_alive == bytes.keep_alive);
    return 0;
}

// Origin response parsing (lib/http/response_parser): the input is what an origin sends on one
// connection, read as the answers to GETs and again to HEADs; a response that completes with
// keep-alive is followed by the next one. Fed as one read and one byte per read, both must give
// the same responses, bodies, failure and bytes consumed. Reads are consumed at most whole,
// body slices point into their read, heads are final (200-599), responses to HEAD and 204/304
// have no body, and a completed body has its Content-Length.
#include "core/buffer.hpp"
#include "fuzz_check.hpp"
#include "http/response_parser.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;
using perch::core::ResponseHead;
using perch::http::ResponseParser;

constexpr uint32_t max_header_bytes = 2048;

struct Trace final : ResponseParser::Handler {
    ResponseParser *parser = nullptr;
    bool head_request = false;
    const Ref<Buffer> *read = nullptr; // the read being parsed
    std::vector<std::string> events;
    bool body_allowed = true;
    uint64_t body_bytes = 0;

    void on_response_head(ResponseHead &head) override {
        PERCH_FUZZ_CHECK(head.status >= 200 && head.status <= 599);
        PERCH_FUZZ_CHECK(head.headers.bytes() <= max_header_bytes);
        std::string e = "head " + std::to_string(head.status) + " " + head.reason;
        for (size_t i = 0; i < head.headers.size(); ++i)
            e.append("\n").append(head.headers.name(i)).append(": ").append(head.headers.value(i));
        events.push_back(std::move(e));
        body_allowed = !head_request && head.status != 204 && head.status != 304;
        PERCH_FUZZ_CHECK(body_allowed || (!parser->content_length() && !parser->close_delimited()));
        body_bytes = 0;
    }
    void on_response_body(const BufferSlice &chunk) override {
        const Buffer &b = **read;
        PERCH_FUZZ_CHECK(body_allowed);
        PERCH_FUZZ_CHECK(chunk.buf.get() == read->get());
        PERCH_FUZZ_CHECK(chunk.ptr >= b.data() && chunk.ptr + chunk.len <= b.data() + b.size());
        if (events.empty() || !events.back().starts_with("body ")) events.push_back("body ");
        events.back().append(chunk.view());
        body_bytes += chunk.len;
        const auto length = parser->content_length();
        PERCH_FUZZ_CHECK(!length || body_bytes <= *length);
    }
    void on_response_complete() override {
        const auto length = parser->content_length();
        PERCH_FUZZ_CHECK(!length || body_bytes == *length);
        events.push_back(parser->keep_alive() ? "complete, keep-alive" : "complete");
    }
};

struct Outcome {
    std::vector<std::string> events;
    size_t consumed = 0;
    std::string failure;
};

// Feeds `input` in reads of at most `step` bytes.
Outcome parse(std::string_view input, size_t step, bool head_request) {
    Trace trace;
    trace.head_request = head_request;
    ResponseParser parser(trace, max_header_bytes);
    trace.parser = &parser;
    parser.reset(head_request);
    size_t pos = 0;
    while (pos < input.size()) {
        const size_t n = std::min(step, input.size() - pos);
        const Ref<Buffer> read = Buffer::copy_of(input.substr(pos, n));
        trace.read = &read;
        const size_t used = parser.execute(read, read->data(), n);
        PERCH_FUZZ_CHECK(used <= n);
        pos += used;
        if (parser.failure()) break;
        if (parser.complete()) {
            // Without keep-alive the rest is not a response to anything.
            if (!parser.keep_alive() || pos == input.size()) break;
            parser.reset(head_request);
        } else {
            PERCH_FUZZ_CHECK(used == n);
        }
    }
    if (!parser.failure() && !parser.complete()) {
        const bool close_delimited = parser.got_head() && parser.close_delimited();
        parser.finish();
        if (close_delimited) PERCH_FUZZ_CHECK(parser.complete() || parser.failure());
    }
    return {std::move(trace.events), pos, parser.failure() ? parser.failure() : ""};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    for (bool head_request : {false, true}) {
        const Outcome whole = parse(input, input.size(), head_request);
        const Outcome bytes = parse(input, 1, head_request);
        PERCH_FUZZ_CHECK(whole.events == bytes.events);
        // Where a failure stops depends on the reads (llhttp reports a span's error at the end of
        // the span or of the read); the connection closes then, so only why it failed must agree.
        if (whole.failure.empty()) PERCH_FUZZ_CHECK(whole.consumed == bytes.consumed);
        PERCH_FUZZ_CHECK(whole.failure == bytes.failure);
    }
    return 0;
}

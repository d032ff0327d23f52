#include "http/request_parser.hpp"

#include "core/ascii.hpp"
#include "http/llhttp_span.hpp"

#include <cstring>

namespace perch::http {

namespace {
RequestParser &self(llhttp_t *p) {
    return *static_cast<RequestParser *>(p->data);
}
} // namespace

uint16_t transfer_coding_status(const core::HeaderMap &headers) noexcept {
    size_t codings = 0;
    bool chunked_earlier = false, last_chunked = false;
    headers.for_each("transfer-encoding", [&](std::string_view value) {
        core::for_each_list_element(value, [&](std::string_view coding) {
            chunked_earlier = chunked_earlier || last_chunked;
            last_chunked = core::iequals(coding, "chunked");
            ++codings;
        });
    });
    // RFC 9112 §6.3: without chunked last (or with chunked applied twice, §6.1) the body's end
    // cannot be found.
    if (!last_chunked || chunked_earlier) return 400;
    // §6.1: a coding we do not implement; dropping it would change what the body means.
    if (codings > 1) return 501;
    return 0;
}

const llhttp_settings_t RequestParser::settings_ = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &RequestParser::on_message_begin;
    s.on_method = &RequestParser::on_method;
    s.on_url = &RequestParser::on_url;
    s.on_version = &RequestParser::on_version;
    s.on_header_field = &RequestParser::on_header_field;
    s.on_header_value = &RequestParser::on_header_value;
    s.on_header_value_complete = &RequestParser::on_header_value_complete;
    s.on_headers_complete = &RequestParser::on_headers_complete;
    s.on_body = &RequestParser::on_body;
    s.on_message_complete = &RequestParser::on_message_complete;
    return s;
}();

RequestParser::RequestParser(Handler &handler, const RequestLimits &limits)
    : handler_(handler), limits_(limits) {
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
}

size_t RequestParser::execute(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len) {
    if (failure_ || paused_ || len == 0) return 0;
    current_buf_ = &buf;
    const char *start = reinterpret_cast<const char *>(data);
    data_begin_ = start;
    llhttp_errno_t err = llhttp_execute(&parser_, start, len);
    // A limit crossed before a syntax error wins, however the bytes were read (llhttp_span.hpp).
    if (err != HPE_OK && err != HPE_PAUSED && !failure_) deliver_span_before_error(parser_);
    current_buf_ = nullptr;
    const char *pos = err == HPE_OK ? nullptr : llhttp_get_error_pos(&parser_);
    size_t consumed = pos ? size_t(pos - start) : len;
    stream_offset_ += consumed;
    char before_last = consumed >= 2 ? start[consumed - 2] : last_byte_;
    if (consumed > 0) last_byte_ = start[consumed - 1];
    if (err == HPE_OK) return len;
    if (err == HPE_PAUSED) {
        if (chunked_end_pending_) {
            // A chunked body ends with the blank line after its trailers; llhttp, strict mode
            // or not, takes a bare LF for it (then a next request may start one byte apart
            // from where another hop sees it).
            chunked_end_pending_ = false;
            if (before_last != '\r') {
                fail(400, "chunked body not ended by CRLF");
                return consumed;
            }
            handler_.on_request_complete();
        }
        paused_ = true;
        return consumed;
    }
    if (!failure_) {
        // llhttp rejected the bytes: malformed syntax, or ambiguous framing such as both
        // Content-Length and Transfer-Encoding, or differing duplicate Content-Lengths.
        fail(400, llhttp_errno_name(err));
    }
    return consumed;
}

void RequestParser::finish() {
    if (failure_ || paused_) return;
    llhttp_errno_t err = llhttp_finish(&parser_);
    if (err != HPE_OK && err != HPE_PAUSED && in_message_ && !failure_)
        fail(400, "incomplete request");
}

void RequestParser::resume() noexcept {
    if (!paused_) return;
    paused_ = false;
    llhttp_resume(&parser_);
}

int RequestParser::fail(uint16_t status, const char *reason) {
    if (!failure_) failure_ = Failure{status, reason};
    return HPE_USER;
}

int RequestParser::fail_fields(FieldCollector::Outcome o) {
    switch (o) {
    case FieldCollector::Outcome::ok:
        return 0;
    case FieldCollector::Outcome::too_large:
        return fail(431, "request head too large");
    case FieldCollector::Outcome::bad_name:
        return fail(400, "invalid header field name");
    }
    return 0;
}

int RequestParser::on_message_begin(llhttp_t *p) {
    RequestParser &s = self(p);
    s.head_.clear();
    s.fields_.start(s.head_.headers, s.limits_.max_header_bytes);
    s.value_end_.reset();
    s.version_seen_ = false;
    s.body_received_ = 0;
    s.content_length_.reset();
    s.has_body_ = false;
    s.in_head_ = true;
    s.in_message_ = true;
    return 0;
}

// The request line is exactly method SP request-target SP HTTP-version (RFC 9112 §3): llhttp
// skips any run of spaces between them, which a server behind perch may split differently. Each
// span's start is compared with where the previous one ended, as offsets in the whole stream
// (a span may straddle two reads).
int RequestParser::on_method(llhttp_t *p, const char *at, size_t len) {
    RequestParser &s = self(p);
    if (int rc = s.fail_fields(s.fields_.count(len))) return rc;
    if (s.head_.method_text.empty()) s.span_end_ = s.offset_of(at);
    if (s.offset_of(at) != s.span_end_) return s.fail(400, "invalid request line");
    s.span_end_ += len;
    s.head_.method_text.append(at, len);
    return 0;
}

int RequestParser::on_url(llhttp_t *p, const char *at, size_t len) {
    RequestParser &s = self(p);
    if (s.head_.target.size() + len > s.limits_.max_uri_bytes) return s.fail(414, "URI too long");
    if (int rc = s.fail_fields(s.fields_.count(len))) return rc;
    uint64_t expected = s.span_end_ + (s.head_.target.empty() ? 1 : 0); // one SP first
    if (s.offset_of(at) != expected) return s.fail(400, "invalid request line");
    s.span_end_ = expected + len;
    // RFC 9112 §3.2: a target is visible ASCII, and a fragment ('#') is never sent. llhttp
    // lets both through outside its strict mode.
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = static_cast<unsigned char>(at[i]);
        if (c <= ' ' || c >= 0x7f || c == '#') return s.fail(400, "invalid request target");
    }
    s.head_.target.append(at, len);
    return 0;
}

int RequestParser::on_version(llhttp_t *p, const char *at, size_t len) {
    RequestParser &s = self(p);
    // The version span starts after "HTTP/", which follows the target's one SP.
    if (!s.version_seen_ && s.offset_of(at) != s.span_end_ + 1 + 5)
        return s.fail(400, "invalid request line");
    s.version_seen_ = true;
    (void)len;
    return 0;
}

int RequestParser::on_header_field(llhttp_t *p, const char *at, size_t len) {
    RequestParser &s = self(p);
    s.value_end_.reset();
    return s.fail_fields(s.fields_.name({at, len}));
}

int RequestParser::on_header_value(llhttp_t *p, const char *at, size_t len) {
    RequestParser &s = self(p);
    // obs-fold (RFC 9112 §5.2): llhttp delivers the folded line as more of the same value, after
    // a gap (the CRLF and the fold's whitespace). A server must reject it or replace it with a
    // space; perch rejects, since the next hop may read the fold as a field of its own.
    uint64_t at_offset = s.offset_of(at);
    if (s.value_end_ && *s.value_end_ != at_offset) return s.fail(400, "obs-fold in a request");
    s.value_end_ = at_offset + len;
    return s.fail_fields(s.fields_.value({at, len}));
}

int RequestParser::on_header_value_complete(llhttp_t *p) {
    RequestParser &s = self(p);
    s.value_end_.reset();
    return s.fail_fields(s.fields_.value_done());
}

int RequestParser::on_headers_complete(llhttp_t *p) {
    RequestParser &s = self(p);
    s.in_head_ = false;
    s.fields_.stop_storing();
    s.head_.version_major = p->http_major;
    s.head_.version_minor = p->http_minor;
    if (p->http_major != 1) return s.fail(505, "HTTP version not supported");
    s.head_.method = core::method_from_name(s.head_.method_text);
    if (s.head_.method == core::Method::connect) return s.fail(405, "CONNECT is not supported");
    if (p->upgrade) {
        // Upgrade (WebSocket, h2c) is not supported yet: answer as a plain request, ignoring
        // the Upgrade field (RFC 9110 §7.8 lets a server ignore it).
        p->upgrade = 0;
    }
    bool chunked = (p->flags & F_CHUNKED) != 0;
    if ((p->flags & F_TRANSFER_ENCODING) || s.head_.headers.contains("transfer-encoding")) {
        // Decided here, before the head is delivered: llhttp refuses a final coding other than
        // chunked only after this callback, accepts codings before chunked, and lets an empty
        // field pass. Whatever llhttp does not frame as chunked is refused too.
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
        if (p->http_minor == 0) return s.fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        uint16_t status = transfer_coding_status(s.head_.headers);
        if (status == 501) return s.fail(501, "transfer coding other than chunked");
        if (status != 0 || !chunked)
            return s.fail(400, "Transfer-Encoding does not end in chunked");
    }
    if (p->flags & F_CONTENT_LENGTH) {
        s.content_length_ = p->content_length;
        if (p->content_length > s.limits_.max_body_bytes) return s.fail(413, "body too large");
        s.has_body_ = p->content_length > 0;
    } else if (chunked) {
        s.has_body_ = true;
    }
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    s.handler_.on_request_head(s.head_);
    return s.failure_ ? HPE_USER : 0;
}

int RequestParser::on_body(llhttp_t *p, const char *at, size_t len) {
    RequestParser &s = self(p);
    s.body_received_ += len;
    if (s.body_received_ > s.limits_.max_body_bytes) return s.fail(413, "body too large");
    const auto *bytes = reinterpret_cast<const uint8_t *>(at);
    s.handler_.on_request_body(core::BufferSlice(*s.current_buf_, bytes, len));
    return 0;
}

int RequestParser::on_message_complete(llhttp_t *p) {
    RequestParser &s = self(p);
    s.in_message_ = false;
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    if (p->flags & F_CHUNKED)
        s.chunked_end_pending_ = true; // told once execute() has checked the final CRLF
    else
        s.handler_.on_request_complete();
    // Pause so that the next pipelined request waits until this one is answered.
    return HPE_PAUSED;
}

} // namespace perch::http

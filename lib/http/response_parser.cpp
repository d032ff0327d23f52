#include "http/response_parser.hpp"

#include "http/llhttp_span.hpp"

namespace perch::http {

namespace {
ResponseParser &self(llhttp_t *p) {
    return *static_cast<ResponseParser *>(p->data);
}
} // namespace

const llhttp_settings_t ResponseParser::settings_ = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &ResponseParser::on_message_begin;
    s.on_status = &ResponseParser::on_status;
    s.on_header_field = &ResponseParser::on_header_field;
    s.on_header_value = &ResponseParser::on_header_value;
    s.on_header_value_complete = &ResponseParser::on_header_value_complete;
    s.on_headers_complete = &ResponseParser::on_headers_complete;
    s.on_body = &ResponseParser::on_body;
    s.on_message_complete = &ResponseParser::on_message_complete;
    return s;
}();

ResponseParser::ResponseParser(Handler &handler, uint32_t max_header_bytes)
    : handler_(handler), max_header_bytes_(max_header_bytes) {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
}

void ResponseParser::reset(bool head_request) noexcept {
    llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
    parser_.data = this;
    head_request_ = head_request;
    failure_ = nullptr;
    got_head_ = complete_ = keep_alive_ = close_delimited_ = false;
    content_length_.reset();
}

size_t ResponseParser::execute(const core::Ref<core::Buffer> &buf, const uint8_t *data,
                               size_t len) {
    if (failure_ || complete_ || len == 0) return 0;
    current_buf_ = &buf;
    const char *start = reinterpret_cast<const char *>(data);
    llhttp_errno_t err = llhttp_execute(&parser_, start, len);
    // A limit crossed before a syntax error wins, however the bytes were read (llhttp_span.hpp).
    if (err != HPE_OK && err != HPE_PAUSED && !failure_) deliver_span_before_error(parser_);
    current_buf_ = nullptr;
    if (err == HPE_OK) return len;
    const char *pos = llhttp_get_error_pos(&parser_);
    if (err != HPE_PAUSED && !failure_) failure_ = llhttp_errno_name(err);
    return pos ? size_t(pos - start) : len;
}

void ResponseParser::finish() {
    if (failure_ || complete_) return;
    llhttp_errno_t err = llhttp_finish(&parser_);
    if ((err != HPE_OK && err != HPE_PAUSED) || !complete_) {
        if (!failure_)
            failure_ = got_head_ ? "origin closed the connection mid-body"
                                 : "origin closed the connection before responding";
    }
}

int ResponseParser::fail_fields(FieldCollector::Outcome o) {
    switch (o) {
    case FieldCollector::Outcome::ok:
        return 0;
    case FieldCollector::Outcome::too_large:
        failure_ = "response head too large";
        break;
    case FieldCollector::Outcome::bad_name:
        failure_ = "invalid header field name";
        break;
    }
    return HPE_USER;
}

int ResponseParser::on_message_begin(llhttp_t *p) {
    ResponseParser &s = self(p);
    s.head_.clear();
    s.fields_.start(s.head_.headers, s.max_header_bytes_);
    s.informational_ = false;
    return 0;
}

int ResponseParser::on_status(llhttp_t *p, const char *at, size_t len) {
    ResponseParser &s = self(p);
    if (int rc = s.fail_fields(s.fields_.count(len))) return rc;
    s.head_.reason.append(at, len);
    return 0;
}

int ResponseParser::on_header_field(llhttp_t *p, const char *at, size_t len) {
    ResponseParser &s = self(p);
    return s.fail_fields(s.fields_.name({at, len}));
}

int ResponseParser::on_header_value(llhttp_t *p, const char *at, size_t len) {
    ResponseParser &s = self(p);
    return s.fail_fields(s.fields_.value({at, len}));
}

int ResponseParser::on_header_value_complete(llhttp_t *p) {
    ResponseParser &s = self(p);
    return s.fail_fields(s.fields_.value_done());
}

int ResponseParser::on_headers_complete(llhttp_t *p) {
    ResponseParser &s = self(p);
    s.head_.status = static_cast<uint16_t>(p->status_code);
    s.head_.version_major = p->http_major;
    s.head_.version_minor = p->http_minor;
    if (p->status_code < 100 || p->status_code > 599) {
        // RFC 9110 §15: three digits, 100-599; anything else is not a response to pass on.
        s.failure_ = "status outside 100-599";
        return HPE_USER;
    }
    if (p->status_code >= 100 && p->status_code < 200) {
        if (p->status_code == 101) {
            s.failure_ = "unexpected protocol switch";
            return HPE_USER;
        }
        s.informational_ = true; // 100 Continue, 103 Early Hints: wait for the final response
        if (p->status_code != 100) s.handler_.on_response_interim(s.head_);
        return s.failure_ ? HPE_USER : 0;
    }
    s.got_head_ = true;
    s.fields_.stop_storing();
    bool no_body = s.head_request_ || p->status_code == 204 || p->status_code == 304;
    if (!no_body) {
        if (p->flags & F_CONTENT_LENGTH)
            s.content_length_ = p->content_length;
        else if (!(p->flags & F_CHUNKED))
            s.close_delimited_ = true;
    }
    s.handler_.on_response_head(s.head_);
    if (s.failure_) return HPE_USER;
    return no_body ? 1 : 0;
}

int ResponseParser::on_body(llhttp_t *p, const char *at, size_t len) {
    ResponseParser &s = self(p);
    const auto *bytes = reinterpret_cast<const uint8_t *>(at);
    s.handler_.on_response_body(core::BufferSlice(*s.current_buf_, bytes, len));
    return s.failure_ ? HPE_USER : 0;
}

int ResponseParser::on_message_complete(llhttp_t *p) {
    ResponseParser &s = self(p);
    if (s.informational_) return 0;
    s.complete_ = true;
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0 && !s.close_delimited_;
    s.handler_.on_response_complete();
    return HPE_PAUSED; // anything after the response is not ours to parse
}

} // namespace perch::http

// Origin response parsing: an llhttp adapter that fills a ResponseHead and streams body bytes
// as slices of the read buffer (no copy). Informational (1xx) responses are skipped.
//
// Call order: set_head_request() before the response if the request was HEAD; execute()
// with the bytes read; the handler sees on_response_head once, on_response_body* and
// on_response_complete. finish() at EOF completes a close-delimited body or fails a partial
// response. After a failure, failure() says why.
#pragma once

#include "core/buffer.hpp"
#include "core/http_message.hpp"
#include "http/field_collector.hpp"

#include <cstdint>
#include <llhttp.h>
#include <optional>

namespace perch::http {

class ResponseParser {
public:
    class Handler {
    public:
        virtual void on_response_head(core::ResponseHead &head) = 0;
        // An interim response other than 100 Continue and 101 (103 Early Hints, 102
        // Processing), with its own fields; the final head follows. (100 is only waited past.)
        virtual void on_response_interim(const core::ResponseHead &) {}
        virtual void on_response_body(const core::BufferSlice &chunk) = 0;
        virtual void on_response_complete() = 0;

    protected:
        ~Handler() = default;
    };

    explicit ResponseParser(Handler &handler, uint32_t max_header_bytes = 65536);
    ResponseParser(const ResponseParser &) = delete;
    ResponseParser &operator=(const ResponseParser &) = delete;

    // Prepares for a new response on the same connection.
    void reset(bool head_request) noexcept;
    // Returns bytes consumed; fewer than len means the response completed (bytes after it are
    // not a response to anything we sent) or the parse failed.
    size_t execute(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len);
    // The origin closed the connection.
    void finish();

    const char *failure() const noexcept { return failure_; }
    bool complete() const noexcept { return complete_; }
    bool got_head() const noexcept { return got_head_; }
    bool keep_alive() const noexcept { return keep_alive_; }
    // Content-Length of the response body, if the origin sent one.
    std::optional<uint64_t> content_length() const noexcept { return content_length_; }
    // Whether the body ends only when the connection closes (no length, not chunked).
    bool close_delimited() const noexcept { return close_delimited_; }
    core::ResponseHead &head() noexcept { return head_; }

private:
    static int on_message_begin(llhttp_t *p);
    static int on_status(llhttp_t *p, const char *at, size_t len);
    static int on_header_field(llhttp_t *p, const char *at, size_t len);
    static int on_header_value(llhttp_t *p, const char *at, size_t len);
    static int on_header_value_complete(llhttp_t *p);
    static int on_headers_complete(llhttp_t *p);
    static int on_body(llhttp_t *p, const char *at, size_t len);
    static int on_message_complete(llhttp_t *p);
    int fail_fields(FieldCollector::Outcome o);

    static const llhttp_settings_t settings_;
    llhttp_t parser_;
    Handler &handler_;
    uint32_t max_header_bytes_;
    core::ResponseHead head_;
    FieldCollector fields_;
    const core::Ref<core::Buffer> *current_buf_ = nullptr;
    const char *failure_ = nullptr;
    std::optional<uint64_t> content_length_;
    bool head_request_ = false;
    bool informational_ = false;
    bool got_head_ = false;
    bool complete_ = false;
    bool keep_alive_ = false;
    bool close_delimited_ = false;
};

} // namespace perch::http

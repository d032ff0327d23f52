// Viewer request parsing: an llhttp adapter that fills a RequestHead, streams body bytes as
// slices of the read buffer (no copy), enforces size limits and pauses after each complete
// request so that pipelined requests are answered in order.
//
// Call order: execute() with the bytes read; the handler sees on_request_head (once the head
// is complete), on_request_body* and on_request_complete. After on_request_complete the
// parser pauses: execute() returns the bytes consumed so far, and the caller must keep the
// rest and feed it again after resume(). On error, execute() returns and failure() tells the
// status to answer (400, 405, 413, 414, 431, 501, 505) before closing the connection. A
// request that fails in its head never reaches the handler; one that fails in its body (413,
// a malformed chunk) had its head delivered.
#pragma once

#include "core/buffer.hpp"
#include "core/http_message.hpp"
#include "http/field_collector.hpp"

#include <cstdint>
#include <llhttp.h>
#include <optional>

namespace perch::http {

struct RequestLimits {
    uint32_t max_uri_bytes = 8192;
    uint32_t max_header_bytes = 20480;
    uint64_t max_body_bytes = 1ull << 30;
};

// What a request's Transfer-Encoding fields allow (RFC 9112 §6.1, §6.3): 0 when the codings
// are exactly "chunked" (case-insensitive); 400 when chunked is not the final coding or is
// applied twice (the body's length cannot be determined); 501 when other codings precede it.
uint16_t transfer_coding_status(const core::HeaderMap &headers) noexcept;

class RequestParser {
public:
    class Handler {
    public:
        virtual void on_request_head(core::RequestHead &head) = 0;
        virtual void on_request_body(const core::BufferSlice &chunk) = 0;
        virtual void on_request_complete() = 0;

    protected:
        ~Handler() = default;
    };

    struct Failure {
        uint16_t status = 400;
        const char *reason = "";
    };

    RequestParser(Handler &handler, const RequestLimits &limits);
    RequestParser(const RequestParser &) = delete;
    RequestParser &operator=(const RequestParser &) = delete;

    // Parses bytes of `buf`; returns how many were consumed. Fewer than `len` means paused at
    // a message end (see paused()) or failed (see failure()).
    size_t execute(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len);
    // The peer closed its side: completes a message that ends at EOF, or fails a partial one.
    void finish();
    void resume() noexcept;

    bool paused() const noexcept { return paused_; }
    const std::optional<Failure> &failure() const noexcept { return failure_; }
    // True between the first byte of a request and its complete head.
    bool in_head() const noexcept { return in_head_; }
    // True while a request is being received (head or body).
    bool in_message() const noexcept { return in_message_; }
    // Whether the connection may carry another request after the current one.
    bool keep_alive() const noexcept { return keep_alive_; }
    // Body length announced by Content-Length; nullopt for chunked or no body.
    std::optional<uint64_t> content_length() const noexcept { return content_length_; }
    bool has_body() const noexcept { return has_body_; }

    core::RequestHead &head() noexcept { return head_; }

private:
    static int on_message_begin(llhttp_t *p);
    static int on_method(llhttp_t *p, const char *at, size_t len);
    static int on_url(llhttp_t *p, const char *at, size_t len);
    static int on_version(llhttp_t *p, const char *at, size_t len);
    static int on_header_field(llhttp_t *p, const char *at, size_t len);
    static int on_header_value(llhttp_t *p, const char *at, size_t len);
    static int on_header_value_complete(llhttp_t *p);
    static int on_headers_complete(llhttp_t *p);
    static int on_body(llhttp_t *p, const char *at, size_t len);
    static int on_message_complete(llhttp_t *p);
    int fail(uint16_t status, const char *reason);
    // Where `at` (inside the bytes being parsed) lies in the whole stream.
    uint64_t offset_of(const char *at) const noexcept {
        return stream_offset_ + uint64_t(at - data_begin_);
    }
    int fail_fields(FieldCollector::Outcome o);

    static const llhttp_settings_t settings_;
    llhttp_t parser_;
    Handler &handler_;
    RequestLimits limits_;
    core::RequestHead head_;
    FieldCollector fields_;
    const core::Ref<core::Buffer> *current_buf_ = nullptr;
    std::optional<Failure> failure_;
    std::optional<uint64_t> content_length_;
    uint64_t body_received_ = 0;
    const char *data_begin_ = nullptr;  // the bytes execute() is parsing
    uint64_t stream_offset_ = 0;        // bytes consumed before them
    uint64_t span_end_ = 0;             // where the request line's last span ended
    std::optional<uint64_t> value_end_; // where the current field value's last piece ended
    bool version_seen_ = false;
    bool chunked_end_pending_ = false; // a chunked request ended: its final CRLF is checked
    char last_byte_ = 0;               // the last byte consumed before the current execute()
    bool in_head_ = false;
    bool in_message_ = false;
    bool paused_ = false;
    bool keep_alive_ = true;
    bool has_body_ = false;
};

} // namespace perch::http

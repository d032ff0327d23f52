// What a transaction needs from the viewer side: somewhere to write the response (with
// backpressure) and a way to pace the request body. The built-in HTTP/1.1 connection
// implements it; host-driven transactions (C API) will too.
#pragma once

#include "core/buffer.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace perch::edge {

struct ResponseWrite {
    // The head, on the first write only: `head` (status line and fields, CRLF-terminated
    // lines, no blank line) then `fields` (more such lines; copied by the sink). The sink
    // adds framing (Content-Length or chunked, Connection) and the blank line.
    const core::BufferSlice *head = nullptr;
    std::string_view fields;
    uint16_t status = 0;
    std::optional<uint64_t> content_length; // body length if known
    bool length_in_head = false;            // `head` already has Content-Length
    bool no_body = false;                   // HEAD, 204, 304: no body follows

    const core::BufferSlice *body = nullptr;
    size_t body_count = 0;
    bool last = false; // the response is complete after this write
};

class ViewerSink {
public:
    virtual void write_response(const ResponseWrite &w) = 0;
    // The response cannot be completed (origin failed mid-body): end the connection so that
    // the viewer sees a truncated response, never a complete-looking one.
    virtual void abort_response() = 0;
    // Bytes written but not yet taken by the network; above a threshold the transaction
    // pauses the origin until on_viewer_drained().
    virtual size_t pending_write_bytes() const noexcept = 0;
    virtual void pause_request_body() = 0;
    virtual void resume_request_body() = 0;
    // The transaction is over (response written, origin work done).
    virtual void transaction_finished() = 0;
    virtual bool viewer_is_https() const noexcept = 0;
    virtual std::string_view client_address() const noexcept = 0;

protected:
    ~ViewerSink() = default;
};

} // namespace perch::edge

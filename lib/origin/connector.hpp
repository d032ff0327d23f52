// Origin connectors: how the edge fetches from an origin (HTTP, a local directory; later S3
// and MediaPackage). A connector lives on one loop.
//
// Contract:
// - fetch() never calls the handler synchronously; every callback runs on a later loop turn.
// - The handler sees on_origin_head at most once, then on_origin_body*, then exactly one of
//   on_origin_complete / on_origin_error (on_origin_error may also come before any head).
// - After the terminal callback, or after cancel(), the Fetch is gone: drop the pointer.
// - A request body, if any, is streamed with write_body()/end_body(); body_queue_bytes() and
//   on_origin_body_drained() give backpressure towards the viewer.
#pragma once

#include "core/buffer.hpp"
#include "core/http_message.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <optional>

namespace perch::origin {

struct OriginRequest {
    // Method, origin-form target, and the fields to send (Host included, hop-by-hop removed).
    const core::RequestHead *head = nullptr;
    bool has_body = false;
    std::optional<uint64_t> body_length; // Content-Length to send; chunked when unknown
    // The request may be sent again on a fresh connection if a reused one fails before any
    // response byte (idempotent method, no body).
    bool retryable = false;
    // Over TLS (decided by the edge's origin selection: origin_protocol_policy).
    bool https = false;
};

struct ResponseInfo {
    std::optional<uint64_t> content_length;
    bool no_body = false; // HEAD, 204, 304
};

class FetchHandler {
public:
    virtual void on_origin_head(core::ResponseHead &head, const ResponseInfo &info) = 0;
    // A 1xx other than 100 and 101 (103 Early Hints, 102 Processing), before the final head:
    // for the viewer only, never stored or merged into the final head.
    virtual void on_origin_interim(const core::ResponseHead &) {}
    virtual void on_origin_body(const core::BufferSlice &chunk) = 0;
    virtual void on_origin_complete() = 0;
    virtual void on_origin_error(const core::Error &error) = 0;
    virtual void on_origin_body_drained() {}

protected:
    ~FetchHandler() = default;
};

class Fetch {
public:
    virtual void write_body(const core::BufferSlice &chunk) = 0;
    virtual void end_body() = 0;
    virtual size_t body_queue_bytes() const noexcept = 0;
    // Response flow control: stop / restart delivering body bytes.
    virtual void pause_response() = 0;
    virtual void resume_response() = 0;
    virtual void cancel() = 0;
    // Sends the events still to come to `handler` instead (a fetch that outlives its
    // first handler: a collapsed fill finished for its waiters).
    virtual void rebind(FetchHandler &handler) noexcept = 0;

protected:
    ~Fetch() = default;
};

class OriginConnector {
public:
    virtual ~OriginConnector() = default;
    virtual Fetch *fetch(const OriginRequest &request, FetchHandler &handler) = 0;
    // Closes idle pooled connections and refuses nothing; in-flight fetches continue.
    virtual void close_idle() = 0;
};

} // namespace perch::origin

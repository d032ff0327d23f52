// The viewer side of a transaction, pull-model (as H2O's generators are): the transaction is
// given the viewer request once (ViewerRequest), sends the response head once, and then one
// body chunk each time the sink asks for more (Transaction::proceed()); the sink can stop it
// (Transaction::cancel()). The built-in HTTP/1.1 connection is a sink; host-driven transactions
// through the C API and HTTP/2 streams will be too. A background transaction (a refresh for
// stale-while-revalidate) has no sink at all.
//
// Call order, from the transaction:
//   any number of send_interim() (1xx heads relayed from the origin), then
//   send(first chunk, with `head`), then after each proceed() at most one send(), until one
//   with `last`; or abort() at any point after the head. Nothing after `last` or abort().
// The one high-water mark for the response direction is the sink's: it calls proceed() when it
// can take more (at once if it can, from inside send()).
#pragma once

#include "core/buffer.hpp"
#include "core/http_message.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace perch::edge {

// TLS facts of a viewer connection (static strings from the TLS library; empty over HTTP).
struct ViewerTls {
    std::string_view protocol; // "TLSv1.3"
    std::string_view cipher;   // "TLS_AES_128_GCM_SHA256"
};

// The request as the viewer sent it, and what the edge knows of its viewer. Everything it points
// to stays valid and unchanged until the transaction finishes or is cancelled.
struct ViewerRequest {
    const core::RequestHead *head = nullptr;
    bool https = false;
    std::string_view client_address; // the socket peer ("203.0.113.7", "2001:db8::1")
    ViewerTls tls;
    std::string_view request_id; // at most 64 characters (the transaction keeps a copy)
    bool has_body = false;
    std::optional<uint64_t> body_length; // when the request announced it
};

// The response head as the transaction sends it: `head` (status line and fields, CRLF lines, no
// blank line) then `fields` (more such lines). The sink adds framing (Content-Length or chunked,
// Connection) and the blank line.
struct ResponseHeadOut {
    const core::BufferSlice *head = nullptr;
    std::string_view fields;
    uint16_t status = 0;
    std::optional<uint64_t> content_length; // body length when known
    bool length_in_head = false;            // `head` already has Content-Length
    bool no_body = false;                   // HEAD, 204, 304, 416: no body follows
    bool close = false; // a refused request: close the connection after this response
};

class ResponseSink {
public:
    // The head (first call only, else null) and body pieces, any number of them (a multipart
    // range of a large stored object makes many); `last`: the response is complete. The
    // pieces' buffers are shared: the sink may keep references, never change the bytes.
    virtual void send(const ResponseHeadOut *head, const core::BufferSlice *body, size_t count,
                      bool last) = 0;
    // An interim response (103 Early Hints, 102 Processing): `head` is its status line and
    // fields (CRLF lines, no blank line), valid during the call. Only before the final head,
    // only for HTTP/1.1 viewers; it does not start the response (a failover may still choose
    // the final answer). A sink that cannot relay it ignores it.
    virtual void send_interim(uint16_t status, std::string_view head) {
        (void)status;
        (void)head;
    }
    // The response cannot be completed (the origin failed mid-body): the viewer must see a
    // truncated response, never a complete-looking one.
    virtual void abort() = 0;
    // Request body flow control (towards the origin).
    virtual void pause_request_body() = 0;
    virtual void resume_request_body() = 0;

protected:
    ~ResponseSink() = default;
};

// Told once, when the transaction is over: its response is complete (or aborted) and nothing it
// started still needs its owner (origin work that outlives it carries on by itself). Not told
// after cancel().
class TransactionDone {
public:
    virtual void transaction_done() = 0;

protected:
    ~TransactionDone() = default;
};

} // namespace perch::edge

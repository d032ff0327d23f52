// A byte stream on a libuv loop: plain TCP (TcpStream) or TLS over TCP (TlsStream).
//
// Contract:
// - Handler callbacks run on the loop thread, never from inside the call that caused them
//   (except on_stream_data, which may follow start_read() on a later loop turn only).
// - write() queues bytes; op->on_write_done(status) fires exactly once per accepted write,
//   in order. The bytes must stay valid until then (the op usually owns them).
// - close() is idempotent. After it, only pending on_write_done (status UV_ECANCELED) and
//   then on_stream_closed() fire; after on_stream_closed() the stream frees itself, and the
//   owner may free the handler.
#pragma once

#include "core/buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <uv.h>

namespace perch::io {

// What a TLS stream negotiated (static strings; empty for plain TCP or before the handshake).
struct TlsFacts {
    std::string_view protocol; // "TLSv1.3"
    std::string_view cipher;   // "TLS_AES_128_GCM_SHA256"
};

class Stream {
public:
    class Handler {
    public:
        // Bytes arrived: [data, data + len) inside `buf`; the handler may keep a reference
        // to `buf` to retain the bytes beyond the call.
        virtual void on_stream_data(const core::Ref<core::Buffer> &buf, const uint8_t *data,
                                    size_t len) = 0;
        // The peer finished (UV_EOF) or the stream failed (negative uv error). Reading stops.
        virtual void on_stream_end(int status) = 0;
        virtual void on_stream_closed() = 0;

    protected:
        ~Handler() = default;
    };

    // A write in flight; embed it in whatever owns the bytes being written.
    class WriteOp {
    public:
        virtual void on_write_done(int status) = 0;
        uv_write_t uv_req{};

    protected:
        ~WriteOp() = default;
    };

    virtual ~Stream() = default;

    virtual void set_handler(Handler *h) noexcept = 0;
    virtual int start_read() = 0;
    virtual void stop_read() = 0;
    // Returns 0 or a negative uv error (then the op is not called).
    virtual int write(const uv_buf_t *bufs, unsigned count, WriteOp *op) = 0;

    // Bytes accepted by write() and not yet handed to the kernel.
    virtual size_t write_queue_bytes() const noexcept = 0;
    // Closes the stream. Writes not yet done complete with UV_ECANCELED, so an owner that
    // wants its bytes delivered waits for its writes before closing. TLS sends close_notify
    // first when the transport is not backed up.
    virtual void close() = 0;
    virtual bool is_tls() const noexcept = 0;
    // Ends the sending direction once queued writes are out (TCP FIN), keeping the receiving
    // one open: for a lingering close. Streams that cannot do it do nothing.
    virtual void shutdown_write() {}
    // The peer's address, for logs and X-Forwarded-For (empty if unknown).
    virtual int peer_address(char *out, size_t out_len) const noexcept = 0;
    virtual TlsFacts tls_facts() const noexcept { return {}; }
};

} // namespace perch::io

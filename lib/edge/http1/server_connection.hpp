// The core of one HTTP/1.1 server connection, shared by the viewer server (viewer_connection.hpp)
// and the admin listener (admin_connection.hpp). It owns the stream, the request parser, the
// deadline and the writes, and is the one place for:
// - timeouts (perch.limits): a request's whole head within header_timeout, counted from the
//   connection's start or from the head's first byte, never reset per byte (slowloris); while a
//   response is written or a body the user reads arrives, no silence longer than idle_timeout;
//   between requests, idle_timeout; none while the user is busy() (its work has timeouts of its
//   own). A head that times out is the user's to answer (on_head_timeout);
// - Expect: 100-continue (RFC 9110 §10.1.1), sent once a body is invited;
// - generated answers after which the connection closes (text/plain errors, the admin's JSON),
//   their head begun by generated_response.hpp;
// - closing: at once, once every write is out, or lingering (RFC 9112 §9.6: shut the write side,
//   read and drop input until EOF or linger_ms, so that an unread upload does not turn the close
//   into a reset that destroys the answer; not over TLS).
//
// A user derives from it, handles the parser's body and completion callbacks (and on_head for
// the head), and fills the hooks. Hooks never run once the connection is closing.
//
// Lifetime: the connection frees itself after its stream has closed, right after on_closed().
#pragma once

#include "core/buffer.hpp"
#include "http/request_parser.hpp"
#include "io/deadline_list.hpp"
#include "io/stream.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace perch::edge {

class Runtime;

// perch.limits' request limits; a non-zero `max_body_bytes` replaces the configured body limit.
http::RequestLimits request_limits(const Runtime &rt, uint64_t max_body_bytes = 0);
// Whether a request waits for "100 Continue" before it sends its body.
bool expects_continue(const core::RequestHead &req);

class ServerConnection : private io::Stream::Handler, protected http::RequestParser::Handler {
public:
    ServerConnection(const ServerConnection &) = delete;
    ServerConnection &operator=(const ServerConnection &) = delete;

    // Closes the stream at once; queued writes are cancelled.
    void close_now();

protected:
    // A write: the head slice, a text run, up to max_slices body slices and a text run, all
    // kept alive until the write is done.
    class Write final : public io::Stream::WriteOp {
    public:
        static constexpr size_t max_slices = 18;
        explicit Write(ServerConnection &c) : conn(c) {}
        void on_write_done(int status) override { conn.on_write_done(this, status); }
        void clear();
        size_t bytes() const noexcept;

        ServerConnection &conn;
        core::BufferSlice head;
        core::BufferSlice slices[max_slices];
        size_t nslices = 0;
        std::string pre, post;
        uv_buf_t bufs[max_slices + 3];
    };

    // An answer the connection makes itself and then closes after: generated_head() with
    // `content_type`, then `fields` (CRLF-ended lines), then end_closing_head().
    struct ClosingAnswer {
        uint16_t status = 0;
        std::string_view content_type;
        std::string_view fields;
        std::string_view body;
        bool send_body = true; // false for HEAD: Content-Length still tells the body's length
        std::string_view request_id;
    };

    // `bytes_out`, when not null, counts every byte written (the viewer statistics).
    ServerConnection(Runtime &rt, io::Stream *stream, const http::RequestLimits &limits,
                     std::atomic<uint64_t> *bytes_out);
    virtual ~ServerConnection();

    // --- hooks ---
    // Bytes that arrived, for the parser.
    virtual void on_data(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len) = 0;
    // The peer finished sending (UV_EOF) or the stream failed (a negative uv error).
    virtual void on_end(int status) = 0;
    // A request's head is complete (its header timeout is over).
    virtual void on_head(core::RequestHead &head) = 0;
    // After on_head: whether the request's body is wanted and unanswered (Expect: 100-continue).
    virtual bool invites_body() const = 0;
    // Whether a request body that arrives is read for the user: its bytes count as activity.
    virtual bool reading_body() const = 0;
    // Whether work in progress has its own timeouts (origin, store): the connection waits untimed.
    virtual bool busy() const = 0;
    // A write completed, unless the connection is closing once its writes are out.
    virtual void on_written() {}
    // The head did not come within header_timeout (no answer of the request started yet).
    virtual void on_head_timeout() { close_now(); }
    // No request will be served any more (closing, or a lingering close begins): cancel work,
    // drop bytes kept for later.
    virtual void stop_serving() {}
    // The stream has closed; the connection is deleted right after.
    virtual void on_closed() = 0;

    Runtime &runtime() const noexcept { return rt_; }
    io::Stream &stream() const noexcept { return *stream_; }
    http::RequestParser &parser() noexcept { return parser_; }
    const http::RequestParser &parser() const noexcept { return parser_; }
    bool closing() const noexcept { return closing_; }
    bool lingering() const noexcept { return lingering_; }
    // Writes submitted and not yet done (held ones included).
    size_t writes_in_flight() const noexcept {
        return writes_in_flight_ + held_.size() + (held_head_ ? 1 : 0);
    }
    // Whether a closing answer was sent.
    bool answered() const noexcept { return answered_; }
    // Whether unread request bytes may still arrive, so that a close must linger.
    bool linger() const noexcept { return linger_; }
    void set_linger(bool on) noexcept { linger_ = on; }

    // Starts reading; the first request's header timeout runs from here.
    void start_reading();
    Write *take_write();
    // Sends `w` (or recycles it if empty), paced (see write_quantum), after any held write.
    // Returns 0, or a uv error after closing.
    int submit(Write *w);
    // Holds `w` (a response head whose body has not come yet) until the end of this loop turn,
    // so that body bytes arriving in the same turn (an origin read holding head and body) go
    // out in the same write: one syscall and one packet instead of two.
    void hold_for_body(Write *w);
    // The held write, no longer held, to add the body to; null when none.
    Write *take_held() noexcept;
    // Bytes submitted and not yet handed to the kernel: the response direction's flow control.
    size_t queued_bytes() const noexcept { return stream_->write_queue_bytes() + held_bytes_; }
    // Re-arms the deadline for what the connection now waits for (see the top).
    void rearm();
    // Closes now, or lingering first if linger() is set.
    void close_when_written();
    // close_when_written() once every queued write is out.
    void close_after_writes();
    // Sends `a`, then closes once it (and everything queued before it) is out.
    void send_closing_answer(const ClosingAnswer &a);
    // A closing answer with a text/plain body: "<status> <reason phrase>\n".
    void send_closing_error(uint16_t status, std::string_view request_id);

private:
    enum class Timeout : uint8_t { none, header, activity, idle, linger };
    // How long a lingering close waits for the peer to stop sending.
    static constexpr uint64_t linger_ms = 2000;
    // How much a lingering close reads and drops before it gives up on the peer (as nginx's
    // lingering close, bounded in time and bytes).
    static constexpr uint64_t linger_max_bytes = 1 << 20;

    // io::Stream::Handler
    void on_stream_data(const core::Ref<core::Buffer> &buf, const uint8_t *data,
                        size_t len) override;
    void on_stream_end(int status) override;
    void on_stream_closed() override;
    // http::RequestParser::Handler (body and completion are the user's)
    void on_request_head(core::RequestHead &head) override;

    // Pacing: a connection hands the kernel at most write_quantum bytes per loop turn, the next
    // piece once the last one is in the socket, so that one connection's 4 MiB body cannot take
    // the loop's whole turn from the others (latency is shared fairly), and bytes are copied
    // into the socket while its buffer has room for them. Larger writes wait in held_, in order.
    // 64 KiB measured best for 4 MiB hits against 128 and 256 KiB (p99 72-77 ms against 108-144
    // and 176-207, req/s alike). The cap is per turn, not per second: an idle loop turns in
    // microseconds, and a busy one shares its time equally among its connections.
    static constexpr size_t write_quantum = 64 * 1024;
    static constexpr size_t quantum_slack = write_quantum / 4;
    int send_now(Write *w);
    void send_next_quantum();
    void on_write_done(Write *w, int status);
    void recycle(Write *w);
    void arm(Timeout t, uint64_t ms);
    static void on_timeout(void *self);
    static void on_flush(void *self);

    Runtime &rt_;
    io::Stream *stream_;
    http::RequestParser parser_;
    io::Deadline deadline_;
    io::Deadline flush_;        // sends held_head_ at the end of the loop turn
    Write *held_head_ = nullptr; // see hold_for_body()
    std::atomic<uint64_t> *bytes_out_;
    std::vector<Write *> free_writes_;
    std::deque<Write *> held_; // paced writes not yet sent, oldest first
    size_t held_bytes_ = 0;
    Write *quantum_in_flight_ = nullptr;
    size_t writes_in_flight_ = 0;
    Timeout timeout_ = Timeout::none;
    bool answered_ = false;           // a closing answer was sent
    bool close_after_writes_ = false; // close once writes_in_flight_ drops to 0
    bool linger_ = false;
    uint64_t lingered_bytes_ = 0;
    bool lingering_ = false; // write side shut, discarding input until EOF or linger_ms
    bool closing_ = false;
};

} // namespace perch::edge

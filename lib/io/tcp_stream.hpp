// Stream over a libuv TCP handle: accepted from a listener or connected to an origin.
#pragma once

#include "io/buffer_pool.hpp"
#include "io/stream.hpp"

#include <sys/socket.h>
#include <vector>

namespace perch::io {

class TcpStream final : public Stream {
public:
    // A stream for a connection to be accepted from `server` (call accept()).
    TcpStream(uv_loop_t *loop, BufferPool &pool);

    int accept(uv_stream_t *server);

    // Connects to `addr`; `done(user, status)` fires once (0 or a negative uv error). The
    // stream must not be used for I/O before then; close() cancels (done gets UV_ECANCELED).
    using ConnectDone = void (*)(void *user, int status);
    int connect(const sockaddr *addr, ConnectDone done, void *user);

    void set_handler(Handler *h) noexcept override { handler_ = h; }
    int start_read() override;
    void stop_read() override;
    // With nothing queued, writes at once (uv_try_write) and completes the op on the next loop
    // turn (an idle handle, which also keeps that turn's poll from blocking); what the socket
    // does not take goes through uv_write. A uv_write that completes makes libuv 1.44
    // re-register the socket with epoll (uv__drain stops POLLOUT even when it never started
    // it): one epoll_ctl per response saved.
    int write(const uv_buf_t *bufs, unsigned count, WriteOp *op) override;
    size_t write_queue_bytes() const noexcept override { return tcp_.write_queue_size; }
    void close() override;
    bool is_tls() const noexcept override { return false; }
    void shutdown_write() override;
    int peer_address(char *out, size_t out_len) const noexcept override;

    uv_tcp_t *uv_handle() noexcept { return &tcp_; }
    bool closing() const noexcept { return closing_; }

private:
    ~TcpStream() override = default;
    static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
    static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
    static void on_write(uv_write_t *req, int status);
    static void on_connect(uv_connect_t *req, int status);
    static void on_close(uv_handle_t *h);
    static void on_idle(uv_idle_t *h);
    void complete_direct_writes();

    uv_tcp_t tcp_{};
    uv_idle_t idle_{};                  // completes direct writes on the next turn
    std::vector<WriteOp *> written_;    // direct writes done, their ops not yet called
    int open_handles_ = 2;              // tcp_ and idle_: freed once both have closed
    uv_connect_t connect_req_{};
    uv_shutdown_t shutdown_req_{};
    bool shutting_down_ = false;
    BufferPool &pool_;
    Handler *handler_ = nullptr;
    core::Ref<core::Buffer> read_buf_;
    ConnectDone connect_done_ = nullptr;
    void *connect_user_ = nullptr;
    bool closing_ = false;
};

} // namespace perch::io

#include "io/tcp_stream.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace perch::io {

TcpStream::TcpStream(uv_loop_t *loop, BufferPool &pool) : pool_(pool) {
    uv_tcp_init(loop, &tcp_);
    tcp_.data = this;
    uv_idle_init(loop, &idle_);
    idle_.data = this;
}

namespace {

// A send buffer only needs to hold what the path can carry in one round trip (the
// bandwidth-delay product); beyond it, it holds bytes the peer has not asked for yet. The
// kernel grows it without bound that (to tcp_wmem's maximum, 4 MiB here), which on a path of a
// few microseconds lets a fast sender run far ahead of its reader: windows close to zero and
// responses stall for a persist timer (200 ms and up: the tail of 4 MiB responses on loopback).
// So a viewer whose handshake took under near_rtt_us (the same host, the same rack: a load
// balancer, a sidecar) gets a fixed buffer that still covers its BDP at more than 20 Gbit/s;
// every other viewer keeps the kernel's autotuning, which sizes the buffer to the path.
constexpr uint32_t near_rtt_us = 100;
constexpr int near_send_buffer = 256 * 1024; // the kernel doubles it for its bookkeeping

void fit_send_buffer(uv_os_fd_t fd) noexcept {
    tcp_info ti{};
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return;
    if (ti.tcpi_rtt == 0 || ti.tcpi_rtt > near_rtt_us) return;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &near_send_buffer, sizeof near_send_buffer);
}

} // namespace

int TcpStream::accept(uv_stream_t *server) {
    int rc = uv_accept(server, reinterpret_cast<uv_stream_t *>(&tcp_));
    if (rc != 0) return rc;
    uv_tcp_nodelay(&tcp_, 1);
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<const uv_handle_t *>(&tcp_), &fd) == 0) fit_send_buffer(fd);
    return 0;
}

int TcpStream::connect(const sockaddr *addr, ConnectDone done, void *user) {
    connect_done_ = done;
    connect_user_ = user;
    connect_req_.data = this;
    return uv_tcp_connect(&connect_req_, &tcp_, addr, &TcpStream::on_connect);
}

void TcpStream::on_connect(uv_connect_t *req, int status) {
    auto *self = static_cast<TcpStream *>(req->data);
    if (status == 0) uv_tcp_nodelay(&self->tcp_, 1);
    if (self->closing_ && status == 0) status = UV_ECANCELED;
    if (auto done = self->connect_done_) {
        self->connect_done_ = nullptr;
        done(self->connect_user_, status);
    }
}

int TcpStream::start_read() {
    if (closing_) return UV_EINVAL;
    return uv_read_start(reinterpret_cast<uv_stream_t *>(&tcp_), &TcpStream::on_alloc,
                         &TcpStream::on_read);
}

void TcpStream::stop_read() {
    if (!closing_) uv_read_stop(reinterpret_cast<uv_stream_t *>(&tcp_));
}

void TcpStream::on_alloc(uv_handle_t *h, size_t, uv_buf_t *buf) {
    auto *self = static_cast<TcpStream *>(h->data);
    if (!self->read_buf_) self->read_buf_ = self->pool_.take();
    core::Buffer &b = *self->read_buf_;
    *buf = uv_buf_init(reinterpret_cast<char *>(b.tail()), static_cast<unsigned>(b.room()));
}

void TcpStream::on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *) {
    auto *self = static_cast<TcpStream *>(s->data);
    if (nread > 0 && !self->closing_ && self->handler_) {
        core::Ref<core::Buffer> buf = std::move(self->read_buf_);
        const uint8_t *data = buf->tail();
        buf->grow(size_t(nread));
        self->handler_->on_stream_data(buf, data, size_t(nread));
        self->pool_.give_back(std::move(buf));
        return;
    }
    // Nothing read (nread == 0 is EAGAIN) or an end: the buffer goes back unused.
    if (self->read_buf_) self->pool_.give_back(std::move(self->read_buf_));
    if (nread < 0 && !self->closing_) {
        uv_read_stop(s);
        if (self->handler_) self->handler_->on_stream_end(int(nread));
    }
}

int TcpStream::write(const uv_buf_t *bufs, unsigned count, WriteOp *op) {
    if (closing_) return UV_EPIPE;
    op->uv_req.data = op;
    auto *s = reinterpret_cast<uv_stream_t *>(&tcp_);
    // Direct writes keep the order only while libuv has nothing queued.
    constexpr unsigned max_direct = 64;
    if (tcp_.write_queue_size != 0 || count > max_direct)
        return uv_write(&op->uv_req, s, bufs, count, &TcpStream::on_write);
    size_t total = 0;
    for (unsigned i = 0; i < count; ++i)
        total += bufs[i].len;
    int n = total ? uv_try_write(s, bufs, count) : 0;
    if (n < 0) n = 0; // EAGAIN (or an error uv_write reports)
    if (size_t(n) == total) {
        if (written_.empty()) uv_idle_start(&idle_, &TcpStream::on_idle);
        written_.push_back(op);
        return 0;
    }
    uv_buf_t rest[max_direct];
    unsigned k = 0;
    size_t skip = size_t(n);
    for (unsigned i = 0; i < count; ++i) {
        if (skip >= bufs[i].len) {
            skip -= bufs[i].len;
            continue;
        }
        rest[k++] = uv_buf_init(bufs[i].base + skip, unsigned(bufs[i].len - skip));
        skip = 0;
    }
    return uv_write(&op->uv_req, s, rest, k, &TcpStream::on_write);
}

void TcpStream::on_idle(uv_idle_t *h) {
    static_cast<TcpStream *>(h->data)->complete_direct_writes();
}

void TcpStream::complete_direct_writes() {
    uv_idle_stop(&idle_);
    // An op may write again from its callback: such writes complete on the next turn, so a
    // connection pacing its writes (one per completion) still yields the loop between them.
    std::vector<WriteOp *> done;
    done.swap(written_);
    for (WriteOp *op : done)
        op->on_write_done(0); // handed to the kernel whole
    if (written_.empty()) { // keep the vector's memory for the next turn
        done.clear();
        written_.swap(done);
    }
}

void TcpStream::on_write(uv_write_t *req, int status) {
    static_cast<WriteOp *>(req->data)->on_write_done(status);
}

void TcpStream::shutdown_write() {
    if (closing_ || shutting_down_) return;
    shutting_down_ = true;
    uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t *>(&tcp_),
                [](uv_shutdown_t *, int) {});
}

void TcpStream::close() {
    if (closing_) return;
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t *>(&idle_), &TcpStream::on_close);
    uv_close(reinterpret_cast<uv_handle_t *>(&tcp_), &TcpStream::on_close);
}

void TcpStream::on_close(uv_handle_t *h) {
    auto *self = static_cast<TcpStream *>(h->data);
    if (--self->open_handles_ > 0) return;
    // Direct writes were handed to the kernel whole: they completed (as libuv reports its
    // own completed writes on close).
    self->complete_direct_writes();
    if (self->read_buf_) self->pool_.give_back(std::move(self->read_buf_));
    if (self->handler_) self->handler_->on_stream_closed();
    delete self;
}

int TcpStream::peer_address(char *out, size_t out_len) const noexcept {
    sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return -1;
    if (ss.ss_family == AF_INET)
        return uv_ip4_name(reinterpret_cast<sockaddr_in *>(&ss), out, out_len);
    if (ss.ss_family == AF_INET6)
        return uv_ip6_name(reinterpret_cast<sockaddr_in6 *>(&ss), out, out_len);
    return -1;
}

} // namespace perch::io

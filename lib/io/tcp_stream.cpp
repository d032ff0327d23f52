#include "io/tcp_stream.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace perch::io {

TcpStream::TcpStream(uv_loop_t *loop, BufferPool &pool) : pool_(pool) {
    uv_tcp_init(loop, &tcp_);
    tcp_.data = this;
}

int TcpStream::accept(uv_stream_t *server) {
    int rc = uv_accept(server, reinterpret_cast<uv_stream_t *>(&tcp_));
    if (rc == 0) uv_tcp_nodelay(&tcp_, 1);
    return rc;
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
    return uv_write(&op->uv_req, reinterpret_cast<uv_stream_t *>(&tcp_), bufs, count,
                    &TcpStream::on_write);
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
    uv_close(reinterpret_cast<uv_handle_t *>(&tcp_), &TcpStream::on_close);
}

void TcpStream::on_close(uv_handle_t *h) {
    auto *self = static_cast<TcpStream *>(h->data);
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

#include "edge/http1/tcp_listener.hpp"

#include "edge/runtime.hpp"
#include "io/listen_socket.hpp"
#include "io/tcp_stream.hpp"

namespace perch::edge {

TcpListener::TcpListener(Runtime &rt, int backlog) : rt_(rt), backlog_(backlog) {
    uv_tcp_init(rt_.loop(), &tcp_);
    tcp_.data = this;
}

int TcpListener::open(int fd) {
    return io::start_listening(tcp_, fd, backlog_, &on_connection);
}

void TcpListener::close_handle() {
    if (closing_) return;
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t *>(&tcp_),
             [](uv_handle_t *h) { static_cast<TcpListener *>(h->data)->on_handle_closed(); });
}

void TcpListener::on_connection(uv_stream_t *server, int status) {
    auto *self = static_cast<TcpListener *>(server->data);
    if (status != 0 || self->closing_) return;
    auto *tcp = new io::TcpStream(self->rt_.loop(), self->rt_.buffers());
    if (tcp->accept(server) != 0) {
        tcp->close();
        return;
    }
    self->on_accepted(tcp);
}

} // namespace perch::edge

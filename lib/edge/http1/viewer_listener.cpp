#include "edge/http1/viewer_listener.hpp"

#include "edge/http1/viewer_connection.hpp"
#include "edge/runtime.hpp"
#include "io/listen_socket.hpp"
#include "io/tcp_stream.hpp"
#include "io/tls_stream.hpp"

#include <unistd.h>

namespace perch::edge {

ViewerListener::ViewerListener(Runtime &rt, io::TlsServerContext *tls) : rt_(rt), tls_(tls) {
    rt_.live().add();
    uv_tcp_init(rt_.loop(), &tcp_);
    tcp_.data = this;
}

int ViewerListener::open(int fd) {
    return io::start_listening(tcp_, fd, 511, &on_connection);
}

void ViewerListener::close() {
    if (closing_) return;
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t *>(&tcp_), [](uv_handle_t *h) {
        auto *self = static_cast<ViewerListener *>(h->data);
        Runtime &rt = self->rt_;
        rt.listener_closed(self);
        delete self;
        rt.live().drop();
    });
}

void ViewerListener::on_connection(uv_stream_t *server, int status) {
    auto *self = static_cast<ViewerListener *>(server->data);
    if (status != 0 || self->closing_) return;
    Runtime &rt = self->rt_;
    auto *tcp = new io::TcpStream(rt.loop(), rt.buffers());
    if (tcp->accept(server) != 0) {
        tcp->close();
        return;
    }
    io::Stream *stream = tcp;
    if (self->tls_)
        stream = io::TlsStream::wrap_server(tcp, *self->tls_, rt.buffers(), rt.deadlines());
    rt.stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    (new ViewerConnection(rt, stream, self->tls_ != nullptr))->start();
}

} // namespace perch::edge

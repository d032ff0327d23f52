#include "edge/http1/viewer_listener.hpp"

#include "edge/http1/viewer_connection.hpp"
#include "edge/runtime.hpp"
#include "io/tcp_stream.hpp"
#include "io/tls_stream.hpp"

namespace perch::edge {

ViewerListener::ViewerListener(Runtime &rt, io::TlsServerContext *tls)
    : TcpListener(rt, 511), tls_(tls) {
    rt.live().add();
}

void ViewerListener::on_handle_closed() {
    Runtime &rt = runtime();
    rt.listener_closed(this);
    delete this;
    rt.live().drop();
}

void ViewerListener::on_accepted(io::TcpStream *tcp) {
    Runtime &rt = runtime();
    io::Stream *stream = tcp;
    if (tls_) stream = io::TlsStream::wrap_server(tcp, *tls_, rt.buffers(), rt.deadlines());
    rt.stats().connections_accepted.fetch_add(1, std::memory_order_relaxed);
    (new ViewerConnection(rt, stream, tls_ != nullptr))->start();
}

} // namespace perch::edge

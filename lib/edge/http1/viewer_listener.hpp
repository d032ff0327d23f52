// Accepts viewer connections on one listening socket (HTTP or HTTPS) for one runtime.
#pragma once

#include "edge/http1/tcp_listener.hpp"

namespace perch::io {
class TlsServerContext;
}

namespace perch::edge {

class ViewerListener final : public TcpListener {
public:
    // `tls`: null for HTTP. Then open() with the listening socket.
    ViewerListener(Runtime &rt, io::TlsServerContext *tls);
    // Stops accepting; the listener frees itself once its handle has closed.
    void close() { close_handle(); }

private:
    ~ViewerListener() = default;
    void on_accepted(io::TcpStream *tcp) override;
    void on_handle_closed() override;

    io::TlsServerContext *tls_;
};

} // namespace perch::edge

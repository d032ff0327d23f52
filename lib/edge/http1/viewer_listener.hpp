// Accepts viewer connections on one listening socket (HTTP or HTTPS) for one runtime.
#pragma once

#include <uv.h>

namespace perch::io {
class TlsServerContext;
}

namespace perch::edge {

class Runtime;

class ViewerListener {
public:
    // Takes a listening socket (see io::open_listen_socket); it is closed on failure too.
    // Returns a uv error if libuv cannot adopt it; the listener then still needs close().
    ViewerListener(Runtime &rt, io::TlsServerContext *tls);
    int open(int fd);
    void close();

private:
    ~ViewerListener() = default;
    static void on_connection(uv_stream_t *server, int status);

    Runtime &rt_;
    io::TlsServerContext *tls_;
    uv_tcp_t tcp_{};
    bool closing_ = false;
};

} // namespace perch::edge

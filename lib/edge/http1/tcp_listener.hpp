// What the viewer and the admin listeners share: a libuv TCP handle on an adopted listening
// socket that accepts plain TCP streams and hands each to on_accepted(), and its close.
#pragma once

#include <uv.h>

namespace perch::io {
class TcpStream;
}

namespace perch::edge {

class Runtime;

class TcpListener {
public:
    TcpListener(const TcpListener &) = delete;
    TcpListener &operator=(const TcpListener &) = delete;

    // Adopts a listening socket (see io::open_listen_socket); on failure it is closed too, and
    // the listener still needs closing. Returns 0 or a uv error.
    int open(int fd);

protected:
    TcpListener(Runtime &rt, int backlog);
    ~TcpListener() = default;

    // A connection was accepted (never once closing).
    virtual void on_accepted(io::TcpStream *tcp) = 0;
    // The handle has closed; the listener may free itself here.
    virtual void on_handle_closed() = 0;

    Runtime &runtime() const noexcept { return rt_; }
    bool closing() const noexcept { return closing_; }
    // Stops accepting and closes the handle (once; then on_handle_closed()).
    void close_handle();

private:
    static void on_connection(uv_stream_t *server, int status);

    Runtime &rt_;
    uv_tcp_t tcp_{};
    int backlog_;
    bool closing_ = false;
};

} // namespace perch::edge

// The admin endpoint's HTTP/1.1 server (plain TCP) for one runtime: accepts connections on
// its own socket (never shared with the viewer listeners: no SO_REUSEPORT), reads one request
// per connection within perch.limits' header and idle timeouts, answers it through an
// AdminHandler with "Connection: close", and closes. It never touches the distribution's
// transactions, so it cannot serve cached content.
//
// An invalidation with a prefix (it scans every stored object) runs on libuv's thread pool, so
// that the loop keeps serving viewers; its connection is answered when it is done.
//
// Lifetime: close() stops accepting and cuts open connections; the listener frees itself
// once its handle and every connection have closed and no invalidation is still running, then
// tells the runtime.
#pragma once

#include "edge/admin_handler.hpp"

#include <uv.h>
#include <vector>

namespace perch::edge {

class Runtime;
class AdminConnection;

class AdminListener {
public:
    AdminListener(Runtime &rt, std::string token);
    // Adopts a listening socket (see io::open_listen_socket); on failure it is closed too,
    // and the listener still needs close().
    int open(int fd);
    void close();

    // AdminConnection calls these.
    Runtime &runtime() noexcept { return rt_; }
    AdminHandler &handler() noexcept { return handler_; }
    void connection_closed(AdminConnection *c);
    // Runs `p` (on the thread pool when it scans the store), then answers `c` through
    // handler().finish() unless `c` has closed meanwhile (the invalidation is recorded anyway).
    void run_invalidation(AdminConnection *c, PendingInvalidation p);

private:
    struct InvalidationWork;
    ~AdminListener() = default;
    static void on_connection(uv_stream_t *server, int status);
    void maybe_free();

    Runtime &rt_;
    AdminHandler handler_;
    uv_tcp_t tcp_{};
    std::vector<AdminConnection *> connections_;
    std::vector<InvalidationWork *> works_;
    bool closing_ = false;
    bool handle_closed_ = false;
};

} // namespace perch::edge

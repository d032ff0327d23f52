// The admin endpoint's HTTP/1.1 server (plain TCP) for one runtime: accepts connections on
// its own socket (never shared with the viewer listeners: no SO_REUSEPORT), each of which
// (admin_connection.hpp) reads one request within perch.limits' header and idle timeouts,
// answers it through an AdminHandler with "Connection: close", and closes. It never touches the
// distribution's transactions, so it cannot serve cached content.
//
// An invalidation with a prefix (it scans every stored object) runs on libuv's thread pool, so
// that the loop keeps serving viewers; its connection is answered when it is done.
//
// Lifetime: close() stops accepting and cuts open connections; the listener frees itself
// once its handle and every connection have closed and no invalidation is still running, then
// tells the runtime.
#pragma once

#include "edge/admin_handler.hpp"
#include "edge/http1/tcp_listener.hpp"

#include <vector>

namespace perch::edge {

class AdminConnection;

class AdminListener final : public TcpListener {
public:
    // Then open() with the listening socket.
    AdminListener(Runtime &rt, std::string token);
    void close();

    // AdminConnection calls these.
    using TcpListener::runtime;
    AdminHandler &handler() noexcept { return handler_; }
    void connection_closed(AdminConnection *c);
    // Runs `p` (on the thread pool when it scans the store), then answers `c` through
    // handler().finish() unless `c` has closed meanwhile (the invalidation is recorded anyway).
    void run_invalidation(AdminConnection *c, PendingInvalidation p);

private:
    struct InvalidationWork;
    ~AdminListener() = default;
    void on_accepted(io::TcpStream *tcp) override;
    void on_handle_closed() override;
    void maybe_free();

    AdminHandler handler_;
    std::vector<AdminConnection *> connections_;
    std::vector<InvalidationWork *> works_;
    bool handle_closed_ = false;
};

} // namespace perch::edge

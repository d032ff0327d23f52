#include "edge/http1/admin_listener.hpp"

#include "edge/http1/admin_connection.hpp"
#include "edge/runtime.hpp"
#include "io/tcp_stream.hpp"

#include <algorithm>

namespace perch::edge {

struct AdminListener::InvalidationWork {
    uv_work_t req{};
    AdminListener *listener = nullptr;
    AdminConnection *conn = nullptr; // null once the connection has closed
    PendingInvalidation pending;
};

void AdminListener::run_invalidation(AdminConnection *c, PendingInvalidation p) {
    if (!p.scans_store()) {
        p.run(runtime().store());
        return c->answer(handler_.finish(std::move(p)));
    }
    auto *w = new InvalidationWork;
    w->req.data = w;
    w->listener = this;
    w->conn = c;
    w->pending = std::move(p);
    int rc = uv_queue_work(
        runtime().loop(), &w->req,
        [](uv_work_t *r) {
            auto *w = static_cast<InvalidationWork *>(r->data);
            w->pending.run(w->listener->runtime().store()); // the store is thread-safe
        },
        [](uv_work_t *r, int) {
            auto *w = static_cast<InvalidationWork *>(r->data);
            AdminListener &l = *w->listener;
            AdminResponse answer = l.handler_.finish(std::move(w->pending));
            if (w->conn) w->conn->answer(answer);
            l.works_.erase(std::remove(l.works_.begin(), l.works_.end(), w), l.works_.end());
            delete w;
            l.maybe_free();
        });
    if (rc != 0) { // no thread pool: run it here
        w->pending.run(runtime().store());
        c->answer(handler_.finish(std::move(w->pending)));
        delete w;
        return;
    }
    works_.push_back(w);
}

AdminListener::AdminListener(Runtime &rt, std::string token)
    : TcpListener(rt, 64), handler_(std::move(token), rt.store()) {
    rt.live().add();
}

void AdminListener::close() {
    if (closing()) return;
    for (AdminConnection *c : std::vector<AdminConnection *>(connections_))
        c->close_now();
    close_handle();
}

void AdminListener::on_handle_closed() {
    handle_closed_ = true;
    maybe_free();
}

void AdminListener::connection_closed(AdminConnection *c) {
    connections_.erase(std::remove(connections_.begin(), connections_.end(), c),
                       connections_.end());
    for (InvalidationWork *w : works_)
        if (w->conn == c) w->conn = nullptr;
    maybe_free();
}

void AdminListener::maybe_free() {
    if (!handle_closed_ || !connections_.empty() || !works_.empty()) return;
    Runtime &rt = runtime();
    rt.admin_listener_closed(this);
    delete this;
    rt.live().drop();
}

void AdminListener::on_accepted(io::TcpStream *tcp) {
    auto *c = new AdminConnection(*this, tcp);
    connections_.push_back(c);
    c->start();
}

} // namespace perch::edge

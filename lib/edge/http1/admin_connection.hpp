// One admin connection, one request, on the connection core (server_connection.hpp, which keeps
// perch.limits' header and idle timeouts and closes it): reads the request (its body up to
// AdminHandler::max_body_bytes, kept only when the handler wants it), answers it through the
// listener's AdminHandler as JSON with "Connection: close", and closes once the answer is out.
// A new invalidation is answered when it has run (AdminListener::run_invalidation).
//
// The connection frees itself after its stream has closed, having told its listener.
#pragma once

#include "edge/admin_handler.hpp"
#include "edge/http1/server_connection.hpp"

#include <string>

namespace perch::edge {

class AdminListener;

class AdminConnection final : public ServerConnection {
public:
    AdminConnection(AdminListener &l, io::Stream *stream);
    void start() { start_reading(); }
    // Sends `r` and closes once it is out; nothing if the connection is closing.
    void answer(const AdminResponse &r);

private:
    ~AdminConnection() override = default;

    // ServerConnection
    void on_data(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len) override;
    // Before the answer: the client gave up.
    void on_end(int) override {
        if (!answered()) close_now();
    }
    void on_head(core::RequestHead &head) override;
    bool invites_body() const override { return wants_body_; }
    bool reading_body() const override { return true; }             // read to its end, kept or not
    bool busy() const override { return complete_ && !answered(); } // invalidation running
    void on_closed() override;
    // http::RequestParser::Handler
    void on_request_body(const core::BufferSlice &chunk) override;
    void on_request_complete() override;

    AdminListener &listener_;
    std::string body_;
    bool wants_body_ = false;
    bool complete_ = false; // the whole request was read
};

} // namespace perch::edge

// One viewer connection of the built-in HTTP/1.1 server, on the connection core
// (server_connection.hpp, which keeps its timeouts and closes it): reads and parses requests
// (limits, keep-alive, pipelining answered in order, Expect: 100-continue), runs one Transaction
// at a time as its pull-model sink, and frames responses (Content-Length, chunked, or
// close-delimited for HTTP/1.0). Malformed requests get 400 (or 405, 408, 413, 414, 431, 501,
// 505, each with Via and X-Request-Id) and the connection is closed. A request answered without
// its body (a hit) has the rest of the body read and dropped, and the connection carries on.
//
// The connection frees itself after its stream has closed.
#pragma once

#include "edge/http1/server_connection.hpp"
#include "edge/response_sink.hpp"
#include "edge/transaction.hpp"

#include <string>

namespace perch::edge {

class Runtime;

class ViewerConnection final : public ServerConnection,
                               private ResponseSink,
                               private TransactionDone {
public:
    ViewerConnection(Runtime &rt, io::Stream *stream, bool https);
    void start();
    // Graceful shutdown: close now if idle, else after the response in progress.
    void drain();

private:
    ~ViewerConnection() override = default;

    // ServerConnection
    void on_data(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len) override;
    void on_end(int status) override;
    void on_head(core::RequestHead &head) override;
    bool invites_body() const override { return txn_.wants_body() && !response_started_; }
    bool reading_body() const override { return txn_.wants_body() || discarding_body_; }
    bool busy() const override { return txn_.active(); }
    void on_written() override;
    void on_head_timeout() override { reject(408, "request head timeout"); }
    void stop_serving() override;
    void on_closed() override;
    // http::RequestParser::Handler
    void on_request_body(const core::BufferSlice &chunk) override;
    void on_request_complete() override;
    // ResponseSink
    void send(const ResponseHeadOut *head, const core::BufferSlice *body, size_t count,
              bool last) override;
    void send_interim(uint16_t status, std::string_view head) override;
    void abort() override { close_now(); }
    void pause_request_body() override;
    void resume_request_body() override;
    // TransactionDone
    void transaction_done() override;

    void begin_response(const ResponseHeadOut &head, Write *w);
    // Asks the transaction for more while the viewer takes what it is sent (flow_control.hpp).
    void ask_for_more();

    void parse(const core::Ref<core::Buffer> &buf, const uint8_t *data, size_t len);
    // Moves on to the next request when the current one is done; loops over pipelined ones.
    void pump();
    bool finish_request();
    void reject(uint16_t status, const char *reason);

    Transaction txn_;
    core::BufferSlice leftover_; // bytes of pipelined requests not parsed yet
    std::string client_;
    char id_[24]; // the current request's id
    bool https_;
    bool txn_done_ = false;
    bool in_pump_ = false;
    bool chunked_ = false; // current response framing
    bool response_started_ = false;
    bool close_after_response_ = false;
    bool body_paused_ = false;
    bool owes_proceed_ = false;    // the transaction waits for proceed() until the viewer drains
    bool discarding_body_ = false; // answered without its body: the rest is read and dropped
};

} // namespace perch::edge

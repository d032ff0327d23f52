// One viewer connection of the built-in HTTP/1.1 server: reads and parses requests (limits,
// keep-alive, pipelining answered in order, Expect: 100-continue), runs one Transaction at a
// time, frames responses (Content-Length, chunked, or close-delimited for HTTP/1.0), and
// enforces the header, idle and send timeouts. Malformed requests get 400 (or 405, 408, 413,
// 414, 431, 501, 505, each with Via and X-Request-Id) and the connection is closed. A request
// answered without its body (a hit) has the rest of the body read and dropped, and the
// connection carries on.
//
// The connection frees itself after its stream has closed.
#pragma once

#include "edge/response_sink.hpp"
#include "edge/transaction.hpp"
#include "http/request_parser.hpp"
#include "io/deadline_list.hpp"
#include "io/stream.hpp"

#include <string>
#include <vector>

namespace perch::edge {

class Runtime;

class ViewerConnection final : private io::Stream::Handler,
                               private http::RequestParser::Handler,
                               private ResponseSink,
                               private TransactionDone {
public:
    ViewerConnection(Runtime &rt, io::Stream *stream, bool https);
    void start();
    // Graceful shutdown: close now if idle, else after the response in progress.
    void drain();
    void close_now();

private:
    class Write;
    enum class Timeout : uint8_t { none, header, activity, idle, linger };
    // How long a lingering close waits for the viewer to stop sending.
    static constexpr uint64_t linger_ms = 2000;

    ~ViewerConnection();

    // io::Stream::Handler
    void on_stream_data(const core::Ref<core::Buffer> &buf, const uint8_t *data,
                        size_t len) override;
    void on_stream_end(int status) override;
    void on_stream_closed() override;
    // http::RequestParser::Handler
    void on_request_head(core::RequestHead &head) override;
    void on_request_body(const core::BufferSlice &chunk) override;
    void on_request_complete() override;
    // ResponseSink
    void send(const ResponseHeadOut *head, const core::BufferSlice *body, size_t count,
              bool last) override;
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
    // Closes, lingering first if unread request bytes could make the close a reset.
    void close_when_written();
    void reject(uint16_t status, const char *reason);
    void on_write_done(Write *w, int status);
    int submit(Write *w);
    Write *take_write();
    void rearm();
    static void on_timeout(void *self);

    Runtime &rt_;
    io::Stream *stream_;
    http::RequestParser parser_;
    Transaction txn_;
    io::Deadline deadline_;
    std::vector<Write *> free_writes_;
    core::BufferSlice leftover_; // bytes of pipelined requests not parsed yet
    std::string client_;
    char id_[24]; // the current request's id
    size_t writes_in_flight_ = 0;
    Timeout timeout_ = Timeout::none;
    bool https_;
    bool txn_done_ = false;
    bool in_pump_ = false;
    bool chunked_ = false; // current response framing
    bool response_started_ = false;
    bool close_after_response_ = false;
    bool body_paused_ = false;
    bool owes_proceed_ = false;    // the transaction waits for proceed() until the viewer drains
    bool discarding_body_ = false; // answered without its body: the rest is read and dropped
    bool linger_ = false;          // unread request body: the close must linger
    bool lingering_ = false;       // write side shut, discarding input until EOF or linger_ms
    bool closing_ = false;
};

} // namespace perch::edge

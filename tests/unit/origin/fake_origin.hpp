// For the HTTP origin connector's tests: an in-process HTTP/1.1 origin on a loopback port of
// the test's own uv loop, whose answers each test scripts; the loop services a connector
// needs; and a FetchHandler that records what it was told.
#pragma once

#include "core/status.hpp"
#include "io/buffer_pool.hpp"
#include "io/deadline_list.hpp"
#include "io/listen_socket.hpp"
#include "io/live_count.hpp"
#include "io/resolver.hpp"
#include "origin/connector.hpp"
#include "origin/http_origin.hpp"
#include "uv_test_loop.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace perch::test {

class FakeOrigin {
public:
    // One accepted connection. Requests are GETs without bodies: a request ends at its blank
    // line.
    struct Conn {
        FakeOrigin *origin = nullptr;
        uv_tcp_t tcp{};
        std::string unread;
        int requests = 0;
        size_t writes = 0, writes_done = 0;
        bool peer_closed = false; // the connector closed (or reset) its end
        bool closing = false, closed = false;

        void send(std::string bytes) {
            struct Write {
                uv_write_t req;
                std::string bytes;
                Conn *conn;
            };
            if (closing) return;
            auto *w = new Write{{}, std::move(bytes), this};
            uv_buf_t b = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
            ++writes;
            w->req.data = w;
            uv_write(&w->req, reinterpret_cast<uv_stream_t *>(&tcp), &b, 1, [](uv_write_t *r, int) {
                auto *w = static_cast<Write *>(r->data);
                ++w->conn->writes_done;
                delete w;
            });
        }
        bool all_written() const { return writes_done == writes; }
        // A clean close (FIN once queued writes are out).
        void close() {
            if (closing) return;
            closing = true;
            uv_close(reinterpret_cast<uv_handle_t *>(&tcp), &Conn::on_closed);
        }
        // Closes once the queued writes are out (shutdown, then close).
        void close_after_writes() {
            if (closing) return;
            auto *req = new uv_shutdown_t;
            req->data = this;
            uv_shutdown(req, reinterpret_cast<uv_stream_t *>(&tcp), [](uv_shutdown_t *r, int) {
                auto *c = static_cast<Conn *>(r->data);
                delete r;
                c->close();
            });
        }
        // A reset (RST), as a crashing origin would.
        void reset() {
            if (closing) return;
            closing = true;
            uv_tcp_close_reset(&tcp, &Conn::on_closed);
        }
        static void on_closed(uv_handle_t *h) { static_cast<Conn *>(h->data)->closed = true; }
    };
    // Called for each whole request; the test answers through `c` (or does not).
    using OnRequest = std::function<void(Conn &c, const std::string &request)>;

    explicit FakeOrigin(UvTestLoop &loop) : loop_(loop) {
        auto fd = io::open_listen_socket(io::listen_address("127.0.0.1", 0).value(), 16);
        REQUIRE(fd.ok());
        port_ = io::bound_port(*fd);
        uv_tcp_init(loop.get(), &listener_);
        listener_.data = this;
        REQUIRE(io::start_listening(listener_, *fd, 16, &FakeOrigin::on_connection) == 0);
    }
    ~FakeOrigin() {
        for (auto &c : conns)
            c->close();
        loop_.close(reinterpret_cast<uv_handle_t *>(&listener_));
        CHECK(loop_.run_until([&] {
            for (auto &c : conns)
                if (!c->closed) return false;
            return true;
        }));
    }
    FakeOrigin(const FakeOrigin &) = delete;
    FakeOrigin &operator=(const FakeOrigin &) = delete;

    uint16_t port() const { return port_; }
    void on_request(OnRequest f) { on_request_ = std::move(f); }
    size_t accepted() const { return conns.size(); }

    std::vector<std::unique_ptr<Conn>> conns; // in the order accepted; kept until the end
    std::vector<std::string> requests;        // every request's bytes, in order

private:
    static void on_connection(uv_stream_t *s, int status) {
        if (status != 0) return;
        auto *o = static_cast<FakeOrigin *>(s->data);
        Conn &c = *o->conns.emplace_back(std::make_unique<Conn>());
        c.origin = o;
        uv_tcp_init(s->loop, &c.tcp);
        c.tcp.data = &c;
        if (uv_accept(s, reinterpret_cast<uv_stream_t *>(&c.tcp)) != 0) return c.close();
        uv_read_start(reinterpret_cast<uv_stream_t *>(&c.tcp), &FakeOrigin::on_alloc,
                      &FakeOrigin::on_read);
    }
    static void on_alloc(uv_handle_t *h, size_t, uv_buf_t *buf) {
        auto *c = static_cast<Conn *>(h->data);
        *buf = uv_buf_init(c->origin->read_buf_, sizeof c->origin->read_buf_);
    }
    static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
        auto *c = static_cast<Conn *>(s->data);
        if (nread < 0) {
            c->peer_closed = true;
            c->close();
            return;
        }
        c->unread.append(buf->base, size_t(nread));
        size_t end;
        while (!c->closing && (end = c->unread.find("\r\n\r\n")) != std::string::npos) {
            std::string request = c->unread.substr(0, end + 4);
            c->unread.erase(0, end + 4);
            c->requests++;
            c->origin->requests.push_back(request);
            if (c->origin->on_request_) c->origin->on_request_(*c, request);
        }
    }

    UvTestLoop &loop_;
    uv_tcp_t listener_{};
    uint16_t port_ = 0;
    OnRequest on_request_;
    char read_buf_[65536];
};

// A response with a Content-Length body.
inline std::string response(const std::string &body, const std::string &fields = "") {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + fields +
           "\r\n" + body;
}

// What a connector needs from its loop. Declare it before the connector, so that the
// connector goes first; its destructor then runs the loop until every connection is gone.
struct OriginServices {
    UvTestLoop &loop;
    io::BufferPool buffers;
    io::Deadlines deadlines;
    io::LiveCount live;
    io::Resolver resolver;

    explicit OriginServices(UvTestLoop &l)
        : loop(l), deadlines(l.get()), resolver(l.get(), &live) {}
    ~OriginServices() {
        CHECK(loop.run_until([&] { return live.count() == 0; }));
        deadlines.close();
    }
    origin::LoopServices get() { return {loop.get(), &buffers, &deadlines, &resolver, &live}; }
};

inline origin::HttpOriginOptions options_for(const FakeOrigin &o) {
    origin::HttpOriginOptions opts;
    opts.host = "127.0.0.1";
    opts.http_port = o.port();
    return opts;
}

// The usual setup of a connector test: a loop, the fake origin, the loop services and an
// HttpOrigin pointed at the fake (members in the order they must be destroyed last to first).
struct OriginFixture {
    UvTestLoop loop;
    FakeOrigin server{loop};
    OriginServices svc{loop};
    origin::HttpOrigin origin{svc.get(), options_for(server)};
};

// A GET for `target` to host origin.test.
struct GetRequest {
    core::RequestHead head;
    origin::OriginRequest request;
    explicit GetRequest(std::string target = "/", bool retryable = true) {
        head.method = core::Method::get;
        head.target = std::move(target);
        head.headers.add("Host", "origin.test");
        request.head = &head;
        request.retryable = retryable;
    }
};

// Records every callback; `fetch` is cleared by the terminal one.
struct Recorder final : origin::FetchHandler {
    std::vector<std::string> events; // "head 200", "body", "complete", "error PERCH_E_..."
    std::optional<core::ResponseHead> head;
    origin::ResponseInfo info;
    std::string body;
    std::optional<core::Error> error;
    origin::Fetch *fetch = nullptr;
    std::function<void(Recorder &)> on_head; // runs inside on_origin_head

    origin::Fetch *start(origin::OriginConnector &c, const GetRequest &get) {
        fetch = c.fetch(get.request, *this);
        return fetch;
    }
    bool finished() const { return completed() || error.has_value(); }
    bool completed() const { return !events.empty() && events.back() == "complete"; }
    // The events joined with ", " (what a failed check prints).
    std::string trace() const {
        std::string t;
        for (const auto &e : events)
            t += (t.empty() ? "" : ", ") + e;
        return t;
    }
    size_t count(const std::string &event) const {
        size_t n = 0;
        for (const auto &e : events)
            n += e == event;
        return n;
    }

    void on_origin_head(core::ResponseHead &h, const origin::ResponseInfo &i) override {
        events.push_back("head " + std::to_string(h.status));
        head = h;
        info = i;
        if (on_head) on_head(*this);
    }
    void on_origin_body(const core::BufferSlice &chunk) override {
        events.push_back("body");
        body.append(chunk.view());
    }
    void on_origin_complete() override {
        events.push_back("complete");
        fetch = nullptr;
    }
    void on_origin_error(const core::Error &e) override {
        events.push_back(std::string("error ") + core::code_name(e.code));
        error = e;
        fetch = nullptr;
    }
};

} // namespace perch::test

#include "edge/http1/admin_listener.hpp"

#include "core/ascii.hpp"
#include "edge/runtime.hpp"
#include "http/head_writer.hpp"
#include "http/request_parser.hpp"
#include "io/deadline_list.hpp"
#include "io/listen_socket.hpp"
#include "io/tcp_stream.hpp"

#include <algorithm>
#include <unistd.h>

namespace perch::edge {

namespace {

uint64_t random_u64() {
    uint64_t v = 0;
    if (uv_random(nullptr, nullptr, &v, sizeof v, 0, nullptr) != 0)
        v = uint64_t(uv_hrtime()) * 0x9e3779b97f4a7c15ull;
    return v;
}

} // namespace

// One connection, one request: read it (head within header_timeout, no silence longer than
// idle_timeout), answer, close once the answer is written. Frees itself when its stream has
// closed.
class AdminConnection final : private io::Stream::Handler, private http::RequestParser::Handler {
public:
    AdminConnection(AdminListener &l, io::Stream *stream)
        : listener_(l), rt_(l.runtime()), stream_(stream), parser_(*this, limits_of(l.runtime())),
          deadline_(&AdminConnection::on_timeout, this) {
        rt_.live().add();
        stream_->set_handler(this);
    }

    void start() {
        arm(limits().header_timeout_ms);
        stream_->start_read();
    }

    void close_now() {
        if (closing_) return;
        closing_ = true;
        deadline_.disarm();
        stream_->close();
    }

private:
    struct Write final : io::Stream::WriteOp {
        explicit Write(AdminConnection &c) : conn(c) {}
        void on_write_done(int status) override { conn.on_written(status); }
        AdminConnection &conn;
        std::string bytes;
    };

    ~AdminConnection() { rt_.live().drop(); }

    static http::RequestLimits limits_of(Runtime &rt) {
        const config::ViewerLimits &l = rt.distribution().config().perch.limits;
        return http::RequestLimits{l.max_uri_bytes, l.max_header_bytes,
                                   AdminHandler::max_body_bytes};
    }
    const config::ViewerLimits &limits() const { return rt_.distribution().config().perch.limits; }
    void arm(uint64_t ms) { rt_.deadlines().arm(deadline_, ms); }

    // io::Stream::Handler
    void on_stream_data(const core::Ref<core::Buffer> &buf, const uint8_t *data,
                        size_t len) override {
        if (closing_ || answered_) return; // a lingering close discards what still arrives
        // The whole head must come within header_timeout (no reset per byte: slowloris); while
        // a body arrives, each read restarts the idle clock.
        if (head_done_) arm(limits().idle_timeout_ms);
        parser_.execute(buf, data, len);
        if (const auto &f = parser_.failure()) {
            if (!answered_) answer(AdminHandler::refused(f->status, f->reason));
        }
    }
    void on_stream_end(int) override {
        // Before the answer: the client gave up. While lingering: the client is done.
        if (!answered_ || lingering_) close_now();
    }
    void on_stream_closed() override {
        // The listener may free itself here; this connection's live count keeps the runtime.
        listener_.connection_closed(this);
        delete this; // uses only rt_
    }

    // http::RequestParser::Handler
    void on_request_head(core::RequestHead &head) override {
        head_done_ = true;
        arm(limits().idle_timeout_ms);
        wants_body_ = listener_.handler().wants_body(head);
        if (head.version_minor >= 1 && parser_.has_body() && wants_body_) {
            if (auto e = head.headers.get("expect"); e && core::iequals(*e, "100-continue"))
                send("HTTP/1.1 100 Continue\r\n\r\n", false);
        }
    }
    void on_request_body(const core::BufferSlice &chunk) override {
        if (wants_body_) body_.append(reinterpret_cast<const char *>(chunk.ptr), chunk.len);
    }
    void on_request_complete() override {
        complete_ = true;
        PendingInvalidation p;
        if (auto r = listener_.handler().begin(parser_.head(), body_, rt_.now(), random_u64(), p))
            return answer(*r);
        stream_->stop_read();
        deadline_.disarm(); // the answer waits for the store, not for the client
        listener_.run_invalidation(this, std::move(p));
    }

public:
    void answer(const AdminResponse &r) {
        if (closing_) return;
        answered_ = true;
        // A request refused before its body was read (413) leaves bytes the client is still
        // sending: closing at once could turn the close into a reset that destroys the answer.
        linger_ = !complete_;
        stream_->stop_read();
        bool head_only = parser_.head().method == core::Method::head && r.status == 200;
        std::string out;
        http::HeadWriter hw(out);
        hw.status_line(r.status, {});
        hw.field("Content-Type", "application/json");
        hw.field("Content-Length", uint64_t(r.body.size()));
        hw.field("Cache-Control", "no-store");
        if (!r.location.empty()) hw.field("Location", r.location);
        if (!r.allow.empty()) hw.field("Allow", r.allow);
        if (r.auth_challenge) hw.field("WWW-Authenticate", "Bearer realm=\"perch admin\"");
        char id[24];
        hw.field("X-Request-Id", std::string_view(id, rt_.next_request_id(id)));
        hw.field("Connection", "close");
        hw.end();
        if (!head_only) out += r.body;
        send(std::move(out), true);
    }

private:
    void send(std::string bytes, bool last) {
        auto *w = new Write(*this);
        w->bytes = std::move(bytes);
        uv_buf_t buf = uv_buf_init(w->bytes.data(), unsigned(w->bytes.size()));
        last_sent_ = last_sent_ || last;
        ++writes_;
        if (stream_->write(&buf, 1, w) != 0) {
            delete w;
            --writes_;
            close_now();
            return;
        }
        writes_in_flight_.push_back(w);
        arm(limits().idle_timeout_ms);
    }

    void on_written(int status) {
        Write *w = writes_in_flight_.front();
        writes_in_flight_.erase(writes_in_flight_.begin());
        delete w;
        if (status != 0) close_now(); // the client is gone
        if (--writes_ != 0 || !last_sent_ || closing_ || lingering_) return;
        if (!linger_) return close_now();
        // Lingering close (RFC 9112 §9.6): end our side, discard input until the client
        // closes or linger_ms pass.
        lingering_ = true;
        stream_->shutdown_write();
        stream_->start_read();
        arm(linger_ms);
    }

    static void on_timeout(void *p) { static_cast<AdminConnection *>(p)->close_now(); }

    static constexpr uint64_t linger_ms = 2000;

    AdminListener &listener_;
    Runtime &rt_;
    io::Stream *stream_;
    http::RequestParser parser_;
    io::Deadline deadline_;
    std::string body_;
    std::vector<Write *> writes_in_flight_; // completed in order
    size_t writes_ = 0;
    bool wants_body_ = false;
    bool answered_ = false;
    bool last_sent_ = false;
    bool head_done_ = false;
    bool complete_ = false;  // the whole request was read
    bool linger_ = false;    // the answer leaves request bytes unread
    bool lingering_ = false; // write side shut, discarding input
    bool closing_ = false;
};

struct AdminListener::InvalidationWork {
    uv_work_t req{};
    AdminListener *listener = nullptr;
    AdminConnection *conn = nullptr; // null once the connection has closed
    PendingInvalidation pending;
};

void AdminListener::run_invalidation(AdminConnection *c, PendingInvalidation p) {
    if (!p.scans_store()) {
        p.run(rt_.store());
        return c->answer(handler_.finish(std::move(p)));
    }
    auto *w = new InvalidationWork;
    w->req.data = w;
    w->listener = this;
    w->conn = c;
    w->pending = std::move(p);
    int rc = uv_queue_work(
        rt_.loop(), &w->req,
        [](uv_work_t *r) {
            auto *w = static_cast<InvalidationWork *>(r->data);
            w->pending.run(w->listener->rt_.store()); // the store is thread-safe
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
        w->pending.run(rt_.store());
        c->answer(handler_.finish(std::move(w->pending)));
        delete w;
        return;
    }
    works_.push_back(w);
}

AdminListener::AdminListener(Runtime &rt, std::string token)
    : rt_(rt), handler_(std::move(token), rt.store()) {
    rt_.live().add();
    uv_tcp_init(rt_.loop(), &tcp_);
    tcp_.data = this;
}

int AdminListener::open(int fd) {
    return io::start_listening(tcp_, fd, 64, &on_connection);
}

void AdminListener::close() {
    if (closing_) return;
    closing_ = true;
    for (AdminConnection *c : std::vector<AdminConnection *>(connections_))
        c->close_now();
    uv_close(reinterpret_cast<uv_handle_t *>(&tcp_), [](uv_handle_t *h) {
        auto *self = static_cast<AdminListener *>(h->data);
        self->handle_closed_ = true;
        self->maybe_free();
    });
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
    Runtime &rt = rt_;
    rt.admin_listener_closed(this);
    delete this;
    rt.live().drop();
}

void AdminListener::on_connection(uv_stream_t *server, int status) {
    auto *self = static_cast<AdminListener *>(server->data);
    if (status != 0 || self->closing_) return;
    auto *tcp = new io::TcpStream(self->rt_.loop(), self->rt_.buffers());
    if (tcp->accept(server) != 0) {
        tcp->close();
        return;
    }
    auto *c = new AdminConnection(*self, tcp);
    self->connections_.push_back(c);
    c->start();
}

} // namespace perch::edge

#include "origin/http_origin.hpp"

#include "http/head_writer.hpp"
#include "http/response_parser.hpp"
#include "io/tcp_stream.hpp"
#include "io/tls_stream.hpp"

#include <algorithm>
#include <cstring>

namespace perch::origin {

using core::Code;
using core::Error;
using core::Ref;
using core::Source;

namespace {

// A write that owns what it writes: a copy of the head, or one body slice between an inline
// chunk header and a static trailer. One allocation per write (two for a head): a miss makes
// one of each, so vectors and a string per piece would be most of the miss path's mallocs.
class OwnedWrite final : public io::Stream::WriteOp {
public:
    using Done = void (*)(void *ctx, int status, size_t bytes);
    OwnedWrite(Done done, void *ctx) : done_(done), ctx_(ctx) {}

    // Text that lives as long as the program (a literal).
    void literal(std::string_view t) { push(t.data(), t.size()); }
    // Text copied into the write: one head, or one short piece such as a chunk header.
    void copy(std::string_view t) {
        if (t.size() <= sizeof(small_) && small_len_ == 0) {
            std::memcpy(small_, t.data(), t.size());
            small_len_ = uint8_t(t.size());
            return push(small_, t.size());
        }
        owned_.assign(t);
        push(owned_.data(), owned_.size());
    }
    void slice(const core::BufferSlice &s) {
        slice_ = s; // holds the buffer until the write is done
        push(reinterpret_cast<const char *>(s.ptr), s.len);
    }
    int send(io::Stream &stream) { return stream.write(bufs_, count_, this); }
    void on_write_done(int status) override {
        done_(ctx_, status, bytes_);
        delete this;
    }

private:
    void push(const char *p, size_t n) {
        bufs_[count_++] = uv_buf_init(const_cast<char *>(p), unsigned(n));
        bytes_ += n;
    }

    Done done_;
    void *ctx_;
    uv_buf_t bufs_[3];
    unsigned count_ = 0;
    size_t bytes_ = 0;
    core::BufferSlice slice_;
    std::string owned_;
    char small_[20];
    uint8_t small_len_ = 0;
};

Error origin_error(Code code, std::string ctx, bool retryable = false) {
    return Error::make(code, Source::origin, std::move(ctx), retryable);
}

} // namespace

// --- one connection to the origin --------------------------------------------------------

class HttpOrigin::Connection final : public io::Stream::Handler,
                                     public http::ResponseParser::Handler {
public:
    Connection(HttpOrigin &origin, bool tls)
        : origin_(&origin), live_(origin.svc_.live), tls_(tls), parser_(*this),
          deadline_(&Connection::on_deadline, this) {
        if (live_) live_->add();
    }
    ~Connection() {
        if (live_) live_->drop();
    }

    HttpOrigin *origin_;
    io::LiveCount *live_;
    io::Stream *stream_ = nullptr;
    bool tls_;
    http::ResponseParser parser_;
    io::Deadline deadline_;
    HttpFetch *fetch_ = nullptr;
    uint64_t idle_since_ = 0;
    size_t writes_in_flight_ = 0;
    bool reused_ = false;
    bool got_bytes_ = false;
    bool connecting_ = false;
    bool request_sent_ = false;     // bytes before that are not an answer to anything
    bool complete_pending_ = false; // the response ended inside parser_.execute()
    bool closing_ = false;

    void close();
    static void on_connect(void *self, int status);
    void connect_failed(int status);
    void begin_response(HttpFetch *f, bool head_request) {
        fetch_ = f;
        got_bytes_ = false;
        complete_pending_ = false;
        parser_.reset(head_request);
    }
    // Ends the connection's part in its fetch before a request went out (the origin closed a
    // pooled connection, or sent bytes nobody asked for): the fetch connects afresh.
    void drop_before_request(int status);
    void deliver_completion(bool more_bytes_followed);
    static void on_deadline(void *self);
    static void on_write(void *self, int status, size_t bytes);

    void on_stream_data(const Ref<core::Buffer> &buf, const uint8_t *data, size_t len) override;
    void on_stream_end(int status) override;
    void on_stream_closed() override;
    void on_response_head(core::ResponseHead &head) override;
    void on_response_interim(const core::ResponseHead &head) override;
    void on_response_body(const core::BufferSlice &chunk) override;
    void on_response_complete() override;
};

// --- one request -------------------------------------------------------------------------

class HttpOrigin::HttpFetch final : public Fetch {
public:
    HttpFetch(HttpOrigin &origin, const OriginRequest &req, FetchHandler &handler)
        : origin_(origin), handler_(&handler), defer_(&HttpFetch::on_deferred, this) {
        const core::RequestHead &h = *req.head;
        head_request_ = h.method == core::Method::head;
        retryable_ = req.retryable;
        has_body_ = req.has_body;
        chunked_ = req.has_body && !req.body_length;
        tls_ = req.https;
        size_t estimate = h.target.size() + 64; // request line, framing field, blank line
        for (size_t i = 0; i < h.headers.size(); ++i)
            estimate += h.headers.name(i).size() + h.headers.value(i).size() + 4;
        head_bytes_.reserve(estimate); // one allocation, not one per doubling
        http::HeadWriter w(head_bytes_);
        w.request_line(h.method_text.empty() ? core::method_name(h.method) : h.method_text,
                       h.target);
        for (size_t i = 0; i < h.headers.size(); ++i)
            w.field(h.headers.name(i), h.headers.value(i));
        if (req.body_length)
            w.field("Content-Length", *req.body_length);
        else if (chunked_)
            w.field("Transfer-Encoding", "chunked");
        w.end();
    }

    void start();
    void write_body(const core::BufferSlice &chunk) override;
    void end_body() override;
    size_t body_queue_bytes() const noexcept override {
        return queued_ + (conn_ && conn_->stream_ ? conn_->stream_->write_queue_bytes() : 0);
    }
    // While the edge holds the origin back, the origin's silence is not its fault: the read
    // timeout stops with the reading and starts again with it.
    void pause_response() override {
        paused_ = true;
        if (conn_ && conn_->stream_ && conn_->request_sent_) {
            conn_->stream_->stop_read();
            conn_->deadline_.disarm();
        }
    }
    void resume_response() override {
        paused_ = false;
        if (conn_ && conn_->stream_ && conn_->request_sent_) {
            conn_->stream_->start_read();
            origin_.svc_.deadlines->arm(conn_->deadline_, origin_.opts_.read_timeout_ms);
        }
    }
    void cancel() override;
    void rebind(FetchHandler &handler) noexcept override { handler_ = &handler; }

    // From the connection.
    void connected(Connection *c);
    void response_head(core::ResponseHead &head);
    void response_interim(const core::ResponseHead &head) { handler_->on_origin_interim(head); }
    void response_body(const core::BufferSlice &chunk) { handler_->on_origin_body(chunk); }
    void response_complete(bool reusable);
    void connection_failed(Connection *c, int status);
    void fail(Error e);
    void body_written() {
        if (has_body_ && !body_ended_) handler_->on_origin_body_drained();
    }

    bool paused() const noexcept { return paused_; }
    bool retryable_ = false;
    bool head_request_ = false;

private:
    static void on_resolved(void *self, int status, const std::vector<sockaddr_storage> &addrs);
    static void on_deferred(void *self);
    void connect_next();
    void open_connection();
    bool send_head(); // false: the fetch failed and is gone
    void flush_body();
    void write_chunk(const core::BufferSlice &chunk);
    void finish(); // frees this

    HttpOrigin &origin_;
    FetchHandler *handler_;
    std::string head_bytes_;
    std::vector<core::BufferSlice> pending_body_;
    size_t queued_ = 0;
    io::Resolver::Lookup *lookup_ = nullptr;
    std::vector<sockaddr_storage> addrs_;
    uint32_t attempts_ = 0;
    Connection *conn_ = nullptr;
    io::Deadline defer_;
    std::optional<Error> deferred_error_;
    int last_connect_error_ = 0;
    bool has_body_ = false;
    bool chunked_ = false;
    bool body_ended_ = false;
    bool head_sent_ = false;
    bool paused_ = false;
    bool retried_ = false;
    bool tls_ = false;
    bool got_response_head_ = false;
};

// --- HttpOrigin ------------------------------------------------------------------------------

HttpOrigin::HttpOrigin(const LoopServices &services, HttpOriginOptions options)
    : svc_(services), opts_(std::move(options)) {}

HttpOrigin::~HttpOrigin() {
    // Connections outlive us only until their close callbacks; they must not call back.
    for (Connection *c : all_) {
        c->origin_ = nullptr;
        c->close();
    }
}

Fetch *HttpOrigin::fetch(const OriginRequest &request, FetchHandler &handler) {
    auto *f = new HttpFetch(*this, request, handler);
    f->start();
    return f;
}

void HttpOrigin::close_idle() {
    auto idle = std::move(idle_);
    idle_.clear();
    for (Connection *c : idle)
        c->close();
}

HttpOrigin::Connection *HttpOrigin::take_idle(bool tls) {
    for (size_t i = idle_.size(); i-- > 0;) {
        Connection *c = idle_[i];
        if (c->tls_ != tls) continue;
        idle_.erase(idle_.begin() + ptrdiff_t(i));
        c->deadline_.disarm();
        return c;
    }
    return nullptr;
}

void HttpOrigin::give_back(Connection *c) {
    c->fetch_ = nullptr;
    c->request_sent_ = false;
    c->reused_ = true;
    c->idle_since_ = uv_now(svc_.loop);
    c->stream_->start_read(); // notice the origin closing it
    svc_.deadlines->arm(c->deadline_, opts_.keepalive_timeout_ms);
    idle_.push_back(c);
    if (idle_.size() > opts_.max_idle_connections) {
        Connection *oldest = idle_.front();
        idle_.erase(idle_.begin());
        oldest->close();
    }
}

void HttpOrigin::forget(Connection *c) {
    idle_.erase(std::remove(idle_.begin(), idle_.end(), c), idle_.end());
    all_.erase(std::remove(all_.begin(), all_.end(), c), all_.end());
}

// --- Connection ------------------------------------------------------------------------------

void HttpOrigin::Connection::close() {
    if (closing_) return;
    closing_ = true;
    deadline_.disarm();
    // Detach now: the origin may be destroyed before the close callback runs.
    if (origin_) origin_->forget(this);
    origin_ = nullptr;
    if (stream_)
        stream_->close(); // on_stream_closed frees this
    else
        delete this;
}

void HttpOrigin::Connection::on_deadline(void *p) {
    auto *c = static_cast<Connection *>(p);
    if (c->connecting_) {
        c->connect_failed(UV_ETIMEDOUT);
        return;
    }
    if (HttpFetch *f = c->fetch_) {
        c->fetch_ = nullptr;
        f->fail(origin_error(Code::origin_timeout,
                             c->got_bytes_ ? "origin read timeout" : "origin response timeout"));
    }
    c->close();
}

void HttpOrigin::Connection::on_connect(void *p, int status) {
    auto *c = static_cast<Connection *>(p);
    if (c->closing_ || !c->connecting_ || !c->fetch_) return;
    if (status != 0) {
        c->connect_failed(status);
        return;
    }
    c->connecting_ = false;
    c->deadline_.disarm();
    HttpFetch *f = std::exchange(c->fetch_, nullptr);
    if (c->tls_) {
        HttpOrigin &o = *c->origin_;
        auto *tls = io::TlsStream::wrap_client(c->stream_, *o.opts_.tls, o.opts_.host,
                                               *o.svc_.buffers, *o.svc_.deadlines);
        c->stream_ = tls;
        tls->set_handler(c);
    }
    f->connected(c);
}

void HttpOrigin::Connection::connect_failed(int status) {
    connecting_ = false;
    HttpFetch *f = std::exchange(fetch_, nullptr);
    close();
    if (f) f->connection_failed(this, status);
}

void HttpOrigin::Connection::on_write(void *p, int status, size_t) {
    auto *c = static_cast<Connection *>(p);
    c->writes_in_flight_--;
    if (c->closing_) return;
    if (status != 0) {
        // The response may still arrive (an origin may answer early and close); let the read
        // side report the end. Stop writing.
        return;
    }
    if (c->fetch_) {
        if (c->origin_ && !c->got_bytes_ && !c->fetch_->paused())
            c->origin_->svc_.deadlines->arm(c->deadline_, c->origin_->opts_.read_timeout_ms);
        c->fetch_->body_written();
    }
}

void HttpOrigin::Connection::on_stream_data(const Ref<core::Buffer> &buf, const uint8_t *data,
                                            size_t len) {
    if (!fetch_) {
        close(); // bytes nobody asked for on an idle connection
        return;
    }
    if (!request_sent_) {
        drop_before_request(UV_ECONNRESET); // taken from the pool, then sent garbage
        return;
    }
    got_bytes_ = true;
    size_t used = parser_.execute(buf, data, len);
    if (!fetch_) return; // failed or cancelled inside the callbacks
    // origin_read_timeout runs to the final head: interim responses (an endless stream of
    // 100 Continue) do not restart it; once the head is in, every read does.
    if (origin_ && parser_.got_head() && !fetch_->paused())
        origin_->svc_.deadlines->arm(deadline_, origin_->opts_.read_timeout_ms);
    if (complete_pending_) {
        // Bytes after the response answer nothing we sent: such a connection is not reused.
        deliver_completion(used < len);
        return;
    }
    if (parser_.failure()) {
        HttpFetch *f = std::exchange(fetch_, nullptr);
        f->fail(origin_error(Code::origin_protocol, parser_.failure()));
        close();
    }
}

void HttpOrigin::Connection::drop_before_request(int status) {
    HttpFetch *f = std::exchange(fetch_, nullptr);
    close();
    f->connection_failed(this, status);
}

void HttpOrigin::Connection::deliver_completion(bool more_bytes_followed) {
    complete_pending_ = false;
    deadline_.disarm();
    std::exchange(fetch_, nullptr)->response_complete(!more_bytes_followed);
}

void HttpOrigin::Connection::on_stream_end(int status) {
    if (!fetch_) {
        close();
        return;
    }
    if (!request_sent_) {
        drop_before_request(status); // a pooled connection the origin closed meanwhile
        return;
    }
    // Only a clean end completes a close-delimited body; a reset (or, over TLS, an end
    // without close_notify) means it was cut short.
    if (status == UV_EOF) parser_.finish();
    if (complete_pending_) {
        deliver_completion(true);
        return;
    }
    HttpFetch *f = std::exchange(fetch_, nullptr);
    if (!got_bytes_ && reused_ && f->retryable_) {
        close();
        f->connection_failed(nullptr, status); // retried on a fresh connection
        return;
    }
    const char *why = parser_.failure() ? parser_.failure() : uv_strerror(status);
    f->fail(origin_error(Code::origin_protocol, why));
    close();
}

void HttpOrigin::Connection::on_stream_closed() {
    stream_ = nullptr;
    delete this; // close() already detached it from the origin
}

void HttpOrigin::Connection::on_response_head(core::ResponseHead &head) {
    if (fetch_) fetch_->response_head(head);
}

void HttpOrigin::Connection::on_response_interim(const core::ResponseHead &head) {
    if (fetch_) fetch_->response_interim(head);
}

void HttpOrigin::Connection::on_response_body(const core::BufferSlice &chunk) {
    if (fetch_) fetch_->response_body(chunk);
}

void HttpOrigin::Connection::on_response_complete() {
    // Delivered once the parser has returned, when it is known whether more bytes followed.
    if (fetch_) complete_pending_ = true;
}

// --- HttpFetch -------------------------------------------------------------------------------

void HttpOrigin::HttpFetch::start() {
    const HttpOriginOptions &o = origin_.opts_;
    if (tls_ && !o.tls) {
        deferred_error_ = origin_error(Code::unsupported, "HTTPS origin without a TLS context");
        origin_.svc_.deadlines->arm(defer_, 0);
        return;
    }
    // Requests that may not be retried avoid connections that sat idle long enough for the
    // origin to be closing them.
    if (Connection *c = origin_.take_idle(tls_)) {
        uint64_t idle_ms = uv_now(origin_.svc_.loop) - c->idle_since_;
        if (retryable_ || idle_ms < 2000) {
            // Reserved now: if the origin closes it before the deferred start, the
            // connection reports to this fetch, which then connects afresh.
            conn_ = c;
            c->fetch_ = this;
            c->request_sent_ = false;
            // Defer so that no handler callback runs inside fetch().
            origin_.svc_.deadlines->arm(defer_, 0);
            return;
        }
        c->close();
    }
    open_connection();
}

void HttpOrigin::HttpFetch::open_connection() {
    if (!addrs_.empty()) {
        origin_.svc_.deadlines->arm(defer_, 0); // connect_next on the next turn
        return;
    }
    uint16_t port = tls_ ? origin_.opts_.https_port : origin_.opts_.http_port;
    lookup_ =
        origin_.svc_.resolver->resolve(origin_.opts_.host, port, &HttpFetch::on_resolved, this);
}

void HttpOrigin::HttpFetch::on_deferred(void *p) {
    auto *f = static_cast<HttpFetch *>(p);
    if (f->deferred_error_) {
        Error e = std::move(*f->deferred_error_);
        f->deferred_error_.reset();
        f->fail(std::move(e));
        return;
    }
    if (f->lookup_) return; // a resolution is under way; it re-arms this
    if (f->conn_ && !f->head_sent_)
        f->connected(f->conn_);
    else if (!f->conn_)
        f->connect_next();
}

void HttpOrigin::HttpFetch::on_resolved(void *p, int status,
                                        const std::vector<sockaddr_storage> &addrs) {
    auto *f = static_cast<HttpFetch *>(p);
    f->lookup_ = nullptr;
    if (status != 0) {
        f->deferred_error_ = origin_error(Code::origin_connect,
                                          std::string("cannot resolve ") + f->origin_.opts_.host +
                                              ": " + uv_strerror(status),
                                          true);
        f->origin_.svc_.deadlines->arm(f->defer_, 0);
        return;
    }
    f->addrs_ = addrs;
    // Resolution may have completed inside start() (numeric host, cache): connect on the next
    // turn so that failures never reach the handler synchronously.
    f->origin_.svc_.deadlines->arm(f->defer_, 0);
}

void HttpOrigin::HttpFetch::connect_next() {
    const HttpOriginOptions &o = origin_.opts_;
    if (attempts_ >= o.connection_attempts || addrs_.empty()) {
        uint16_t port = tls_ ? o.https_port : o.http_port;
        std::string why = "cannot connect to " + o.host + ":" + std::to_string(port);
        if (last_connect_error_) why += std::string(": ") + uv_strerror(last_connect_error_);
        fail(origin_error(last_connect_error_ == UV_ETIMEDOUT ? Code::origin_timeout
                                                              : Code::origin_connect,
                          why, true));
        return;
    }
    const sockaddr_storage &addr = addrs_[attempts_ % addrs_.size()];
    attempts_++;
    auto *c = new Connection(origin_, tls_);
    auto *tcp = new io::TcpStream(origin_.svc_.loop, *origin_.svc_.buffers);
    c->stream_ = tcp;
    tcp->set_handler(c);
    origin_.all_.push_back(c);
    int rc = tcp->connect(reinterpret_cast<const sockaddr *>(&addr), &Connection::on_connect, c);
    if (rc != 0) {
        last_connect_error_ = rc;
        c->close();
        origin_.svc_.deadlines->arm(defer_, 0); // next attempt on the next turn
        return;
    }
    conn_ = c;
    c->fetch_ = this;
    c->connecting_ = true;
    origin_.svc_.deadlines->arm(c->deadline_, o.connect_timeout_ms);
}

void HttpOrigin::HttpFetch::connection_failed(Connection *, int status) {
    conn_ = nullptr; // the connection closed itself
    if (got_response_head_) {
        fail(origin_error(Code::origin_protocol, "origin connection lost"));
        return;
    }
    if (head_sent_) {
        // A reused connection was closed by the origin before it answered: retry once.
        if (!retried_ && retryable_) {
            retried_ = true;
            head_sent_ = false;
            attempts_ = 0;
            open_connection();
            return;
        }
        fail(origin_error(Code::origin_protocol, "origin closed the connection"));
        return;
    }
    last_connect_error_ = status;
    open_connection();
}

void HttpOrigin::HttpFetch::connected(Connection *c) {
    conn_ = c;
    c->begin_response(this, head_request_);
    if (!send_head()) return;
    if (paused_)
        c->stream_->stop_read();
    else
        c->stream_->start_read();
}

bool HttpOrigin::HttpFetch::send_head() {
    auto *w = new OwnedWrite(&Connection::on_write, conn_);
    w->copy(head_bytes_);
    head_sent_ = true;
    conn_->writes_in_flight_++;
    if (w->send(*conn_->stream_) != 0) {
        conn_->writes_in_flight_--;
        delete w;
        Connection *c = std::exchange(conn_, nullptr);
        c->fetch_ = nullptr;
        c->close();
        fail(origin_error(Code::origin_connect, "cannot write to the origin", true));
        return false;
    }
    conn_->request_sent_ = true;
    if (!paused_) origin_.svc_.deadlines->arm(conn_->deadline_, origin_.opts_.read_timeout_ms);
    flush_body();
    return true;
}

void HttpOrigin::HttpFetch::write_body(const core::BufferSlice &chunk) {
    if (chunk.len == 0) return;
    if (!conn_ || !head_sent_) {
        pending_body_.push_back(chunk);
        queued_ += chunk.len;
        return;
    }
    write_chunk(chunk);
}

void HttpOrigin::HttpFetch::write_chunk(const core::BufferSlice &chunk) {
    auto *w = new OwnedWrite(&Connection::on_write, conn_);
    if (chunked_) {
        char hdr[20];
        w->copy(std::string_view(hdr, http::format_chunk_header(chunk.len, hdr)));
        w->slice(chunk);
        w->literal("\r\n");
    } else {
        w->slice(chunk);
    }
    conn_->writes_in_flight_++;
    if (w->send(*conn_->stream_) != 0) {
        conn_->writes_in_flight_--;
        delete w;
    }
}

void HttpOrigin::HttpFetch::end_body() {
    body_ended_ = true;
    if (conn_ && head_sent_) flush_body();
}

void HttpOrigin::HttpFetch::flush_body() {
    for (auto &s : pending_body_)
        write_chunk(s);
    pending_body_.clear();
    queued_ = 0;
    if (body_ended_ && chunked_) {
        auto *w = new OwnedWrite(&Connection::on_write, conn_);
        w->literal("0\r\n\r\n");
        conn_->writes_in_flight_++;
        if (w->send(*conn_->stream_) != 0) {
            conn_->writes_in_flight_--;
            delete w;
        }
        chunked_ = false; // the terminator is sent once
    }
}

void HttpOrigin::HttpFetch::response_head(core::ResponseHead &head) {
    got_response_head_ = true;
    ResponseInfo info;
    info.content_length = conn_->parser_.content_length();
    info.no_body = head_request_ || head.status == 204 || head.status == 304;
    handler_->on_origin_head(head, info);
}

void HttpOrigin::HttpFetch::response_complete(bool reusable) {
    Connection *c = std::exchange(conn_, nullptr);
    // Reuse the connection only if the origin allows it and our request went out whole.
    reusable = reusable && c && c->parser_.keep_alive() && (!has_body_ || body_ended_) &&
               pending_body_.empty() && c->origin_;
    if (c) {
        if (reusable) {
            c->deadline_.disarm();
            origin_.give_back(c);
        } else {
            c->close();
        }
    }
    handler_->on_origin_complete();
    finish();
}

void HttpOrigin::HttpFetch::fail(Error e) {
    if (Connection *c = std::exchange(conn_, nullptr)) {
        c->fetch_ = nullptr;
        c->close();
    }
    handler_->on_origin_error(e);
    finish();
}

void HttpOrigin::HttpFetch::cancel() {
    if (Connection *c = std::exchange(conn_, nullptr)) {
        c->fetch_ = nullptr;
        c->close();
    }
    finish();
}

void HttpOrigin::HttpFetch::finish() {
    io::Resolver::cancel(lookup_);
    lookup_ = nullptr;
    defer_.disarm();
    delete this;
}

} // namespace perch::origin

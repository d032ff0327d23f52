#include "edge/http1/viewer_connection.hpp"

#include "core/ascii.hpp"
#include "edge/flow_control.hpp"
#include "edge/generated_response.hpp"
#include "edge/request_shaping.hpp"
#include "edge/runtime.hpp"
#include "http/head_writer.hpp"
#include "http/http_date.hpp"

namespace perch::edge {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

namespace {

bool expects_continue(const core::RequestHead &req) {
    auto e = req.headers.get("expect");
    return e && core::iequals(*e, "100-continue");
}

http::RequestLimits limits_of(const Runtime &rt) {
    const config::ViewerLimits &l = rt.distribution().config().perch.limits;
    return http::RequestLimits{l.max_uri_bytes, l.max_header_bytes, l.max_body_bytes};
}
} // namespace

// A write to the viewer: up to two text runs around up to 17 slices, all kept alive until done.
class ViewerConnection::Write final : public io::Stream::WriteOp {
public:
    static constexpr size_t max_slices = 18;
    explicit Write(ViewerConnection &c) : conn(c) {}

    void on_write_done(int status) override { conn.on_write_done(this, status); }
    void clear() {
        for (size_t i = 0; i < nslices; ++i)
            slices[i] = BufferSlice();
        nslices = 0;
        pre.clear();
        post.clear();
    }

    ViewerConnection &conn;
    const BufferSlice *head = nullptr; // only during assembly
    BufferSlice slices[max_slices];
    size_t nslices = 0;
    std::string pre, post;
    uv_buf_t bufs[max_slices + 3];
    io::Stream::FileSpan files[max_slices + 3];
};

ViewerConnection::ViewerConnection(Runtime &rt, io::Stream *stream, bool https)
    : rt_(rt), stream_(stream), parser_(*this, limits_of(rt)), txn_(rt, this, *this),
      deadline_(&ViewerConnection::on_timeout, this), https_(https) {
    rt_.live().add();
    stream_->set_handler(this);
    char addr[64];
    if (stream_->peer_address(addr, sizeof addr) == 0) client_ = addr;
}

ViewerConnection::~ViewerConnection() {
    for (Write *w : free_writes_)
        delete w;
    rt_.live().drop();
}

void ViewerConnection::start() {
    rt_.connection_opened(this);
    timeout_ = Timeout::header;
    rt_.deadlines().arm(deadline_, rt_.distribution().config().perch.limits.header_timeout_ms);
    stream_->start_read();
}

void ViewerConnection::drain() {
    close_after_response_ = true;
    if (txn_.active() || writes_in_flight_ > 0) return;
    if (!parser_.in_message()) return close_now();
    if (discarding_body_) {
        linger_ = true; // the rest of an answered request's body need not be awaited
        close_when_written();
    }
}

void ViewerConnection::close_now() {
    if (closing_) return;
    closing_ = true;
    deadline_.disarm();
    txn_.cancel();
    leftover_ = BufferSlice();
    stream_->close();
}

void ViewerConnection::on_stream_closed() {
    rt_.connection_closed(this);
    delete this;
}

// --- reading ---------------------------------------------------------------------------------

void ViewerConnection::on_stream_data(const Ref<Buffer> &buf, const uint8_t *data, size_t len) {
    if (closing_ || lingering_) return; // a lingering close discards what still arrives
    in_pump_ = true;
    parse(buf, data, len);
    in_pump_ = false;
    pump();
}

void ViewerConnection::parse(const Ref<Buffer> &buf, const uint8_t *data, size_t len) {
    if (parser_.paused() && len > 0) {
        // Pipelined bytes while a request is answered: kept for later, and reading stops
        // (one read's worth is held at most).
        leftover_ = BufferSlice(buf, data, len);
        stream_->stop_read();
        return rearm();
    }
    while (len > 0 && !closing_) {
        size_t used = parser_.execute(buf, data, len);
        data += used;
        len -= used;
        if (const auto &f = parser_.failure()) return reject(f->status, f->reason);
        if (parser_.paused()) {
            // A whole request is in; what follows waits until it is answered. Without such
            // bytes reading goes on, so that a viewer that resets its connection while it
            // waits is noticed at once (its transaction is cancelled: a fetch it leads is
            // handed to its waiters) rather than when the answer is written.
            if (len > 0) {
                leftover_ = BufferSlice(buf, data, len);
                stream_->stop_read();
            }
            break;
        }
    }
    rearm();
}

void ViewerConnection::on_stream_end(int status) {
    if (closing_) return;
    if (lingering_) {
        close_now();
        return;
    }
    if (discarding_body_ && parser_.in_message() && !txn_.active()) {
        // The answered request's body stopped short: close once its answer is out.
        if (writes_in_flight_ == 0) return close_now();
        close_after_response_ = true;
        linger_ = false;
        return;
    }
    if (txn_.active() || writes_in_flight_ > 0) {
        if (parser_.in_message() || status != UV_EOF) {
            // The viewer stopped sending mid-request (the request cannot be completed), or its
            // connection failed (nobody will read the answer).
            close_now();
            return;
        }
        // Half-closed after a complete request: answer it, then close.
        close_after_response_ = true;
        return;
    }
    parser_.finish();
    if (parser_.failure() && parser_.in_message()) return reject(400, "incomplete request");
    close_now();
}

void ViewerConnection::on_request_head(core::RequestHead &head) {
    timeout_ = Timeout::none;
    deadline_.disarm();
    response_started_ = false;
    chunked_ = false;
    txn_done_ = false;
    discarding_body_ = false;
    owes_proceed_ = false;
    if (rt_.draining()) close_after_response_ = true;
    ViewerRequest req;
    req.head = &head;
    req.https = https_;
    req.client_address = client_;
    io::TlsFacts tls = stream_->tls_facts();
    req.tls = ViewerTls{tls.protocol, tls.cipher};
    req.request_id = std::string_view(id_, rt_.next_request_id(id_));
    req.has_body = parser_.has_body();
    req.body_length = parser_.content_length();
    txn_.start(req);
    // Expect: 100-continue (RFC 9110 §10.1.1): invite the body once the edge will use it.
    if (head.version_minor >= 1 && parser_.has_body() && txn_.wants_body() && !response_started_) {
        if (expects_continue(head)) {
            Write *w = take_write();
            w->pre = "HTTP/1.1 100 Continue\r\n\r\n";
            submit(w);
        }
    }
}

void ViewerConnection::on_request_body(const BufferSlice &chunk) {
    if (txn_.active()) txn_.on_request_body(chunk);
}

void ViewerConnection::on_request_complete() {
    body_paused_ = false; // the body is all in: nothing left to pace
    if (txn_.active()) txn_.on_request_body_end();
}

void ViewerConnection::pause_request_body() {
    body_paused_ = true;
    stream_->stop_read();
}

void ViewerConnection::resume_request_body() {
    if (!body_paused_ || closing_) return;
    body_paused_ = false;
    if (!parser_.paused()) stream_->start_read();
}

// --- moving between requests -------------------------------------------------------------------

void ViewerConnection::transaction_done() {
    txn_done_ = true;
    pump();
}

void ViewerConnection::pump() {
    if (in_pump_ || closing_ || lingering_) return;
    in_pump_ = true;
    while (!closing_) {
        if (txn_.active()) break;
        if (txn_done_) {
            if (!finish_request()) break;
        } else if (parser_.in_message()) {
            break; // a request is still arriving
        }
        if (!leftover_.len) {
            if (!body_paused_) stream_->start_read();
            break;
        }
        BufferSlice next = std::move(leftover_);
        leftover_ = BufferSlice();
        parse(next.buf, next.ptr, next.len);
    }
    in_pump_ = false;
    rearm();
}

bool ViewerConnection::finish_request() {
    if (parser_.in_message() && parser_.has_body()) {
        if (discarding_body_ && !close_after_response_) {
            // The answer did not need the body: read the rest of it and drop it (the parser
            // still holds it to max_body); its end brings the next request (pump()).
            body_paused_ = false;
            stream_->start_read();
            return false;
        }
        // A request whose body was not read to its end leaves the stream unusable: close, but
        // linger so that the viewer's unread upload does not turn the close into a reset that
        // destroys the response (RFC 9112 §9.6).
        close_after_response_ = true;
        linger_ = true;
    }
    if (!parser_.keep_alive()) close_after_response_ = true;
    if (close_after_response_) {
        if (writes_in_flight_ == 0) close_when_written();
        return false;
    }
    if (stream_->write_queue_bytes() > response_high_water) return false; // on_write_done retries
    txn_done_ = false;
    response_started_ = false;
    discarding_body_ = false;
    txn_.reset();
    parser_.resume();
    return true;
}

void ViewerConnection::close_when_written() {
    if (!linger_ || stream_->is_tls()) {
        close_now();
        return;
    }
    lingering_ = true;
    leftover_ = BufferSlice();
    stream_->shutdown_write();
    stream_->start_read(); // read and discard until the viewer closes or the linger ends
    timeout_ = Timeout::linger;
    rt_.deadlines().arm(deadline_, linger_ms);
}

// --- writing ---------------------------------------------------------------------------------

ViewerConnection::Write *ViewerConnection::take_write() {
    if (free_writes_.empty()) return new Write(*this);
    Write *w = free_writes_.back();
    free_writes_.pop_back();
    return w;
}

void ViewerConnection::send(const ResponseHeadOut *head, const BufferSlice *body, size_t count,
                            bool last) {
    if (closing_) return;
    Write *w = take_write();
    if (head) begin_response(*head, w);
    size_t body_bytes = 0;
    for (size_t i = 0; i < count; ++i)
        body_bytes += body[i].len;
    if (chunked_ && body_bytes) {
        char hdr[20];
        w->pre.append(hdr, http::format_chunk_header(body_bytes, hdr));
        w->post = "\r\n";
    }
    if (chunked_ && last) w->post += "0\r\n\r\n";
    for (size_t i = 0; i < count; ++i)
        if (body[i].len) w->slices[w->nslices++] = body[i];
    if (submit(w) != 0) return;
    if (last) {
        timeout_ = Timeout::none; // complete: a close-delimited one ends with the connection
        return;
    }
    ask_for_more();
}

void ViewerConnection::ask_for_more() {
    if (closing_) return;
    if (stream_->write_queue_bytes() > response_high_water) {
        owes_proceed_ = true; // on_write_done asks once the viewer has taken enough
        return;
    }
    owes_proceed_ = false;
    txn_.proceed();
}

void ViewerConnection::begin_response(const ResponseHeadOut &rw, Write *w) {
    response_started_ = true;
    const core::RequestHead &req = parser_.head();
    bool http10 = req.version_minor == 0;
    // Keep-alive needs the request's body read to its end: an origin that answers early
    // leaves unread bytes, and the connection must close. An answer that does not need the
    // body (a hit, a redirect) lets the connection read the rest and drop it instead;
    // errors still close, and so does an Expect: 100-continue request, whose viewer may
    // never send the body it was not invited to send.
    bool body_settled = !parser_.has_body() || !parser_.in_message();
    if (!body_settled && !txn_.wants_body() && rw.status < 400 && !expects_continue(req)) {
        discarding_body_ = true;
        body_settled = true;
    }
    bool keep = parser_.keep_alive() && !close_after_response_ && !rt_.draining() && body_settled;
    w->pre.assign(rw.fields);
    http::HeadWriter hw(w->pre);
    chunked_ = false;
    if (rw.no_body) {
        if (rw.content_length && !rw.length_in_head && rw.status != 204 && rw.status != 304)
            hw.field("Content-Length", *rw.content_length);
    } else if (rw.content_length) {
        if (!rw.length_in_head) hw.field("Content-Length", *rw.content_length);
    } else if (!http10) {
        chunked_ = true;
        hw.field("Transfer-Encoding", "chunked");
    } else {
        keep = false; // HTTP/1.0 without a length: the body ends with the connection
    }
    if (!keep) {
        close_after_response_ = true;
        hw.field("Connection", "close");
    } else if (http10) {
        hw.field("Connection", "keep-alive");
    }
    hw.end();
    w->head = rw.head;
}

int ViewerConnection::submit(Write *w) {
    size_t n = 0, bytes = 0;
    auto add = [&](const void *p, size_t len, io::Stream::FileSpan file) {
        if (!len) return;
        w->bufs[n] = uv_buf_init(const_cast<char *>(static_cast<const char *>(p)), unsigned(len));
        w->files[n++] = file;
        bytes += len;
    };
    if (w->head) add(w->head->ptr, w->head->len, {});
    w->head = nullptr;
    add(w->pre.data(), w->pre.size(), {});
    for (size_t i = 0; i < w->nslices; ++i) {
        const BufferSlice &s = w->slices[i];
        int fd = s.file_fd();
        add(s.ptr, s.len, {fd, fd >= 0 ? s.file_offset() : 0});
    }
    add(w->post.data(), w->post.size(), {});
    if (n == 0) {
        w->clear();
        free_writes_.push_back(w);
        return 0;
    }
    // Large cached bodies live in a shared-memory file: plain TCP sends them with sendfile.
    int rc = stream_->write_with_files(w->bufs, w->files, unsigned(n), w);
    if (rc != 0) {
        w->clear();
        free_writes_.push_back(w);
        close_now();
        return rc;
    }
    writes_in_flight_++;
    rt_.stats().bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    rearm();
    return 0;
}

void ViewerConnection::on_write_done(Write *w, int status) {
    writes_in_flight_--;
    w->clear();
    free_writes_.push_back(w);
    if (closing_) return;
    if (status != 0) {
        close_now(); // the viewer is gone
        return;
    }
    if (owes_proceed_ && txn_.active() && stream_->write_queue_bytes() <= response_low_water) {
        owes_proceed_ = false;
        txn_.proceed();
        if (closing_) return;
    }
    if (lingering_) return;
    if (writes_in_flight_ == 0 && close_after_response_ && !txn_.active() &&
        (txn_done_ || !parser_.in_message())) {
        close_when_written();
        return;
    }
    pump();
}

void ViewerConnection::reject(uint16_t status, const char *reason) {
    // The request's id: its transaction's, or a new one for a request refused before its head
    // was delivered.
    char new_id[24];
    std::string_view id = txn_.request_id();
    if (id.empty()) id = std::string_view(new_id, rt_.next_request_id(new_id));
    rt_.log().log(core::LogLevel::info, id, "rejected request from %s: %u %s", client_.c_str(),
                  status, reason);
    // A response of this request already on the wire cannot be followed by another: cut it.
    // Responses of earlier requests are complete and stay queued ahead of the error.
    bool mid_response = txn_.active() && response_started_;
    linger_ = linger_ || parser_.has_body(); // an upload may still be arriving (413)
    if (txn_.active()) txn_.cancel();
    close_after_response_ = true;
    leftover_ = BufferSlice();
    stream_->stop_read();
    if (mid_response) {
        close_now();
        return;
    }
    if (discarding_body_) {
        // The request was answered before its body went wrong (over max_body, a bad chunk):
        // no second answer; close once the first is out.
        if (writes_in_flight_ == 0) close_when_written();
        return;
    }
    response_started_ = true;
    std::string body =
        std::to_string(status) + " " + std::string(core::reason_phrase(status)) + "\n";
    Write *w = take_write();
    http::HeadWriter hw(w->pre);
    generated_head(hw, status, rt_.now(), text_type);
    end_closing_head(hw, body.size(), id);
    w->pre += body;
    txn_done_ = true;
    submit(w); // on_write_done closes once everything before and including it is out
}

// --- timeouts --------------------------------------------------------------------------------

void ViewerConnection::rearm() {
    if (closing_ || lingering_) return;
    const config::ViewerLimits &l = rt_.distribution().config().perch.limits;
    if (writes_in_flight_ > 0 ||
        (parser_.in_message() && !parser_.in_head() && (txn_.wants_body() || discarding_body_))) {
        // Sending a response, or receiving a body: each sign of life restarts the clock.
        timeout_ = Timeout::activity;
        rt_.deadlines().arm(deadline_, l.idle_timeout_ms);
    } else if (parser_.in_head()) {
        // The whole head must arrive within header_timeout (no reset per byte: slowloris).
        if (timeout_ != Timeout::header) {
            timeout_ = Timeout::header;
            rt_.deadlines().arm(deadline_, l.header_timeout_ms);
        }
    } else if (txn_.active()) {
        timeout_ = Timeout::none; // waiting on the origin, which has its own timeouts
        deadline_.disarm();
    } else if (timeout_ != Timeout::idle && timeout_ != Timeout::header) {
        timeout_ = Timeout::idle;
        rt_.deadlines().arm(deadline_, l.idle_timeout_ms);
    }
}

void ViewerConnection::on_timeout(void *p) {
    auto *c = static_cast<ViewerConnection *>(p);
    if (c->closing_) return;
    if (c->lingering_) {
        c->close_now();
        return;
    }
    if (c->parser_.in_head() && !c->response_started_) {
        c->reject(408, "request head timeout");
        return;
    }
    c->close_now();
}

} // namespace perch::edge

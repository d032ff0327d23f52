#include "edge/http1/server_connection.hpp"

#include "core/ascii.hpp"
#include "edge/generated_response.hpp"
#include "edge/runtime.hpp"
#include "http/head_writer.hpp"

#include <utility>

namespace perch::edge {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

namespace {

const config::ViewerLimits &limits_of(const Runtime &rt) {
    return rt.distribution().config().perch.limits;
}

} // namespace

bool expects_continue(const core::RequestHead &req) {
    auto e = req.headers.get("expect");
    return e && core::iequals(*e, "100-continue");
}

http::RequestLimits request_limits(const Runtime &rt, uint64_t max_body_bytes) {
    const config::ViewerLimits &l = limits_of(rt);
    return http::RequestLimits{l.max_uri_bytes, l.max_header_bytes,
                               max_body_bytes ? max_body_bytes : l.max_body_bytes};
}

void ServerConnection::Write::clear() {
    for (size_t i = 0; i < nslices; ++i)
        slices[i] = BufferSlice();
    nslices = 0;
    head = BufferSlice();
    pre.clear();
    post.clear();
}

size_t ServerConnection::Write::bytes() const noexcept {
    size_t n = head.len + pre.size() + post.size();
    for (size_t i = 0; i < nslices; ++i)
        n += slices[i].len;
    return n;
}

ServerConnection::ServerConnection(Runtime &rt, io::Stream *stream,
                                   const http::RequestLimits &limits,
                                   std::atomic<uint64_t> *bytes_out)
    : rt_(rt), stream_(stream), parser_(*this, limits),
      deadline_(&ServerConnection::on_timeout, this), flush_(&ServerConnection::on_flush, this),
      bytes_out_(bytes_out) {
    rt_.live().add();
    stream_->set_handler(this);
}

ServerConnection::~ServerConnection() {
    for (Write *w : free_writes_)
        delete w;
    rt_.live().drop();
}

void ServerConnection::start_reading() {
    if (closing_) return;
    arm(Timeout::header, limits_of(rt_).header_timeout_ms);
    stream_->start_read();
}

void ServerConnection::close_now() {
    if (closing_) return;
    closing_ = true;
    deadline_.disarm();
    flush_.disarm();
    if (held_head_) recycle(std::exchange(held_head_, nullptr));
    for (Write *w : held_) // never sent: their bytes are released now
        recycle(w);
    held_.clear();
    held_bytes_ = 0;
    stop_serving();
    stream_->close();
}

void ServerConnection::close_when_written() {
    if (!linger_) {
        close_now();
        return;
    }
    lingering_ = true;
    lingered_bytes_ = 0;
    stop_serving();
    stream_->shutdown_write();
    stream_->start_read(); // read and discard until the peer closes or the linger ends
    arm(Timeout::linger, linger_ms);
}

void ServerConnection::close_after_writes() {
    close_after_writes_ = true;
    if (writes_in_flight() == 0 && !closing_ && !lingering_) close_when_written();
}

// --- reading ---------------------------------------------------------------------------------

void ServerConnection::on_stream_data(const Ref<Buffer> &buf, const uint8_t *data, size_t len) {
    if (closing_) return;
    if (lingering_) { // discards what still arrives, up to a bound
        lingered_bytes_ += len;
        if (lingered_bytes_ > linger_max_bytes) close_now();
        return;
    }
    on_data(buf, data, len);
    rearm();
}

void ServerConnection::on_stream_end(int status) {
    if (closing_) return;
    if (lingering_) return close_now(); // the peer is done
    on_end(status);
}

void ServerConnection::on_stream_closed() {
    on_closed();
    delete this;
}

void ServerConnection::on_request_head(core::RequestHead &head) {
    // The head is in: the next rearm() picks the timeout for what follows.
    timeout_ = Timeout::none;
    deadline_.disarm();
    on_head(head);
    if (closing_ || head.version_minor < 1 || !parser_.has_body()) return;
    // Expect: 100-continue: invite the body once it will be used.
    if (invites_body() && expects_continue(head)) {
        Write *w = take_write();
        w->pre = "HTTP/1.1 100 Continue\r\n\r\n";
        submit(w);
    }
}

// --- writing ---------------------------------------------------------------------------------

ServerConnection::Write *ServerConnection::take_write() {
    if (free_writes_.empty()) return new Write(*this);
    Write *w = free_writes_.back();
    free_writes_.pop_back();
    return w;
}

void ServerConnection::recycle(Write *w) {
    w->clear();
    free_writes_.push_back(w);
}

void ServerConnection::hold_for_body(Write *w) {
    if (held_head_) submit(std::exchange(held_head_, nullptr)); // never two: keep the order
    held_head_ = w;
    rt_.deadlines().arm(flush_, 0);
}

ServerConnection::Write *ServerConnection::take_held() noexcept {
    if (held_head_) flush_.disarm();
    return std::exchange(held_head_, nullptr);
}

void ServerConnection::on_flush(void *self) {
    auto *c = static_cast<ServerConnection *>(self);
    if (Write *w = c->take_held()) c->submit(w);
}

int ServerConnection::submit(Write *w) {
    if (closing_) {
        recycle(w);
        return UV_EPIPE;
    }
    if (held_head_) {
        int rc = submit(take_held()); // it goes first
        if (rc != 0) {
            recycle(w);
            return rc;
        }
    }
    size_t bytes = w->bytes();
    if (bytes == 0) { // nothing to send (a response's end with its length known)
        recycle(w);
        return 0;
    }
    if (held_.empty() && bytes <= write_quantum + quantum_slack) return send_now(w);
    held_bytes_ += bytes;
    held_.push_back(w);
    if (!quantum_in_flight_) send_next_quantum();
    return closing_ ? UV_EPIPE : 0;
}

void ServerConnection::send_next_quantum() {
    // The next write_quantum bytes of the oldest held write, in a write of their own.
    Write *from = held_.front();
    Write *q = take_write();
    // A last piece of up to quantum_slack goes with this one (a body and its head are one
    // write, not a write and a few hundred bytes a turn later).
    size_t budget = from->bytes() <= write_quantum + quantum_slack ? from->bytes() : write_quantum;
    auto take_text = [&](std::string &text) {
        budget -= std::min(budget, text.size());
        q->pre += text; // text runs go out whole: they are a few bytes
        text.clear();
    };
    if (from->head.len) {
        q->head = std::move(from->head);
        from->head = BufferSlice();
        budget -= std::min(budget, q->head.len);
    }
    take_text(from->pre);
    size_t used = 0;
    while (used < from->nslices && budget > 0) {
        BufferSlice &s = from->slices[used];
        size_t n = std::min(budget, s.len);
        q->slices[q->nslices++] = BufferSlice(s.buf, s.ptr, n);
        budget -= n;
        if (n < s.len) {
            s.ptr += n;
            s.len -= n;
            break;
        }
        s = BufferSlice();
        ++used;
    }
    std::move(from->slices + used, from->slices + from->nslices, from->slices);
    from->nslices -= used;
    if (from->nslices == 0) {
        q->post = std::move(from->post);
        held_.pop_front();
        recycle(from);
    }
    held_bytes_ -= q->bytes();
    quantum_in_flight_ = q; // never empty: held writes have bytes, and a piece takes some
    if (send_now(q) != 0) quantum_in_flight_ = nullptr;
}

int ServerConnection::send_now(Write *w) {
    size_t n = 0, bytes = 0;
    auto add = [&](const void *p, size_t len) {
        if (!len) return;
        w->bufs[n++] = uv_buf_init(const_cast<char *>(static_cast<const char *>(p)), unsigned(len));
        bytes += len;
    };
    add(w->head.ptr, w->head.len);
    add(w->pre.data(), w->pre.size());
    for (size_t i = 0; i < w->nslices; ++i)
        add(w->slices[i].ptr, w->slices[i].len);
    add(w->post.data(), w->post.size());
    if (n == 0) {
        recycle(w);
        return 0;
    }
    // Bodies are written from memory (writev), large ones from their pool blocks: on this
    // kernel sendfile walks the page cache page by page and measured slower (README,
    // performance), and TLS needs the bytes in memory anyway.
    int rc = stream_->write(w->bufs, unsigned(n), w);
    if (rc != 0) {
        recycle(w);
        close_now();
        return rc;
    }
    writes_in_flight_++;
    if (bytes_out_) bytes_out_->fetch_add(bytes, std::memory_order_relaxed);
    rearm();
    return 0;
}

void ServerConnection::on_write_done(Write *w, int status) {
    writes_in_flight_--;
    bool was_quantum = w == quantum_in_flight_;
    if (was_quantum) quantum_in_flight_ = nullptr;
    recycle(w);
    if (closing_) return;
    if (status != 0) return close_now(); // the peer is gone
    if (was_quantum && !held_.empty()) {
        send_next_quantum();
        if (closing_) return;
    }
    if (lingering_) return;
    if (!close_after_writes_) {
        on_written();
    } else if (writes_in_flight() == 0) {
        return close_when_written();
    }
    rearm();
}

void ServerConnection::send_closing_answer(const ClosingAnswer &a) {
    answered_ = true;
    Write *w = take_write();
    http::HeadWriter hw(w->pre);
    generated_head(hw, a.status, rt_.now(), a.content_type);
    w->pre += a.fields;
    end_closing_head(hw, a.body.size(), a.request_id);
    if (a.send_body) w->pre += a.body;
    close_after_writes_ = true;
    submit(w); // on_write_done closes once everything before and including it is out
}

void ServerConnection::send_closing_error(uint16_t status, std::string_view request_id) {
    std::string body =
        std::to_string(status) + " " + std::string(core::reason_phrase(status)) + "\n";
    send_closing_answer({status, text_type, {}, body, true, request_id});
}

// --- timeouts --------------------------------------------------------------------------------

void ServerConnection::arm(Timeout t, uint64_t ms) {
    timeout_ = t;
    rt_.deadlines().arm(deadline_, ms);
}

void ServerConnection::rearm() {
    if (closing_ || lingering_) return;
    const config::ViewerLimits &l = limits_of(rt_);
    if (writes_in_flight() > 0 || (parser_.in_message() && !parser_.in_head() && reading_body())) {
        // Sending a response, or receiving a body: each sign of life restarts the clock.
        arm(Timeout::activity, l.idle_timeout_ms);
    } else if (parser_.in_head()) {
        // The whole head must arrive within header_timeout (no reset per byte: slowloris).
        if (timeout_ != Timeout::header) arm(Timeout::header, l.header_timeout_ms);
    } else if (busy()) {
        timeout_ = Timeout::none; // the work in progress has its own timeouts
        deadline_.disarm();
    } else if (timeout_ != Timeout::idle && timeout_ != Timeout::header) {
        arm(Timeout::idle, l.idle_timeout_ms);
    }
}

void ServerConnection::on_timeout(void *p) {
    auto *c = static_cast<ServerConnection *>(p);
    if (c->closing_) return;
    if (c->lingering_) return c->close_now();
    if (c->parser_.in_head() && !c->answered_) return c->on_head_timeout();
    c->close_now();
}

} // namespace perch::edge

#include "edge/http1/server_connection.hpp"

#include "core/ascii.hpp"
#include "edge/generated_response.hpp"
#include "edge/runtime.hpp"
#include "http/head_writer.hpp"

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
    head = nullptr;
    pre.clear();
    post.clear();
}

ServerConnection::ServerConnection(Runtime &rt, io::Stream *stream,
                                   const http::RequestLimits &limits,
                                   std::atomic<uint64_t> *bytes_out)
    : rt_(rt), stream_(stream), parser_(*this, limits),
      deadline_(&ServerConnection::on_timeout, this), bytes_out_(bytes_out) {
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
    stop_serving();
    stream_->close();
}

void ServerConnection::close_when_written() {
    if (!linger_ || stream_->is_tls()) {
        close_now();
        return;
    }
    lingering_ = true;
    stop_serving();
    stream_->shutdown_write();
    stream_->start_read(); // read and discard until the peer closes or the linger ends
    arm(Timeout::linger, linger_ms);
}

void ServerConnection::close_after_writes() {
    close_after_writes_ = true;
    if (writes_in_flight_ == 0 && !closing_ && !lingering_) close_when_written();
}

// --- reading ---------------------------------------------------------------------------------

void ServerConnection::on_stream_data(const Ref<Buffer> &buf, const uint8_t *data, size_t len) {
    if (closing_ || lingering_) return; // a lingering close discards what still arrives
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

int ServerConnection::submit(Write *w) {
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
        recycle(w);
        return 0;
    }
    // Large cached bodies live in a shared-memory file: plain TCP sends them with sendfile.
    int rc = stream_->write_with_files(w->bufs, w->files, unsigned(n), w);
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
    recycle(w);
    if (closing_) return;
    if (status != 0) return close_now(); // the peer is gone
    if (lingering_) return;
    if (!close_after_writes_) {
        on_written();
    } else if (writes_in_flight_ == 0) {
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
    if (writes_in_flight_ > 0 || (parser_.in_message() && !parser_.in_head() && reading_body())) {
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

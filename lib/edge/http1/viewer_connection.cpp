#include "edge/http1/viewer_connection.hpp"

#include "edge/flow_control.hpp"
#include "edge/runtime.hpp"
#include "http/head_writer.hpp"

namespace perch::edge {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

ViewerConnection::ViewerConnection(Runtime &rt, io::Stream *stream, bool https)
    : ServerConnection(rt, stream, request_limits(rt), &rt.stats().bytes_out),
      txn_(rt, this, *this), https_(https) {
    char addr[64];
    if (stream->peer_address(addr, sizeof addr) == 0) client_ = addr;
}

void ViewerConnection::start() {
    runtime().connection_opened(this);
    start_reading();
}

void ViewerConnection::drain() {
    close_after_response_ = true;
    if (txn_.active() || writes_in_flight() > 0) return;
    if (!parser().in_message()) return close_now();
    if (discarding_body_) {
        set_linger(true); // the rest of an answered request's body need not be awaited
        close_when_written();
    }
}

void ViewerConnection::stop_serving() {
    txn_.cancel();
    leftover_ = BufferSlice();
}

void ViewerConnection::on_closed() {
    runtime().connection_closed(this);
}

// --- reading ---------------------------------------------------------------------------------

void ViewerConnection::on_data(const Ref<Buffer> &buf, const uint8_t *data, size_t len) {
    in_pump_ = true;
    parse(buf, data, len);
    in_pump_ = false;
    pump();
}

void ViewerConnection::parse(const Ref<Buffer> &buf, const uint8_t *data, size_t len) {
    if (parser().paused() && len > 0) {
        // Pipelined bytes while a request is answered: kept for later, and reading stops
        // (one read's worth is held at most).
        leftover_ = BufferSlice(buf, data, len);
        stream().stop_read();
        return rearm();
    }
    while (len > 0 && !closing()) {
        size_t used = parser().execute(buf, data, len);
        data += used;
        len -= used;
        if (const auto &f = parser().failure()) return reject(f->status, f->reason);
        if (parser().paused()) {
            // A whole request is in; what follows waits until it is answered. Without such
            // bytes reading goes on, so that a viewer that resets its connection while it
            // waits is noticed at once (its transaction is cancelled: a fetch it leads is
            // handed to its waiters) rather than when the answer is written.
            if (len > 0) {
                leftover_ = BufferSlice(buf, data, len);
                stream().stop_read();
            }
            break;
        }
    }
    rearm();
}

void ViewerConnection::on_end(int status) {
    if (discarding_body_ && parser().in_message() && !txn_.active()) {
        // The answered request's body stopped short: close once its answer is out.
        if (writes_in_flight() == 0) return close_now();
        close_after_response_ = true;
        set_linger(false);
        return;
    }
    if (txn_.active() || writes_in_flight() > 0) {
        if (parser().in_message() || status != UV_EOF) {
            // The viewer stopped sending mid-request (the request cannot be completed), or its
            // connection failed (nobody will read the answer).
            close_now();
            return;
        }
        // Half-closed after a complete request: answer it, then close.
        close_after_response_ = true;
        return;
    }
    parser().finish();
    if (parser().failure() && parser().in_message()) return reject(400, "incomplete request");
    close_now();
}

void ViewerConnection::on_head(core::RequestHead &head) {
    response_started_ = false;
    chunked_ = false;
    txn_done_ = false;
    discarding_body_ = false;
    owes_proceed_ = false;
    if (runtime().draining()) close_after_response_ = true;
    ViewerRequest req;
    req.head = &head;
    req.https = https_;
    req.client_address = client_;
    io::TlsFacts tls = stream().tls_facts();
    req.tls = ViewerTls{tls.protocol, tls.cipher};
    req.request_id = std::string_view(id_, runtime().next_request_id(id_));
    req.has_body = parser().has_body();
    req.body_length = parser().content_length();
    txn_.start(req); // the core sends 100 Continue after this if invites_body()
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
    stream().stop_read();
}

void ViewerConnection::resume_request_body() {
    if (!body_paused_ || closing()) return;
    body_paused_ = false;
    if (!parser().paused()) stream().start_read();
}

// --- moving between requests -------------------------------------------------------------------

void ViewerConnection::transaction_done() {
    txn_done_ = true;
    pump();
}

void ViewerConnection::pump() {
    if (in_pump_ || closing() || lingering()) return;
    in_pump_ = true;
    while (!closing()) {
        if (txn_.active()) break;
        if (txn_done_) {
            if (!finish_request()) break;
        } else if (parser().in_message()) {
            break; // a request is still arriving
        }
        if (!leftover_.len) {
            if (!body_paused_) stream().start_read();
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
    if (parser().in_message() && parser().has_body()) {
        if (discarding_body_ && !close_after_response_) {
            // The answer did not need the body: read the rest of it and drop it (the parser
            // still holds it to max_body); its end brings the next request (pump()).
            body_paused_ = false;
            stream().start_read();
            return false;
        }
        // A request whose body was not read to its end leaves the stream unusable: close, but
        // linger so that the viewer's unread upload does not turn the close into a reset that
        // destroys the response (RFC 9112 §9.6).
        close_after_response_ = true;
        set_linger(true);
    }
    if (!parser().keep_alive()) close_after_response_ = true;
    if (close_after_response_) {
        if (writes_in_flight() == 0) close_when_written();
        return false;
    }
    if (queued_bytes() > response_high_water) return false; // on_written retries
    txn_done_ = false;
    response_started_ = false;
    discarding_body_ = false;
    txn_.reset();
    parser().resume();
    return true;
}

// --- writing ---------------------------------------------------------------------------------

void ViewerConnection::send(const ResponseHeadOut *head, const BufferSlice *body, size_t count,
                            bool last) {
    if (closing()) return;
    Write *w = take_held(); // a head waiting for its body
    if (!w) w = take_write();
    if (head) begin_response(*head, w);
    size_t body_bytes = 0;
    for (size_t i = 0; i < count; ++i)
        body_bytes += body[i].len;
    if (head && !body_bytes && !last) {
        hold_for_body(w);
        return ask_for_more();
    }
    if (chunked_ && body_bytes) {
        char hdr[20];
        w->pre.append(hdr, http::format_chunk_header(body_bytes, hdr));
    }
    // Any number of pieces (a multipart range of a large object has many): a write holds
    // max_slices, so more go out in several writes, the chunk's framing around them all.
    for (size_t i = 0; i < count; ++i) {
        if (!body[i].len) continue;
        if (w->nslices == Write::max_slices) {
            if (submit(w) != 0) return;
            w = take_write();
        }
        w->slices[w->nslices++] = body[i];
    }
    if (chunked_ && body_bytes) w->post = "\r\n";
    if (chunked_ && last) w->post += "0\r\n\r\n";
    if (submit(w) != 0 || last) return;
    ask_for_more();
}

void ViewerConnection::send_interim(uint16_t status, std::string_view head) {
    if (closing() || response_started_ || parser().head().version_minor < 1) return;
    Write *w = take_write();
    w->pre.assign(head);
    w->pre += "\r\n";
    (void)status;
    submit(w);
}

void ViewerConnection::ask_for_more() {
    if (closing()) return;
    if (queued_bytes() > response_high_water) {
        owes_proceed_ = true; // on_written asks once the viewer has taken enough
        return;
    }
    owes_proceed_ = false;
    txn_.proceed();
}

void ViewerConnection::begin_response(const ResponseHeadOut &rw, Write *w) {
    response_started_ = true;
    const core::RequestHead &req = parser().head();
    bool http10 = req.version_minor == 0;
    // Keep-alive needs the request's body read to its end: an origin that answers early
    // leaves unread bytes, and the connection must close. An answer that does not need the
    // body (a hit, a redirect) lets the connection read the rest and drop it instead;
    // errors still close, and so does an Expect: 100-continue request, whose viewer may
    // never send the body it was not invited to send.
    bool body_settled = !parser().has_body() || !parser().in_message();
    if (!body_settled && !txn_.wants_body() && rw.status < 400 && !expects_continue(req)) {
        discarding_body_ = true;
        body_settled = true;
    }
    bool keep = parser().keep_alive() && !close_after_response_ && !runtime().draining() &&
                body_settled && !rw.close;
    if (rw.close) set_linger(true); // a refused request's bytes may still be arriving
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
    w->head = *rw.head;
}

void ViewerConnection::on_written() {
    if (owes_proceed_ && txn_.active() && queued_bytes() <= response_low_water) {
        owes_proceed_ = false;
        txn_.proceed();
        if (closing()) return;
    }
    if (writes_in_flight() == 0 && close_after_response_ && !txn_.active() &&
        (txn_done_ || !parser().in_message())) {
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
    if (id.empty()) id = std::string_view(new_id, runtime().next_request_id(new_id));
    runtime().log().log(core::LogLevel::info, id, "rejected request from %s: %u %s",
                        client_.c_str(), status, reason);
    runtime().stats().rejected.fetch_add(1, std::memory_order_relaxed);
    // A response of this request already on the wire cannot be followed by another: cut it.
    // Responses of earlier requests are complete and stay queued ahead of the error.
    bool mid_response = txn_.active() && response_started_;
    // Unread request bytes (the rest of a 431 head, an upload) would turn the close into a reset
    // that can destroy the answer before the viewer reads it (RFC 9112 §9.6).
    set_linger(true);
    if (txn_.active()) txn_.cancel();
    close_after_response_ = true;
    leftover_ = BufferSlice();
    stream().stop_read();
    if (mid_response) {
        close_now();
        return;
    }
    if (discarding_body_) {
        // The request was answered before its body went wrong (over max_body, a bad chunk):
        // no second answer; close once the first is out.
        close_after_writes();
        return;
    }
    response_started_ = true;
    txn_done_ = true;
    send_closing_error(status, id);
}

} // namespace perch::edge

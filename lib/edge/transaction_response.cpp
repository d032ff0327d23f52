// viewer_response: what the viewer gets (a stored object, the origin's response as it streams,
// a generated answer, a custom error page), with Age, X-Cache and the request id; the head goes
// out once, the body one chunk per proceed() of the sink.
#include "cache/policy.hpp"
#include "cache/stored_head.hpp"
#include "edge/error_status.hpp"
#include "edge/generated_response.hpp"
#include "edge/request_shaping.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"
#include "http/head_writer.hpp"
#include "http/http_date.hpp"

namespace perch::edge {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

namespace {
constexpr size_t object_batch = 16; // stored body pieces per chunk
constexpr size_t range_batch = 64;  // selected range pieces per chunk
} // namespace

// --- what is served ----------------------------------------------------------------------------

void Transaction::serve_object(const Ref<cache::CachedObject> &obj, CacheResult result) {
    if (override_status_ == 0 && obj->status >= 400) {
        if (auto cer =
                policy::error_response(rt_.distribution().config().distribution, obj->status)) {
            if (!cer->page_path.empty()) return serve_error_page(*cer, obj->status);
            override_status_ = cer->response_code;
        }
    }
    status_ = override_status_ ? override_status_ : obj->status;
    result_ = status_ >= 400 ? CacheResult::error : result;
    auto &st = rt_.stats();
    st.hits.fetch_add(1, std::memory_order_relaxed);
    if (result == CacheResult::refresh_hit) st.refresh_hits.fetch_add(1, std::memory_order_relaxed);
    append_request_fields(result_, cache::current_age_ms(obj->times(), now_) / 1000);
    obj_next_ = 0;
    body_ = Body::object;
    if (conditional_ && status_ == obj->status) {
        if (answer_preconditions(obj->head_view(), obj->times().response_time))
            return maybe_finish();
        if (start_range(obj->head_view(), obj->body_size())) {
            if (ranged_) select_stored_range(*obj);
            return emit();
        }
    }
    BufferSlice head = obj->head_slice();
    if (status_ != obj->status) {
        std::string text(obj->head_view());
        cache::replace_status_line(text, status_);
        head_buf_ = Buffer::copy_of(text);
        head = BufferSlice(head_buf_, head_buf_->data(), head_buf_->size());
    }
    bool no_body = head_only_ || status_ == 204 || status_ == 304;
    // The head goes out with the first body pieces (one write for a small object).
    ResponseHeadOut h{&head, fields_text_, status_, obj->body_size(), true, no_body};
    BufferSlice slices[object_batch];
    size_t n = 0, total = no_body ? 0 : obj->body_count();
    for (; n < object_batch && obj_next_ < total; ++n, ++obj_next_)
        slices[n] = obj->body_slice(obj_next_);
    if (obj_next_ < total) obj_ = obj; // more chunks to come (a small object is sent whole)
    send(&h, slices, n, obj_next_ >= total);
    emit();
}

void Transaction::serve_error_page(const policy::ErrorResponse &cer, uint16_t error_status) {
    override_status_ = cer.status_for(error_status);
    // The page is fetched like any object (through its own behavior and cache key).
    page_req_.clear();
    page_req_.method = head_only_ ? core::Method::head : core::Method::get;
    page_req_.method_text = head_only_ ? "HEAD" : "GET";
    page_req_.target = cer.page_path;
    if (!authority_.empty()) page_req_.headers.add("Host", authority_);
    if (auto ae = req_->headers.get("accept-encoding"))
        page_req_.headers.add("Accept-Encoding", *ae);
    req_ = &page_req_;
    path_ = cer.page_path;
    behavior_ = &rt_.distribution().behavior_for(path_);
    if (upload_ == Upload::forwarding) upload_ = Upload::discarded;
    stale_.reset();
    feed_.reset();
    lookup_and_route();
}

void Transaction::respond_origin_failure(const core::Error &e) {
    uint16_t status = http_status_for(e);
    if (override_status_ == 0) {
        if (auto cer = policy::error_response(rt_.distribution().config().distribution, status)) {
            if (!cer->page_path.empty()) return serve_error_page(*cer, status);
            status = cer->status_for(status);
        }
    }
    respond_generated(status, status == 504 ? "The origin did not answer in time."
                                            : "The edge could not get a response from the origin.");
}

void Transaction::respond_generated(uint16_t status, std::string_view message,
                                    std::string_view location) {
    status_ = status;
    result_ = status >= 400 ? CacheResult::error : CacheResult::none;
    if (status >= 500) rt_.stats().errors.fetch_add(1, std::memory_order_relaxed);
    head_text_.clear();
    std::string body = generated_page(status, message, request_id());
    http::HeadWriter w(head_text_);
    generated_head(w, status, rt_.now(), body.empty() ? std::string_view{} : html_type);
    if (!location.empty()) w.field("Location", location);
    append_request_fields(result_, std::nullopt);
    head_buf_ = Buffer::create(head_text_.size() + body.size());
    head_buf_->append(head_text_.data(), head_text_.size());
    head_buf_->append(body.data(), body.size());
    BufferSlice head(head_buf_, head_buf_->data(), head_text_.size());
    BufferSlice content(head_buf_, head_buf_->data() + head_text_.size(), body.size());
    ResponseHeadOut h{&head, fields_text_, status, body.size(), false, head_only_, refused_};
    bool with_body = !head_only_ && !body.empty();
    send(&h, with_body ? &content : nullptr, with_body ? 1 : 0, true);
    maybe_finish();
}

void Transaction::refuse(uint16_t status, std::string_view message) {
    refused_ = true;
    rt_.stats().rejected.fetch_add(1, std::memory_order_relaxed);
    respond_generated(status, message);
}

void Transaction::append_request_fields(CacheResult result, std::optional<int64_t> age_s) {
    fields_text_.clear();
    http::HeadWriter w(fields_text_);
    if (age_s) w.field("Age", uint64_t(*age_s < 0 ? 0 : *age_s));
    if (result != CacheResult::none) w.field("X-Cache", x_cache_field(result));
    w.field("X-Request-Id", request_id());
}

// --- the pull loop -----------------------------------------------------------------------------

void Transaction::send_head(const BufferSlice &head, std::optional<uint64_t> length,
                            bool length_in_head, bool no_body) {
    ResponseHeadOut h{&head, fields_text_, status_, length, length_in_head, no_body};
    send(&h, nullptr, 0, no_body);
}

void Transaction::send(const ResponseHeadOut *head, const BufferSlice *body, size_t count,
                       bool last) {
    wanted_ = false;
    // A background transaction has nobody to send to: its viewer is done at the head.
    phase_ = last || !sink_ ? Phase::viewer_done : Phase::viewer_response;
    if (!sink_) return;
    if (head) bytes_sent_ += head->head->len + head->fields.size();
    for (size_t i = 0; i < count; ++i)
        bytes_sent_ += body[i].len;
    bool outer = emitting_;
    emitting_ = true; // the sink may call proceed() from inside send()
    sink_->send(head, body, count, last);
    emitting_ = outer;
}

void Transaction::proceed() {
    if (phase_ != Phase::viewer_response) return;
    wanted_ = true;
    if (!emitting_) emit();
}

void Transaction::emit() {
    if (emitting_) return;
    emitting_ = true;
    while (wanted_ && phase_ == Phase::viewer_response) {
        bool progress = false;
        switch (body_) {
        case Body::object:
            progress = send_object_chunk();
            break;
        case Body::origin:
            progress = send_origin_chunk();
            break;
        case Body::fill:
            progress = send_fill_chunk();
            break;
        case Body::none:
            break;
        }
        if (!progress) break;
    }
    emitting_ = false;
    maybe_finish(); // only once the viewer is done; nothing may follow it
}

bool Transaction::send_object_chunk() {
    if (ranged_) {
        size_t n = std::min(range_batch, range_pieces_.size() - obj_next_);
        size_t at = obj_next_;
        obj_next_ += n;
        send(nullptr, range_pieces_.data() + at, n, obj_next_ == range_pieces_.size());
        return true;
    }
    BufferSlice slices[object_batch];
    size_t n = 0, total = obj_->body_count();
    for (; n < object_batch && obj_next_ < total; ++n, ++obj_next_)
        slices[n] = obj_->body_slice(obj_next_);
    send(nullptr, slices, n, obj_next_ >= total);
    return true;
}

bool Transaction::send_origin_chunk() {
    if (pending_.empty()) {
        if (!origin_end_) return false; // on_feed_body brings more
        if (*origin_end_ == FeedEnd::complete) {
            send(nullptr, nullptr, 0, true);
        } else {
            if (sink_) sink_->abort(); // never a complete-looking response
            viewer_done();
        }
        return true;
    }
    BufferSlice pieces[object_batch];
    size_t n = std::min(pending_.size(), object_batch);
    for (size_t i = 0; i < n; ++i)
        pieces[i] = std::move(pending_[i]);
    pending_.erase(pending_.begin(), pending_.begin() + ptrdiff_t(n));
    bool last = pending_.empty() && origin_end_ == FeedEnd::complete;
    if (feed_ && pending_.empty()) feed_->hold(false);
    send(nullptr, pieces, n, last);
    return true;
}

void Transaction::viewer_done() {
    if (phase_ == Phase::viewer_response || phase_ == Phase::origin_response)
        phase_ = Phase::viewer_done;
}

} // namespace perch::edge

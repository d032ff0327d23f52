// origin_request: the request the origin gets (built for the origin the behavior targets, with
// the validators of a stale copy to revalidate it), sent through that origin's route; and the
// request body, streamed to it with backpressure towards the viewer.
#include "edge/error_status.hpp"
#include "edge/request_shaping.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"

namespace perch::edge {

namespace {
// Request body bytes waiting for the origin above which the viewer is paused.
constexpr size_t upload_high_water = 256 * 1024;
} // namespace

void Transaction::build_origin_request_head() {
    OriginRoute route = rt_.origins().route(behavior_->origin_index, viewer_.https);
    OriginRequestInput in;
    in.viewer = req_;
    in.path = path_;
    in.authority = authority_;
    in.client_ip = viewer_.client_address;
    in.behavior = behavior_;
    in.origin = route.origin;
    in.origin_port = route.port;
    in.origin_https = route.https;
    in.for_cache = cacheable_;
    build_origin_request(in, origin_req_);
}

bool Transaction::revalidating() const noexcept {
    return stale_ && (!stale_->etag().empty() || !stale_->last_modified().empty());
}

void Transaction::fetch_from_origin() {
    phase_ = Phase::origin_request;
    if (fetch_) std::exchange(fetch_, nullptr)->cancel(); // one origin fetch at a time
    feed_.reset();
    build_origin_request_head();
    if (revalidating()) {
        if (!stale_->etag().empty()) origin_req_.headers.add("If-None-Match", stale_->etag());
        if (!stale_->last_modified().empty())
            origin_req_.headers.add("If-Modified-Since", stale_->last_modified());
    }
    bool uploads = upload_ == Upload::forwarding || upload_ == Upload::complete;
    origin::OriginRequest r;
    r.head = &origin_req_;
    r.has_body = uploads;
    r.body_length = uploads ? viewer_.body_length : std::nullopt;
    r.retryable = !uploads && core::method_is_safe(origin_req_.method);
    OriginRoute route = rt_.origins().route(behavior_->origin_index, viewer_.https);
    r.https = route.https;
    request_time_ = now_ = rt_.now();
    rt_.stats().origin_fetches.fetch_add(1, std::memory_order_relaxed);
    fetch_ = route.connector->fetch(r, *this);
    if (upload_ == Upload::complete) fetch_->end_body();
}

origin::Fetch *Transaction::live_fetch() const noexcept {
    if (fetch_) return fetch_;
    return feed_ ? feed_->fetch() : nullptr;
}

void Transaction::on_request_body(const core::BufferSlice &chunk) {
    origin::Fetch *f = live_fetch();
    if (!f || upload_ != Upload::forwarding) return; // answered without the origin: discard
    f->write_body(chunk);
    if (f->body_queue_bytes() > upload_high_water && sink_) sink_->pause_request_body();
}

void Transaction::on_request_body_end() {
    if (upload_ != Upload::forwarding) return;
    upload_ = Upload::complete;
    if (origin::Fetch *f = live_fetch()) f->end_body();
}

void Transaction::on_origin_body_drained() {
    origin::Fetch *f = live_fetch();
    if (f && sink_ && f->body_queue_bytes() <= upload_high_water / 2) sink_->resume_request_body();
}

void Transaction::on_feed_request_body_drained() {
    on_origin_body_drained();
}

void Transaction::on_origin_error(const core::Error &e) {
    // Before the head: nothing has reached the viewer yet.
    fetch_ = nullptr;
    if (!refreshed_ && serve_stale_on_error(0)) return;
    leave_fill(cache::FillState::failed);
    rt_.log().log(core::LogLevel::warn, request_id(), "origin %s: %s (%s %s)",
                  rt_.distribution().origin(behavior_->origin_index).origin_id.c_str(),
                  e.context.c_str(), req_->method_text.c_str(), path_.c_str());
    respond_origin_failure(e);
}

} // namespace perch::edge

// Request collapsing, the transaction's side: a follower waits on the fill that a leader (on
// this runtime or another) feeds, and streams the response from it as bytes arrive. Fill
// changes reach the follower's own loop through its runtime's mailbox.
#include "cache/policy.hpp"
#include "cache/vary.hpp"
#include "edge/fill_wake.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"

namespace perch::edge {

using core::BufferSlice;
using core::Ref;

namespace {
// Bytes waiting for the viewer above which a follower stops reading the fill until drained.
constexpr size_t follower_high_water = 1 << 20;
} // namespace

FillWake &Transaction::wake() {
    if (!wake_) wake_ = Ref<FillWake>::adopt(new FillWake(rt_.mailbox(), this));
    return *wake_;
}

void Transaction::follow_fill(Ref<cache::Fill> fill) {
    fill_ = std::move(fill);
    fill_leader_ = false;
    fill_index_ = 0;
    if (!fill_->add_waiter(Ref<cache::FillWaiter>::share(&wake()))) {
        fill_.reset(); // too late to be served from it
        no_collapse_ = true;
        return fetch_from_origin();
    }
    on_fill_changed(); // it may have moved on already
}

void Transaction::pause_origin_for_fill() {
    if (paused_ || !fetch_ || !fill_streaming_ || !fill_lags(*fill_, wake(), fill_high_water))
        return;
    paused_ = true;
    fetch_->pause_response();
}

void Transaction::maybe_resume_origin() {
    if (!paused_ || !fetch_) return;
    if (sink_.pending_write_bytes() > viewer_high_water / 2) return; // on_viewer_drained comes
    if (fill_streaming_ && fill_lags(*fill_, wake(), fill_low_water)) return;
    paused_ = false;
    fetch_->resume_response();
}

void Transaction::on_fill_changed() {
    if (!fill_ || !active_) return;
    if (fill_leader_) return maybe_resume_origin();
    if (fill_streaming_) return pump_fill();
    cache::Fill::Head h = fill_->head();
    if (!h.vary.empty() && !wants_variant(h)) {
        // Another variant (streaming or done): this request's own may be stored, or in
        // flight, already; requests for it collapse with each other.
        leave_fill(cache::FillState::released);
        now_ = rt_.now();
        if (Ref<cache::CachedObject> obj = rt_.store().lookup(key_);
            obj && cache::is_fresh(obj->times(), now_))
            return serve_object(obj, CacheResult::hit);
        return join_or_fetch();
    }
    switch (h.state) {
    case cache::FillState::pending:
        return;
    case cache::FillState::streaming:
        return start_fill_stream(h);
    case cache::FillState::complete:
        // Stored (or refreshed) meanwhile, or not storable after all: look again.
        leave_fill(h.state);
        no_collapse_ = true;
        now_ = rt_.now();
        return lookup_and_route();
    case cache::FillState::released:
    case cache::FillState::failed:
        leave_fill(h.state);
        no_collapse_ = true;
        return fetch_from_origin();
    case cache::FillState::abandoned:
        // The leader left before the head: the first waiter to join again leads.
        leave_fill(h.state);
        now_ = rt_.now();
        return join_or_fetch();
    }
}

bool Transaction::wants_variant(const cache::Fill::Head &h) {
    key_.text.resize(base_key_len_);
    build_origin_request_head();
    cache::append_variant_suffix(h.vary, origin_req_.headers, key_.text);
    key_.finalize();
    return key_.text == h.variant_key;
}

void Transaction::start_fill_stream(const cache::Fill::Head &h) {
    now_ = rt_.now();
    fill_streaming_ = true;
    fill_offset_ = 0;
    status_ = h.status;
    result_ = status_ >= 400 ? CacheResult::error : CacheResult::hit;
    rt_.stats().hits.fetch_add(1, std::memory_order_relaxed);
    append_request_fields(result_, cache::current_age_ms(h.times, now_) / 1000);
    if (conditional_ && (answer_preconditions(h.head->view(), h.times.response_time) ||
                         start_range(h.head->view(), h.length))) {
        if (!ranged_) {
            leave_fill(cache::FillState::complete);
            return maybe_finish();
        }
        return pump_fill();
    }
    head_buf_ = h.head;
    BufferSlice head(head_buf_, head_buf_->data(), head_buf_->size());
    bool no_body = head_only_ || status_ == 204 || status_ == 304;
    write_viewer_head(head, status_ == 204 ? std::nullopt : h.length, false, no_body, no_body);
    if (no_body) {
        leave_fill(cache::FillState::complete);
        viewer_done_ = true;
        return maybe_finish();
    }
    pump_fill();
}

void Transaction::pump_fill() {
    constexpr size_t batch = 16;
    BufferSlice pieces[batch];
    while (fill_ && active_) {
        cache::FillState state;
        size_t published = 0;
        size_t n = fill_->read(wake_.get(), fill_index_, pieces, batch, state, published);
        fill_index_ += n;
        bool ended = fill_index_ == published && state != cache::FillState::streaming;
        bool complete = ended && state == cache::FillState::complete;
        if (ranged_) {
            write_range_bytes(fill_offset_, pieces, n);
            for (size_t i = 0; i < n; ++i)
                fill_offset_ += pieces[i].len;
            if (viewer_done_) { // every selected byte is out
                leave_fill(cache::FillState::complete);
                return maybe_finish();
            }
        } else if (n > 0 || complete) {
            ResponseWrite w;
            w.body = pieces;
            w.body_count = n;
            w.last = complete;
            sink_.write_response(w);
        }
        if (ended) {
            leave_fill(state);
            if (!complete) sink_.abort_response(); // cut short, never complete-looking
            viewer_done_ = true;
            return maybe_finish();
        }
        if (n < batch || sink_.pending_write_bytes() > follower_high_water) return;
    }
}

void Transaction::leave_fill(cache::FillState how) noexcept {
    if (!fill_) return;
    Ref<cache::Fill> f = std::move(fill_);
    if (fill_leader_)
        f->end(how);
    else if (wake_)
        f->remove_waiter(wake_.get());
    fill_leader_ = fill_streaming_ = false;
    fill_index_ = 0;
}

} // namespace perch::edge

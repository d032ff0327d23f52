// Request collapsing, the follower's side: a request waits on the fill that a leader (on this
// runtime or another) feeds, and streams the response from it at its own viewer's pace. Fill
// changes reach the follower's own loop through its runtime's mailbox (FillWake).
#include "cache/policy.hpp"
#include "cache/vary.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"

namespace perch::edge {

using core::BufferSlice;
using core::Ref;

FillWake &Transaction::wake() {
    if (!wake_) wake_ = Ref<FillWake>::adopt(new FillWake(rt_.mailbox(), this));
    return *wake_;
}

void Transaction::follow_fill(Ref<cache::Fill> fill) {
    fill_ = std::move(fill);
    fill_role_ = FillRole::follower;
    fill_index_ = 0;
    if (!fill_->add_waiter(Ref<cache::FillWaiter>::share(&wake()))) {
        fill_.reset(); // too late to be served from it
        fill_role_ = FillRole::none;
        no_collapse_ = true;
        return fetch_from_origin();
    }
    phase_ = Phase::awaiting_fill;
    on_fill_changed(); // it may have moved on already
}

void Transaction::on_fill_changed() {
    if (!fill_ || fill_role_ != FillRole::follower) return;
    if (phase_ == Phase::awaiting_fill) return on_fill_head(fill_->head());
    if (phase_ == Phase::viewer_response && body_ == Body::fill) {
        if (fill_->cut(wake_.get())) { // it lagged a paced stream too long: cut short now
            leave_fill(cache::FillState::failed);
            if (sink_) sink_->abort();
            return viewer_done();
        }
        emit();
    }
}

void Transaction::on_fill_head(const cache::Fill::Head &h) {
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
        body_ = Body::fill;
        return emit();
    }
    head_buf_ = h.head;
    bool no_body = head_only_ || status_ == 204 || status_ == 304;
    send_head(BufferSlice(head_buf_, head_buf_->data(), head_buf_->size()),
              status_ == 204 ? std::nullopt : h.length, false, no_body);
    if (phase_ != Phase::viewer_response) {
        leave_fill(cache::FillState::complete);
        return maybe_finish();
    }
    body_ = Body::fill;
    emit();
}

bool Transaction::send_fill_chunk() {
    constexpr size_t batch = 16;
    BufferSlice pieces[batch];
    cache::FillState state;
    size_t published = 0;
    size_t n = fill_->read(wake_.get(), fill_index_, pieces, batch, state, published);
    fill_index_ += n;
    bool ended = fill_index_ == published && state != cache::FillState::streaming;
    bool complete = ended && state == cache::FillState::complete;
    if (ranged_) {
        uint64_t offset = fill_offset_;
        for (size_t i = 0; i < n; ++i)
            fill_offset_ += pieces[i].len;
        send_range_bytes(offset, pieces, n);
    } else if (n > 0 || complete) {
        send(nullptr, pieces, n, complete);
    }
    if (phase_ == Phase::viewer_done) { // every byte (or every selected one) is out
        leave_fill(cache::FillState::complete);
        return true;
    }
    if (ended && phase_ == Phase::viewer_response) {
        leave_fill(state);
        if (!complete && sink_) sink_->abort(); // cut short, never complete-looking
        viewer_done();
    }
    return n > 0 || ended;
}

void Transaction::leave_fill(cache::FillState how) noexcept {
    if (!fill_) return;
    Ref<cache::Fill> f = std::move(fill_);
    if (fill_role_ == FillRole::leader)
        f->end(how);
    else if (wake_)
        f->remove_waiter(wake_.get());
    fill_role_ = FillRole::none;
    fill_index_ = 0;
}

} // namespace perch::edge

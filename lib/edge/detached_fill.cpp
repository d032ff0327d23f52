#include "edge/detached_fill.hpp"

#include "cache/stored_head.hpp"
#include "edge/runtime.hpp"

namespace perch::edge {

void DetachedFill::start(Runtime &rt, State s) {
    auto *d = new DetachedFill(rt, std::move(s));
    rt.background_started(d);
    d->s_.fetch->rebind(*d);
    d->s_.fetch->resume_response(); // no viewer to wait for any more
    d->pace();
}

void DetachedFill::on_origin_body(const core::BufferSlice &chunk) {
    s_.received += chunk.len;
    if (s_.fill) s_.fill->publish_body(chunk);
    if (s_.writer && !s_.writer->append(chunk.ptr, chunk.len)) {
        s_.writer.reset();
        if (s_.fill) s_.fill->stop_joining();
    }
    pace();
}

void DetachedFill::pace() {
    if (!s_.fill || !s_.fetch) return;
    if (!wake_) wake_ = core::Ref<FillWake>::adopt(new FillWake(rt_.mailbox(), this));
    bool lags = fill_lags(*s_.fill, *wake_, paused_ ? fill_low_water : fill_high_water);
    if (lags == paused_) return;
    paused_ = lags;
    if (lags)
        s_.fetch->pause_response();
    else
        s_.fetch->resume_response();
}

void DetachedFill::on_fill_changed() {
    if (paused_) pace();
}

void DetachedFill::on_origin_complete() {
    s_.fetch = nullptr;
    bool truncated = s_.length && s_.received != *s_.length;
    if (s_.writer && !truncated)
        cache::commit_stored(*s_.writer, s_.head_text, s_.status, s_.received, s_.times,
                             std::move(s_.etag), std::move(s_.last_modified));
    finish(truncated ? cache::FillState::failed : cache::FillState::complete);
}

void DetachedFill::on_origin_error(const core::Error &) {
    s_.fetch = nullptr;
    finish(cache::FillState::failed);
}

void DetachedFill::cancel() noexcept {
    if (s_.fetch) std::exchange(s_.fetch, nullptr)->cancel();
    finish(cache::FillState::failed);
}

void DetachedFill::finish(cache::FillState how) noexcept {
    if (wake_) wake_->listener = nullptr;
    s_.writer.reset();
    if (s_.fill) s_.fill->end(how);
    rt_.background_finished(this);
    delete this;
}

} // namespace perch::edge

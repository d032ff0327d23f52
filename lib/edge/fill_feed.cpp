#include "edge/fill_feed.hpp"

#include "cache/stored_head.hpp"
#include "edge/runtime.hpp"

namespace perch::edge {

FillFeed::FillFeed(Runtime &rt, Setup s, Reader *reader)
    : rt_(rt), reader_(reader), fetch_(s.fetch), writer_(std::move(s.writer)),
      fill_(std::move(s.fill)), head_text_(std::move(s.head_text)), etag_(std::move(s.etag)),
      last_modified_(std::move(s.last_modified)), times_(s.times), length_(s.length),
      lag_deadline_(&FillFeed::on_lag_timeout, this), status_(s.status),
      fill_streaming_(s.fill_streaming && fill_) {
    fetch_->rebind(*this);
}

FillFeed::~FillFeed() {
    if (wake_) wake_->listener = nullptr;
    if (fetch_) std::exchange(fetch_, nullptr)->cancel();
    drop_fill(cache::FillState::failed);
}

void FillFeed::on_origin_body(const core::BufferSlice &chunk) {
    uint64_t offset = received_;
    received_ += chunk.len;
    if (fill_streaming_) fill_->publish_body(chunk);
    if (writer_ && !writer_->append(chunk.ptr, chunk.len)) {
        writer_.reset();
        store_refused_ = true;
        if (fill_streaming_) fill_->stop_joining(); // waiters keep only what they lack
    }
    pace();
    if (reader_) reader_->on_feed_body(offset, chunk);
}

void FillFeed::on_origin_body_drained() {
    if (reader_) reader_->on_feed_request_body_drained();
}

void FillFeed::hold(bool held) {
    if (held == held_) return;
    held_ = held;
    pace();
}

void FillFeed::on_fill_changed() {
    if (paused_) pace();
}

void FillFeed::pace() {
    if (!fetch_) return;
    bool storing = writer_ != nullptr;
    bool lags = false;
    if (fill_streaming_ && !storing) {
        if (!wake_) wake_ = core::Ref<FillWake>::adopt(new FillWake(rt_.mailbox(), this));
        lags = fill_lags(*fill_, *wake_, paused_ ? fill_low_water : fill_high_water);
    }
    bool pause = (held_ && !storing) || lags;
    // Others wait on whoever holds it: bounded (on_lag_timeout).
    bool others_wait = lags || (pause && fill_streaming_ && fill_->has_waiters());
    if (!others_wait)
        lag_deadline_.disarm();
    else if (!lag_deadline_.armed())
        rt_.deadlines().arm(lag_deadline_,
                            rt_.distribution().config().perch.limits.collapsed_lag_timeout_ms);
    if (pause == paused_) return;
    paused_ = pause;
    if (pause)
        fetch_->pause_response();
    else
        fetch_->resume_response();
}

void FillFeed::on_lag_timeout(void *self) {
    auto *f = static_cast<FillFeed *>(self);
    if (!f->fetch_ || !f->paused_) return;
    if (f->fill_streaming_) {
        size_t cut = f->fill_->cut_lagging(fill_low_water); // those keeping it paused
        if (cut)
            f->rt_.log().log(core::LogLevel::info, {},
                             "%zu collapsed viewer(s) cut loose: they held a stream that is not "
                             "stored for %u ms",
                             cut,
                             f->rt_.distribution().config().perch.limits.collapsed_lag_timeout_ms);
    }
    if (f->held_ && f->reader_ && f->fill_streaming_ && f->fill_->has_waiters())
        return f->reader_->on_feed_reader_cut(); // it leaves: the feed carries on (pace())
    f->pace();
}

void FillFeed::on_origin_complete() {
    fetch_ = nullptr;
    bool truncated = length_ && received_ != *length_;
    if (writer_ && !truncated)
        cache::commit_stored(*writer_, head_text_, status_, received_, times_, std::move(etag_),
                             std::move(last_modified_));
    writer_.reset();
    end(truncated ? FeedEnd::truncated : FeedEnd::complete, nullptr);
}

void FillFeed::on_origin_error(const core::Error &error) {
    fetch_ = nullptr;
    writer_.reset();
    end(FeedEnd::failed, &error);
}

void FillFeed::drop_fill(cache::FillState how) noexcept {
    if (fill_) std::exchange(fill_, nullptr)->end(how);
    fill_streaming_ = false;
}

void FillFeed::end(FeedEnd how, const core::Error *error) {
    // Waiters that never saw a head look the key up again (complete) or fetch (failed).
    drop_fill(how == FeedEnd::complete ? cache::FillState::complete : cache::FillState::failed);
    if (reader_) return reader_->on_feed_end(how, error); // may destroy this
    rt_.background_finished(this);
    delete this;
}

void FillFeed::leave(std::unique_ptr<FillFeed> feed, Leave why) noexcept {
    FillFeed *f = feed.release();
    f->reader_ = nullptr;
    bool waiters = f->fill_streaming_ && f->fill_->has_waiters();
    bool goes_on = f->fetch_ && (waiters || (why == Leave::finished && f->writer_));
    if (!goes_on) {
        delete f;
        return;
    }
    f->held_ = false; // no viewer to wait for any more
    f->rt_.background_started(f);
    f->pace();
}

void FillFeed::cancel() noexcept {
    rt_.background_finished(this);
    delete this; // cancels the fetch and fails the fill
}

} // namespace perch::edge

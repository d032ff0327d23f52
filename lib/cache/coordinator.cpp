#include "cache/coordinator.hpp"

#include <algorithm>
#include <cstring>

namespace perch::cache {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

Fill::Registration Fill::registration_for(const CacheKey &key) {
    return {key.hash.low64, size_t(key.hash.high64 % Coordinator::shard_count), false};
}

Fill::Fill(Coordinator *owner, const CacheKey &key)
    : owner_(owner ? Ref<Coordinator>::share(owner) : nullptr), main_(registration_for(key)) {
    main_.registered = owner != nullptr;
}

Fill::~Fill() = default;

void Fill::publish_head(Ref<Buffer> head, uint16_t status, std::optional<uint64_t> length,
                        const StoredTimes &times) {
    {
        std::lock_guard lock(mu_);
        head_.state = FillState::streaming;
        head_.head = std::move(head);
        head_.status = status;
        head_.length = length;
        head_.times = times;
    }
    wake();
}

void Fill::publish_variant_head(Ref<Buffer> head, uint16_t status, std::optional<uint64_t> length,
                                const StoredTimes &times, std::string_view vary,
                                const CacheKey &variant_key) {
    if (owner_ && !variant_.registered) {
        variant_ = registration_for(variant_key);
        owner_->add_registration(this, variant_, variant_key.text);
    }
    {
        std::lock_guard lock(mu_);
        head_.vary.assign(vary);
        head_.variant_key = variant_key.text;
    }
    publish_head(std::move(head), status, length, times);
}

void Fill::publish_body(const BufferSlice &bytes) {
    if (bytes.len == 0) return;
    {
        std::lock_guard lock(mu_);
        published_bytes_ += bytes.len;
        if (joinable_ || !waiters_.empty()) {
            pieces_.push_back(core::compact_slice(bytes, tail_));
        } else { // nobody will read it (nor what came before)
            first_piece_ += pieces_.size() + 1;
            pieces_.clear();
        }
    }
    wake();
}

void Fill::end(FillState how) {
    {
        std::lock_guard lock(mu_);
        if (head_.state != FillState::pending && head_.state != FillState::streaming) return;
        head_.state = how;
        tail_.reset();
    }
    if (owner_) owner_->forget(this);
    wake();
    std::vector<Waiter> dropped; // released after the lock
    Ref<FillWaiter> drain;
    std::lock_guard lock(mu_);
    dropped.swap(waiters_); // nothing more will happen
    drain = std::move(drain_waiter_);
}

void Fill::stop_joining() {
    if (owner_) owner_->forget(this);
    Ref<FillWaiter> drain;
    {
        std::lock_guard lock(mu_);
        joinable_ = false;
        drain = after_progress_locked();
    }
    if (drain) drain->fill_changed();
}

uint64_t Fill::unread_locked() const noexcept {
    uint64_t least = published_bytes_;
    for (const Waiter &w : waiters_)
        if (!w.cut) least = std::min(least, w.read_bytes);
    return published_bytes_ - least;
}

uint64_t Fill::unread_bytes() const noexcept {
    std::lock_guard lock(mu_);
    return unread_locked();
}

void Fill::wake_when_read(Ref<FillWaiter> w, uint64_t bytes) {
    {
        std::lock_guard lock(mu_);
        if (unread_locked() > bytes) {
            drain_waiter_ = std::move(w);
            drain_below_ = bytes;
            return;
        }
    }
    w->fill_changed();
}

Ref<FillWaiter> Fill::after_progress_locked() {
    if (!joinable_) {
        size_t least = first_piece_ + pieces_.size();
        for (const Waiter &w : waiters_)
            if (!w.cut) least = std::min(least, w.next);
        while (first_piece_ < least) {
            pieces_.pop_front();
            ++first_piece_;
        }
    }
    if (drain_waiter_ && unread_locked() <= drain_below_) return std::move(drain_waiter_);
    return nullptr;
}

size_t Fill::cut_lagging(uint64_t bytes) {
    std::vector<Ref<FillWaiter>> cut;
    Ref<FillWaiter> drain;
    {
        std::lock_guard lock(mu_);
        for (Waiter &w : waiters_) {
            if (w.cut || published_bytes_ - w.read_bytes <= bytes) continue;
            w.cut = true;
            cut.push_back(w.w);
        }
        if (cut.empty()) return 0;
        drain = after_progress_locked();
    }
    for (auto &w : cut)
        w->fill_changed(); // it ends its response
    if (drain) drain->fill_changed();
    return cut.size();
}

bool Fill::cut(const FillWaiter *w) const noexcept {
    std::lock_guard lock(mu_);
    for (const Waiter &x : waiters_)
        if (x.w.get() == w) return x.cut;
    return false;
}

bool Fill::add_waiter(Ref<FillWaiter> w) {
    std::lock_guard lock(mu_);
    if (head_.state != FillState::pending && head_.state != FillState::streaming) return true;
    if (first_piece_ > 0) return false; // the first bytes are gone
    waiters_.push_back(Waiter{std::move(w), 0, 0});
    return true;
}

void Fill::remove_waiter(const FillWaiter *w) noexcept {
    Waiter dropped;
    Ref<FillWaiter> drain;
    {
        std::lock_guard lock(mu_);
        auto it = std::find_if(waiters_.begin(), waiters_.end(),
                               [w](const Waiter &x) { return x.w.get() == w; });
        if (it == waiters_.end()) return;
        dropped = std::move(*it);
        waiters_.erase(it);
        drain = after_progress_locked();
    }
    if (drain) drain->fill_changed();
}

bool Fill::has_waiters() const noexcept {
    std::lock_guard lock(mu_);
    return !waiters_.empty();
}

Fill::Head Fill::head() const {
    std::lock_guard lock(mu_);
    return head_;
}

size_t Fill::read(const FillWaiter *reader, size_t index, BufferSlice *out, size_t max,
                  FillState &state, size_t &pieces) {
    Ref<FillWaiter> drain;
    size_t n = 0;
    {
        std::lock_guard lock(mu_);
        auto me = std::find_if(waiters_.begin(), waiters_.end(),
                               [reader](const Waiter &w) { return w.w.get() == reader; });
        if (me != waiters_.end() && me->cut) { // cut loose: its response ends here
            state = FillState::failed;
            pieces = index;
            return 0;
        }
        state = head_.state;
        pieces = first_piece_ + pieces_.size();
        index = std::max(index, first_piece_);
        uint64_t bytes = 0;
        for (; n < max && index + n < pieces; ++n) {
            out[n] = pieces_[index + n - first_piece_];
            bytes += out[n].len;
        }
        if (me != waiters_.end()) {
            me->next = index + n;
            me->read_bytes += bytes;
            drain = after_progress_locked();
        }
    }
    if (drain) drain->fill_changed();
    return n;
}

void Fill::wake() {
    std::vector<Ref<FillWaiter>> ws;
    {
        std::lock_guard lock(mu_);
        ws.reserve(waiters_.size());
        for (const Waiter &w : waiters_)
            ws.push_back(w.w);
    }
    for (auto &w : ws)
        w->fill_changed();
}

Coordinator::Joined Coordinator::join(const CacheKey &key) {
    Shard &s = shards_[key.hash.high64 % shard_count];
    std::lock_guard lock(s.mu);
    auto it = s.fills.find(key.hash.low64);
    if (it != s.fills.end()) {
        if (it->second.key == key.text) return {it->second.fill, false};
        // A different key with the same slot: lead without collapsing.
        return {Ref<Fill>::adopt(new Fill(nullptr, key)), true};
    }
    Ref<Fill> f = Ref<Fill>::adopt(new Fill(this, key));
    s.fills.emplace(key.hash.low64, Entry{f, key.text});
    return {std::move(f), true};
}

bool Coordinator::add_registration(Fill *f, Fill::Registration &r, const std::string &key) {
    Shard &s = shards_[r.shard];
    std::lock_guard lock(s.mu);
    r.registered = s.fills.emplace(r.slot, Entry{Ref<Fill>::share(f), key}).second;
    return r.registered;
}

void Coordinator::forget(Fill *f) noexcept {
    forget(f, f->main_);
    forget(f, f->variant_);
}

void Coordinator::forget(Fill *f, Fill::Registration &r) noexcept {
    if (!r.registered) return;
    r.registered = false;
    Entry dropped; // released after the lock
    Shard &s = shards_[r.shard];
    std::lock_guard lock(s.mu);
    auto it = s.fills.find(r.slot);
    if (it != s.fills.end() && it->second.fill.get() == f) {
        dropped = std::move(it->second);
        s.fills.erase(it);
    }
}

bool Coordinator::busy(const CacheKey &key) const noexcept {
    const Shard &s = shards_[key.hash.high64 % shard_count];
    std::lock_guard lock(s.mu);
    auto it = s.fills.find(key.hash.low64);
    return it != s.fills.end() && it->second.key == key.text;
}

size_t Coordinator::in_flight() const noexcept {
    size_t n = 0;
    for (const Shard &s : shards_) {
        std::lock_guard lock(s.mu);
        n += s.fills.size();
    }
    return n;
}

} // namespace perch::cache

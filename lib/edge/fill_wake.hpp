// A waiter on a fill (coordinator.hpp) that wakes its owner's loop, through its runtime's
// mailbox, once per burst of fill changes; the owner then reads the fill on its own thread.
// Followers use it to stream; leaders (a transaction, a detached fill) to learn that their
// waiters have caught up (flow control).
#pragma once

#include "cache/coordinator.hpp"
#include "edge/flow_control.hpp"
#include "io/mailbox.hpp"

#include <atomic>
#include <cstdint>

namespace perch::edge {

class FillListener {
public:
    // On the listener's loop thread.
    virtual void on_fill_changed() = 0;

protected:
    ~FillListener() = default;
};

class FillWake final : public cache::FillWaiter {
public:
    FillWake(core::Ref<io::Mailbox> mailbox, FillListener *l)
        : listener(l), mailbox_(std::move(mailbox)) {}

    void fill_changed() noexcept override {
        if (queued_.exchange(true, std::memory_order_acq_rel)) return;
        try {
            mailbox_->post(
                core::Ref<io::MailboxTask>::adopt(new Task(core::Ref<FillWake>::share(this))));
        } catch (...) {
            queued_.store(false, std::memory_order_release); // a later change will retry
        }
    }

    FillListener *listener; // loop thread only; null once the listener is gone

private:
    struct Task final : io::MailboxTask {
        explicit Task(core::Ref<FillWake> w) : wake(std::move(w)) {}
        void run() noexcept override {
            wake->queued_.store(false, std::memory_order_release);
            if (wake->listener) wake->listener->on_fill_changed();
        }
        core::Ref<FillWake> wake;
    };

    core::Ref<io::Mailbox> mailbox_;
    std::atomic<bool> queued_{false};
};

// Whether the slowest waiter of `fill` lags by more than `limit` bytes: then `wake` is woken
// once it is back within fill_low_water, and the leader keeps its origin paused meanwhile.
inline bool fill_lags(cache::Fill &fill, FillWake &wake, uint64_t limit) {
    if (fill.unread_bytes() <= limit) return false;
    fill.wake_when_read(core::Ref<cache::FillWaiter>::share(&wake), fill_low_water);
    return true;
}

} // namespace perch::edge

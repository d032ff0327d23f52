// A collapsed request's waiter: wakes the follower's loop (through its runtime's mailbox)
// once per burst of fill changes; the follower then reads the fill on its own thread.
#pragma once

#include "cache/coordinator.hpp"
#include "io/mailbox.hpp"

#include <atomic>

namespace perch::edge {

class Transaction;
void notify_fill_changed(Transaction *txn) noexcept;

// A follower's waiter: wakes the follower's loop once per burst of fill changes.
class FillWake final : public cache::FillWaiter {
public:
    FillWake(core::Ref<io::Mailbox> mailbox, Transaction *t)
        : txn(t), mailbox_(std::move(mailbox)) {}

    void fill_changed() noexcept override {
        if (queued_.exchange(true, std::memory_order_acq_rel)) return;
        try {
            mailbox_->post(
                core::Ref<io::MailboxTask>::adopt(new Task(core::Ref<FillWake>::share(this))));
        } catch (...) {
            queued_.store(false, std::memory_order_release); // a later change will retry
        }
    }

    Transaction *txn; // loop thread only; null once the transaction is gone

private:
    struct Task final : io::MailboxTask {
        explicit Task(core::Ref<FillWake> w) : wake(std::move(w)) {}
        void run() noexcept override {
            wake->queued_.store(false, std::memory_order_release);
            if (wake->txn) notify_fill_changed(wake->txn);
        }
        core::Ref<FillWake> wake;
    };

    core::Ref<io::Mailbox> mailbox_;
    std::atomic<bool> queued_{false};
};

} // namespace perch::edge

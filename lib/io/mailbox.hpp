// Hands work to a loop from other threads: post() from any thread queues a task and wakes the
// loop (one uv_async_t); the tasks run on the loop's thread, in order. The mailbox is
// refcounted so that posters may keep it past the loop's end: after close(), post() drops
// the task instead.
#pragma once

#include "core/ref.hpp"

#include <mutex>
#include <uv.h>
#include <vector>

namespace perch::io {

class MailboxTask : public core::RefCounted<MailboxTask> {
public:
    virtual ~MailboxTask() = default;
    // Runs on the mailbox's loop thread.
    virtual void run() noexcept = 0;
};

class Mailbox final : public core::RefCounted<Mailbox> {
public:
    // Starts the wakeup handle on `loop` (call on the loop's thread).
    static core::Ref<Mailbox> open(uv_loop_t *loop);
    // Any thread. Returns false when the mailbox is closed (the task is dropped).
    bool post(core::Ref<MailboxTask> task);
    // Loop thread: stops the wakeup handle; `closed` runs once libuv has released it.
    void close(void (*closed)(void *), void *ctx);

private:
    Mailbox() = default;
    static void on_wakeup(uv_async_t *a);
    void drain() noexcept;

    std::mutex mu_;
    std::vector<core::Ref<MailboxTask>> queue_;
    uv_async_t *async_ = nullptr; // freed after close
    bool closed_ = false;
};

} // namespace perch::io

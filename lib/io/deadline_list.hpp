// Timeouts without a timer handle per connection. Every timeout of one duration lives in a
// DeadlineList: arming appends at the tail, so the list stays sorted by expiry and one
// uv_timer per list (armed for the head) serves all of them. Arm, re-arm and disarm are O(1).
// The timer runs only while its list is not empty, so it keeps the loop alive exactly while
// something is due. A zero-duration deadline is how work is deferred out of the current call
// stack: it fires from the loop's timer phase, never inside the call that armed it.
// Not thread-safe: one set of lists per loop (see Deadlines).
#pragma once

#include <cstdint>
#include <memory>
#include <uv.h>
#include <vector>

namespace perch::io {

class DeadlineList;

// Embed one per timeout an object can have; disarm (or destroy) it before the owner dies.
class Deadline {
public:
    using Fire = void (*)(void *owner);
    Deadline(Fire fire, void *owner) noexcept : fire_(fire), owner_(owner) {}
    ~Deadline();
    Deadline(const Deadline &) = delete;
    Deadline &operator=(const Deadline &) = delete;

    bool armed() const noexcept { return list_ != nullptr; }
    void disarm() noexcept;

private:
    friend class DeadlineList;
    Fire fire_;
    void *owner_;
    DeadlineList *list_ = nullptr;
    Deadline *prev_ = nullptr, *next_ = nullptr;
    uint64_t expiry_ = 0;
};

class DeadlineList {
public:
    DeadlineList(uv_loop_t *loop, uint64_t duration_ms);
    ~DeadlineList();
    DeadlineList(const DeadlineList &) = delete;
    DeadlineList &operator=(const DeadlineList &) = delete;

    uint64_t duration_ms() const noexcept { return duration_ms_; }
    // (Re)arms `d` to fire duration_ms from now (loop time); moves it from any other list.
    void arm(Deadline &d) noexcept;
    void remove(Deadline &d) noexcept;
    // Disarms everything left and closes the timer handle (it is freed by its close callback).
    void close() noexcept;

private:
    static void on_timer(uv_timer_t *t);
    void schedule() noexcept;

    uv_loop_t *loop_;
    uv_timer_t *timer_; // heap: it must outlive the list until its close callback
    uint64_t duration_ms_;
    Deadline *head_ = nullptr, *tail_ = nullptr;
    uint64_t scheduled_for_ = 0;
};

// The lists of one loop, one per distinct duration (few: header, idle, per-origin timeouts).
class Deadlines {
public:
    explicit Deadlines(uv_loop_t *loop) : loop_(loop) {}
    ~Deadlines() { close(); }
    DeadlineList &list(uint64_t duration_ms);
    void arm(Deadline &d, uint64_t duration_ms) { list(duration_ms).arm(d); }
    // The loop's time (ms), as deadlines count it.
    uint64_t now_ms() const noexcept { return uv_now(loop_); }
    void close() noexcept;

private:
    uv_loop_t *loop_;
    std::vector<std::unique_ptr<DeadlineList>> lists_;
};

} // namespace perch::io

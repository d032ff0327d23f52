// A uv loop for one unit test, driven until a condition holds: a prepare handle checks the
// condition before each poll and stops the loop once it holds, and a guard timer bounds the
// run, so a failing test ends at the bound instead of hanging. Tests never sleep: they run the
// loop until what they wait for has happened. Destruction runs the loop until every handle is
// closed and checks that none was left open.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <uv.h>

namespace perch::test {

class UvTestLoop {
public:
    UvTestLoop() {
        REQUIRE(uv_loop_init(&loop_) == 0);
        uv_timer_init(&loop_, &guard_);
        uv_prepare_init(&loop_, &check_);
        guard_.data = check_.data = this;
    }
    ~UvTestLoop() {
        uv_close(reinterpret_cast<uv_handle_t *>(&guard_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t *>(&check_), nullptr);
        uv_run(&loop_, UV_RUN_DEFAULT);
        CHECK(uv_loop_close(&loop_) == 0); // UV_EBUSY: the test left a handle open
    }
    UvTestLoop(const UvTestLoop &) = delete;
    UvTestLoop &operator=(const UvTestLoop &) = delete;

    uv_loop_t *get() { return &loop_; }

    // Runs the loop until `done()` or `bound_ms` of loop time; returns done().
    bool run_until(const std::function<bool()> &done, uint64_t bound_ms = 5000) {
        done_ = &done;
        uv_prepare_start(&check_, [](uv_prepare_t *p) {
            if ((*static_cast<UvTestLoop *>(p->data)->done_)()) uv_stop(p->loop);
        });
        uv_timer_start(
            &guard_, [](uv_timer_t *t) { uv_stop(t->loop); }, bound_ms, 0);
        if (!done()) uv_run(&loop_, UV_RUN_DEFAULT);
        uv_timer_stop(&guard_);
        uv_prepare_stop(&check_);
        done_ = nullptr;
        return done();
    }

    // Runs the loop for `ms` of loop time: for checking that something does NOT happen within
    // a window (nothing else can prove an absence).
    void run_for(uint64_t ms) {
        bool over = false;
        uv_timer_t t;
        uv_timer_init(&loop_, &t);
        t.data = &over;
        uv_timer_start(
            &t, [](uv_timer_t *h) { *static_cast<bool *>(h->data) = true; }, ms, 0);
        run_until([&] { return over; }, ms + 1000);
        close(reinterpret_cast<uv_handle_t *>(&t));
    }

    // Closes a handle the test owns and waits for its close callback, so it may then go away.
    void close(uv_handle_t *h) {
        bool closed = false;
        h->data = &closed;
        uv_close(h, [](uv_handle_t *c) { *static_cast<bool *>(c->data) = true; });
        run_until([&] { return closed; });
    }

private:
    uv_loop_t loop_;
    uv_timer_t guard_;
    uv_prepare_t check_;
    const std::function<bool()> *done_ = nullptr;
};

} // namespace perch::test

// Counts objects that may still call back into a runtime (connections, file reads, handles
// being closed), so that the runtime frees itself only when the last one is gone: libuv
// completes closes and file-system requests on later loop turns.
#pragma once

#include <cstddef>

namespace perch::io {

class LiveCount {
public:
    using OnZero = void (*)(void *ctx);
    void add() noexcept { ++n_; }
    void drop() noexcept {
        if (--n_ == 0 && on_zero_) on_zero_(ctx_);
    }
    size_t count() const noexcept { return n_; }
    // Calls on_zero (now if already zero) once the count reaches zero.
    void when_zero(OnZero f, void *ctx) noexcept {
        on_zero_ = f;
        ctx_ = ctx;
        if (n_ == 0) f(ctx);
    }

private:
    size_t n_ = 0;
    OnZero on_zero_ = nullptr;
    void *ctx_ = nullptr;
};

} // namespace perch::io

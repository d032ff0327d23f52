// Wall-clock time in milliseconds since the Unix epoch. Pure code (policy) never reads it: it
// is given `now`. The edge reads it through a Clock its runtime is given (the real one unless
// a test simulates time). Timers use the loop's monotonic clock instead (io/deadline_list).
#pragma once

#include <cstdint>
#include <ctime>

namespace perch::core {

using UnixMillis = int64_t;

inline UnixMillis wall_clock_ms() noexcept {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

class Clock {
public:
    virtual UnixMillis now() const noexcept = 0;

protected:
    ~Clock() = default;
};

// The real wall clock.
class WallClock final : public Clock {
public:
    UnixMillis now() const noexcept override { return wall_clock_ms(); }
    static const WallClock &instance() noexcept {
        static const WallClock c;
        return c;
    }
};

} // namespace perch::core

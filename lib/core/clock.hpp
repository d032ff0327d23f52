// Wall-clock time in milliseconds since the Unix epoch. Pure code (policy) never reads it: it
// is given `now`. Timers use the loop's monotonic clock instead (io/timer).
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

} // namespace perch::core

// A clock the test moves by hand: objects expire when the test says so, never by sleeping.
#pragma once

#include "core/clock.hpp"

namespace perch::test {

class SimulatedClock final : public core::Clock {
public:
    // 2027-01-15T08:00:00Z: whole seconds, so that HTTP dates round-trip exactly.
    explicit SimulatedClock(core::UnixMillis start = 1'800'000'000'000) : now_(start) {}
    core::UnixMillis now() const noexcept override { return now_; }
    void advance(int64_t ms) noexcept { now_ += ms; }

private:
    core::UnixMillis now_;
};

} // namespace perch::test

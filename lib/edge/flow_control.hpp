// The response direction's one flow-control setting (origin to viewer). A sink asks its
// transaction for more (Transaction::proceed) while fewer than response_high_water bytes wait
// for its viewer, and again once they drop to response_low_water; a transaction holds its origin
// while its sink has not asked. A collapsed fill lets its slowest waiter lag fill_high_water
// behind before its origin is paused, and resumes it at fill_low_water. The request direction
// (viewer to origin) has its own mark in transaction_origin.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace perch::edge {

inline constexpr size_t response_high_water = 1 << 20;
inline constexpr size_t response_low_water = response_high_water / 2;
inline constexpr uint64_t fill_high_water = 4 * response_high_water;
inline constexpr uint64_t fill_low_water = response_high_water;

} // namespace perch::edge

// Counting allocator for the benchmarks: linking counting_allocator.cpp replaces the global
// operator new and delete; `allocations` counts every operator new in the process.
#pragma once

#include <atomic>
#include <cstdint>

extern std::atomic<uint64_t> allocations;

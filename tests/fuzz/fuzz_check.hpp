// Invariant checks for the fuzz targets. Under libFuzzer a failed check prints where it failed
// and aborts, so the input is kept as a finding (crash-*); in fuzz-replay (the gcc build,
// PERCH_FUZZ_REPLAY) it throws, so one bad corpus file is one "not ok" line and the rest still run.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace perch::fuzz {

[[noreturn]] inline void check_failed(const char *expr, const char *file, int line) {
#ifdef PERCH_FUZZ_REPLAY
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + expr);
#else
    std::fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, expr);
    std::abort();
#endif
}

} // namespace perch::fuzz

#define PERCH_FUZZ_CHECK(cond)                                                                     \
    ((cond) ? void(0) : perch::fuzz::check_failed(#cond, __FILE__, __LINE__))

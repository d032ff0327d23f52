// C API: the mapping between the public PERCH_LOG_* levels and core::LogLevel
// (capi/log_level.hpp, used by perch_runtime_create and by the log sink that calls the host's
// perch_log_cb), both ways, and a logger set up through it: at PERCH_LOG_ERROR a warning is
// not delivered and an error is, with the level PERCH_LOG_ERROR. Nothing in the library logs
// at error level yet, so this is where error delivery is checked; log_level_test.c checks
// the other levels end to end through a runtime.
#include "capi/log_level.hpp"

#include "tap.h"

#include <cstdint>
#include <string>
#include <vector>

using perch::capi::log_level_from_public;
using perch::capi::log_level_to_public;
using perch::core::Logger;
using perch::core::LogLevel;

namespace {

struct Line {
    int32_t level; // public
    std::string message;
};

// What the runtime's sink does: hand the host the public level.
void record(void *user, LogLevel level, std::string_view, std::string_view message) {
    static_cast<std::vector<Line> *>(user)->push_back(
        Line{log_level_to_public(level), std::string(message)});
}

} // namespace

int main() {
    struct Pair {
        int32_t public_level;
        LogLevel core_level;
        const char *name;
    };
    const Pair pairs[] = {
        {PERCH_LOG_ERROR, LogLevel::error, "PERCH_LOG_ERROR"},
        {PERCH_LOG_WARN, LogLevel::warn, "PERCH_LOG_WARN"},
        {PERCH_LOG_INFO, LogLevel::info, "PERCH_LOG_INFO"},
        {PERCH_LOG_DEBUG, LogLevel::debug, "PERCH_LOG_DEBUG"},
    };
    for (const Pair &p : pairs) {
        std::string what = std::string(p.name) +
                           " maps to core::LogLevel::" + perch::core::log_level_name(p.core_level) +
                           " and back";
        auto l = log_level_from_public(p.public_level);
        CHECK(l && *l == p.core_level && log_level_to_public(p.core_level) == p.public_level,
              what.c_str());
    }
    auto dflt = log_level_from_public(0);
    CHECK(dflt && *dflt == LogLevel::warn, "0 (the options' default) maps to warn");
    bool refused = true;
    for (int32_t v : {-1, PERCH_LOG_DEBUG + 1, 100, INT32_MIN, INT32_MAX})
        refused = refused && !log_level_from_public(v);
    CHECK(refused, "values that are neither 0 nor a PERCH_LOG_* level map to nothing");

    // Errors only, through the mapping as perch_runtime_create sets the logger up.
    std::vector<Line> lines;
    Logger errors_only(&record, &lines, *log_level_from_public(PERCH_LOG_ERROR));
    errors_only.log(LogLevel::warn, {}, "a warning");
    errors_only.log(LogLevel::error, {}, "an error");
    CHECK(lines.size() == 1 && lines[0].message == "an error",
          "PERCH_LOG_ERROR: a warning is not delivered, an error is");
    CHECK(!lines.empty() && lines[0].level == PERCH_LOG_ERROR,
          "the error reaches the host with level PERCH_LOG_ERROR");

    // At each public level, exactly the lines whose public level is not more verbose pass.
    bool consistent = true;
    for (const Pair &max : pairs) {
        lines.clear();
        Logger log(&record, &lines, *log_level_from_public(max.public_level));
        for (const Pair &p : pairs)
            log.log(p.core_level, {}, "%s", p.name);
        size_t expected = 0;
        for (const Pair &p : pairs)
            expected += p.public_level <= max.public_level;
        consistent = consistent && lines.size() == expected;
        for (const Line &l : lines)
            consistent = consistent && l.level <= max.public_level;
    }
    CHECK(consistent, "each PERCH_LOG_* level passes itself and the more severe ones");
    return tap_done();
}

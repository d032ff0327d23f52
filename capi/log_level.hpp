// L4: the public log levels (PERCH_LOG_*, 1 = error .. 4 = debug, 0 = "default" in the
// options) to and from core::LogLevel. The two sets of values are independent: only this
// mapping ties them, and tests/capi/log_level_map_test.cpp checks it both ways.
#pragma once

#include "perch/perch.h"

#include "core/log.hpp"

#include <cstdint>
#include <optional>

namespace perch::capi {

// perch_runtime_options.log_level -> the logger's most verbose level: 0 is the default (warn);
// a value that is neither 0 nor a PERCH_LOG_* level gives nullopt (the caller refuses it).
inline std::optional<core::LogLevel> log_level_from_public(int32_t level) noexcept {
    switch (level) {
    case 0:
        return core::LogLevel::warn;
    case PERCH_LOG_ERROR:
        return core::LogLevel::error;
    case PERCH_LOG_WARN:
        return core::LogLevel::warn;
    case PERCH_LOG_INFO:
        return core::LogLevel::info;
    case PERCH_LOG_DEBUG:
        return core::LogLevel::debug;
    }
    return std::nullopt;
}

// A line's level as the host's perch_log_cb receives it.
inline int32_t log_level_to_public(core::LogLevel level) noexcept {
    switch (level) {
    case core::LogLevel::error:
        return PERCH_LOG_ERROR;
    case core::LogLevel::warn:
        return PERCH_LOG_WARN;
    case core::LogLevel::info:
        return PERCH_LOG_INFO;
    case core::LogLevel::debug:
        return PERCH_LOG_DEBUG;
    }
    return PERCH_LOG_DEBUG; // not reached: every level is listed above
}

} // namespace perch::capi

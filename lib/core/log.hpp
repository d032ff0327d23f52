// Leveled logging through a sink the embedder may replace (the C API's log callback). The
// default sink writes one line per message to stderr: "<level> [<request id>] <message>".
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string_view>

namespace perch::core {

// Ordered from the most severe (a logger passes its level and those below it). These are not
// the public PERCH_LOG_* values: the C API maps between the two (capi/log_level.hpp).
enum class LogLevel : int32_t { error = 0, warn = 1, info = 2, debug = 3 };

const char *log_level_name(LogLevel l) noexcept;

class Logger {
public:
    using Sink = void (*)(void *user, LogLevel level, std::string_view request_id,
                          std::string_view message);

    Logger() = default;
    Logger(Sink sink, void *user, LogLevel max_level)
        : sink_(sink), user_(user), max_level_(max_level) {}

    bool enabled(LogLevel l) const noexcept { return l <= max_level_; }
    void log(LogLevel l, std::string_view request_id, const char *fmt, ...) const
        __attribute__((format(printf, 4, 5)));
    void vlog(LogLevel l, std::string_view request_id, const char *fmt, va_list ap) const;

    static void stderr_sink(void *user, LogLevel level, std::string_view request_id,
                            std::string_view message);

private:
    Sink sink_ = &Logger::stderr_sink;
    void *user_ = nullptr;
    LogLevel max_level_ = LogLevel::warn;
};

} // namespace perch::core

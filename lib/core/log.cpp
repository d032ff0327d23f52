#include "core/log.hpp"

#include <cstdio>

namespace perch::core {

const char *log_level_name(LogLevel l) noexcept {
    switch (l) {
    case LogLevel::error:
        return "error";
    case LogLevel::warn:
        return "warn";
    case LogLevel::info:
        return "info";
    case LogLevel::debug:
        return "debug";
    }
    return "?";
}

void Logger::log(LogLevel l, std::string_view request_id, const char *fmt, ...) const {
    if (!enabled(l)) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(l, request_id, fmt, ap);
    va_end(ap);
}

void Logger::vlog(LogLevel l, std::string_view request_id, const char *fmt, va_list ap) const {
    if (!enabled(l)) return;
    char line[1024];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0) return;
    size_t len = size_t(n) < sizeof line ? size_t(n) : sizeof line - 1;
    sink_(user_, l, request_id, std::string_view(line, len));
}

void Logger::stderr_sink(void *, LogLevel level, std::string_view request_id,
                         std::string_view message) {
    if (request_id.empty())
        fprintf(stderr, "perch %s %.*s\n", log_level_name(level), int(message.size()),
                message.data());
    else
        fprintf(stderr, "perch %s [%.*s] %.*s\n", log_level_name(level), int(request_id.size()),
                request_id.data(), int(message.size()), message.data());
}

} // namespace perch::core

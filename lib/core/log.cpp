#include "core/log.hpp"

#include <cstdio>
#include <string>

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
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n >= 0 && size_t(n) < sizeof line) {
        sink_(user_, l, request_id, std::string_view(line, size_t(n)));
    } else if (n >= 0) {
        // Longer than the stack buffer (a long request target): format it again, whole.
        std::string whole(size_t(n), '\0');
        vsnprintf(whole.data(), whole.size() + 1, fmt, again);
        sink_(user_, l, request_id, whole);
    }
    va_end(again);
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

// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms on input.
#pragma once

#include "core/clock.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace perch::http {

// Milliseconds since the epoch, or nullopt when `s` is not a valid HTTP-date.
std::optional<core::UnixMillis> parse_http_date(std::string_view s);

// Writes "Sun, 06 Nov 1994 08:49:37 GMT" (29 bytes) into out; returns the length (29).
constexpr size_t http_date_length = 29;
size_t format_http_date(core::UnixMillis t, char out[http_date_length]);

} // namespace perch::http

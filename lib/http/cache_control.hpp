// Cache-Control (RFC 9111 §5.2) and CDN-Cache-Control (RFC 9213) parsing. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace perch::http {

struct CacheControl {
    // delta-seconds values; an out-of-range value is clamped to 2147483648 (RFC 9111 §1.2.2).
    std::optional<int64_t> max_age;
    std::optional<int64_t> s_maxage;
    std::optional<int64_t> stale_while_revalidate;
    std::optional<int64_t> stale_if_error;
    bool no_store = false;
    bool no_cache = false; // also set by the qualified form no-cache="field"
    bool private_ = false; // also set by the qualified form private="field"
    bool public_ = false;
    bool must_revalidate = false;
    bool proxy_revalidate = false;
    bool no_transform = false;
    bool immutable = false;
    bool only_if_cached = false; // request directive
    bool any = false;            // at least one directive was present
};

// Parses all values of the field, joined with "," (a field repeated on several lines is one
// list). Unknown directives are ignored; directive names are case-insensitive; a directive
// with an invalid argument (max-age=abc) is treated as RFC 9111 §4.2.1 says for malformed
// freshness: the response is considered stale (max_age = 0).
CacheControl parse_cache_control(std::string_view value);

} // namespace perch::http

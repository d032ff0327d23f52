// Cache-Control (RFC 9111 §5.2) parsing, and the Age and Expires fields. Pure.
// CDN-Cache-Control, a Structured Field, is read by http/cdn_cache_control.hpp.
#pragma once

#include "core/clock.hpp"
#include "core/header_map.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace perch::http {

struct CacheControl {
    // delta-seconds values; an out-of-range value is clamped to 2147483648 (RFC 9111 §1.2.2).
    std::optional<int64_t> max_age;
    std::optional<int64_t> s_maxage;
    std::optional<int64_t> stale_while_revalidate;
    std::optional<int64_t> stale_if_error;
    // Request directives (RFC 9111 §5.2.1). max-stale without an argument accepts any
    // staleness: 2147483648.
    std::optional<int64_t> max_stale;
    std::optional<int64_t> min_fresh;
    bool no_store = false;
    bool no_cache = false; // also set by the qualified form no-cache="field"
    bool private_ = false; // also set by the qualified form private="field"
    // Set when every no-cache / private seen was the qualified form (it names fields). A shared
    // cache that does not strip the named fields treats them as the unqualified directive.
    bool no_cache_qualified = false;
    bool private_qualified = false;
    bool public_ = false;
    bool must_revalidate = false;
    bool proxy_revalidate = false;
    bool no_transform = false;
    bool immutable = false;
    bool must_understand = false;
    bool only_if_cached = false; // request directive
    bool any = false;            // at least one directive was present
};

// Parses all values of the field, joined with "," (a field repeated on several lines is one
// list). Unknown directives are ignored; directive names are case-insensitive; a directive
// with an invalid argument (max-age=abc) is treated as RFC 9111 §4.2.1 says for malformed
// freshness: the response is considered stale (max_age = 0).
CacheControl parse_cache_control(std::string_view value);

// The same over every line of `field` ("cache-control") in `headers`,
// without joining them (no allocation). Each line is its own list: an unterminated quoted
// string swallows only the rest of its line.
CacheControl parse_cache_control(const core::HeaderMap &headers, std::string_view field);

// Adds the directives of one field value to `cc` (the repeat rule spans calls).
void add_cache_control(CacheControl &cc, std::string_view value);

// The Age field (RFC 9111 §5.1): delta-seconds, clamped to 2147483648. A list uses its first
// member; nullopt when that member is invalid or the field is empty.
std::optional<int64_t> parse_age(std::string_view value) noexcept;
// Over a response's fields: the first Age line; nullopt when absent or invalid.
std::optional<int64_t> parse_age(const core::HeaderMap &headers) noexcept;

// What an invalid Expires means (RFC 9111 §5.3: "already expired"): a time before any Date.
constexpr core::UnixMillis expires_invalid = std::numeric_limits<core::UnixMillis>::min();

// The Expires field value as a time (any of the three HTTP-date forms, RFC 9110 §5.6.7), or
// expires_invalid when it is not a valid HTTP-date ("0", "-1", empty).
core::UnixMillis parse_expires(std::string_view value) noexcept;
// Over a response's fields: nullopt when there is no Expires; expires_invalid when a line is
// invalid or two lines disagree (RFC 9111 §4.2.1 lets a cache treat that as stale).
std::optional<core::UnixMillis> parse_expires(const core::HeaderMap &headers) noexcept;

} // namespace perch::http

// CDN-Cache-Control (RFC 9213): the directives of a targeted field, read as an RFC 9651
// Dictionary. Pure.
#pragma once

#include "core/header_map.hpp"
#include "http/cache_control.hpp"

#include <optional>

namespace perch::http {

// The response directives of every CDN-Cache-Control line, or nullopt when the cache must act
// as if the field were absent (RFC 9213 section 2.1) and fall back to Cache-Control: the
// field is absent or empty, it is not a valid Dictionary (a key with an uppercase letter, a
// trailing comma, ...), or a directive this cache knows has a value of the wrong type
// (`max-age="60"`, `max-age=a`, `max-age=-1`, `max-age=1.5`, `no-store=3`, an Inner List).
//
// Value types: the delta-seconds directives (max-age, s-maxage, stale-while-revalidate,
// stale-if-error) are Integers of 0 or more, clamped to 2^31 as RFC 9111 section 1.2.2 does;
// the others are Booleans (`?0` leaves the directive out), except no-cache and private, which
// may also be a String of field names (the qualified form, treated as the whole directive).
// Parameters and unknown directives are ignored.
std::optional<CacheControl> parse_cdn_cache_control(const core::HeaderMap &headers);

} // namespace perch::http

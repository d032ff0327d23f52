// Cache policy, CloudFront's way: whether a response may be stored, for how long it is fresh,
// and whether a stored response is still usable. Pure: no I/O, no clock reads (given `now`).
#pragma once

#include "config/caching_rules.hpp"
#include "core/clock.hpp"
#include "core/http_message.hpp"

#include <cstdint>
#include <optional>

namespace perch::cache {

// The rules the cache is given (config/caching_rules.hpp), under their cache names.
using config::default_error_caching_min_ttl;
using config::error_caching_of;
using config::ErrorCaching;
using config::TtlSettings;

// What happens to a response's Set-Cookie when it is stored.
enum class SetCookieRule : uint8_t {
    stripped,    // cookies do not reach the origin: it is removed, the rest may be stored
    shared_only, // perch's default with cookies forwarded: stored only with public or s-maxage
    stored,      // perch.store_set_cookie: stored and replayed with the entry (CloudFront's way)
};

struct StorageDecision {
    bool store = false;
    // Why the response is not stored ("no-store", "private", "status 201", ...); nullptr when
    // stored. Goes to logs and the access log's reason field.
    const char *reason = nullptr;
    int64_t ttl_ms = 0;         // freshness lifetime (RFC 9111 §4.2.1 after CloudFront's clamps)
    int64_t initial_age_ms = 0; // corrected initial age (RFC 9111 §4.2.3)
    // Serving it stale (RFC 5861), from the directives this cache obeys: see StoredTimes.
    int64_t stale_while_revalidate_ms = 0;
    int64_t stale_if_error_ms = -1;
    bool revalidate_when_stale = false;
};

// Decides storage and freshness of `response` to `request`:
// - request_time / response_time: when the request was sent to the origin and when the
//   response head arrived (RFC 9111 §4.2.3 age calculation).
// - error_caching_min_ttl: the Error Caching Minimum TTL for a status of error_caching_of()
//   (a custom_error_response's, or default_error_caching_min_ttl). Such a response is stored
//   for at least that many seconds; a longer s-maxage / max-age / Expires, capped at max_ttl,
//   wins; with_max_age statuses need max-age or s-maxage; no-store / no-cache / private
//   prevent it for 404, 414 and 501 only. Applies to 4xx/5xx; 416 is never stored.
// Only GET, HEAD and OPTIONS responses are stored (OPTIONS: ask only when the behavior caches
// it). CloudFront rules: with min_ttl == 0, no-store / no-cache / private prevent storing; with
// min_ttl > 0 they are stored for min_ttl. s-maxage beats max-age beats Expires - Date; the
// result is clamped to [min_ttl, max_ttl]; with none of them the TTL is default_ttl (raised to
// min_ttl). CDN-Cache-Control (RFC 9213), when present, is used instead of Cache-Control.
// - set_cookie: what storing means for the response's Set-Cookie (SetCookieRule).
StorageDecision decide_storage(const core::RequestHead &request, const core::ResponseHead &response,
                               const TtlSettings &ttl, core::UnixMillis request_time,
                               core::UnixMillis response_time,
                               std::optional<int64_t> error_caching_min_ttl = std::nullopt,
                               SetCookieRule set_cookie = SetCookieRule::stripped);

// What a stored response's freshness was computed from.
struct StoredTimes {
    core::UnixMillis response_time = 0;
    int64_t initial_age_ms = 0;
    int64_t ttl_ms = 0;
    // stale-while-revalidate: how long past its TTL it may be served while it is refreshed
    // in the background (0: not at all).
    int64_t stale_while_revalidate_ms = 0;
    // stale-if-error: how long past its TTL it may be served when the origin fails; -1 when
    // the response had no such directive (CloudFront's rule: served stale on error).
    int64_t stale_if_error_ms = -1;
    // must-revalidate or proxy-revalidate (RFC 9111 §5.2.2.2, .8): never served stale,
    // whatever the stale-* directives say. (s-maxage without stale-if-error sets
    // stale_if_error_ms to 0 instead: stale-while-revalidate beside it still applies.)
    bool revalidate_when_stale = false;
};

// The stored times of a response stored by `d` that arrived at `response_time`.
StoredTimes stored_times(const StorageDecision &d, core::UnixMillis response_time) noexcept;

// Current age (RFC 9111 §4.2.3) in milliseconds, saturating (inline: every hit asks it).
inline int64_t current_age_ms(const StoredTimes &t, core::UnixMillis now) noexcept {
    int64_t resident, age;
    if (__builtin_sub_overflow(now, t.response_time, &resident))
        resident = t.response_time < 0 ? INT64_MAX : 0;
    if (resident < 0) resident = 0;
    if (__builtin_add_overflow(t.initial_age_ms, resident, &age))
        age = resident > 0 ? INT64_MAX : 0;
    return age < 0 ? 0 : age;
}
// Whether the stored response is fresh at `now`.
inline bool is_fresh(const StoredTimes &t, core::UnixMillis now) noexcept {
    return current_age_ms(t, now) < t.ttl_ms;
}
// Whether a stale response may be served at `now` while a refresh runs (RFC 5861 §3).
bool usable_while_revalidating(const StoredTimes &t, core::UnixMillis now) noexcept;
// Whether a stale response may be served at `now` because the origin answered 5xx or could
// not be reached: within stale-if-error when the response had it (0 turns this off), always
// otherwise (CloudFront), never when it must be revalidated.
bool usable_on_error(const StoredTimes &t, core::UnixMillis now) noexcept;

} // namespace perch::cache

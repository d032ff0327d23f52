// CloudFront's caching rules as data every module may be given: a behavior's TTL settings and
// the table of error statuses CloudFront caches. The cache's storage decisions (cache/policy)
// and the custom error responses (policy/error_response) read the same table.
#pragma once

#include <cstdint>

namespace perch::config {

// A behavior's TTL settings in seconds (CloudFront min_ttl / default_ttl / max_ttl).
struct TtlSettings {
    int64_t min_ttl = 0;
    int64_t default_ttl = 86400;
    int64_t max_ttl = 31536000;
};

// CloudFront's error caching ("HTTP 4xx and 5xx status codes that CloudFront caches"):
// always: 404, 414, 500, 501, 502, 503, 504, kept for the Error Caching Minimum TTL even
// without a custom_error_response; with_max_age: 400, 403, 405, 412, 415, cached only when the
// origin sends max-age or s-maxage; none: any other status (416 is never cached).
enum class ErrorCaching : uint8_t { none, always, with_max_age };
constexpr ErrorCaching error_caching_of(uint16_t status) noexcept {
    switch (status) {
    case 404:
    case 414:
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
        return ErrorCaching::always;
    case 400:
    case 403:
    case 405:
    case 412:
    case 415:
        return ErrorCaching::with_max_age;
    default:
        return ErrorCaching::none;
    }
}
// CloudFront's Error Caching Minimum TTL when a distribution sets none, in seconds.
constexpr int64_t default_error_caching_min_ttl = 10;

} // namespace perch::config

// The one mapping from an internal error to the HTTP status a viewer gets (STYLE §8).
#pragma once

#include "core/status.hpp"

#include <cstdint>

namespace perch::edge {

inline uint16_t http_status_for(const core::Error &e) noexcept {
    switch (e.code) {
    case core::Code::origin_timeout:
        return 504;
    case core::Code::origin_connect:
    case core::Code::origin_protocol:
    case core::Code::tls:
        return 502;
    case core::Code::viewer_protocol:
        return 400;
    case core::Code::too_large:
        return 413;
    case core::Code::unsupported:
        return 501;
    default:
        return 500;
    }
}

// CloudFront caches these origin errors for 10 s by default even without a
// custom_error_response (its "Error Caching Minimum TTL" default).
inline bool cached_by_default_as_error(uint16_t status) noexcept {
    switch (status) {
    case 404:
    case 405:
    case 414:
    case 500:
    case 501:
    case 502:
    case 503:
    case 504:
        return true;
    default:
        return false;
    }
}

} // namespace perch::edge

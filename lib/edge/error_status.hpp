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

} // namespace perch::edge

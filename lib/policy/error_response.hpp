// CloudFront's custom error responses and error caching: the one place that maps an error
// status to what the viewer gets (a replacement page, another response code) and to how long
// the error is cached.
#pragma once

#include "config/config.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace perch::policy {

// What the viewer gets instead of an error `status` that a custom_error_response names.
struct ErrorResponse {
    uint16_t response_code = 0;  // the status the viewer sees instead; 0: the error's own
    std::string_view page_path;  // "": keep the error's own body; else fetch and serve this
    int64_t caching_min_ttl = 0; // error_caching_min_ttl, seconds

    uint16_t status_for(uint16_t error_status) const noexcept {
        return response_code ? response_code : error_status;
    }
};

// The custom_error_response for an error status (>= 400), or nullopt when the distribution has
// none for it (or `status` is not an error).
std::optional<ErrorResponse> error_response(const config::Distribution &d,
                                            uint16_t status) noexcept;

// How long a response with `status` is cached at least (seconds): the custom_error_response's
// error_caching_min_ttl, else CloudFront's default 10 s for the codes it always caches or
// caches with max-age (config::error_caching_of); nullopt for any other status.
std::optional<int64_t> error_caching_ttl(const config::Distribution &d, uint16_t status) noexcept;

} // namespace perch::policy

// RFC 9111 §4.4: a non-error response to an unsafe request invalidates what the cache holds
// for the target URI and for same-origin Location / Content-Location URIs in the response.
#pragma once

#include "core/http_message.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace perch::cache {

// Whether `method` with response `status` invalidates: unsafe methods (anything but GET,
// HEAD, OPTIONS and TRACE, unknown ones included) with a 2xx or 3xx answer.
bool invalidates_stored(core::Method method, uint16_t status) noexcept;

// The normalized paths to invalidate: `path` (the request's, already normalized), then the
// paths of Location and Content-Location, resolved against `path` when relative, when their
// host part is that of `host` (the request's Host; ports are not compared, RFC 9111 §4.4).
// Others (other hosts, other schemes, userinfo, malformed ones) are left out.
std::vector<std::string> invalidated_paths(std::string_view path, std::string_view host,
                                           const core::HeaderMap &response_fields);

} // namespace perch::cache

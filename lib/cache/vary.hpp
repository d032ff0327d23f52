// Vary (RFC 9111 §4.1): a response stored with Vary is kept as a variant, under its key
// extended by the values of the listed request fields; a marker under the plain key carries
// the field list, so that a lookup knows which variant to look for. The values are taken from
// the request as forwarded to the origin: a field the origin never sees cannot make its
// response vary, and is left out (no needless splitting of the cache).
#pragma once

#include "core/http_message.hpp"

#include <string>
#include <string_view>

namespace perch::cache {

// The response's Vary fields, lower-cased, sorted, without duplicates, comma-separated;
// "" when it has none. ("*" is listed as is: such responses are never stored.)
std::string vary_field_list(const core::HeaderMap &response_fields);

// Appends to `key_text` the variant suffix for `list` (from vary_field_list): each listed
// field's combined value in `origin_request`, whitespace around list members removed.
void append_variant_suffix(std::string_view list, const core::HeaderMap &origin_request,
                           std::string &key_text);

// The status a Vary marker is stored with: no HTTP response has it, so a marker is never
// taken for a response.
inline constexpr uint16_t vary_marker_status = 0;

} // namespace perch::cache

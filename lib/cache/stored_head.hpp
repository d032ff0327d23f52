// Working with serialized response heads as the cache stores them (status line and fields,
// CRLF-terminated, no blank line).
#pragma once

#include "cache/store.hpp"
#include "core/http_message.hpp"

#include <string>
#include <string_view>

namespace perch::cache {

// Replaces the status line of `head` with one for `status` (custom error responses).
void replace_status_line(std::string &head, uint16_t status);

// Parses a stored head back into a ResponseHead (status and fields).
void parse_stored_head(std::string_view text, core::ResponseHead &out);

// RFC 9111 §3.2 / §4.3.4: the stored head with the fields of a 304 response replacing those of
// the same name; framing, hop-by-hop, Age and Via fields of the 304 are not taken, nor its
// Set-Cookie unless `keep_set_cookie` (the behavior forwards cookies: as for a 200, see
// append_response_head).
std::string merge_stored_head(std::string_view stored, const core::HeaderMap &not_modified,
                              bool keep_set_cookie);

// Publishes the object `writer` has built: `head_text` (a stored head) gains its
// Content-Length (never on a 204, RFC 9110 §8.6) and becomes the object's head.
core::Ref<CachedObject> commit_stored(CacheWriter &writer, std::string &head_text, uint16_t status,
                                      uint64_t body_size, const StoredTimes &times,
                                      std::string etag, std::string last_modified);

// A copy of `stored` (sharing its body) with a new head (a buffer holding only the head),
// times and validators: what a stale copy kept on error stores in place of the old object.
core::Ref<CachedObject> restamped(const CachedObject &stored, core::Ref<core::Buffer> head,
                                  const StoredTimes &times, std::string etag,
                                  std::string last_modified);

// Publishes a Vary marker (see vary.hpp): no body, the field list as its head.
void commit_vary_marker(CacheWriter &writer, std::string_view vary, const StoredTimes &times);

} // namespace perch::cache

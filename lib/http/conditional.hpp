// Conditional requests answered from a stored response (RFC 9110 §13, RFC 9111 §4.3.2): entity
// tags, precondition evaluation, and the head of a 304 built from the stored head. Pure.
//
// A stored head is the text the cache keeps: the status line and the fields, each ending in
// CRLF, without the blank line.
#pragma once

#include "core/ascii.hpp"
#include "core/clock.hpp"
#include "core/header_map.hpp"
#include "core/http_message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace perch::http {

// The validators of a stored response, as views into its head (empty = absent).
struct StoredValidators {
    uint16_t status = 200;
    std::string_view etag;          // the ETag field value, e.g. "\"abc\"" or "W/\"abc\""
    std::string_view last_modified; // HTTP-date
    std::string_view date;          // HTTP-date
    // When the stored response was received; used for If-Modified-Since when the response has
    // neither Last-Modified nor a valid Date (RFC 9111 §4.3.2). nullopt: unknown.
    std::optional<core::UnixMillis> received_at;
};

// Calls fn(name, value, line) for each field line of a stored head, skipping the status line
// and lines without a colon; `value` is trimmed, `line` is the whole line without its CRLF.
template <class Fn> void for_each_stored_field(std::string_view stored_head, Fn &&fn) {
    bool status_line = true;
    while (!stored_head.empty()) {
        const size_t end = stored_head.find("\r\n");
        const std::string_view line = stored_head.substr(0, end);
        stored_head.remove_prefix(end == std::string_view::npos ? stored_head.size() : end + 2);
        if (status_line) {
            status_line = false;
            continue;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        fn(line.substr(0, colon), core::trim_ows(line.substr(colon + 1)), line);
    }
}

// The first value of field `name` in a stored head (case-insensitive name, value trimmed).
std::optional<std::string_view> stored_head_field(std::string_view stored_head,
                                                  std::string_view name) noexcept;

// Status, ETag, Last-Modified and Date of a stored head; the views point into `stored_head`.
StoredValidators stored_validators(std::string_view stored_head) noexcept;

// An entity-tag (RFC 9110 §8.8.3): [W/] DQUOTE *etagc DQUOTE.
struct EntityTag {
    std::string_view opaque; // between the quotes
    bool weak = false;
};

// Parses one entity-tag that is the whole of `s` (OWS around it allowed); nullopt if invalid.
std::optional<EntityTag> parse_entity_tag(std::string_view s) noexcept;

// RFC 9110 §8.8.3.2: strong comparison needs both tags strong and the opaque parts equal; weak
// comparison needs only the opaque parts equal.
constexpr bool strong_match(EntityTag a, EntityTag b) noexcept {
    return !a.weak && !b.weak && a.opaque == b.opaque;
}
constexpr bool weak_match(EntityTag a, EntityTag b) noexcept {
    return a.opaque == b.opaque;
}

enum class Precondition : uint8_t { proceed, not_modified, precondition_failed };

// Evaluates the request's preconditions against the stored response in RFC 9110 §13.2.2 order:
// 1. If-Match: "*" or a strong match with the stored ETag, else 412 (no stored ETag: 412).
// 2. else If-Unmodified-Since (valid date, stored Last-Modified present): Last-Modified later
//    than the date -> 412.
// 3. If-None-Match: "*" or a weak match -> 304 for GET/HEAD, 412 for other methods.
// 4. else, GET/HEAD only, If-Modified-Since (a valid HTTP-date): not modified when the stored
//    Last-Modified -- or, without one, the stored Date, or else received_at (RFC 9111 §4.3.2)
//    -- is at or before the date -> 304. A list of dates or an invalid date is ignored.
// Preconditions are ignored (proceed) unless the stored status is 2xx (RFC 9110 §13.2.1).
// The list fields may be spread over several field lines.
Precondition evaluate_preconditions(const core::HeaderMap &request_headers, core::Method method,
                                    const StoredValidators &stored) noexcept;

// RFC 9111 §4.3.4: whether a 304 with fields `not_modified` selects a stored response whose
// validators are `stored_etag` / `stored_last_modified` (empty = absent): its ETag matches the
// stored one (strongly when the 304's is strong, weakly otherwise); without an ETag, its
// Last-Modified is the stored one; with neither validator, it does.
bool not_modified_selects(std::string_view stored_etag, std::string_view stored_last_modified,
                          const core::HeaderMap &not_modified) noexcept;

// Writes into `out` (cleared first) the head of a 304 for the stored head: the status line
// "HTTP/1.1 304 Not Modified" and the stored fields except those that describe the body or
// this hop (kept: Cache-Control, Content-Location, Date, ETag, Expires, Vary, Last-Modified and
// any other field; dropped: Content-Length, Content-Type, Content-Encoding, Content-Language,
// Content-Range, Content-MD5, Accept-Ranges, Transfer-Encoding, Trailer, Age and the other
// hop-by-hop fields). No blank line is written, as in the stored head: the caller appends its
// per-response fields and the blank line.
void build_not_modified_head(std::string_view stored_head, std::string &out);

} // namespace perch::http

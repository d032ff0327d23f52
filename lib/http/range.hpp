// Byte-range requests (RFC 9110 §14): evaluating a viewer's Range against a representation of
// known length, If-Range, Content-Range values and multipart/byteranges framing. Pure: nothing
// here allocates except the append_* helpers, which append to a string the caller reuses.
//
// Call order in a transaction serving a stored 200 of length LEN:
//   1. evaluate_preconditions() (conditional.hpp) first: 304/412 beat ranges (RFC 9110 §13.2.2).
//   2. if_range_allows_range(); when false, serve the full 200.
//   3. evaluate_range(request headers, method, LEN):
//      ignore        -> the full 200 (with Accept-Ranges: bytes)
//      unsatisfiable -> 416 with Content-Range from format_unsatisfied_range(LEN), no body
//      single        -> 206 with Content-Range from format_content_range(ranges[0], LEN)
//      multiple      -> 206, Content-Type from append_multipart_content_type(), Content-Length
//                       from multipart_body_length(); the body is, for each part i,
//                       append_multipart_part_header(i) then the part's bytes, and finally
//                       append_multipart_end().
#pragma once

#include "core/header_map.hpp"
#include "core/http_message.hpp"
#include "http/conditional.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace perch::http {

// An inclusive byte range [first, last], already clipped to the representation.
struct ByteRange {
    uint64_t first = 0;
    uint64_t last = 0;
    constexpr uint64_t length() const noexcept { return last - first + 1; }
    friend constexpr bool operator==(const ByteRange &, const ByteRange &) = default;
};

// The most range-specs a Range field may hold before it is ignored (RFC 9110 §14.2 lets a server
// ignore a request for many small ranges; CloudFront documents no number).
constexpr size_t max_byte_ranges = 16;

enum class RangeOutcome : uint8_t { ignore, unsatisfiable, single, multiple };

struct RangeSet {
    RangeOutcome outcome = RangeOutcome::ignore;
    uint8_t count = 0; // satisfiable ranges in `ranges` (1 for single, >= 2 for multiple)
    std::array<ByteRange, max_byte_ranges> ranges{};
};

// Evaluates one Range field value against a representation of `length` bytes. The rules:
// - ignore: empty value, a unit other than "bytes" (case-insensitive), any invalid range-spec
//   (including last < first), no range-spec at all, more than max_byte_ranges range-specs, or
//   ranges not in ascending order or overlapping (CloudFront serves the full object then).
// - Unsatisfiable range-specs (first >= length, a suffix of 0) are dropped (RFC 9110 §14.1.1);
//   when none is left the outcome is unsatisfiable (416).
// - last-pos past the end and suffixes longer than the representation are clipped.
// - length 0: an int-range is unsatisfiable; a non-zero suffix selects the whole (empty)
//   representation, which no Content-Range can describe, so the Range is ignored.
// Returns: the outcome and, for single and multiple, the ranges in request order.
RangeSet evaluate_range(std::string_view range_value, uint64_t length) noexcept;

// The same over a request: only GET has range handling (RFC 9110 §14.2), so any other method,
// no Range field, or more than one (Range is a singleton field) is `ignore`.
RangeSet evaluate_range(const core::HeaderMap &request_headers, core::Method method,
                        uint64_t length) noexcept;

// If-Range (RFC 9110 §13.1.5), given the field value (empty when absent) and the stored
// response's validators. True when the Range should be honoured: no If-Range; a strong ETag
// equal (strong comparison) to the stored strong ETag; or an HTTP-date equal to the stored
// Last-Modified when that date is a strong validator (the stored Date is at least one second
// after it, RFC 9110 §8.8.2.2). Anything else (weak tags, invalid dates) is false: serve 200.
bool if_range_allows_range(std::string_view if_range_value,
                           const StoredValidators &stored) noexcept;

// Over a request's fields: more than one If-Range field counts as not matching.
bool if_range_allows_range(const core::HeaderMap &request_headers,
                           const StoredValidators &stored) noexcept;

// "bytes " + 20 digits + "-" + 20 digits + "/" + 20 digits.
constexpr size_t content_range_max_length = 68;

// Writes "bytes FIRST-LAST/LENGTH" into out; returns its length.
size_t format_content_range(ByteRange r, uint64_t complete_length,
                            char out[content_range_max_length]) noexcept;
// Writes "bytes */LENGTH" (the 416 Content-Range) into out; returns its length.
size_t format_unsatisfied_range(uint64_t complete_length,
                                char out[content_range_max_length]) noexcept;

// A boundary derived from a caller-provided id (a request id, a counter):
// "perch-" + 16 lowercase hex digits.
constexpr size_t multipart_boundary_length = 22;
size_t format_multipart_boundary(uint64_t id, char out[multipart_boundary_length]) noexcept;

// Whether `b` may serve as a multipart boundary (RFC 2046 §5.1.1: 1 to 70 bchars, not ending
// in a space). Boundaries given by the caller should be checked once with this.
bool is_valid_multipart_boundary(std::string_view b) noexcept;

// Appends "multipart/byteranges; boundary=BOUNDARY" (the 206's Content-Type value).
void append_multipart_content_type(std::string &out, std::string_view boundary);

// Appends the delimiter and header of part `index` (0-based):
// [CRLF unless index == 0] "--" BOUNDARY CRLF ["Content-Type: " T CRLF] "Content-Range: bytes
// a-b/len" CRLF CRLF. The Content-Type line is left out when `content_type` is empty.
void append_multipart_part_header(std::string &out, size_t index, std::string_view boundary,
                                  std::string_view content_type, ByteRange r,
                                  uint64_t complete_length);
// Appends the close delimiter: CRLF "--" BOUNDARY "--" CRLF.
void append_multipart_end(std::string &out, std::string_view boundary);

// The exact byte count of the multipart body the three helpers above produce for
// ranges[0..count) (part headers, part bytes and the close delimiter): the 206's Content-Length.
uint64_t multipart_body_length(const RangeSet &set, std::string_view boundary,
                               std::string_view content_type, uint64_t complete_length) noexcept;

} // namespace perch::http

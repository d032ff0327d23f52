// Range (lib/http/range): the input is one Range field value, evaluated against lengths from
// empty to 2^64-1. What comes out is in ascending order, inside the representation, counted as
// its outcome says; Content-Range and the multipart body length agree with what the append_*
// helpers write; the field read from a request's headers gives the same answer.
#include "core/header_map.hpp"
#include "fuzz_check.hpp"
#include "http/range.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace perch::http;
using perch::core::HeaderMap;
using perch::core::Method;

bool same(const RangeSet &a, const RangeSet &b) {
    if (a.outcome != b.outcome || a.count != b.count) return false;
    for (size_t i = 0; i < a.count; ++i)
        if (!(a.ranges[i] == b.ranges[i])) return false;
    return true;
}

void check_ranges(const RangeSet &set, uint64_t length) {
    switch (set.outcome) {
    case RangeOutcome::ignore:
    case RangeOutcome::unsatisfiable:
        PERCH_FUZZ_CHECK(set.count == 0);
        return;
    case RangeOutcome::single:
        PERCH_FUZZ_CHECK(set.count == 1);
        break;
    case RangeOutcome::multiple:
        PERCH_FUZZ_CHECK(set.count >= 2 && set.count <= max_byte_ranges);
        break;
    }
    for (size_t i = 0; i < set.count; ++i) {
        const ByteRange &r = set.ranges[i];
        PERCH_FUZZ_CHECK(r.first <= r.last && r.last < length);
        if (i > 0) PERCH_FUZZ_CHECK(r.first > set.ranges[i - 1].last);
        char cr[content_range_max_length];
        const std::string expected = "bytes " + std::to_string(r.first) + "-" +
                                     std::to_string(r.last) + "/" + std::to_string(length);
        PERCH_FUZZ_CHECK(std::string_view(cr, format_content_range(r, length, cr)) == expected);
    }
}

// The multipart body as the helpers write it (part bytes counted, not written).
void check_multipart_length(const RangeSet &set, uint64_t length, std::string_view type) {
    char boundary[multipart_boundary_length];
    format_multipart_boundary(length, boundary);
    const std::string_view b(boundary, multipart_boundary_length);
    PERCH_FUZZ_CHECK(is_valid_multipart_boundary(b));
    std::string framing;
    uint64_t part_bytes = 0;
    for (size_t i = 0; i < set.count; ++i) {
        append_multipart_part_header(framing, i, b, type, set.ranges[i], length);
        part_bytes += set.ranges[i].length();
    }
    append_multipart_end(framing, b);
    PERCH_FUZZ_CHECK(multipart_body_length(set, b, type, length) == framing.size() + part_bytes);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view value(reinterpret_cast<const char *>(data), size);
    HeaderMap headers;
    headers.add("Range", value);
    for (uint64_t length : {uint64_t(0), uint64_t(1), uint64_t(2), uint64_t(10), uint64_t(1000),
                            uint64_t(1) << 32, uint64_t(1) << 63, UINT64_MAX - 1, UINT64_MAX}) {
        const RangeSet set = evaluate_range(value, length);
        check_ranges(set, length);
        if (set.outcome == RangeOutcome::multiple) {
            check_multipart_length(set, length, "");
            check_multipart_length(set, length, "text/html; charset=utf-8");
        }
        PERCH_FUZZ_CHECK(same(evaluate_range(headers, Method::get, length), set));
        PERCH_FUZZ_CHECK(evaluate_range(headers, Method::head, length).outcome ==
                         RangeOutcome::ignore);
    }

    if (is_valid_multipart_boundary(value)) PERCH_FUZZ_CHECK(size >= 1 && size <= 70);
    StoredValidators stored;
    stored.etag = "\"v1\"";
    stored.last_modified = "Sun, 06 Nov 1994 08:49:37 GMT";
    stored.date = "Mon, 07 Nov 1994 08:49:37 GMT";
    if_range_allows_range(value, stored);
    return 0;
}

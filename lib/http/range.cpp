// Byte-range requests (RFC 9110 §14).
//
// Decisions (CloudFront's "How CloudFront processes partial requests (range GETs)": it follows
// the RFC, but serves 200 with the full object when the ranges are not in ascending order, when
// they overlap, or when any range-spec is invalid):
// - Unsatisfiable range-specs are dropped first (RFC 9110 §14.1.1); order and overlap are then
//   judged on the satisfiable ones as resolved against the length (a suffix range becomes
//   [length - n, length - 1]) before clipping last-pos ("0-,10-20" overlaps). Adjacent ranges
//   (0-9,10-19) are in order and do not overlap: served as two parts, not coalesced.
// - More than max_byte_ranges (16) range-specs: ignored (RFC 9110 §14.2 security
//   considerations allow ignoring many small ranges; a 200 is always a correct answer).
// - Numbers too large for 64 bits saturate: a huge first-pos is unsatisfiable, a huge last-pos
//   or suffix-length is clipped to the representation.
// - OWS is allowed around list elements and around the unit (lenient, like nginx), not inside a
//   range-spec; empty list elements are skipped (RFC 9110 §5.6.1.2).
// - length 0: see range.hpp.
#include "http/range.hpp"

#include "core/ascii.hpp"
#include "http/http_date.hpp"

#include <charconv>
#include <limits>

namespace perch::http {

namespace {

constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

// 1*DIGIT, saturating at u64_max; nullopt when empty or not all digits.
std::optional<uint64_t> parse_position(std::string_view s) noexcept {
    if (s.empty()) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = uint64_t(c - '0');
        v = v > (u64_max - d) / 10 ? u64_max : v * 10 + d;
    }
    return v;
}

// A range-spec resolved against the length: [first, last] before clipping last to the length.
struct Spec {
    uint64_t first = 0, last = 0;
    bool satisfiable = false;
};

// Parses one range-spec; nullopt when it is invalid. `empty_suffix` is set for a non-zero
// suffix on an empty representation.
std::optional<Spec> parse_spec(std::string_view el, uint64_t length, bool &empty_suffix) noexcept {
    const size_t dash = el.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const std::string_view a = el.substr(0, dash), b = el.substr(dash + 1);
    Spec s;
    if (a.empty()) { // suffix-range = "-" suffix-length
        auto n = parse_position(b);
        if (!n) return std::nullopt;
        if (*n == 0 || length == 0) {
            empty_suffix = empty_suffix || (*n != 0 && length == 0);
            return s; // unsatisfiable (RFC 9110 §14.1.1), first = last = 0
        }
        s.first = *n >= length ? 0 : length - *n;
        s.last = length - 1;
        s.satisfiable = true;
        return s;
    }
    auto first = parse_position(a);
    if (!first) return std::nullopt;
    s.first = *first;
    s.last = u64_max;
    if (!b.empty()) {
        auto last = parse_position(b);
        if (!last || *last < *first) return std::nullopt;
        s.last = *last;
    }
    s.satisfiable = s.first < length;
    return s;
}

RangeSet ignored() noexcept {
    return {};
}

size_t write_u64(char *out, uint64_t v) noexcept {
    return size_t(std::to_chars(out, out + 20, v).ptr - out);
}

size_t decimal_digits(uint64_t v) noexcept {
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        ++n;
    }
    return n;
}

} // namespace

RangeSet evaluate_range(std::string_view value, uint64_t length) noexcept {
    const size_t eq = value.find('=');
    if (eq == std::string_view::npos) return ignored();
    if (!core::iequals(core::trim_ows(value.substr(0, eq)), "bytes")) return ignored();

    RangeSet set;
    size_t specs = 0;
    bool invalid = false, empty_suffix = false, have_prev = false;
    uint64_t prev_last = 0;
    core::for_each_list_element(value.substr(eq + 1), [&](std::string_view el) {
        if (invalid) return;
        if (++specs > max_byte_ranges) {
            invalid = true;
            return;
        }
        auto spec = parse_spec(el, length, empty_suffix);
        if (!spec) {
            invalid = true;
            return;
        }
        if (!spec->satisfiable) return;
        // Ascending and not overlapping (CloudFront), judged among satisfiable ranges.
        if (have_prev && spec->first <= prev_last) {
            invalid = true;
            return;
        }
        have_prev = true;
        prev_last = spec->last;
        set.ranges[set.count++] = {spec->first, std::min(spec->last, length - 1)};
    });
    if (invalid || specs == 0 || empty_suffix) return ignored();
    set.outcome = set.count == 0   ? RangeOutcome::unsatisfiable
                  : set.count == 1 ? RangeOutcome::single
                                   : RangeOutcome::multiple;
    return set;
}

RangeSet evaluate_range(const core::HeaderMap &h, core::Method method, uint64_t length) noexcept {
    if (method != core::Method::get || h.count("range") != 1) return ignored();
    return evaluate_range(*h.get("range"), length);
}

bool if_range_allows_range(std::string_view value, const StoredValidators &stored) noexcept {
    value = core::trim_ows(value);
    if (value.empty()) return true;
    if (value.front() == '"' || value.starts_with("W/")) {
        auto tag = parse_entity_tag(value);
        auto current = parse_entity_tag(stored.etag);
        return tag && current && strong_match(*tag, *current);
    }
    auto when = parse_http_date(value);
    if (!when || stored.last_modified.empty() || stored.date.empty()) return false;
    auto last_modified = parse_http_date(stored.last_modified);
    auto date = parse_http_date(stored.date);
    return last_modified && date && *when == *last_modified && *date >= *last_modified + 1000;
}

bool if_range_allows_range(const core::HeaderMap &h, const StoredValidators &stored) noexcept {
    const size_t n = h.count("if-range");
    if (n == 0) return true;
    if (n > 1) return false;
    return if_range_allows_range(*h.get("if-range"), stored);
}

size_t format_content_range(ByteRange r, uint64_t complete_length,
                            char out[content_range_max_length]) noexcept {
    char *p = out;
    for (char c : std::string_view("bytes "))
        *p++ = c;
    p += write_u64(p, r.first);
    *p++ = '-';
    p += write_u64(p, r.last);
    *p++ = '/';
    p += write_u64(p, complete_length);
    return size_t(p - out);
}

size_t format_unsatisfied_range(uint64_t complete_length,
                                char out[content_range_max_length]) noexcept {
    char *p = out;
    for (char c : std::string_view("bytes */"))
        *p++ = c;
    p += write_u64(p, complete_length);
    return size_t(p - out);
}

size_t format_multipart_boundary(uint64_t id, char out[multipart_boundary_length]) noexcept {
    constexpr std::string_view prefix = "perch-";
    constexpr char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < prefix.size(); ++i)
        out[i] = prefix[i];
    for (size_t i = 0; i < 16; ++i)
        out[prefix.size() + i] = hex[(id >> (60 - 4 * i)) & 0xf];
    return multipart_boundary_length;
}

bool is_valid_multipart_boundary(std::string_view b) noexcept {
    // bchars = bcharsnospace / " "; bcharsnospace = DIGIT / ALPHA / "'()+_,-./:=?"
    if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
    for (char c : b) {
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && std::string_view("'()+_,-./:=? ").find(c) == std::string_view::npos)
            return false;
    }
    return true;
}

void append_multipart_content_type(std::string &out, std::string_view boundary) {
    out += "multipart/byteranges; boundary=";
    out += boundary;
}

void append_multipart_part_header(std::string &out, size_t index, std::string_view boundary,
                                  std::string_view content_type, ByteRange r,
                                  uint64_t complete_length) {
    if (index != 0) out += "\r\n";
    out += "--";
    out += boundary;
    out += "\r\n";
    if (!content_type.empty()) {
        out += "Content-Type: ";
        out += content_type;
        out += "\r\n";
    }
    char cr[content_range_max_length];
    out += "Content-Range: ";
    out.append(cr, format_content_range(r, complete_length, cr));
    out += "\r\n\r\n";
}

void append_multipart_end(std::string &out, std::string_view boundary) {
    out += "\r\n--";
    out += boundary;
    out += "--\r\n";
}

uint64_t multipart_body_length(const RangeSet &set, std::string_view boundary,
                               std::string_view content_type, uint64_t complete_length) noexcept {
    constexpr size_t crlf = 2;
    // "--" B CRLF ["Content-Type: " T CRLF] "Content-Range: bytes " a "-" b "/" len CRLF CRLF
    const uint64_t fixed_per_part =
        2 + boundary.size() + crlf +
        (content_type.empty()
             ? 0
             : std::string_view("Content-Type: ").size() + content_type.size() + crlf) +
        std::string_view("Content-Range: bytes ").size() + 2 /* "-" "/" */ +
        decimal_digits(complete_length) + crlf + crlf;
    uint64_t total = 0;
    for (size_t i = 0; i < set.count; ++i) {
        const ByteRange &r = set.ranges[i];
        total += (i == 0 ? 0 : crlf) + fixed_per_part + decimal_digits(r.first) +
                 decimal_digits(r.last) + r.length();
    }
    return total + crlf + 2 + boundary.size() + 2 + crlf; // CRLF "--" B "--" CRLF
}

} // namespace perch::http

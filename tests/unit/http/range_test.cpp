#include "http/range.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using perch::core::HeaderMap;
using perch::http::ByteRange;
using perch::http::RangeOutcome;
using perch::http::RangeSet;
using perch::http::StoredValidators;

namespace {

struct RangeCase {
    const char *what;
    std::string_view value;
    uint64_t length;
    RangeOutcome outcome;
    std::vector<ByteRange> ranges;
};

std::string outcome_name(RangeOutcome o) {
    switch (o) {
    case RangeOutcome::ignore:
        return "ignore";
    case RangeOutcome::unsatisfiable:
        return "unsatisfiable";
    case RangeOutcome::single:
        return "single";
    case RangeOutcome::multiple:
        return "multiple";
    }
    return "?";
}

void check_case(const RangeCase &c) {
    INFO(std::string(c.what), " — '", c.value, "' of ", c.length);
    const RangeSet set = perch::http::evaluate_range(c.value, c.length);
    CHECK(outcome_name(set.outcome) == outcome_name(c.outcome));
    REQUIRE(set.count == c.ranges.size());
    for (size_t i = 0; i < c.ranges.size(); ++i) {
        CHECK(set.ranges[i].first == c.ranges[i].first);
        CHECK(set.ranges[i].last == c.ranges[i].last);
    }
}

constexpr auto ignore = RangeOutcome::ignore;
constexpr auto unsatisfiable = RangeOutcome::unsatisfiable;
constexpr auto single = RangeOutcome::single;
constexpr auto multiple = RangeOutcome::multiple;

} // namespace

TEST_CASE("http/range: single ranges resolve and clip against the length") {
    const RangeCase cases[] = {
        {"a closed range is taken as is", "bytes=0-499", 1000, single, {{0, 499}}},
        {"an open range runs to the end", "bytes=500-", 1000, single, {{500, 999}}},
        {"a suffix range takes the last bytes", "bytes=-500", 1000, single, {{500, 999}}},
        {"a suffix range longer than the body covers all of it",
         "bytes=-5000",
         1000,
         single,
         {{0, 999}}},
        {"a last-pos past the end is clipped", "bytes=900-5000", 1000, single, {{900, 999}}},
        {"the last byte alone", "bytes=999-999", 1000, single, {{999, 999}}},
        {"a one-byte representation", "bytes=0-0", 1, single, {{0, 0}}},
        {"the unit is case-insensitive", "BYTES=0-1", 10, single, {{0, 1}}},
        {"OWS around the unit and elements is tolerated", " bytes= 0-1 ", 10, single, {{0, 1}}},
        {"empty list elements are skipped", "bytes=,0-1,", 10, single, {{0, 1}}},
        {"a 64-bit overflowing last-pos is clipped",
         "bytes=5-99999999999999999999999",
         10,
         single,
         {{5, 9}}},
        {"a 64-bit overflowing suffix covers everything",
         "bytes=-99999999999999999999999",
         10,
         single,
         {{0, 9}}},
        {"an unsatisfiable range beside a satisfiable one is dropped",
         "bytes=0-1,50-60",
         10,
         single,
         {{0, 1}}},
        {"a zero suffix beside a satisfiable range is dropped",
         "bytes=-0,2-3",
         10,
         single,
         {{2, 3}}},
    };
    for (const auto &c : cases)
        check_case(c);
}

TEST_CASE("http/range: several ranges in ascending order are served as multiple parts") {
    const RangeCase cases[] = {
        {"two closed ranges", "bytes=0-9,20-29", 100, multiple, {{0, 9}, {20, 29}}},
        {"whitespace after commas",
         "bytes=0-9, 20-29 ,\t40-",
         50,
         multiple,
         {{0, 9}, {20, 29}, {40, 49}}},
        {"adjacent ranges are not coalesced", "bytes=0-9,10-19", 100, multiple, {{0, 9}, {10, 19}}},
        {"a trailing suffix range after earlier bytes",
         "bytes=0-9,-10",
         100,
         multiple,
         {{0, 9}, {90, 99}}},
        {"sixteen ranges are the most served",
         "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,"
         "16-16,18-18,20-20,22-22,24-24,26-26,28-28,30-30",
         100,
         multiple,
         {{0, 0},
          {2, 2},
          {4, 4},
          {6, 6},
          {8, 8},
          {10, 10},
          {12, 12},
          {14, 14},
          {16, 16},
          {18, 18},
          {20, 20},
          {22, 22},
          {24, 24},
          {26, 26},
          {28, 28},
          {30, 30}}},
    };
    for (const auto &c : cases)
        check_case(c);
}

TEST_CASE("http/range: unsatisfiable ranges give a 416 outcome") {
    const RangeCase cases[] = {
        {"a first-pos at the length", "bytes=1000-", 1000, unsatisfiable, {}},
        {"a first-pos past the length", "bytes=2000-3000", 1000, unsatisfiable, {}},
        {"a zero-length suffix", "bytes=-0", 1000, unsatisfiable, {}},
        {"every range past the end", "bytes=10-20,30-40", 5, unsatisfiable, {}},
        {"a 64-bit overflowing first-pos", "bytes=99999999999999999999999-", 10, unsatisfiable, {}},
        {"an int-range on an empty representation", "bytes=0-", 0, unsatisfiable, {}},
        {"a zero suffix on an empty representation", "bytes=-0", 0, unsatisfiable, {}},
    };
    for (const auto &c : cases)
        check_case(c);
}

TEST_CASE("http/range: invalid or unwanted Range values are ignored and the full 200 served") {
    const RangeCase cases[] = {
        {"an empty value", "", 100, ignore, {}},
        {"another unit", "items=0-5", 100, ignore, {}},
        {"a unit that only starts like bytes", "bytesx=0-5", 100, ignore, {}},
        {"no '='", "bytes 0-5", 100, ignore, {}},
        {"no range-spec", "bytes=", 100, ignore, {}},
        {"only commas", "bytes=,,", 100, ignore, {}},
        {"last-pos before first-pos", "bytes=5-4", 100, ignore, {}},
        {"a negative number", "bytes=--5", 100, ignore, {}},
        {"no dash", "bytes=5", 100, ignore, {}},
        {"a lone dash", "bytes=-", 100, ignore, {}},
        {"letters", "bytes=a-b", 100, ignore, {}},
        {"a space inside a range-spec", "bytes=0 - 5", 100, ignore, {}},
        {"a plus sign", "bytes=+0-5", 100, ignore, {}},
        {"one invalid spec among valid ones", "bytes=0-5,x", 100, ignore, {}},
        {"ranges out of order (CloudFront)", "bytes=300-400,100-200", 1000, ignore, {}},
        {"overlapping ranges (CloudFront)", "bytes=100-200,150-250", 1000, ignore, {}},
        {"an open range followed by another", "bytes=0-,10-20", 1000, ignore, {}},
        {"a suffix that resolves before an earlier range", "bytes=950-999,-100", 1000, ignore, {}},
        {"the same range twice", "bytes=0-9,0-9", 100, ignore, {}},
        {"seventeen range-specs",
         "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,"
         "16-16,18-18,20-20,22-22,24-24,26-26,28-28,30-30,32-32",
         100,
         ignore,
         {}},
        {"a suffix on an empty representation selects the whole (empty) body",
         "bytes=-5",
         0,
         ignore,
         {}},
    };
    for (const auto &c : cases)
        check_case(c);
}

TEST_CASE("http/range: over a request, only a GET with exactly one Range field is served") {
    using perch::core::Method;
    HeaderMap h;
    CHECK(perch::http::evaluate_range(h, Method::get, 100).outcome == ignore);
    h.add("Range", "bytes=0-9");
    const RangeSet one = perch::http::evaluate_range(h, Method::get, 100);
    CHECK(one.outcome == single);
    CHECK(one.ranges[0] == ByteRange{0, 9});
    CHECK(perch::http::evaluate_range(h, Method::head, 100).outcome == ignore);
    CHECK(perch::http::evaluate_range(h, Method::post, 100).outcome == ignore);
    h.add("range", "bytes=10-19");
    CHECK(perch::http::evaluate_range(h, Method::get, 100).outcome == ignore);
}

TEST_CASE("http/range: Content-Range values are formatted exactly") {
    char buf[perch::http::content_range_max_length];
    auto s = [&](size_t n) { return std::string(buf, n); };
    CHECK(s(perch::http::format_content_range({0, 499}, 1234, buf)) == "bytes 0-499/1234");
    CHECK(s(perch::http::format_unsatisfied_range(1234, buf)) == "bytes */1234");
    const uint64_t big = UINT64_MAX;
    CHECK(s(perch::http::format_content_range({big - 1, big - 1}, big, buf)) ==
          "bytes 18446744073709551614-18446744073709551614/18446744073709551615");
    CHECK(perch::http::format_content_range({big - 1, big - 1}, big, buf) <=
          perch::http::content_range_max_length);
}

TEST_CASE("http/range: a boundary derived from an id is fixed-length and valid") {
    char b[perch::http::multipart_boundary_length];
    const size_t n = perch::http::format_multipart_boundary(0x0123456789abcdefULL, b);
    CHECK(std::string(b, n) == "perch-0123456789abcdef");
    CHECK(perch::http::is_valid_multipart_boundary(std::string_view(b, n)));
    CHECK(perch::http::format_multipart_boundary(0, b) == perch::http::multipart_boundary_length);
    CHECK(std::string(b, perch::http::multipart_boundary_length) == "perch-0000000000000000");
}

TEST_CASE("http/range: boundaries follow RFC 2046 bchars") {
    struct Case {
        std::string_view b;
        bool ok;
    };
    const Case cases[] = {
        {"simple", true},
        {"with space inside", true},
        {"ends with space ", false},
        {"", false},
        {"semi;colon", false},
        {"quote\"d", false},
        {"'()+_,-./:=?", true},
        {std::string_view("0123456789012345678901234567890123456789"
                          "012345678901234567890123456789"),
         true},
        {std::string_view("0123456789012345678901234567890123456789"
                          "0123456789012345678901234567890"),
         false},
    };
    for (const auto &c : cases) {
        INFO("boundary '", c.b, "'");
        CHECK(perch::http::is_valid_multipart_boundary(c.b) == c.ok);
    }
}

TEST_CASE("http/range: the multipart body length matches the bytes the helpers write") {
    const std::string body = "0123456789abcdefghijklmnopqrstuvwxyz"; // 36 bytes
    struct Case {
        std::string_view range;
        std::string_view content_type;
    };
    const Case cases[] = {
        {"bytes=0-4,10-14", "text/plain"},
        {"bytes=0-0,9-9,-3", ""},
        {"bytes=1-9,20-", "application/octet-stream; charset=x"},
    };
    for (const auto &c : cases) {
        INFO(c.range, " as '", c.content_type, "'");
        const RangeSet set = perch::http::evaluate_range(c.range, body.size());
        REQUIRE(set.outcome == multiple);
        const std::string_view boundary = "perch-00000000000000ff";
        std::string out;
        for (size_t i = 0; i < set.count; ++i) {
            perch::http::append_multipart_part_header(out, i, boundary, c.content_type,
                                                      set.ranges[i], body.size());
            out.append(body, set.ranges[i].first, set.ranges[i].length());
        }
        perch::http::append_multipart_end(out, boundary);
        CHECK(perch::http::multipart_body_length(set, boundary, c.content_type, body.size()) ==
              out.size());
    }
}

TEST_CASE("http/range: the multipart framing is byte-exact") {
    const RangeSet set = perch::http::evaluate_range("bytes=0-1,-2", 10);
    REQUIRE(set.outcome == multiple);
    std::string out;
    perch::http::append_multipart_part_header(out, 0, "B", "text/plain", set.ranges[0], 10);
    out += "ab";
    perch::http::append_multipart_part_header(out, 1, "B", "text/plain", set.ranges[1], 10);
    out += "yz";
    perch::http::append_multipart_end(out, "B");
    CHECK(out == "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\nab"
                 "\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 8-9/10\r\n\r\nyz"
                 "\r\n--B--\r\n");
    std::string ct;
    perch::http::append_multipart_content_type(ct, "B");
    CHECK(ct == "multipart/byteranges; boundary=B");
}

TEST_CASE("http/range: If-Range honours the Range only for a matching strong validator") {
    const StoredValidators stored{
        200, "\"v1\"", "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 09:00:00 GMT", {}};
    const StoredValidators weak_etag{200, "W/\"v1\"", "", "", {}};
    const StoredValidators date_too_close{
        200, "", "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", {}};
    const StoredValidators no_date{200, "", "Sun, 06 Nov 1994 08:49:37 GMT", "", {}};
    struct Case {
        const char *what;
        std::string_view if_range;
        const StoredValidators &stored;
        bool honoured;
    };
    const Case cases[] = {
        {"no If-Range", "", stored, true},
        {"the same strong tag", "\"v1\"", stored, true},
        {"another tag", "\"v2\"", stored, false},
        {"a weak tag never matches", "W/\"v1\"", stored, false},
        {"a stored weak tag never matches", "\"v1\"", weak_etag, false},
        {"a malformed tag", "\"v1", stored, false},
        {"the stored Last-Modified, strong by Date", "Sun, 06 Nov 1994 08:49:37 GMT", stored, true},
        {"the same instant in RFC 850 form", "Sunday, 06-Nov-94 08:49:37 GMT", stored, true},
        {"another date", "Sun, 06 Nov 1994 08:49:38 GMT", stored, false},
        {"an invalid date", "yesterday", stored, false},
        {"a date when Date equals Last-Modified (weak)", "Sun, 06 Nov 1994 08:49:37 GMT",
         date_too_close, false},
        {"a date when the stored response has no Date", "Sun, 06 Nov 1994 08:49:37 GMT", no_date,
         false},
    };
    for (const auto &c : cases) {
        INFO(c.what);
        CHECK(perch::http::if_range_allows_range(c.if_range, c.stored) == c.honoured);
    }
    HeaderMap h;
    CHECK(perch::http::if_range_allows_range(h, stored));
    h.add("If-Range", "\"v1\"");
    CHECK(perch::http::if_range_allows_range(h, stored));
    h.add("If-Range", "\"v1\"");
    CHECK(!perch::http::if_range_allows_range(h, stored));
}

TEST_CASE("http/range: any generated Range yields ranges inside the body, ascending, disjoint") {
    // A deterministic generator over the pieces a Range value is made of.
    const std::string_view pieces[] = {
        "0", "1", "9", "10",    "99",    "100", "-",
        ",", " ", "=", "bytes", "BYTES", "x",   "18446744073709551616"};
    uint64_t seed = 42;
    auto next = [&] {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return size_t(seed >> 33);
    };
    for (int i = 0; i < 20000; ++i) {
        std::string value = next() % 4 == 0 ? "" : "bytes=";
        const size_t n = next() % 12;
        for (size_t k = 0; k < n; ++k)
            value += pieces[next() % std::size(pieces)];
        const uint64_t length = next() % 4 == 0 ? 0 : next() % 120;
        INFO("'", value, "' of ", length);
        const RangeSet set = perch::http::evaluate_range(value, length);
        switch (set.outcome) {
        case ignore:
        case unsatisfiable:
            CHECK(set.count == 0);
            break;
        case single:
            CHECK(set.count == 1);
            break;
        case multiple:
            CHECK(set.count >= 2);
            break;
        }
        for (size_t r = 0; r < set.count; ++r) {
            CHECK(set.ranges[r].first <= set.ranges[r].last);
            CHECK(set.ranges[r].last < length);
            if (r > 0) CHECK(set.ranges[r].first > set.ranges[r - 1].last);
        }
    }
}

// HTTP-date (lib/http/http_date): a parsed date is a whole second that formats to an
// IMF-fixdate parsing back to the same value; and any time the input spells as 8 bytes formats
// to a date that parses back to that time (clamped to years 0000-9999, cut to the second).
#include "fuzz_check.hpp"
#include "http/http_date.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>

using perch::http::format_http_date;
using perch::http::http_date_length;
using perch::http::parse_http_date;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    char out[http_date_length];

    if (auto t = parse_http_date(text)) {
        PERCH_FUZZ_CHECK(*t % 1000 == 0);
        PERCH_FUZZ_CHECK(format_http_date(*t, out) == http_date_length);
        auto again = parse_http_date({out, http_date_length});
        PERCH_FUZZ_CHECK(again && *again == *t);
    }

    if (size >= sizeof(int64_t)) {
        int64_t t;
        std::memcpy(&t, data, sizeof t);
        PERCH_FUZZ_CHECK(format_http_date(t, out) == http_date_length);
        auto parsed = parse_http_date({out, http_date_length});
        PERCH_FUZZ_CHECK(parsed.has_value());
        char again[http_date_length];
        format_http_date(*parsed, again);
        PERCH_FUZZ_CHECK(std::memcmp(out, again, http_date_length) == 0);
        constexpr int64_t year_0 = -62167219200000, year_10000 = 253402300800000;
        if (t >= year_0 && t < year_10000) PERCH_FUZZ_CHECK(*parsed <= t && t - *parsed < 1000);
    }
    return 0;
}

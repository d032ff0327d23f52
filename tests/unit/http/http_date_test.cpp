#include "http/http_date.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using perch::http::format_http_date;
using perch::http::http_date_length;
using perch::http::parse_http_date;

namespace {

// RFC 9110 §5.6.7's example instant: Sun, 06 Nov 1994 08:49:37 GMT.
constexpr int64_t example_ms = 784111777000;

std::string formatted(int64_t t) {
    char buf[http_date_length];
    const size_t n = format_http_date(t, buf);
    return std::string(buf, n);
}

struct ParseCase {
    const char *what;
    std::string_view text;
    std::optional<int64_t> ms;
};

} // namespace

TEST_CASE("http/http_date: the three RFC 9110 formats parse to the same instant") {
    const ParseCase cases[] = {
        {"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", example_ms},
        {"RFC 850 with a two-digit year", "Sunday, 06-Nov-94 08:49:37 GMT", example_ms},
        {"asctime with a space-padded day", "Sun Nov  6 08:49:37 1994", example_ms},
        {"asctime with a two-digit day", "Sun Nov 06 08:49:37 1994", example_ms},
        {"surrounding whitespace is ignored", "  Sun, 06 Nov 1994 08:49:37 GMT\t", example_ms},
    };
    for (const auto &c : cases) {
        INFO(std::string(c.what), " — ", c.text);
        CHECK(parse_http_date(c.text) == c.ms);
    }
}

TEST_CASE("http/http_date: well-formed dates convert across the calendar") {
    const ParseCase cases[] = {
        {"the epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0},
        {"one second before the epoch", "Wed, 31 Dec 1969 23:59:59 GMT", -1000},
        {"a leap day", "Thu, 29 Feb 2024 12:00:00 GMT", 1709208000000},
        {"2000 is a leap year", "Tue, 29 Feb 2000 00:00:00 GMT", 951782400000},
        {"the end of a year", "Fri, 31 Dec 1999 23:59:59 GMT", 946684799000},
        {"the 32-bit rollover", "Tue, 19 Jan 2038 03:14:08 GMT", 2147483648000},
        {"a far future year", "Fri, 31 Dec 9999 23:59:59 GMT", 253402300799000},
        {"a date before 1900", "Wed, 01 Jan 1800 00:00:00 GMT", -5364662400000},
        {"a leap second counts as the next minute", "Sat, 31 Dec 2016 23:59:60 GMT", 1483228800000},
        {"a leap second ending 9999 stays in 9999 (year 10000 has no HTTP-date)",
         "Fri, 31 Dec 9999 23:59:60 GMT", 253402300799000},
        {"RFC 850 year 70 is 1970", "Thursday, 01-Jan-70 00:00:00 GMT", 0},
        {"RFC 850 year 69 is 2069", "Tuesday, 01-Jan-69 00:00:00 GMT", 3124224000000},
        {"RFC 850 year 00 is 2000", "Saturday, 01-Jan-00 00:00:00 GMT", 946684800000},
        {"RFC 850 year 99 is 1999", "Friday, 31-Dec-99 23:59:59 GMT", 946684799000},
        {"asctime at the end of a month", "Mon Jan 31 00:00:00 2000", 949276800000},
        {"the weekday is not checked against the date", "Mon, 06 Nov 1994 08:49:37 GMT",
         example_ms},
    };
    for (const auto &c : cases) {
        INFO(std::string(c.what), " — ", c.text);
        CHECK(parse_http_date(c.text) == c.ms);
    }
}

TEST_CASE("http/http_date: malformed or out-of-range dates are rejected") {
    const std::string_view bad[] = {
        "",
        "0",
        "-1",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37",        // no zone
        "Sun, 06 Nov 1994 08:49:37 UTC",    // zone must be GMT
        "Sun, 06 Nov 1994 08:49:37 gmt",    // HTTP-date is case-sensitive
        "sun, 06 Nov 1994 08:49:37 GMT",    // day name case
        "Sun, 06 nov 1994 08:49:37 GMT",    // month name case
        "Snu, 06 Nov 1994 08:49:37 GMT",    // bad day name
        "Sun, 06 Noe 1994 08:49:37 GMT",    // bad month name
        "Sun, 6 Nov 1994 08:49:37 GMT",     // day must be two digits
        "Sun, 06 Nov 94 08:49:37 GMT",      // IMF year must be four digits
        "Sun,06 Nov 1994 08:49:37 GMT",     // missing space
        "Sun, 06 Nov 1994 08:49:37 GMT ",   // trailing space is trimmed...
        "Sun, 06 Nov 1994 08:49:37 GMTX",   // ...but trailing garbage is not
        "Sun, 06 Nov 1994 8:49:37 GMT",     // hour must be two digits
        "Sun, 06 Nov 1994 24:00:00 GMT",    // hour out of range
        "Sun, 06 Nov 1994 23:60:00 GMT",    // minute out of range
        "Sun, 06 Nov 1994 23:59:61 GMT",    // second out of range
        "Sun, 00 Nov 1994 08:49:37 GMT",    // day zero
        "Sun, 31 Nov 1994 08:49:37 GMT",    // November has 30 days
        "Tue, 29 Feb 2100 00:00:00 GMT",    // 2100 is not a leap year
        "Sat, 29 Feb 2023 00:00:00 GMT",    // 2023 is not a leap year
        "Sun, 32 Jan 1994 08:49:37 GMT",    // day out of range
        "Sun, 06 Nov 1994 08:49:37 GMT+1",  // no offsets
        "Sun, 06 Nov +994 08:49:37 GMT",    // sign in a digit field
        "Sun, 06 Nov 1994 08-49-37 GMT",    // bad time separators
        "Sun, 06-Nov-94 08:49:37 GMT",      // RFC 850 needs the long day name
        "Sunday, 06 Nov 1994 08:49:37 GMT", // IMF needs the short day name
        "Sunday, 06-Nov-1994 08:49:37 GMT", // RFC 850 year is two digits
        "Sunday, 31-Apr-94 08:49:37 GMT",   // April has 30 days
        "Sun Nov 6 08:49:37 1994",          // asctime day needs padding
        "Sun Nov  6 08:49:37 94",           // asctime year is four digits
        "Sun Nov  6 08:49:37 1994 GMT",     // asctime has no zone
        "Sun Nov 31 08:49:37 1994",         // asctime range checks
        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", // a list
    };
    for (std::string_view s : bad) {
        INFO("input: '", s, "'");
        if (s == "Sun, 06 Nov 1994 08:49:37 GMT ")
            CHECK(parse_http_date(s) == example_ms);
        else
            CHECK(!parse_http_date(s));
    }
}

TEST_CASE("http/http_date: format writes IMF-fixdate in 29 bytes") {
    char buf[http_date_length + 1];
    buf[http_date_length] = '#';
    CHECK(format_http_date(example_ms, buf) == 29);
    CHECK(std::string_view(buf, 29) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(buf[http_date_length] == '#'); // nothing written past the 29 bytes
}

TEST_CASE("http/http_date: format and parse round-trip over many instants") {
    // Every weekday, leap days, both sides of the epoch and centuries.
    const int64_t instants[] = {0,
                                -1000,
                                86399000,
                                951782400000,
                                1709208000000,
                                2147483648000,
                                -5364662400000,
                                253402300799000,
                                4102444800000,
                                -62135596800000};
    for (int64_t t : instants) {
        INFO("t = ", t);
        const std::string s = formatted(t);
        CHECK(parse_http_date(s) == t);
    }
    for (int64_t day = -800; day < 800; day += 7) {
        for (int64_t w = 0; w < 7; ++w) {
            const int64_t t = (day * 40 + w) * 86400000 + 3723000;
            INFO("t = ", t);
            CHECK(parse_http_date(formatted(t)) == t);
        }
    }
}

TEST_CASE("http/http_date: format names the right weekday") {
    CHECK(formatted(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(formatted(-1000) == "Wed, 31 Dec 1969 23:59:59 GMT");
    CHECK(formatted(951782400000) == "Tue, 29 Feb 2000 00:00:00 GMT");
    CHECK(formatted(1709208000000) == "Thu, 29 Feb 2024 12:00:00 GMT");
}

TEST_CASE("http/http_date: format drops milliseconds toward the earlier second") {
    CHECK(formatted(example_ms + 999) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(formatted(-1) == "Wed, 31 Dec 1969 23:59:59 GMT");
    CHECK(formatted(-999) == "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST_CASE("http/http_date: format clamps instants four year digits cannot write") {
    CHECK(formatted(INT64_MAX) == "Fri, 31 Dec 9999 23:59:59 GMT");
    CHECK(formatted(INT64_MIN) == "Sat, 01 Jan 0000 00:00:00 GMT");
    CHECK(formatted(253402300800000) == "Fri, 31 Dec 9999 23:59:59 GMT");
}

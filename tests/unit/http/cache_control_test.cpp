#include "http/cache_control.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

using perch::http::CacheControl;
using perch::http::parse_cache_control;

namespace {

constexpr int64_t clamp_max = 2147483648;

struct DeltaCase {
    const char *what;
    std::string_view header;
    std::optional<int64_t> max_age;
    std::optional<int64_t> s_maxage;
};

} // namespace

TEST_CASE("http/cache_control: delta-seconds arguments parse, clamp and turn stale when invalid") {
    const DeltaCase cases[] = {
        {"a plain max-age is read", "max-age=60", 60, std::nullopt},
        {"zero is zero", "max-age=0", 0, std::nullopt},
        {"leading zeros are digits", "max-age=007", 7, std::nullopt},
        {"a quoted argument is accepted", "max-age=\"60\"", 60, std::nullopt},
        {"a quoted empty argument is invalid", "max-age=\"\"", 0, std::nullopt},
        {"a lone quote is invalid", "max-age=\"", 0, std::nullopt},
        {"an unterminated quote is invalid", "max-age=\"60", 0, std::nullopt},
        {"a quoted non-number is invalid", "max-age=\"abc\"", 0, std::nullopt},
        {"a negative value is invalid", "max-age=-1", 0, std::nullopt},
        {"a plus sign is invalid", "max-age=+5", 0, std::nullopt},
        {"a fraction is invalid", "max-age=1.5", 0, std::nullopt},
        {"letters are invalid", "max-age=abc", 0, std::nullopt},
        {"trailing garbage is invalid", "max-age=60s", 0, std::nullopt},
        {"an empty argument is invalid", "max-age=", 0, std::nullopt},
        {"a missing argument is invalid", "max-age", 0, std::nullopt},
        {"an inner space is invalid", "max-age=6 0", 0, std::nullopt},
        {"2^31 itself is kept", "max-age=2147483648", clamp_max, std::nullopt},
        {"2^31 - 1 is kept", "max-age=2147483647", 2147483647, std::nullopt},
        {"2^31 + 1 clamps", "max-age=2147483649", clamp_max, std::nullopt},
        {"a 20-digit value clamps", "max-age=99999999999999999999", clamp_max, std::nullopt},
        {"a 60-digit value clamps",
         "s-maxage="
         "1234567890123456789012345678901234567890"
         "12345678901234567890",
         std::nullopt, clamp_max},
        {"s-maxage is read apart from max-age", "max-age=10, s-maxage=20", 10, 20},
        {"names ignore case", "MAX-AGE=5, S-MaxAge=6", 5, 6},
        {"spaces around '=' are tolerated", "max-age = 60", 60, std::nullopt},
        {"tabs and spaces around elements are trimmed", " \tmax-age=60\t ,  s-maxage=1 ", 60, 1},
        {"empty list elements are skipped", ",,max-age=60,,", 60, std::nullopt},
        {"a repeat with the same value keeps it", "max-age=60, max-age=60", 60, std::nullopt},
        {"a repeat with another value makes the response stale", "max-age=60, max-age=120", 0,
         std::nullopt},
        {"a conflicting repeat stays stale after a third occurrence",
         "max-age=60, max-age=120, max-age=60", 0, std::nullopt},
        {"an invalid repeat of a valid value makes it stale", "s-maxage=60, s-maxage=x",
         std::nullopt, 0},
        {"a name that only starts like max-age is unknown", "max-age-x=5", std::nullopt,
         std::nullopt},
        {"a directive inside a quoted string is not a directive", "foo=\"a, max-age=5\"",
         std::nullopt, std::nullopt},
        {"the comma inside quotes does not split", "no-cache=\"a,b\", max-age=9", 9, std::nullopt},
    };
    for (const auto &c : cases) {
        INFO(std::string(c.what), " — ", c.header);
        const CacheControl cc = parse_cache_control(c.header);
        CHECK(cc.max_age == c.max_age);
        CHECK(cc.s_maxage == c.s_maxage);
    }
}

TEST_CASE("http/cache_control: boolean directives set their flags whatever their case") {
    const CacheControl cc = parse_cache_control(
        "No-Store, NO-CACHE, Private, PUBLIC, must-revalidate, Proxy-Revalidate, no-transform, "
        "Immutable, only-if-cached");
    CHECK(cc.no_store);
    CHECK(cc.no_cache);
    CHECK(cc.private_);
    CHECK(cc.public_);
    CHECK(cc.must_revalidate);
    CHECK(cc.proxy_revalidate);
    CHECK(cc.no_transform);
    CHECK(cc.immutable);
    CHECK(cc.only_if_cached);
    CHECK(cc.any);
    CHECK(!cc.max_age);
}

TEST_CASE("http/cache_control: an empty or blank value has no directive") {
    for (std::string_view v : {"", " ", ",", " , ,\t"}) {
        INFO("value: '", v, "'");
        const CacheControl cc = parse_cache_control(v);
        CHECK(!cc.any);
        CHECK(!cc.max_age);
        CHECK(!cc.no_store);
    }
}

TEST_CASE("http/cache_control: unknown directives are ignored but count as present") {
    const CacheControl cc = parse_cache_control("community=\"UCI\", x-ext, foo=bar");
    CHECK(cc.any);
    CHECK(!cc.max_age);
    CHECK(!cc.no_cache);
    CHECK(!cc.public_);
}

TEST_CASE("http/cache_control: qualified no-cache and private set the whole flag") {
    const CacheControl a = parse_cache_control("no-cache=\"Set-Cookie\"");
    CHECK(a.no_cache);
    CHECK(!a.private_);
    const CacheControl b = parse_cache_control("private=\"X-User, X-Session\", max-age=60");
    CHECK(b.private_);
    CHECK(b.max_age == 60);
    const CacheControl c = parse_cache_control("no-cache=Set-Cookie");
    CHECK(c.no_cache);
}

TEST_CASE("http/cache_control: a boolean directive with an argument still sets its flag") {
    const CacheControl cc = parse_cache_control("no-store=\"x\", public=1");
    CHECK(cc.no_store);
    CHECK(cc.public_);
}

TEST_CASE("http/cache_control: stale-while-revalidate and stale-if-error are delta-seconds") {
    const CacheControl cc =
        parse_cache_control("max-age=600, stale-while-revalidate=30, Stale-If-Error=\"86400\"");
    CHECK(cc.max_age == 600);
    CHECK(cc.stale_while_revalidate == 30);
    CHECK(cc.stale_if_error == 86400);
    const CacheControl bad = parse_cache_control("stale-while-revalidate=x, stale-if-error");
    CHECK(bad.stale_while_revalidate == 0);
    CHECK(bad.stale_if_error == 0);
    CHECK(!bad.max_age);
}

TEST_CASE("http/cache_control: several field lines joined with commas read as one list") {
    // HeaderMap::joined() produces this from "Cache-Control: public" + "Cache-Control: max-age=5".
    const CacheControl cc = parse_cache_control("public, max-age=5");
    CHECK(cc.public_);
    CHECK(cc.max_age == 5);
}

TEST_CASE("http/cache_control: an unterminated quoted string swallows the rest of the list") {
    // The list splitter treats everything after the opening quote as one element.
    const CacheControl cc = parse_cache_control("no-cache=\"Set-Cookie, max-age=60");
    CHECK(cc.no_cache);
    CHECK(!cc.max_age);
}

TEST_CASE("http/cache_control: a request's directives parse the same way") {
    const CacheControl cc = parse_cache_control("only-if-cached, max-age=0, no-cache");
    CHECK(cc.only_if_cached);
    CHECK(cc.max_age == 0);
    CHECK(cc.no_cache);
}

TEST_CASE("http/cache_control: must-understand is exposed") {
    const CacheControl cc = parse_cache_control("must-understand, no-store");
    CHECK(cc.must_understand);
    CHECK(cc.no_store);
    CHECK(!parse_cache_control("no-store").must_understand);
}

TEST_CASE("http/cache_control: qualified no-cache and private are told apart from bare ones") {
    struct Case {
        const char *what;
        std::string_view header;
        bool no_cache, no_cache_qualified, private_, private_qualified;
    };
    const Case cases[] = {
        {"bare no-cache", "no-cache", true, false, false, false},
        {"qualified no-cache", "no-cache=\"Set-Cookie\"", true, true, false, false},
        {"qualified no-cache in token form", "no-cache=Set-Cookie", true, true, false, false},
        {"qualified then bare no-cache is bare", "no-cache=\"a\", no-cache", true, false, false,
         false},
        {"bare then qualified no-cache is bare", "no-cache, no-cache=\"a\"", true, false, false,
         false},
        {"two qualified no-cache stay qualified", "no-cache=\"a\", NO-CACHE=\"b\"", true, true,
         false, false},
        {"bare private", "private", false, false, true, false},
        {"qualified private", "private=\"X-User\"", false, false, true, true},
        {"bare then qualified private is bare", "private, private=\"x\"", false, false, true,
         false},
    };
    for (const auto &c : cases) {
        INFO(c.what, " — ", c.header);
        const CacheControl cc = parse_cache_control(c.header);
        CHECK(cc.no_cache == c.no_cache);
        CHECK(cc.no_cache_qualified == c.no_cache_qualified);
        CHECK(cc.private_ == c.private_);
        CHECK(cc.private_qualified == c.private_qualified);
    }
}

TEST_CASE("http/cache_control: max-stale and min-fresh request directives are delta-seconds") {
    struct Case {
        const char *what;
        std::string_view header;
        std::optional<int64_t> max_stale, min_fresh;
    };
    const Case cases[] = {
        {"max-stale without an argument accepts any staleness", "max-stale", clamp_max,
         std::nullopt},
        {"max-stale with a value", "max-stale=30", 30, std::nullopt},
        {"a quoted max-stale", "max-stale=\"30\"", 30, std::nullopt},
        {"an invalid max-stale accepts none", "max-stale=x", 0, std::nullopt},
        {"a bare max-stale twice stays unlimited", "max-stale, max-stale", clamp_max, std::nullopt},
        {"a bare and a valued max-stale conflict", "max-stale, max-stale=5", 0, std::nullopt},
        {"a valued and a bare max-stale conflict", "max-stale=5, max-stale", 0, std::nullopt},
        {"min-fresh with a value", "min-fresh=10", std::nullopt, 10},
        {"an overflowing min-fresh clamps", "min-fresh=99999999999", std::nullopt, clamp_max},
    };
    for (const auto &c : cases) {
        INFO(c.what, " — ", c.header);
        const CacheControl cc = parse_cache_control(c.header);
        CHECK(cc.max_stale == c.max_stale);
        CHECK(cc.min_fresh == c.min_fresh);
    }
}

TEST_CASE("http/cache_control: the field lines of a HeaderMap parse as one list") {
    perch::core::HeaderMap h;
    h.add("Cache-Control", "public");
    h.add("Content-Type", "text/plain");
    h.add("cache-control", "max-age=5");
    h.add("CDN-Cache-Control", "s-maxage=60, stale-if-error=10");
    const CacheControl cc = parse_cache_control(h, "cache-control");
    CHECK(cc.public_);
    CHECK(cc.max_age == 5);
    CHECK(!cc.s_maxage);
    // RFC 9213: CDN-Cache-Control has the same syntax; the caller names the field.
    const CacheControl cdn = parse_cache_control(h, "cdn-cache-control");
    CHECK(cdn.s_maxage == 60);
    CHECK(cdn.stale_if_error == 10);
    CHECK(!cdn.public_);
    CHECK(!parse_cache_control(h, "surrogate-control").any);
}

TEST_CASE("http/cache_control: a conflicting repeat across field lines makes the response stale") {
    perch::core::HeaderMap h;
    h.add("Cache-Control", "max-age=60");
    h.add("Cache-Control", "max-age=120");
    CHECK(parse_cache_control(h, "cache-control").max_age == 0);
}

TEST_CASE("http/cache_control: an unterminated quote swallows only the rest of its own line") {
    perch::core::HeaderMap h;
    h.add("Cache-Control", "no-cache=\"Set-Cookie");
    h.add("Cache-Control", "max-age=60");
    const CacheControl cc = parse_cache_control(h, "cache-control");
    CHECK(cc.no_cache);
    CHECK(cc.max_age == 60);
}

TEST_CASE("http/cache_control: Age is delta-seconds, the first list member, invalid ignored") {
    struct Case {
        const char *what;
        std::string_view value;
        std::optional<int64_t> age;
    };
    const Case cases[] = {
        {"a plain value", "60", 60},
        {"zero", "0", 0},
        {"surrounding whitespace", " 60 ", 60},
        {"the first member of a list", "60, 120", 60},
        {"an empty first member is skipped", ", 7", 7},
        {"2^31 + 1 clamps", "2147483649", clamp_max},
        {"a huge value clamps", "99999999999999999999999999", clamp_max},
        {"negative is invalid", "-1", std::nullopt},
        {"a fraction is invalid", "1.5", std::nullopt},
        {"letters are invalid", "abc", std::nullopt},
        {"a quoted value is invalid", "\"60\"", std::nullopt},
        {"empty is invalid", "", std::nullopt},
        {"an invalid first member is not rescued by the second", "x, 60", std::nullopt},
    };
    for (const auto &c : cases) {
        INFO(c.what, " — '", c.value, "'");
        CHECK(perch::http::parse_age(c.value) == c.age);
    }
    perch::core::HeaderMap h;
    CHECK(!perch::http::parse_age(h));
    h.add("Age", "30");
    h.add("Age", "40");
    CHECK(perch::http::parse_age(h) == 30);
}

TEST_CASE("http/cache_control: an invalid Expires means already expired") {
    using perch::http::expires_invalid;
    using perch::http::parse_expires;
    constexpr int64_t example_ms = 784111777000; // Sun, 06 Nov 1994 08:49:37 GMT
    struct Case {
        const char *what;
        std::string_view value;
        int64_t at;
    };
    const Case cases[] = {
        {"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", example_ms},
        {"RFC 850 with a two-digit year", "Sunday, 06-Nov-94 08:49:37 GMT", example_ms},
        {"asctime", "Sun Nov  6 08:49:37 1994", example_ms},
        {"zero", "0", expires_invalid},
        {"minus one", "-1", expires_invalid},
        {"empty", "", expires_invalid},
        {"a lowercase GMT", "Sun, 06 Nov 1994 08:49:37 gmt", expires_invalid},
        {"a numeric zone", "Sun, 06 Nov 1994 08:49:37 +0000", expires_invalid},
    };
    for (const auto &c : cases) {
        INFO(c.what, " — '", c.value, "'");
        CHECK(parse_expires(c.value) == c.at);
    }
}

TEST_CASE("http/cache_control: Expires over field lines: absent, agreeing, or conflicting") {
    using perch::http::expires_invalid;
    using perch::http::parse_expires;
    perch::core::HeaderMap h;
    CHECK(!parse_expires(h));
    h.add("Expires", "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(parse_expires(h) == 784111777000);
    h.add("expires", "Sunday, 06-Nov-94 08:49:37 GMT"); // the same instant
    CHECK(parse_expires(h) == 784111777000);
    h.add("Expires", "Mon, 07 Nov 1994 08:49:37 GMT");
    CHECK(parse_expires(h) == expires_invalid);
    h.add("Expires", "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(parse_expires(h) == expires_invalid);
    perch::core::HeaderMap zero;
    zero.add("Expires", "0");
    CHECK(parse_expires(zero) == expires_invalid);
}

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

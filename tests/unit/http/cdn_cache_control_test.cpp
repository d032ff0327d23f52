#include "http/cdn_cache_control.hpp"

#include <doctest/doctest.h>

using perch::core::HeaderMap;
using perch::http::parse_cdn_cache_control;

namespace {

HeaderMap with(std::initializer_list<const char *> lines) {
    HeaderMap h;
    for (const char *l : lines)
        h.add("CDN-Cache-Control", l);
    return h;
}

} // namespace

TEST_CASE("http/cdn_cache_control: directives come from an RFC 9651 Dictionary") {
    auto cc = parse_cdn_cache_control(with({"max-age=60, stale-while-revalidate=30, public"}));
    REQUIRE(cc);
    CHECK(cc->any);
    CHECK(cc->max_age == 60);
    CHECK(cc->stale_while_revalidate == 30);
    CHECK(cc->public_);
    CHECK_FALSE(cc->no_store);

    cc = parse_cdn_cache_control(with({"s-maxage=10", "no-store"})); // lines are one field
    REQUIRE(cc);
    CHECK(cc->s_maxage == 10);
    CHECK(cc->no_store);

    cc = parse_cdn_cache_control(with({"private=\"set-cookie\", no-cache=?1"}));
    REQUIRE(cc);
    CHECK(cc->private_);
    CHECK(cc->private_qualified);
    CHECK(cc->no_cache);
    CHECK_FALSE(cc->no_cache_qualified);

    cc = parse_cdn_cache_control(with({"max-age=99999999999999"}));
    REQUIRE(cc);
    CHECK(cc->max_age == 2147483648); // clamped as delta-seconds are

    cc = parse_cdn_cache_control(with({"no-store=?0, max-age=5;unit=s, x-ext=(1 2)"}));
    REQUIRE(cc); // Boolean false, parameters and unknown directives of any type are no error
    CHECK_FALSE(cc->no_store);
    CHECK(cc->max_age == 5);
}

TEST_CASE("http/cdn_cache_control: a wrong type or a parse failure ignores the whole field") {
    const char *ignored[] = {
        "max-age=\"60\"",     // a String
        "max-age=a",          // a Token
        "max-age=-1",         // negative
        "max-age=1.5",        // a Decimal
        "max-age=(60)",       // an Inner List
        "no-store=3",         // a flag with an Integer
        "public=\"yes\"",     // a flag with a String (only no-cache and private take one)
        "Max-Age=60",         // an uppercase key: not a Dictionary
        "max-age=60,",        // a trailing comma
        "max-age=60 s",       // junk after a member
        "",                   // empty
    };
    for (const char *v : ignored) {
        CAPTURE(v);
        CHECK_FALSE(parse_cdn_cache_control(with({v})));
    }
    CHECK_FALSE(parse_cdn_cache_control(with({"no-store", "max-age=\"60\""}))); // any line
    CHECK_FALSE(parse_cdn_cache_control(HeaderMap{}));
}

#include "cache/vary.hpp"

#include <doctest/doctest.h>

using perch::cache::append_variant_suffix;
using perch::cache::vary_field_list;
using perch::core::HeaderMap;

TEST_CASE("cache/vary: the field list is lower-cased, sorted and without duplicates") {
    HeaderMap h;
    CHECK(vary_field_list(h) == "");
    h.add("Vary", "Accept-Language, accept-encoding");
    h.add("Vary", " ACCEPT-LANGUAGE ,X-Device,, ");
    CHECK(vary_field_list(h) == "accept-encoding,accept-language,x-device");
    HeaderMap star;
    star.add("Vary", "*");
    CHECK(vary_field_list(star) == "*");
}

TEST_CASE("cache/vary: variants differ exactly when a listed field's value differs") {
    auto suffix = [](const HeaderMap &req) {
        std::string key = "base";
        append_variant_suffix("accept-language,x-device", req, key);
        return key;
    };
    HeaderMap en, en_spaced, fr, none, other_field;
    en.add("Accept-Language", "en");
    en_spaced.add("accept-language", " en ");
    fr.add("Accept-Language", "fr");
    other_field.add("Accept-Language", "en");
    other_field.add("User-Agent", "x");
    CHECK(suffix(en) == suffix(en_spaced));
    CHECK(suffix(en) == suffix(other_field)); // unlisted fields do not matter
    CHECK(suffix(en) != suffix(fr));
    CHECK(suffix(en) != suffix(none));
    CHECK(suffix(en).rfind("base", 0) == 0);
    HeaderMap split, joined;
    split.add("X-Device", "a");
    split.add("X-Device", "b");
    joined.add("X-Device", "a, b");
    CHECK(suffix(split) == suffix(joined)); // field lines combine as one list
}

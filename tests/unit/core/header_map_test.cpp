#include "core/header_map.hpp"

#include <doctest/doctest.h>

using perch::core::HeaderMap;

TEST_CASE("core/header_map: lookups ignore case and keep insertion order") {
    HeaderMap h;
    h.add("Content-Type", "text/html");
    h.add("cache-control", "max-age=60");
    h.add("Cache-Control", "public");
    CHECK(h.size() == 3);
    CHECK(h.get("content-type") == "text/html");
    CHECK(h.joined("CACHE-CONTROL") == "max-age=60, public");
    CHECK(h.count("cache-control") == 2);
    CHECK(!h.get("etag"));
}

TEST_CASE("core/header_map: set replaces every field of that name and remove drops them") {
    HeaderMap h;
    h.add("Via", "1.1 a");
    h.add("X", "1");
    h.add("via", "1.1 b");
    h.set("Via", "1.1 perch");
    CHECK(h.count("via") == 1);
    CHECK(h.get("via") == "1.1 perch");
    CHECK(h.remove("x") == 1);
    CHECK(h.size() == 1);
}

TEST_CASE("core/header_map: fields built from fragments and trimmed keep their bytes") {
    HeaderMap h;
    h.begin_field();
    h.append_name("X-Lo");
    h.append_name("ng");
    h.append_value("a b ");
    h.append_value("c \t");
    h.trim_last_value();
    CHECK(h.name(0) == "X-Long");
    CHECK(h.value(0) == "a b c");
}

TEST_CASE("core/header_map: clear keeps capacity for reuse and empties the map") {
    HeaderMap h;
    h.add("A", "1");
    h.clear();
    CHECK(h.empty());
    CHECK(h.bytes() == 0);
    h.add("B", "2");
    CHECK(h.get("b") == "2");
}

#include "http/field_collector.hpp"

#include <doctest/doctest.h>

using perch::core::HeaderMap;
using perch::http::FieldCollector;
using Outcome = FieldCollector::Outcome;

TEST_CASE("http/field_collector: a field delivered in fragments becomes one field") {
    HeaderMap fields;
    FieldCollector c;
    c.start(fields, 1024);
    CHECK(c.name("Content-") == Outcome::ok);
    CHECK(c.name("Type") == Outcome::ok);
    CHECK(c.value("text/") == Outcome::ok);
    CHECK(c.value("html \t") == Outcome::ok);
    c.value_done();
    CHECK(c.name("Age") == Outcome::ok);
    CHECK(c.value("3") == Outcome::ok);
    c.value_done();
    REQUIRE(fields.size() == 2);
    CHECK(fields.name(0) == "Content-Type");
    CHECK(fields.value(0) == "text/html"); // trailing OWS trimmed
    CHECK(fields.name(1) == "Age");
    CHECK(fields.value(1) == "3");
}

TEST_CASE("http/field_collector: every byte of the head counts against the limit") {
    HeaderMap fields;
    FieldCollector c;
    c.start(fields, 10);
    CHECK(c.count(4) == Outcome::ok); // e.g. "GET " and a target
    CHECK(c.name("Ab") == Outcome::ok);
    CHECK(c.value("cdef") == Outcome::ok); // exactly 10
    CHECK(c.value("g") == Outcome::too_large);
    // A new head starts from zero.
    HeaderMap next;
    c.start(next, 10);
    CHECK(c.name("0123456789") == Outcome::ok);
    CHECK(c.name("x") == Outcome::too_large);
}

TEST_CASE("http/field_collector: a field name must be a token") {
    HeaderMap fields;
    FieldCollector c;
    c.start(fields, 1024);
    CHECK(c.name("Bad Name") == Outcome::bad_name); // whitespace before the colon
    CHECK(c.name("X\t") == Outcome::bad_name);
    CHECK(c.name("a:b") == Outcome::bad_name);
    CHECK(c.name("X-Ok_1") == Outcome::ok);
}

TEST_CASE("http/field_collector: fields after the head (trailers) are counted, not stored") {
    HeaderMap fields;
    FieldCollector c;
    c.start(fields, 30);
    CHECK(c.name("A") == Outcome::ok);
    CHECK(c.value("1") == Outcome::ok);
    c.value_done();
    c.stop_storing();
    CHECK(c.name("Trailer") == Outcome::ok);
    CHECK(c.value("x") == Outcome::ok);
    c.value_done();
    CHECK(fields.size() == 1);
    CHECK(fields.value(0) == "1");
    CHECK(c.name("Bad Trailer") == Outcome::bad_name);  // still checked
    CHECK(c.value("0123456789") == Outcome::too_large); // and still counted
}

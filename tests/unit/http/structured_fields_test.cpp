// RFC 9651's examples, and the failures its parsing algorithms define.
#include "http/structured_fields.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace perch::http::sf;
using Type = BareItem::Type;

namespace {

const BareItem &param(const Parameters &p, const std::string &key) {
    for (const auto &[k, v] : p)
        if (k == key) return v;
    FAIL("no parameter " << key);
    static BareItem none;
    return none;
}

} // namespace

TEST_CASE("http/sf: Lists of tokens, strings and Inner Lists (RFC 9651 section 3.1)") {
    auto l = parse_list("sugar, tea, rum");
    REQUIRE(l);
    REQUIRE(l->size() == 3);
    CHECK((*l)[0].item.value.type == Type::token);
    CHECK((*l)[2].item.value.text == "rum");

    l = parse_list("(\"foo\" \"bar\"), (\"baz\"), (\"bat\" \"one\"), ()");
    REQUIRE(l);
    REQUIRE(l->size() == 4);
    CHECK((*l)[0].inner_list);
    CHECK((*l)[0].items.size() == 2);
    CHECK((*l)[0].items[1].value.text == "bar");
    CHECK((*l)[3].items.empty());

    l = parse_list("(\"foo\"; a=1;b=2);lvl=5, (\"bar\" \"baz\");lvl=1");
    REQUIRE(l);
    CHECK(param((*l)[0].items[0].params, "b").integer == 2);
    CHECK(param((*l)[0].params, "lvl").integer == 5);
    CHECK(param((*l)[1].params, "lvl").integer == 1);

    l = parse_list("abc;a=1;b=2; cde_456, (ghi;jk=4 l);q=\"9\";r=w");
    REQUIRE(l);
    CHECK(param((*l)[0].item.params, "cde_456").is_true());
    CHECK(param((*l)[1].items[0].params, "jk").integer == 4);
    CHECK(param((*l)[1].params, "q").text == "9");
    CHECK(param((*l)[1].params, "r").type == Type::token);
    CHECK(parse_list("")->empty());
}

TEST_CASE("http/sf: Dictionaries (RFC 9651 section 3.2)") {
    auto d = parse_dictionary("en=\"Applepie\", da=:w4ZibGV0w6ZydGU=:");
    REQUIRE(d);
    CHECK(find(*d, "en")->item.value.text == "Applepie");
    CHECK(find(*d, "da")->item.value.type == Type::byte_sequence);
    CHECK(find(*d, "da")->item.value.text == "\xc3\x86" "blet\xc3\xa6rte");

    d = parse_dictionary("a=?0, b, c; foo=bar");
    REQUIRE(d);
    CHECK(find(*d, "a")->item.value.type == Type::boolean);
    CHECK_FALSE(find(*d, "a")->item.value.is_true());
    CHECK(find(*d, "b")->item.value.is_true());
    CHECK(param(find(*d, "c")->item.params, "foo").text == "bar");

    d = parse_dictionary("rating=1.5, feelings=(joy sadness)");
    REQUIRE(d);
    CHECK(find(*d, "rating")->item.value.decimal == doctest::Approx(1.5));
    CHECK(find(*d, "feelings")->items.size() == 2);

    d = parse_dictionary("a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid");
    REQUIRE(d);
    CHECK(d->size() == 4);
    CHECK(find(*d, "a")->items[1].value.integer == 2);
    CHECK(param(find(*d, "d")->params, "valid").is_true());
    CHECK(find(*d, "zz") == nullptr);
}

TEST_CASE("http/sf: a repeated Dictionary key keeps its place and takes the last value") {
    auto d = parse_dictionary("a=1, b=2, a=3");
    REQUIRE(d);
    REQUIRE(d->size() == 2);
    CHECK((*d)[0].first == "a");
    CHECK((*d)[0].second.item.value.integer == 3);
}

TEST_CASE("http/sf: Items of every type (RFC 9651 sections 3.3.1-3.3.8)") {
    auto i = parse_item("5; foo=bar");
    REQUIRE(i);
    CHECK(i->value.integer == 5);
    CHECK(param(i->params, "foo").text == "bar");
    CHECK(parse_item("-42")->value.integer == -42);
    CHECK(parse_item("999999999999999")->value.integer == 999999999999999);
    CHECK(parse_item("4.5")->value.decimal == doctest::Approx(4.5));
    CHECK(parse_item("-0.001")->value.decimal == doctest::Approx(-0.001));
    CHECK(parse_item("\"hello world\"")->value.text == "hello world");
    CHECK(parse_item("\"a \\\"b\\\" \\\\c\"")->value.text == "a \"b\" \\c");
    CHECK(parse_item("foo123/456")->value.text == "foo123/456");
    CHECK(parse_item("*foo:bar")->value.type == Type::token);
    CHECK(parse_item(":cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:")->value.text ==
          "pretend this is binary content.");
    CHECK(parse_item(":aGk:")->value.text == "hi"); // padding left out
    CHECK(parse_item("::")->value.text.empty());
    CHECK(parse_item("?1")->value.is_true());
    auto date = parse_item("@1659578233");
    REQUIRE(date);
    CHECK(date->value.type == Type::date);
    CHECK(date->value.integer == 1659578233);
    auto display = parse_item("%\"This is intended for display to %c3%bcsers.\"");
    REQUIRE(display);
    CHECK(display->value.type == Type::display_string);
    CHECK(display->value.text == "This is intended for display to \xc3\xbcsers.");
    CHECK(parse_item("  42  ")->value.integer == 42); // leading and trailing SP are discarded
}

TEST_CASE("http/sf: what the parsing algorithms refuse fails the whole field") {
    const char *bad_items[] = {
        "",                 // no item
        "1234567890123456", // an Integer of 16 digits
        "1234567890123.0",  // 13 digits before the point
        "1.1234",           // 4 digits after it
        "1.",               // none after it
        "-",                // a sign alone
        "\"unterminated",   // no closing quote
        "\"a\\nb\"",        // an escape other than \" and \\ .
        "\"tab\there\"",    // a control character
        "?2",               // a Boolean other than ?0 / ?1
        "@1.5",             // a Date that is not an Integer
        "%\"%C3%BC\"",      // uppercase hex in a Display String
        "%\"%c3\"",         // a Display String that is not UTF-8
        "%\"%ed%a0%80\"",   // a surrogate
        "%\"%c0%80\"",      // an overlong form
        "%'x'",             // '%' without '"'
        ":aGk=x:",          // data after padding
        ":not base64!:",    // characters outside base64
        ":A:",              // a lone sixth of a byte
        ":AAAAA:",          // the same after a whole group
        ":=:",              // padding alone
        ":AAAA==:",         // padding after a complete group
        "\"caf\xc3\xa9\"",  // non-ASCII input
        "\tfoo",            // a leading tab (only SP is discarded)
        "foo bar",          // two items
        "5; A=1",           // an uppercase parameter key
    };
    for (const char *s : bad_items) {
        CAPTURE(s);
        CHECK_FALSE(parse_item(s));
    }
    const char *bad_dicts[] = {
        "A=1",         // keys are lowercase
        "a=1, B=2",    // one bad key fails the whole field
        "a=1,",        // a trailing comma
        "a=1,, b=2",   // an empty member
        "1a=1",        // a key starts with lcalpha or '*'
        "a=(1 2",      // an unterminated Inner List
        "a=(1,2)",     // Inner List members are separated by SP
        "a=1 b=2",     // members are separated by commas
        "a=",          // '=' without a value
    };
    for (const char *s : bad_dicts) {
        CAPTURE(s);
        CHECK_FALSE(parse_dictionary(s));
    }
    CHECK_FALSE(parse_list("a, , b"));
    CHECK(parse_dictionary("*a=1, a.b_c-d*=2"));
    CHECK(parse_dictionary("a=1 ,\tb=2")); // OWS around commas
}

TEST_CASE("http/sf: sizes beyond the RFC's minimums fail, those at them parse") {
    auto keys = [](size_t n) {
        std::string s;
        for (size_t i = 0; i < n; ++i)
            s += (i ? ", k" : "k") + std::to_string(i);
        return s;
    };
    CHECK(parse_dictionary(keys(1024))->size() == 1024);
    CHECK_FALSE(parse_dictionary(keys(1025)));
    std::string params = "a";
    for (int i = 0; i < 256; ++i)
        params += ";p" + std::to_string(i);
    CHECK(parse_item(params)->params.size() == 256);
    CHECK_FALSE(parse_item(params + ";q"));
}

TEST_CASE("http/sf: field lines are combined whatever the place of an empty one") {
    for (auto lines :
         {std::vector<const char *>{"max-age=60", ""}, std::vector<const char *>{"", "max-age=60"},
          std::vector<const char *>{"a", " ", "max-age=60"}}) {
        perch::core::HeaderMap h;
        for (const char *l : lines)
            h.add("CDN-Cache-Control", l);
        auto d = parse_dictionary(h, "cdn-cache-control");
        REQUIRE(d);
        CHECK(find(*d, "max-age")->item.value.integer == 60);
    }
}

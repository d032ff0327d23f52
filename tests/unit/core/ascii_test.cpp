#include "core/ascii.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace perch::core;

TEST_CASE("core/ascii: comparisons ignore ASCII case only") {
    CHECK(iequals("Content-Length", "content-length"));
    CHECK(iequals("", ""));
    CHECK(!iequals("abc", "abcd"));
    CHECK(!iequals("a-b", "a_b"));
    CHECK(!iequals("\xC3\x89", "\xC3\xA9")); // not Unicode-aware: É and é differ
    CHECK(ascii_lower('Z') == 'z');
    CHECK(ascii_lower('[') == '['); // just past 'Z'
    CHECK(ascii_lower('@') == '@'); // just before 'A'
    CHECK(istarts_with("Bearer abc", "bearer "));
    CHECK(istarts_with("x", ""));
    CHECK(!istarts_with("Bear", "bearer"));
}

TEST_CASE("core/ascii: tokens are made of tchar, and nothing else") {
    for (char c : std::string_view("!#$%&'*+-.^_`|~09azAZ"))
        CHECK_MESSAGE(is_tchar(c), "'", c, "'");
    for (char c : std::string_view(" \t\"(),/:;<=>?@[\\]{}\x7f\x01"))
        CHECK_MESSAGE(!is_tchar(c), int(static_cast<unsigned char>(c)));
    CHECK(!is_tchar('\0'));
    CHECK(!is_tchar('\x80'));
    CHECK(is_token("X-Custom_Field.1"));
    CHECK(is_token("")); // emptiness is the caller's test
    CHECK(!is_token("Bad Name"));
    CHECK(!is_token("name:"));
}

TEST_CASE("core/ascii: trim_ows removes spaces and tabs at both ends only") {
    CHECK(trim_ows(" \t value with  spaces \t ") == "value with  spaces");
    CHECK(trim_ows("").empty());
    CHECK(trim_ows(" \t ").empty());
    CHECK(trim_ows("\nx\r") == "\nx\r"); // only OWS: SP and HTAB
}

TEST_CASE("core/ascii: parse_decimal takes a whole unsigned decimal number or nothing") {
    struct Row {
        std::string_view text;
        std::optional<uint64_t> value;
    };
    const Row rows[] = {
        {"0", 0},
        {"42", 42},
        {"007", 7},
        {"9999999999999999999", 9999999999999999999ull}, // 19 digits: the most it takes
        {"18446744073709551615", std::nullopt},          // UINT64_MAX has 20 digits
        {"00000000000000000001", std::nullopt},          // 20 digits, whatever their value
        {"", std::nullopt},
        {"+1", std::nullopt},
        {"-1", std::nullopt},
        {" 1", std::nullopt},
        {"1 ", std::nullopt},
        {"1a", std::nullopt},
        {"0x10", std::nullopt},
        {"1.5", std::nullopt},
    };
    for (const Row &row : rows) {
        CAPTURE(row.text);
        CHECK(parse_decimal(row.text) == row.value);
    }
}

TEST_CASE("core/ascii: list elements are split at commas outside quoted strings") {
    struct Row {
        std::string_view list;
        std::vector<std::string> elements;
    };
    const Row rows[] = {
        {"a, b ,c", {"a", "b", "c"}},
        {"", {}},
        {" , ,, ", {}},
        {",a,,b,", {"a", "b"}},
        {"\tgzip;q=1.0 ,br", {"gzip;q=1.0", "br"}},
        {"W/\"x,y\", \"z\"", {"W/\"x,y\"", "\"z\""}},
        {"\"a\\\",b\", c", {"\"a\\\",b\"", "c"}}, // an escaped quote does not end the string
        {"\"unterminated, still one", {"\"unterminated, still one"}},
    };
    for (const Row &row : rows) {
        CAPTURE(row.list);
        std::vector<std::string> got;
        for_each_list_element(row.list, [&](std::string_view e) { got.emplace_back(e); });
        CHECK(got == row.elements);
    }
}

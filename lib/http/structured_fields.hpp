// Structured Field Values for HTTP (RFC 9651, which obsoletes RFC 8941): parsing of Lists,
// Dictionaries and Items, exactly as the RFC's section 4.2 algorithms say, including Dates and
// Display Strings. Pure; a failure is the whole field's (nullopt), as the RFC requires: a field
// that does not parse is ignored, never half used.
//
// Field lines of one field are combined with ", " before parsing (RFC 9651 section 4.2); the
// HeaderMap overload does that, leaving out empty lines. Lists and Dictionaries of more than
// 1024 members, and more than 256 parameters on one item, fail (the RFC's minimums).
#pragma once

#include "core/header_map.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace perch::http::sf {

struct BareItem {
    enum class Type : uint8_t { integer, decimal, string, token, byte_sequence, boolean, date,
                                display_string };
    Type type = Type::boolean;
    int64_t integer = 0; // integer, date (seconds since the epoch), boolean (0 or 1)
    double decimal = 0;
    std::string text; // string, token, display_string (UTF-8), byte_sequence (decoded bytes)

    bool is_integer() const noexcept { return type == Type::integer; }
    bool is_true() const noexcept { return type == Type::boolean && integer == 1; }
};

// Keys are unique: a repeated key keeps its first position and takes the last value.
using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Item {
    BareItem value;
    Parameters params;
};

// A List member or a Dictionary value: an Item, or an Inner List of Items with parameters.
struct Member {
    bool inner_list = false;
    Item item;               // when !inner_list
    std::vector<Item> items; // when inner_list
    Parameters params;       // the Inner List's (an Item's are in item.params)
};

using List = std::vector<Member>;
using Dictionary = std::vector<std::pair<std::string, Member>>;

std::optional<List> parse_list(std::string_view field);
std::optional<Dictionary> parse_dictionary(std::string_view field);
std::optional<Item> parse_item(std::string_view field);

// Every line of `name` in `headers`, combined; nullopt when absent or when it fails to parse.
std::optional<Dictionary> parse_dictionary(const core::HeaderMap &headers, std::string_view name);

// The member of `dict` named `key`, or null.
const Member *find(const Dictionary &dict, std::string_view key) noexcept;

} // namespace perch::http::sf

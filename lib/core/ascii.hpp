// ASCII helpers for protocol text (HTTP field names are case-insensitive ASCII).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace perch::core {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

constexpr bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// tchar (RFC 9110 §5.6.2): what field names and methods are made of.
constexpr bool is_tchar(char c) noexcept {
    if (is_alpha(c) || is_digit(c)) return true;
    for (char t : std::string_view("!#$%&'*+-.^_`|~"))
        if (c == t) return true;
    return false;
}

// Whether every byte of s is a tchar (a fragment of a token; emptiness is the caller's test).
constexpr bool is_token(std::string_view s) noexcept {
    for (char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Parses a non-negative decimal integer that is the whole of s (no sign, no spaces).
inline std::optional<uint64_t> parse_decimal(std::string_view s) noexcept {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// Calls fn(element) for each comma-separated element of an HTTP list, trimmed, skipping
// empty elements (RFC 9110 §5.6.1). Commas inside quoted strings do not split.
template <class Fn> void for_each_list_element(std::string_view s, Fn &&fn) {
    size_t start = 0;
    bool quoted = false;
    for (size_t i = 0; i <= s.size(); ++i) {
        if (i < s.size()) {
            char c = s[i];
            if (c == '"')
                quoted = !quoted;
            else if (c == '\\' && quoted && i + 1 < s.size())
                ++i;
            if (c != ',' || quoted) continue;
        }
        auto el = trim_ows(s.substr(start, i - start));
        if (!el.empty()) fn(el);
        start = i + 1;
    }
}

} // namespace perch::core

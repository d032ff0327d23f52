// Serializing HTTP/1.1 heads: status and request lines, fields, chunk framing.
#pragma once

#include "core/ascii.hpp"
#include "core/http_message.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace perch::http {

// Whether `text` may stand in a field value or a reason phrase: no CR, LF or NUL, which would
// end the line early and let the rest pass for more fields (response splitting).
constexpr bool is_single_line(std::string_view text) noexcept {
    for (char c : text)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

// Appends text to a std::string the caller reuses (clear() keeps capacity). A field whose
// name is not a token or whose value is not a single line is refused (not written), so that
// no value, wherever it came from, can add lines to a head.
class HeadWriter {
public:
    explicit HeadWriter(std::string &out) : out_(out) {}

    // An empty reason, or one that is not a single line, becomes the standard phrase.
    void status_line(uint16_t status, std::string_view reason) {
        char code[4] = {char('0' + status / 100 % 10), char('0' + status / 10 % 10),
                        char('0' + status % 10), ' '};
        out_ += "HTTP/1.1 ";
        out_.append(code, 4);
        out_ += reason.empty() || !is_single_line(reason) ? core::reason_phrase(status) : reason;
        out_ += "\r\n";
    }
    void request_line(std::string_view method, std::string_view target) {
        out_ += method;
        out_ += ' ';
        out_ += target;
        out_ += " HTTP/1.1\r\n";
    }
    // Returns false, writing nothing, for a name that is not a token or a value that is not a
    // single line.
    bool field(std::string_view name, std::string_view value) {
        if (name.empty() || !core::is_token(name) || !is_single_line(value)) return false;
        out_ += name;
        out_ += ": ";
        out_ += value;
        out_ += "\r\n";
        return true;
    }
    bool field(std::string_view name, uint64_t value) {
        char digits[24];
        auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        return field(name, std::string_view(digits, size_t(end - digits)));
    }
    void end() { out_ += "\r\n"; }

private:
    std::string &out_;
};

// Writes "<hex size>\r\n" into out (at least 20 bytes); returns its length.
inline size_t format_chunk_header(uint64_t size, char *out) {
    char *end = std::to_chars(out, out + 16, size, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    return size_t(end - out);
}

// Hop-by-hop fields (RFC 9110 §7.6.1) and framing fields a proxy regenerates.
bool is_hop_by_hop(std::string_view name) noexcept;
// The fields a proxy drops from a head: the hop-by-hop ones above and those the head's
// Connection fields name, gathered once so that each field is checked against a few names
// rather than by rescanning the head.
class HopByHopFields {
public:
    explicit HopByHopFields(const core::HeaderMap &headers) noexcept;
    bool covers(std::string_view name) const noexcept;

private:
    // Calls fn(token) for each name in the Connection fields of `headers`.
    template <class Fn> static void for_each_option(const core::HeaderMap &headers, Fn &&fn) {
        headers.for_each("connection",
                         [&](std::string_view v) { core::for_each_list_element(v, fn); });
    }
    static constexpr size_t inline_count = 8;
    std::array<std::string_view, inline_count> names_{}; // views into the head
    size_t count_ = 0;
    const core::HeaderMap *more_ = nullptr; // set when they do not fit: ask the head itself
};

} // namespace perch::http

// RFC 9651 section 4.2, step by step: each function is the algorithm of the same name, reading
// from the front of `in` and consuming what it parses; any failure fails the whole field.
#include "http/structured_fields.hpp"

#include "core/ascii.hpp"

#include <cmath>

namespace perch::http::sf {

namespace {

using core::is_alpha;
using core::is_digit;
using core::is_tchar;

bool is_lcalpha(char c) noexcept { return c >= 'a' && c <= 'z'; }

class Parser {
public:
    explicit Parser(std::string_view in) : in_(in) {}

    bool empty() const noexcept { return in_.empty(); }
    void discard_sp() noexcept {
        while (!in_.empty() && in_.front() == ' ')
            in_.remove_prefix(1);
    }
    void discard_ows() noexcept {
        while (!in_.empty() && (in_.front() == ' ' || in_.front() == '\t'))
            in_.remove_prefix(1);
    }

    // Section 4.2.1.
    bool list(List &out) {
        while (!in_.empty()) {
            Member m;
            if (!item_or_inner_list(m)) return false;
            if (out.size() >= max_members) return false;
            out.push_back(std::move(m));
            if (!after_member()) return false;
            if (in_.empty()) return true;
        }
        return true;
    }

    // Section 4.2.2.
    bool dictionary(Dictionary &out) {
        while (!in_.empty()) {
            std::string k;
            if (!key(k)) return false;
            Member m;
            if (peek('=')) {
                in_.remove_prefix(1);
                if (!item_or_inner_list(m)) return false;
            } else {
                m.item.value.type = BareItem::Type::boolean;
                m.item.value.integer = 1;
                if (!parameters(m.item.params)) return false;
            }
            if (!put(out, std::move(k), std::move(m), max_members)) return false;
            if (!after_member()) return false;
            if (in_.empty()) return true;
        }
        return true;
    }

    // Section 4.2.3.
    bool item(Item &out) { return bare_item(out.value) && parameters(out.params); }

private:
    bool peek(char c) const noexcept { return !in_.empty() && in_.front() == c; }
    char take() noexcept {
        char c = in_.front();
        in_.remove_prefix(1);
        return c;
    }

    // Between List or Dictionary members: OWS, then the end or a comma that a member follows.
    bool after_member() {
        discard_ows();
        if (in_.empty()) return true;
        if (take() != ',') return false;
        discard_ows();
        return !in_.empty(); // a trailing comma fails
    }

    // Adds or replaces; false beyond `limit` entries. RFC 9651 asks parsers to take at least
    // 1024 members and 256 parameters; refusing more keeps the duplicate check (linear per
    // key) bounded against a hostile field.
    template <class Map, class V> static bool put(Map &map, std::string k, V v, size_t limit) {
        for (auto &[name, value] : map)
            if (name == k) {
                value = std::move(v);
                return true;
            }
        if (map.size() >= limit) return false;
        map.emplace_back(std::move(k), std::move(v));
        return true;
    }
    static constexpr size_t max_members = 1024, max_params = 256;

    // Section 4.2.1.1.
    bool item_or_inner_list(Member &m) {
        if (peek('(')) {
            m.inner_list = true;
            return inner_list(m);
        }
        return item(m.item);
    }

    // Section 4.2.1.2.
    bool inner_list(Member &m) {
        in_.remove_prefix(1); // '('
        while (!in_.empty()) {
            discard_sp();
            if (peek(')')) {
                in_.remove_prefix(1);
                return parameters(m.params);
            }
            Item i;
            if (!item(i)) return false;
            m.items.push_back(std::move(i));
            if (in_.empty() || (in_.front() != ' ' && in_.front() != ')')) return false;
        }
        return false; // no closing parenthesis
    }

    // Section 4.2.3.2.
    bool parameters(Parameters &out) {
        while (peek(';')) {
            in_.remove_prefix(1);
            discard_sp();
            std::string k;
            if (!key(k)) return false;
            BareItem v;
            v.type = BareItem::Type::boolean;
            v.integer = 1;
            if (peek('=')) {
                in_.remove_prefix(1);
                if (!bare_item(v)) return false;
            }
            if (!put(out, std::move(k), std::move(v), max_params)) return false;
        }
        return true;
    }

    // Section 4.2.3.3: lcalpha or '*', then lcalpha, DIGIT, '_', '-', '.', '*'. An uppercase
    // letter is not a key character: the parse fails.
    bool key(std::string &out) {
        if (in_.empty() || !(is_lcalpha(in_.front()) || in_.front() == '*')) return false;
        size_t n = 1;
        while (n < in_.size()) {
            char c = in_[n];
            if (!(is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '*'))
                break;
            ++n;
        }
        out.assign(in_.substr(0, n));
        in_.remove_prefix(n);
        return true;
    }

    // Section 4.2.3.1.
    bool bare_item(BareItem &out) {
        if (in_.empty()) return false;
        char c = in_.front();
        if (c == '-' || is_digit(c)) return number(out);
        if (c == '"') return string(out);
        if (c == '*' || is_alpha(c)) return token(out);
        if (c == ':') return byte_sequence(out);
        if (c == '?') return boolean(out);
        if (c == '@') return date(out);
        if (c == '%') return display_string(out);
        return false;
    }

    // Section 4.2.4: at most 15 digits for an Integer; for a Decimal at most 12 before the
    // point and 1 to 3 after it.
    bool number(BareItem &out) {
        bool negative = peek('-');
        if (negative) in_.remove_prefix(1);
        if (in_.empty() || !is_digit(in_.front())) return false;
        bool decimal = false;
        size_t n = 0, point = 0;
        while (n < in_.size()) {
            char c = in_[n];
            if (is_digit(c)) {
                ++n;
            } else if (!decimal && c == '.') {
                if (n > 12) return false;
                decimal = true;
                point = n;
                ++n;
            } else {
                break;
            }
            if (!decimal && n > 15) return false;
            if (decimal && n > 16) return false;
        }
        std::string_view digits = in_.substr(0, n);
        in_.remove_prefix(n);
        if (!decimal) {
            int64_t v = 0;
            for (char d : digits)
                v = v * 10 + (d - '0');
            out.type = BareItem::Type::integer;
            out.integer = negative ? -v : v;
            return true;
        }
        size_t fraction = digits.size() - point - 1;
        if (fraction == 0 || fraction > 3) return false;
        int64_t whole = 0, frac = 0;
        for (size_t i = 0; i < point; ++i)
            whole = whole * 10 + (digits[i] - '0');
        for (size_t i = point + 1; i < digits.size(); ++i)
            frac = frac * 10 + (digits[i] - '0');
        double v = double(whole) + double(frac) / std::pow(10.0, double(fraction));
        out.type = BareItem::Type::decimal;
        out.decimal = negative ? -v : v;
        return true;
    }

    // Section 4.2.5: printable ASCII, with \" and \\ the only escapes.
    bool string(BareItem &out) {
        in_.remove_prefix(1); // '"'
        out.type = BareItem::Type::string;
        out.text.clear();
        while (!in_.empty()) {
            char c = take();
            if (c == '\\') {
                if (in_.empty()) return false;
                char next = take();
                if (next != '"' && next != '\\') return false;
                out.text.push_back(next);
            } else if (c == '"') {
                return true;
            } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
                return false;
            } else {
                out.text.push_back(c);
            }
        }
        return false; // unterminated
    }

    // Section 4.2.6.
    bool token(BareItem &out) {
        size_t n = 1;
        while (n < in_.size() && (is_tchar(in_[n]) || in_[n] == ':' || in_[n] == '/'))
            ++n;
        out.type = BareItem::Type::token;
        out.text.assign(in_.substr(0, n));
        in_.remove_prefix(n);
        return true;
    }

    // Section 4.2.7: base64 between colons (padding may be left out, RFC 9651 allows it).
    bool byte_sequence(BareItem &out) {
        in_.remove_prefix(1); // ':'
        size_t end = in_.find(':');
        if (end == std::string_view::npos) return false;
        std::string_view b64 = in_.substr(0, end);
        in_.remove_prefix(end + 1);
        out.type = BareItem::Type::byte_sequence;
        out.text.clear();
        uint32_t acc = 0;
        int bits = 0;
        size_t pad = 0;
        for (char c : b64) {
            int v;
            if (c >= 'A' && c <= 'Z') v = c - 'A';
            else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
            else if (c >= '0' && c <= '9') v = c - '0' + 52;
            else if (c == '+') v = 62;
            else if (c == '/') v = 63;
            else if (c == '=') { ++pad; continue; }
            else return false;
            if (pad) return false; // data after padding
            acc = (acc << 6) | uint32_t(v);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out.text.push_back(char((acc >> bits) & 0xff));
            }
        }
        // Decodable base64 only (RFC 9651 §4.2.7 step 7): a lone sixth of a byte, padding
        // beyond two, or padding that does not complete a group of four is not. Padding may be
        // left out, as the RFC allows.
        size_t data = b64.size() - pad;
        if (data % 4 == 1 || pad > 2) return false;
        return pad == 0 || (data + pad) % 4 == 0;
    }

    // Section 4.2.8.
    bool boolean(BareItem &out) {
        in_.remove_prefix(1); // '?'
        if (in_.empty() || (in_.front() != '0' && in_.front() != '1')) return false;
        out.type = BareItem::Type::boolean;
        out.integer = take() == '1' ? 1 : 0;
        return true;
    }

    // Section 4.2.9: '@' and an Integer.
    bool date(BareItem &out) {
        in_.remove_prefix(1); // '@'
        if (!number(out) || out.type != BareItem::Type::integer) return false;
        out.type = BareItem::Type::date;
        return true;
    }

    // Section 4.2.10: '%"', printable ASCII with %xx (lowercase hex) escapes, valid UTF-8.
    bool display_string(BareItem &out) {
        in_.remove_prefix(1); // '%'
        if (!peek('"')) return false;
        in_.remove_prefix(1);
        std::string bytes;
        while (!in_.empty()) {
            char c = take();
            unsigned char u = static_cast<unsigned char>(c);
            if (u < 0x20 || u > 0x7e) return false;
            if (c == '%') {
                if (in_.size() < 2) return false;
                int hi = lower_hex(in_[0]), lo = lower_hex(in_[1]);
                if (hi < 0 || lo < 0) return false;
                in_.remove_prefix(2);
                bytes.push_back(char(hi * 16 + lo));
            } else if (c == '"') {
                if (!valid_utf8(bytes)) return false;
                out.type = BareItem::Type::display_string;
                out.text = std::move(bytes);
                return true;
            } else {
                bytes.push_back(c);
            }
        }
        return false;
    }

    static int lower_hex(char c) noexcept {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    }

    static bool valid_utf8(std::string_view s) noexcept {
        size_t i = 0;
        while (i < s.size()) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            size_t n;
            uint32_t cp;
            if (c < 0x80) { ++i; continue; }
            if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
            else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
            else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
            else return false;
            if (i + n >= s.size()) return false; // truncated sequence
            for (size_t k = 1; k <= n; ++k) {
                unsigned char cc = static_cast<unsigned char>(s[i + k]);
                if ((cc & 0xc0) != 0x80) return false;
                cp = (cp << 6) | (cc & 0x3f);
            }
            // Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8.
            if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
                cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return false;
            i += n + 1;
        }
        return true;
    }

    std::string_view in_;
};

bool ascii_only(std::string_view s) noexcept {
    for (char c : s)
        if (static_cast<unsigned char>(c) > 0x7f) return false;
    return true;
}

// Section 4.2 steps 1-7 around one of the three top-level parses.
template <class T, class Fn> std::optional<T> parse_top(std::string_view field, Fn &&fn) {
    if (!ascii_only(field)) return std::nullopt;
    Parser p(field);
    p.discard_sp();
    T out{};
    if (!fn(p, out)) return std::nullopt;
    p.discard_sp();
    if (!p.empty()) return std::nullopt;
    return out;
}

} // namespace

std::optional<List> parse_list(std::string_view field) {
    return parse_top<List>(field, [](Parser &p, List &out) { return p.list(out); });
}

std::optional<Dictionary> parse_dictionary(std::string_view field) {
    return parse_top<Dictionary>(field,
                                 [](Parser &p, Dictionary &out) { return p.dictionary(out); });
}

std::optional<Item> parse_item(std::string_view field) {
    return parse_top<Item>(field, [](Parser &p, Item &out) { return p.item(out); });
}

std::optional<Dictionary> parse_dictionary(const core::HeaderMap &headers, std::string_view name) {
    if (!headers.contains(name)) return std::nullopt;
    // Lines combined with ", " (section 4.2); an empty line adds nothing wherever it is, so
    // the result does not depend on the order of the lines.
    std::string combined;
    headers.for_each(name, [&](std::string_view v) {
        if (core::trim_ows(v).empty()) return;
        if (!combined.empty()) combined += ", ";
        combined += v;
    });
    return parse_dictionary(combined);
}

const Member *find(const Dictionary &dict, std::string_view key) noexcept {
    for (const auto &[name, member] : dict)
        if (name == key) return &member;
    return nullptr;
}

} // namespace perch::http::sf

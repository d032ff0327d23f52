// Structured Fields (lib/http/structured_fields) and CDN-Cache-Control (cdn_cache_control): the
// input is parsed as a List, a Dictionary and an Item. Whatever parses is within the RFC's
// limits, has unique keys, and serialises (RFC 9651 section 4.1, written out below) to a field
// that parses to the same value. Each '\n' starts a CDN-Cache-Control line: its directives are
// in range and it is absent exactly when the combined lines are no Dictionary or an empty one.
#include "core/header_map.hpp"
#include "fuzz_check.hpp"
#include "http/cdn_cache_control.hpp"
#include "http/structured_fields.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using namespace perch::http::sf;
using Type = BareItem::Type;

bool same(const BareItem &a, const BareItem &b) {
    if (a.type != b.type) return false;
    switch (a.type) {
    case Type::integer:
    case Type::boolean:
    case Type::date:
        return a.integer == b.integer;
    case Type::decimal:
        return a.decimal == b.decimal;
    default:
        return a.text == b.text;
    }
}

template <class Map, class Fn> bool same_map(const Map &a, const Map &b, Fn &&same_value) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].first != b[i].first || !same_value(a[i].second, b[i].second)) return false;
    return true;
}

bool same(const Parameters &a, const Parameters &b) {
    return same_map(a, b, [](const BareItem &x, const BareItem &y) { return same(x, y); });
}

bool same(const Item &a, const Item &b) {
    return same(a.value, b.value) && same(a.params, b.params);
}

bool same(const Member &a, const Member &b) {
    if (a.inner_list != b.inner_list) return false;
    if (!a.inner_list) return same(a.item, b.item);
    if (a.items.size() != b.items.size() || !same(a.params, b.params)) return false;
    for (size_t i = 0; i < a.items.size(); ++i)
        if (!same(a.items[i], b.items[i])) return false;
    return true;
}

bool same(const List &a, const List &b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
    return true;
}

bool same(const Dictionary &a, const Dictionary &b) {
    return same_map(a, b, [](const Member &x, const Member &y) { return same(x, y); });
}

template <class Map> void check_keys(const Map &map, size_t limit) {
    PERCH_FUZZ_CHECK(map.size() <= limit);
    for (size_t i = 0; i < map.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            PERCH_FUZZ_CHECK(map[i].first != map[j].first);
}

// --- serialisation (RFC 9651 section 4.1) ----------------------------------------------------

void serialize(const BareItem &v, std::string &out) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char buf[64];
    switch (v.type) {
    case Type::integer:
        PERCH_FUZZ_CHECK(v.integer >= -999999999999999 && v.integer <= 999999999999999);
        out += std::to_string(v.integer);
        return;
    case Type::date:
        out += '@' + std::to_string(v.integer);
        return;
    case Type::boolean:
        PERCH_FUZZ_CHECK(v.integer == 0 || v.integer == 1);
        out += v.integer ? "?1" : "?0";
        return;
    case Type::decimal: {
        PERCH_FUZZ_CHECK(std::fabs(v.decimal) < 1e12);
        std::string d(buf, size_t(std::snprintf(buf, sizeof buf, "%.3f", v.decimal)));
        while (d.back() == '0' && d[d.size() - 2] != '.')
            d.pop_back();
        out += d;
        return;
    }
    case Type::string:
        out += '"';
        for (char c : v.text) {
            PERCH_FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
        return;
    case Type::token:
        out += v.text;
        return;
    case Type::byte_sequence: {
        out += ':';
        const auto *p = reinterpret_cast<const unsigned char *>(v.text.data());
        for (size_t i = 0; i < v.text.size(); i += 3) {
            const size_t n = std::min<size_t>(3, v.text.size() - i);
            uint32_t group = uint32_t(p[i]) << 16;
            if (n > 1) group |= uint32_t(p[i + 1]) << 8;
            if (n > 2) group |= p[i + 2];
            for (size_t k = 0; k < 4; ++k)
                out += k <= n ? b64[(group >> (18 - 6 * k)) & 63] : '=';
        }
        out += ':';
        return;
    }
    case Type::display_string:
        out += "%\"";
        for (unsigned char c : v.text) {
            if (c == '%' || c == '"' || c < 0x20 || c > 0x7e) {
                std::snprintf(buf, sizeof buf, "%%%02x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
        out += '"';
        return;
    }
}

void serialize(const Parameters &params, std::string &out) {
    check_keys(params, 256);
    for (const auto &[key, value] : params) {
        out += ';';
        out += key;
        if (value.is_true()) continue;
        out += '=';
        serialize(value, out);
    }
}

void serialize(const Item &item, std::string &out) {
    serialize(item.value, out);
    serialize(item.params, out);
}

void serialize(const Member &m, std::string &out) {
    if (!m.inner_list) return serialize(m.item, out);
    out += '(';
    for (size_t i = 0; i < m.items.size(); ++i) {
        if (i) out += ' ';
        serialize(m.items[i], out);
    }
    out += ')';
    serialize(m.params, out);
}

std::string serialize(const List &list) {
    std::string out;
    for (const Member &m : list) {
        if (!out.empty()) out += ", ";
        serialize(m, out);
    }
    return out;
}

std::string serialize(const Dictionary &dict) {
    std::string out;
    for (const auto &[key, m] : dict) {
        if (!out.empty()) out += ", ";
        out += key;
        if (!m.inner_list && m.item.value.is_true()) {
            serialize(m.item.params, out);
        } else {
            out += '=';
            serialize(m, out);
        }
    }
    return out;
}

void check_cdn_cache_control(std::string_view input) {
    perch::core::HeaderMap headers;
    std::string combined;
    for (size_t start = 0; start <= input.size();) {
        size_t nl = input.find('\n', start);
        if (nl == std::string_view::npos) nl = input.size();
        const std::string_view line = input.substr(start, nl - start);
        headers.add("CDN-Cache-Control", line);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            combined.append(combined.empty() ? "" : ", ").append(line);
        start = nl + 1;
    }
    const auto dict = parse_dictionary(headers, "cdn-cache-control");
    const auto direct = parse_dictionary(combined);
    PERCH_FUZZ_CHECK(dict.has_value() == direct.has_value());
    if (dict) PERCH_FUZZ_CHECK(same(*dict, *direct));
    const auto cc = perch::http::parse_cdn_cache_control(headers);
    if (!dict || dict->empty()) PERCH_FUZZ_CHECK(!cc);
    if (!cc) return;
    PERCH_FUZZ_CHECK(cc->any);
    for (const auto *v :
         {&cc->max_age, &cc->s_maxage, &cc->stale_while_revalidate, &cc->stale_if_error})
        PERCH_FUZZ_CHECK(!*v || (**v >= 0 && **v <= 2147483648));
    PERCH_FUZZ_CHECK(!cc->max_stale && !cc->min_fresh && !cc->only_if_cached); // request only
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view input(reinterpret_cast<const char *>(data), size);

    if (auto list = parse_list(input)) {
        PERCH_FUZZ_CHECK(list->size() <= 1024);
        const std::string text = serialize(*list);
        const auto again = parse_list(text);
        PERCH_FUZZ_CHECK(again && same(*again, *list));
    }
    if (auto dict = parse_dictionary(input)) {
        check_keys(*dict, 1024);
        const std::string text = serialize(*dict);
        const auto again = parse_dictionary(text);
        PERCH_FUZZ_CHECK(again && same(*again, *dict));
    }
    if (auto item = parse_item(input)) {
        std::string text;
        serialize(*item, text);
        const auto again = parse_item(text);
        PERCH_FUZZ_CHECK(again && same(*again, *item));
    }
    check_cdn_cache_control(input);
    return 0;
}

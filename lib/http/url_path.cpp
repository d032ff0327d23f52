#include "http/url_path.hpp"

#include "core/ascii.hpp"

#include <vector>

namespace perch::http {

std::optional<std::string> normalize_path(std::string_view raw) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = core::ascii_lower(c);
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    auto unreserved = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
    };
    // 1. Escapes: decode the unreserved ones, upper-case the rest.
    std::string decoded;
    decoded.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c != '%') {
            decoded += c;
            continue;
        }
        if (i + 2 >= raw.size()) return std::nullopt;
        int h = hex(raw[i + 1]), l = hex(raw[i + 2]);
        if (h < 0 || l < 0) return std::nullopt;
        char v = char(h * 16 + l);
        if (v == '\0') return std::nullopt;
        if (unreserved(v)) {
            decoded += v;
        } else {
            static constexpr char digits[] = "0123456789ABCDEF";
            decoded += '%';
            decoded += digits[h];
            decoded += digits[l];
        }
        i += 2;
    }
    // 2. Segments: merge empty ones, drop ".", pop for ".." (never above the root).
    std::vector<std::string_view> segs;
    std::string_view rest = decoded;
    bool trailing_slash = false;
    while (!rest.empty()) {
        size_t slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        bool last = slash == std::string_view::npos;
        if (seg == "..") {
            if (!segs.empty()) segs.pop_back();
            trailing_slash = last || rest.empty();
        } else if (seg == "." || seg.empty()) {
            trailing_slash = (last || rest.empty()) && !segs.empty();
        } else {
            segs.push_back(seg);
            trailing_slash = !last && rest.empty();
        }
    }
    std::string out;
    out.reserve(decoded.size() + 1);
    for (std::string_view seg : segs) {
        out += '/';
        out += seg;
    }
    if (out.empty() || trailing_slash) out += '/';
    return out;
}

bool normalize_path_into(std::string_view raw, std::string &out) {
    // Most paths are already normal: copy them into `out` (its capacity reused, no allocation).
    bool normal = !raw.empty() && raw[0] == '/' && raw.find('%') == std::string_view::npos;
    for (size_t at = 1; normal && at <= raw.size();) {
        size_t slash = raw.find('/', at);
        bool last = slash == std::string_view::npos;
        std::string_view seg = raw.substr(at, last ? std::string_view::npos : slash - at);
        normal = !(seg.empty() && !last) && seg != "." && seg != "..";
        at = last ? raw.size() + 1 : slash + 1;
    }
    if (normal) {
        out.assign(raw);
        return true;
    }
    auto n = normalize_path(raw);
    if (!n) return false;
    out = std::move(*n);
    return true;
}

} // namespace perch::http

#include "cache/invalidation.hpp"

#include "http/url_path.hpp"

#include <optional>

namespace perch::cache {

const char *parse_invalidation_path(std::string_view text, InvalidationTarget &out) {
    if (text.empty() || text[0] != '/') return "must start with '/'";
    if (text.size() > max_invalidation_path_chars) return "must be at most 4000 characters";
    size_t star = text.find('*');
    if (star != std::string_view::npos && star != text.size() - 1)
        return "'*' is allowed only as the last character";
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return "must be URL-encoded (no spaces, control or non-ASCII characters)";
        if (c == '?' || c == '#')
            return "must not have a query string (a path is invalidated with every query "
                   "string)";
    }
    bool prefix = star != std::string_view::npos;
    std::string_view path = prefix ? text.substr(0, text.size() - 1) : text;
    // A prefix may end inside a segment ("/a/.." of "/a/..b"): normalize it with a final
    // character that keeps the segment an ordinary one, then take that character off again.
    std::optional<std::string> normalized;
    if (prefix) {
        normalized = http::normalize_path(std::string(path) + "x");
        if (normalized) normalized->pop_back();
    } else {
        normalized = http::normalize_path(path);
    }
    if (!normalized) return "has a malformed percent-escape";
    out.path = std::move(*normalized);
    out.prefix = prefix;
    return nullptr;
}

uint64_t invalidate_targets(CacheStore &store, const std::vector<InvalidationTarget> &targets) {
    uint64_t removed = 0;
    for (const InvalidationTarget &t : targets)
        removed += store.invalidate(t.path, t.prefix);
    return removed;
}

} // namespace perch::cache

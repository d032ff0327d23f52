// Invalidation as CloudFront does it: a path removes that path (with every query string and
// variant of it); a path ending in '*' removes every path that starts with what precedes the
// '*'. Paths are checked and normalized here once, for the C API (perch_cache_invalidate) and
// the admin endpoint alike, the way viewer paths are (http::normalize_path), so that "/a%2Eb"
// and "/a.b" name the same object. Pure, apart from invalidate_targets() (the store).
#pragma once

#include "cache/store.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perch::cache {

// CloudFront's limits: the longest path, and the paths (wildcard paths) of one request.
inline constexpr size_t max_invalidation_path_chars = 4000;
inline constexpr size_t max_invalidation_paths = 3000;
inline constexpr size_t max_invalidation_wildcard_paths = 15;

struct InvalidationTarget {
    std::string path;    // normalized; for a prefix, without the '*'
    bool prefix = false; // the path ended in '*'
};

// Checks one path as written ("/a.html", "/img/*"): it starts with '/', has '*' only as its
// last character, at most max_invalidation_path_chars characters, only printable ASCII
// (other bytes must be percent-encoded), no query string or fragment, and well-formed escapes.
// Fills `out` with the normalized path. Returns the reason it is invalid, or nullptr.
const char *parse_invalidation_path(std::string_view text, InvalidationTarget &out);

// Removes what the targets name from `store`; returns the number of objects removed.
uint64_t invalidate_targets(CacheStore &store, const std::vector<InvalidationTarget> &targets);

} // namespace perch::cache

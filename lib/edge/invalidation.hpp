// Invalidation as CloudFront does it: a path removes that path (with every query string and
// variant of it); a path ending in '*' removes every path that starts with what precedes the
// '*'. Paths are checked and normalized here once, for the C API (perch_cache_invalidate) and
// the admin endpoint alike, the way viewer paths are (normalize_path), so that "/a%2Eb" and
// "/a.b" name the same object. Also: the body of an admin invalidation request, and the
// records of past invalidations. Pure, apart from invalidate_targets() (the store).
#pragma once

#include "cache/store.hpp"
#include "core/clock.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perch::edge {

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
uint64_t invalidate_targets(cache::CacheStore &store,
                            const std::vector<InvalidationTarget> &targets);

// What a caller asked to invalidate, as written.
struct InvalidationBatch {
    std::vector<std::string> paths;
    std::string caller_reference;
};

// Why a request was refused: a CloudFront-style error code and a message naming the problem.
struct InvalidationProblem {
    std::string code; // "MalformedInput", "InvalidArgument", "BatchTooLarge", ...
    std::string message;
};

// Parses an admin request body {"paths": ["/a", "/img/*"], "caller_reference": "..."} and
// checks every path (and CloudFront's per-request limits). Returns the problem, or nullopt
// with `batch` and `targets` (one per path) filled.
std::optional<InvalidationProblem>
parse_invalidation_batch(std::string_view body, InvalidationBatch &batch,
                         std::vector<InvalidationTarget> &targets);

// A completed invalidation.
struct InvalidationRecord {
    std::string id;
    core::UnixMillis create_time = 0;
    InvalidationBatch batch;
    uint64_t objects_removed = 0;
};

// An invalidation id as CloudFront makes them: 'I' and 13 upper-case letters and digits,
// drawn from `random`.
std::string make_invalidation_id(uint64_t random);

// "2026-11-25T14:40:01.123Z".
std::string iso8601_utc(core::UnixMillis t);

// The record as JSON, shaped like CloudFront's Invalidation (snake_case): {"id", "status":
// "Completed", "create_time", "invalidation_batch": {"paths": {"quantity", "items"},
// "caller_reference"}, "perch": {"objects_removed"}}.
std::string invalidation_record_json(const InvalidationRecord &r);

// {"error": {"code": ..., "message": ...}}.
std::string invalidation_problem_json(const InvalidationProblem &p);

// The last `capacity` records, oldest dropped first. Not thread-safe.
class InvalidationLog {
public:
    explicit InvalidationLog(size_t capacity = 100) : capacity_(capacity) {}
    const InvalidationRecord &add(InvalidationRecord r);
    const InvalidationRecord *find(std::string_view id) const noexcept;
    const InvalidationRecord *find_by_caller_reference(std::string_view ref) const noexcept;

private:
    std::deque<InvalidationRecord> records_;
    size_t capacity_;
};

} // namespace perch::edge

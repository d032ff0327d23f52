// The admin endpoint's invalidations: the body of a request (a batch of paths, checked by
// cache::parse_invalidation_path), and the records of past invalidations. Pure.
#pragma once

#include "cache/invalidation.hpp"
#include "core/clock.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perch::edge {

using cache::InvalidationTarget;

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

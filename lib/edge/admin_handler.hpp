// The admin endpoint's requests, apart from I/O: bearer-token check, routing, invalidation.
//   POST /invalidations        {"paths": [...], "caller_reference": "..."} -> 201 and the record
//   GET  /invalidations/ID     -> 200 and a past record (the last 100 are kept), or 404
//   anything else              -> 404 (the admin endpoint never serves cached content)
// Any request without "Authorization: Bearer TOKEN" (compared in constant time) gets 401,
// whatever its path: an unauthenticated client learns nothing of the routes.
// Every answer is JSON; errors are {"error": {"code", "message"}}.
#pragma once

#include "cache/store.hpp"
#include "core/clock.hpp"
#include "core/http_message.hpp"
#include "edge/invalidation_batch.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace perch::edge {

struct AdminResponse {
    uint16_t status = 200;
    std::string body;            // JSON
    std::string location;        // Location field, when not empty
    std::string_view allow;      // Allow field (405), when not empty
    bool auth_challenge = false; // WWW-Authenticate: Bearer (401)
};

// A new invalidation the handler accepted: carry it out (run(), on any thread: prefixes scan
// the whole store), then AdminHandler::finish() on the handler's thread.
struct PendingInvalidation {
    InvalidationRecord record;
    std::vector<InvalidationTarget> targets;

    // Whether some target is a prefix (its cost grows with the store, see CacheStore).
    bool scans_store() const noexcept;
    void run(cache::CacheStore &store) {
        record.objects_removed = invalidate_targets(store, targets);
    }
};

// One per admin listener; used on its runtime's thread only.
class AdminHandler {
public:
    // Largest request body accepted (413 above it).
    static constexpr uint64_t max_body_bytes = 1 << 20;

    AdminHandler(std::string token, cache::CacheStore &store)
        : token_(std::move(token)), store_(store) {}

    // Whether a request for `target` (path?query) needs its body: a POST to a known route.
    bool wants_body(const core::RequestHead &req) const;

    // Answers one complete request, or returns nullopt with `pending` filled: a new
    // invalidation, to run() and then finish(). `random` draws its id.
    std::optional<AdminResponse> begin(const core::RequestHead &req, std::string_view body,
                                       core::UnixMillis now, uint64_t random,
                                       PendingInvalidation &pending);
    // Records an invalidation that has run and answers for it (201 and the record).
    AdminResponse finish(PendingInvalidation &&done);
    // begin(), run() on this thread, finish().
    AdminResponse handle(const core::RequestHead &req, std::string_view body, core::UnixMillis now,
                         uint64_t random);

    // An answer for a request the HTTP layer refused (400, 408, 413, 414, 431, 505).
    static AdminResponse refused(uint16_t status, std::string_view reason);

private:
    bool authorized(const core::RequestHead &req) const noexcept;
    std::optional<AdminResponse> create(std::string_view body, core::UnixMillis now,
                                        uint64_t random, PendingInvalidation &pending);

    std::string token_;
    cache::CacheStore &store_;
    InvalidationLog log_;
};

// Compares in time that depends only on the lengths, not on where the texts differ.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

} // namespace perch::edge

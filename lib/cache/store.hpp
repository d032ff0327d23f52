// Cache storage, apart from HTTP policy: lookup gives a shared reader reference; an insert
// streams bytes through a writer that reserves budget as it goes (the store sets the pace and
// may refuse); commit publishes the object atomically, replacing any previous one for its key.
// Thread-safe: one store may be shared by the runtimes of several threads.
#pragma once

#include "cache/cached_object.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace perch::cache {

struct StoreStats {
    uint64_t entries = 0;
    uint64_t bytes_used = 0; // committed objects plus reservations of in-flight inserts
    uint64_t bytes_budget = 0;
    uint64_t evictions = 0;
    uint64_t inserts = 0;
    uint64_t invalidations = 0; // objects removed by invalidation
    uint64_t bytes_peak = 0;    // the most bytes_used has ever been (never above the budget)
    uint64_t discarded = 0;     // commits dropped because an invalidation overtook them
};

class CacheWriter {
public:
    virtual ~CacheWriter() = default; // abandons the insert unless committed
    // Copies body bytes into the object being built. Returns false when the store will not
    // take more (object too large, budget exhausted); the writer is then useless.
    virtual bool append(const uint8_t *data, size_t len) = 0;
    // Publishes the object, replacing any stored for its key. `head` is the serialized head
    // (see CachedObject::head_view). Returns null when the store will not take it, or when an
    // invalidation matching its path came after begin_insert (the object would be outdated).
    virtual core::Ref<CachedObject> commit(core::Ref<core::Buffer> head, CommitInfo info) = 0;
};

class CacheStore : public core::RefCounted<CacheStore> {
public:
    virtual ~CacheStore() = default;
    static void destroy(const CacheStore *s) noexcept { delete s; }

    // The stored object for `key`, or null. Marks it recently used.
    virtual core::Ref<CachedObject> lookup(const CacheKey &key) = 0;
    // Starts storing a response for `key`; `expected_size` (if known) lets the store refuse
    // early and size its buffers to the body. Returns null when the store will not take it.
    virtual std::unique_ptr<CacheWriter> begin_insert(const CacheKey &key,
                                                      std::optional<uint64_t> expected_size) = 0;
    // Replaces the object for the same key with `refreshed` (CachedObject::refreshed: new head
    // and times sharing the old body) if `previous` is still the stored one; sets its charge.
    virtual void refresh(const core::Ref<CachedObject> &previous,
                         core::Ref<CachedObject> refreshed) = 0;
    // Removes the objects whose path equals `path`, or starts with it when `prefix`, and
    // makes inserts begun before this call discard such objects at commit.
    // Returns how many were removed.
    virtual uint64_t invalidate(std::string_view path, bool prefix) = 0;
    // The same for `path` exactly, but only the objects whose key starts with `key_prefix`
    // (one host's, see edge::cache_key_prefix). A store that cannot tell keys apart may remove
    // every object of the path: more is safe, less is not.
    virtual uint64_t invalidate_keys(std::string_view path, std::string_view key_prefix) {
        (void)key_prefix;
        return invalidate(path, false);
    }
    virtual StoreStats stats() const = 0;
};

} // namespace perch::cache

// One stored response. Immutable once committed and shared by reference between the store
// and every reader (viewer writes reference its buffers directly, so a hit copies no bytes).
// A refresh (304) commits a new object that shares the body buffers.
#pragma once

#include "cache/policy.hpp"
#include "core/buffer.hpp"

#include <cstdint>
#include <string>
#include <vector>
#include <xxhash.h>

namespace perch::cache {

struct CacheKey {
    std::string text;         // the whole key (compared on lookup: no false hits on collision)
    XXH128_hash_t hash{0, 0}; // XXH3-128 of text
    std::string path;         // the URL path, for invalidation

    void finalize() noexcept { hash = XXH3_128bits(text.data(), text.size()); }
};

class CachedObject final : public core::RefCounted<CachedObject> {
public:
    std::string key;
    XXH128_hash_t hash{0, 0};
    std::string path;
    uint16_t status = 200;
    // Status line and fields including Content-Length, each line ending in CRLF, without the
    // blank line: per-request fields (Age, X-Cache, request id) are written after it.
    core::Ref<core::Buffer> head;
    std::vector<core::Ref<core::Buffer>> body; // each chunk's size() bytes, in order
    uint64_t body_size = 0;
    StoredTimes times;
    std::string etag; // validators, for revalidation
    std::string last_modified;
    uint64_t charge = 0; // bytes counted against the store's budget

    // Store bookkeeping (guarded by the owning shard's lock).
    CachedObject *lru_prev = nullptr;
    CachedObject *lru_next = nullptr;
    bool linked = false;
};

} // namespace perch::cache

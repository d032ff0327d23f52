// In-memory CacheStore: objects in 64 lock-sharded hash maps (keys hashed with XXH3-128), a
// global byte budget counted with per-object overhead, and LRU eviction per shard (a full
// store evicts from the inserting shard first, then the others in turn). No lock is held
// across I/O or while copying body bytes. Bodies of at least file_backed_min bytes whose
// length is announced live in a shared-memory arena, so that hits can go out with sendfile.
#pragma once

#include "cache/store.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <unordered_map>

namespace perch::cache {

struct MemoryStoreOptions {
    uint64_t budget_bytes = 256ull << 20;
    // Largest object stored; 0 means budget / 8.
    uint64_t max_object_bytes = 0;
};

class MemoryStore final : public CacheStore {
public:
    explicit MemoryStore(const MemoryStoreOptions &opts);
    ~MemoryStore() override;

    core::Ref<CachedObject> lookup(const CacheKey &key) override;
    std::unique_ptr<CacheWriter> begin_insert(const CacheKey &key,
                                              std::optional<uint64_t> expected_size) override;
    void refresh(const core::Ref<CachedObject> &previous,
                 core::Ref<CachedObject> refreshed) override;
    uint64_t invalidate(std::string_view path, bool prefix) override;
    StoreStats stats() const override;

    // Overhead charged per object beyond key, path, head and body bytes.
    static constexpr uint64_t object_overhead = sizeof(CachedObject) + 64;
    // Smallest body placed in the arena (below it, the page rounding would cost too much).
    static constexpr uint64_t file_backed_min = 64 * 1024;

private:
    class Writer;
    static constexpr size_t shard_count = 64;
    struct Shard {
        std::mutex mu;
        std::unordered_map<uint64_t, CachedObject *> map; // XXH128 low64 -> object (owned ref)
        CachedObject *lru_head = nullptr;                 // most recently used
        CachedObject *lru_tail = nullptr;
    };

    Shard &shard_for(const XXH128_hash_t &h) noexcept { return shards_[h.high64 % shard_count]; }
    bool reserve(uint64_t bytes, size_t home_shard);
    void unreserve(uint64_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }
    // Evicts one object, trying `start` first; returns false if every shard is empty.
    bool evict_one(size_t start);
    core::Ref<CachedObject> publish(core::Ref<CachedObject> obj);
    // A body buffer in the shared-memory arena, or null (no memfd support).
    core::Ref<core::Buffer> file_backed_buffer(size_t capacity);
    static void lru_unlink(Shard &s, CachedObject *o) noexcept;
    static void lru_push_front(Shard &s, CachedObject *o) noexcept;
    // Removes `o` from shard `s` (locked); returns the store's reference to drop unlocked.
    core::Ref<CachedObject> detach_locked(Shard &s, CachedObject *o) noexcept;

    uint64_t budget_;
    uint64_t max_object_;
    std::atomic<uint64_t> used_{0};
    std::atomic<uint64_t> entries_{0};
    std::atomic<uint64_t> evictions_{0};
    std::atomic<uint64_t> inserts_{0};
    std::atomic<uint64_t> invalidations_{0};
    std::atomic<size_t> evict_cursor_{0};
    std::mutex arena_mu_;
    core::Ref<core::MemfdArena> arena_; // the arena new bodies go to
    bool arena_unavailable_ = false;
    std::array<Shard, shard_count> shards_;
};

} // namespace perch::cache

// In-memory CacheStore: objects in 64 lock-sharded tables, the shard chosen by a hash of the
// object's path (so that every key of a path is in one shard), a strict global byte budget
// counted with per-object overhead, and S3-FIFO eviction per shard (see cache/eviction.hpp; a
// full store evicts from the inserting shard first, then the others in turn).
//
// Costs: lookup is one locked probe of a compact table by path, a walk over the keys stored
// for that path, and a key comparison; a hit only bumps a counter (it allocates nothing).
// Invalidating an exact path touches that path's objects only (each shard chains the objects of a
// path); a prefix invalidation scans every shard, O(stored objects), holding one shard's lock at a
// time. An insert that began before an invalidation matching its path is discarded at commit.
//
// No lock is held across I/O or while copying body bytes. A large body is a chain of 64 KiB
// blocks from the store's BlockPool (and, when its length is announced, a heap tail of exactly
// what is left), whose pages an evicted body hands to the next fill (see core/block_pool.hpp);
// a small body is stored with its head and the object in one allocation (see
// cache/cached_object.hpp).
#pragma once

#include "cache/object_table.hpp"
#include "cache/store.hpp"
#include "core/block_pool.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <string>

namespace perch::cache {

struct MemoryStoreOptions {
    uint64_t budget_bytes = 256ull << 20;
    // Largest object stored; 0 means budget / 8.
    uint64_t max_object_bytes = 0;
    EvictionPolicy eviction = EvictionPolicy::s3fifo;
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
    uint64_t invalidate_keys(std::string_view path, std::string_view key_prefix) override;
    StoreStats stats() const override;
    // The blocks of large bodies: mapped so far, and free for the next fill.
    core::BlockPool::Stats block_stats() const noexcept { return blocks_->stats(); }

    // What an object is charged is what it takes from the heap as glibc's malloc counts it:
    // each of its allocations (CachedObject::allocation_bytes, buffer_bytes) plus the
    // allocator's header, pool blocks, and its share of the store's tables. A compact object is
    // one allocation.
    //
    // The allocator's header per allocation (sizes are asked rounded to 16, so it is exact).
    static constexpr uint64_t allocation_overhead = 16;
    // An object's slots in the path table and the ghost set (measured by
    // bench/store_bench.cpp).
    static constexpr uint64_t index_overhead = 24;
    // Charged at most per buffer beyond its capacity (reserved as a writer adds body chunks).
    static constexpr uint64_t buffer_overhead = core::Buffer::max_overhead + allocation_overhead;
    // Charged at most per compact object beyond its text (key, path, validators), body and
    // head: the object, its text's rounding to 16, its buffer's overhead and the tables
    // (reserved when an insert begins; the commit settles the difference).
    static constexpr uint64_t object_overhead =
        sizeof(CachedObject) + 15 + buffer_overhead + index_overhead;
    // Largest body and head copied at commit into a compact object (one allocation).
    static constexpr uint64_t compact_max = 16 * 1024;

    // What `o` is charged against the budget.
    static uint64_t charge_of(const CachedObject &o) noexcept;

private:
    class Writer;
    static constexpr size_t shard_count = 64;
    static constexpr size_t recent_count = 32;
    struct Invalidation {
        uint64_t epoch = 0;
        uint64_t path_hash = 0;
    };
    struct Shard {
        Shard();
        std::mutex mu;
        // By path hash: the first object of each path; the others follow it through
        // path_next. Every object is found by its path, then its key (owned references).
        ObjectTable<CachedObject> paths;
        EvictionQueues queues;
        // Exact invalidations of this shard, newest last (a ring), for commits in flight.
        std::array<Invalidation, recent_count> recent;
        size_t recent_next = 0;
        uint64_t last_invalidation = 0; // epoch
        uint64_t forgotten = 0;         // newest epoch overwritten in `recent`
    };
    struct PrefixInvalidation {
        uint64_t epoch = 0;
        std::string prefix;
    };

    Shard &shard_for_path(uint64_t path_hash) noexcept { return shards_[path_hash % shard_count]; }
    bool reserve(uint64_t bytes);
    void unreserve(uint64_t bytes) noexcept { used_.fetch_sub(bytes, std::memory_order_relaxed); }
    // Evicts one object; returns false if every shard is empty.
    bool evict_one();
    // Publishes `obj` unless an invalidation after `begin_epoch` matched it (then null).
    core::Ref<CachedObject> publish(core::Ref<CachedObject> obj, uint64_t path_hash,
                                    uint64_t begin_epoch);
    bool invalidated_since(Shard &s, std::string_view path, uint64_t path_hash, uint64_t epoch);
    void link_locked(Shard &s, CachedObject *o, uint64_t path_hash);
    // Removes `o` from shard `s` (locked); returns the store's reference to drop unlocked.
    core::Ref<CachedObject> detach_locked(Shard &s, CachedObject *o, uint64_t path_hash) noexcept;
    core::Ref<CachedObject> detach_locked(Shard &s, CachedObject *o) noexcept {
        return detach_locked(s, o, CacheKey::hash_path(o->path()));
    }
    static CachedObject *first_of_path(Shard &s, uint64_t path_hash, std::string_view path);
    static CachedObject *find_locked(Shard &s, uint64_t path_hash, std::string_view path,
                                     uint64_t key_hash, std::string_view key);

    uint64_t budget_;
    uint64_t max_object_;
    std::atomic<uint64_t> used_{0};
    std::atomic<uint64_t> peak_{0};
    std::atomic<uint64_t> entries_{0};
    std::atomic<uint64_t> evictions_{0};
    std::atomic<uint64_t> inserts_{0};
    std::atomic<uint64_t> invalidations_{0};
    std::atomic<uint64_t> discarded_{0};
    std::atomic<size_t> evict_cursor_{0};
    std::atomic<uint64_t> epoch_{0};        // counts invalidations
    std::atomic<uint64_t> prefix_epoch_{0}; // epoch of the newest prefix invalidation
    std::mutex prefix_mu_;
    std::array<PrefixInvalidation, recent_count> prefixes_; // a ring, guarded by prefix_mu_
    size_t prefix_next_ = 0;
    uint64_t prefix_forgotten_ = 0;
    core::Ref<core::BlockPool> blocks_; // large bodies' blocks; a sixteenth of the budget kept
    std::array<Shard, shard_count> shards_;
};

} // namespace perch::cache

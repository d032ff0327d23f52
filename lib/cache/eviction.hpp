// Eviction, apart from storage: which stored object leaves when a store needs room. Every store
// embeds an EvictionHook in its objects and keeps one EvictionQueues per lock shard.
//
// S3-FIFO (Yang et al., SOSP 2023), the default: new objects enter a small FIFO (about 10% of
// the bytes); one that was hit while there moves to the main FIFO, the others leave and their
// fingerprints enter a ghost set; an object whose fingerprint is in the ghost set goes straight
// to the main FIFO. The main FIFO is a CLOCK: a hit object at its tail is given another round
// with its frequency decremented. A hit only bumps a two-bit counter (an atomic byte on the
// object): no list is relinked on the hit path.
//
// LRU is kept for comparison (bench/store_bench.cpp): a hit moves the object to the front.
//
// Call-order contract: insert, remove, pop_victim and (for LRU) touch run under the owning
// shard's lock; an object is in at most one queue. S3-FIFO's touch is lock-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace perch::cache {

enum class EvictionPolicy : uint8_t { s3fifo, lru };

struct EvictionHook {
    EvictionHook *evict_prev = nullptr;
    EvictionHook *evict_next = nullptr;
    std::atomic<uint8_t> freq{0};
    uint8_t queue = 0; // which queue holds it (0: none)
};

class EvictionQueues {
public:
    // The ghost id of an object (a hash of its key); given to pop_victim.
    using Fingerprint = uint64_t (*)(const EvictionHook &) noexcept;
    // The bytes an object counts against its store's budget (the same every time it is asked).
    using Charge = uint64_t (*)(const EvictionHook &) noexcept;

    explicit EvictionQueues(Charge charge) noexcept : charge_(charge) {}
    void set_policy(EvictionPolicy p) noexcept { policy_ = p; }
    // Adds a newly stored object; `fingerprint` is its ghost id.
    void insert(EvictionHook &h, uint64_t fingerprint);
    // Records a hit.
    void touch(EvictionHook &h) noexcept {
        if (policy_ == EvictionPolicy::lru) {
            if (h.queue != 0 && main_.head != &h) move_to_front(main_, h);
            return;
        }
        uint8_t f = h.freq.load(std::memory_order_relaxed);
        if (f < max_freq) h.freq.store(uint8_t(f + 1), std::memory_order_relaxed);
    }
    // Takes an object out (invalidation, replacement); does nothing if it is in no queue.
    void remove(EvictionHook &h) noexcept;
    // Chooses the object to evict next and takes it out of its queue; null when empty.
    EvictionHook *pop_victim(Fingerprint fingerprint);

    uint64_t bytes() const noexcept { return small_.bytes + main_.bytes; }
    size_t count() const noexcept { return small_.count + main_.count; }
    // Heap bytes of the ghost set (for the overhead figure).
    size_t ghost_bytes() const noexcept { return ghost_.capacity() * sizeof(uint32_t); }

private:
    static constexpr uint8_t small_queue = 1, main_queue = 2, max_freq = 3;
    struct List {
        EvictionHook *head = nullptr; // newest
        EvictionHook *tail = nullptr; // oldest
        uint64_t bytes = 0;
        size_t count = 0;
    };
    List &list_of(const EvictionHook &h) noexcept {
        return h.queue == small_queue ? small_ : main_;
    }
    // Links h at the front of l, taking `charge` bytes into it.
    static void push_front(List &l, EvictionHook &h, uint8_t queue, uint64_t charge) noexcept;
    // Takes h out of its list, with its `charge` bytes.
    void unlink(EvictionHook &h, uint64_t charge) noexcept;
    // Moves h, in l, to its front.
    static void move_to_front(List &l, EvictionHook &h) noexcept;
    // Whether the ghost set holds `fingerprint`; forgets it if so.
    bool ghost_take(uint64_t fingerprint) noexcept;
    void ghost_add(uint64_t fingerprint);

    Charge charge_;
    EvictionPolicy policy_ = EvictionPolicy::s3fifo;
    List small_, main_;
    // Direct-mapped set of 32-bit fingerprints, about one slot per stored object: a newer
    // fingerprint overwrites an older one in its slot, which ages the set.
    std::vector<uint32_t> ghost_;
};

} // namespace perch::cache

#include "cache/eviction.hpp"

#include <algorithm>
#include <bit>

namespace perch::cache {

void EvictionQueues::push_front(List &l, EvictionHook &h, uint8_t queue) noexcept {
    h.evict_prev = nullptr;
    h.evict_next = l.head;
    if (l.head) l.head->evict_prev = &h;
    l.head = &h;
    if (!l.tail) l.tail = &h;
    l.bytes += h.charge;
    ++l.count;
    h.queue = queue;
}

void EvictionQueues::unlink(EvictionHook &h) noexcept {
    List &l = list_of(h);
    if (h.evict_prev)
        h.evict_prev->evict_next = h.evict_next;
    else
        l.head = h.evict_next;
    if (h.evict_next)
        h.evict_next->evict_prev = h.evict_prev;
    else
        l.tail = h.evict_prev;
    h.evict_prev = h.evict_next = nullptr;
    l.bytes -= h.charge;
    --l.count;
    h.queue = 0;
}

void EvictionQueues::insert(EvictionHook &h, uint64_t fingerprint) {
    h.freq.store(0, std::memory_order_relaxed);
    if (policy_ == EvictionPolicy::lru || ghost_take(fingerprint))
        push_front(main_, h, main_queue);
    else
        push_front(small_, h, small_queue);
}

void EvictionQueues::remove(EvictionHook &h) noexcept {
    if (h.queue != 0) unlink(h);
}

EvictionHook *EvictionQueues::pop_victim(Fingerprint fingerprint) {
    if (policy_ == EvictionPolicy::lru) {
        EvictionHook *v = main_.tail;
        if (v) unlink(*v);
        return v;
    }
    for (;;) {
        // The small queue gives up objects while it holds more than a tenth of the bytes.
        if (small_.tail && (main_.count == 0 || small_.bytes * 10 > small_.bytes + main_.bytes)) {
            EvictionHook *v = small_.tail;
            unlink(*v);
            if (v->freq.load(std::memory_order_relaxed) > 0) { // hit while new: keep it
                v->freq.store(0, std::memory_order_relaxed);
                push_front(main_, *v, main_queue);
                continue;
            }
            ghost_add(fingerprint(*v));
            return v;
        }
        EvictionHook *v = main_.tail;
        if (!v) return nullptr;
        unlink(*v);
        uint8_t f = v->freq.load(std::memory_order_relaxed);
        if (f > 0) { // another round, one count less (CLOCK)
            v->freq.store(uint8_t(f - 1), std::memory_order_relaxed);
            push_front(main_, *v, main_queue);
            continue;
        }
        return v;
    }
}

bool EvictionQueues::ghost_take(uint64_t fingerprint) noexcept {
    if (ghost_.empty()) return false;
    uint32_t tag = uint32_t(fingerprint >> 32) | 1;
    uint32_t &slot = ghost_[fingerprint & (ghost_.size() - 1)];
    if (slot != tag) return false;
    slot = 0;
    return true;
}

void EvictionQueues::ghost_add(uint64_t fingerprint) {
    // About one slot per object the shard holds; resizing forgets the set (rare).
    size_t want = std::bit_ceil(std::max<size_t>(count() + 1, 64));
    if (ghost_.size() < want) ghost_.assign(want, 0);
    ghost_[fingerprint & (ghost_.size() - 1)] = uint32_t(fingerprint >> 32) | 1;
}

} // namespace perch::cache

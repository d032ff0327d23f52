#include "cache/eviction.hpp"

#include <algorithm>
#include <bit>

namespace perch::cache {

namespace {

void link_front(EvictionHook *&head, EvictionHook *&tail, EvictionHook &h) noexcept {
    h.evict_prev = nullptr;
    h.evict_next = head;
    if (head) head->evict_prev = &h;
    head = &h;
    if (!tail) tail = &h;
}

void link_out(EvictionHook *&head, EvictionHook *&tail, EvictionHook &h) noexcept {
    if (h.evict_prev)
        h.evict_prev->evict_next = h.evict_next;
    else
        head = h.evict_next;
    if (h.evict_next)
        h.evict_next->evict_prev = h.evict_prev;
    else
        tail = h.evict_prev;
    h.evict_prev = h.evict_next = nullptr;
}

} // namespace

void EvictionQueues::push_front(List &l, EvictionHook &h, uint8_t queue, uint64_t charge) noexcept {
    link_front(l.head, l.tail, h);
    l.bytes += charge;
    ++l.count;
    h.queue = queue;
}

void EvictionQueues::unlink(EvictionHook &h, uint64_t charge) noexcept {
    List &l = list_of(h);
    link_out(l.head, l.tail, h);
    l.bytes -= charge;
    --l.count;
    h.queue = 0;
}

void EvictionQueues::move_to_front(List &l, EvictionHook &h) noexcept {
    link_out(l.head, l.tail, h);
    link_front(l.head, l.tail, h);
}

void EvictionQueues::insert(EvictionHook &h, uint64_t fingerprint) {
    h.freq.store(0, std::memory_order_relaxed);
    if (policy_ == EvictionPolicy::lru || ghost_take(fingerprint))
        push_front(main_, h, main_queue, charge_(h));
    else
        push_front(small_, h, small_queue, charge_(h));
}

void EvictionQueues::remove(EvictionHook &h) noexcept {
    if (h.queue != 0) unlink(h, charge_(h));
}

EvictionHook *EvictionQueues::pop_victim(Fingerprint fingerprint) {
    if (policy_ == EvictionPolicy::lru) {
        EvictionHook *v = main_.tail;
        if (v) unlink(*v, charge_(*v));
        return v;
    }
    for (;;) {
        // The small queue gives up objects while it holds more than a tenth of the bytes.
        if (small_.tail && (main_.count == 0 || small_.bytes * 10 > small_.bytes + main_.bytes)) {
            EvictionHook *v = small_.tail;
            uint64_t charge = charge_(*v);
            unlink(*v, charge);
            if (v->freq.load(std::memory_order_relaxed) > 0) { // hit while new: keep it
                v->freq.store(0, std::memory_order_relaxed);
                push_front(main_, *v, main_queue, charge);
                continue;
            }
            ghost_add(fingerprint(*v));
            return v;
        }
        EvictionHook *v = main_.tail;
        if (!v) return nullptr;
        uint8_t f = v->freq.load(std::memory_order_relaxed);
        if (f > 0) { // another round, one count less (CLOCK)
            v->freq.store(uint8_t(f - 1), std::memory_order_relaxed);
            move_to_front(main_, *v);
            continue;
        }
        unlink(*v, charge_(*v));
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

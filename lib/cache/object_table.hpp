// A compact open-addressing set of object pointers for one store shard: 8 bytes a slot (the
// pointer, with 16 bits of its hash in the unused top bits so that most probes need no
// dereference), linear probing, backward-shift deletion, at most 13/16 full (a miss probes
// about 15 slots, two cache lines, at the fullest).
// Not thread-safe: the owning shard's lock guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace perch::cache {

template <class T> class ObjectTable {
    static_assert(sizeof(void *) == 8, "the tag lives in the top 16 bits of a 64-bit pointer");

public:
    using HashOf = uint64_t (*)(const T *) noexcept;
    explicit ObjectTable(HashOf hash_of) noexcept : hash_of_(hash_of) {}

    // The first object with hash `h` for which `match(obj)` holds, or null.
    template <class Match> T *find(uint64_t h, Match &&match) const {
        if (slots_.empty()) return nullptr;
        uint64_t tag = tag_of(h);
        for (size_t i = home(h);; i = (i + 1) & mask_) {
            uint64_t s = slots_[i];
            if (s == 0) return nullptr;
            if ((s & tag_mask) == tag) {
                T *o = ptr_of(s);
                if (match(o)) return o;
            }
        }
    }
    void insert(T *o) {
        if ((size_ + 1) * 16 > slots_.size() * 13) grow();
        place(o, hash_of_(o));
        ++size_;
    }
    // Replaces `old` (present) by `o`, which has the same hash.
    void replace(T *old, T *o) noexcept { slots_[index_of(old)] = tag_of(hash_of_(o)) | bits(o); }
    void erase(T *o) noexcept {
        size_t i = index_of(o);
        // Backward shift: move later entries of the probe run into the hole.
        for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
            uint64_t s = slots_[j];
            if (s == 0) break;
            size_t k = home(hash_of_(ptr_of(s)));
            // The entry at j may fill the hole at i if its home is not in (i, j].
            if (((j - k) & mask_) >= ((j - i) & mask_)) {
                slots_[i] = s;
                i = j;
            }
        }
        slots_[i] = 0;
        --size_;
    }
    template <class F> void for_each(F &&f) const {
        for (uint64_t s : slots_)
            if (s) f(ptr_of(s));
    }
    size_t size() const noexcept { return size_; }
    size_t heap_bytes() const noexcept { return slots_.capacity() * sizeof(uint64_t); }

private:
    static constexpr uint64_t tag_mask = 0xffffull << 48;
    static uint64_t tag_of(uint64_t h) noexcept { return (h & tag_mask) | (1ull << 48); }
    static uint64_t bits(T *o) noexcept { return uint64_t(reinterpret_cast<uintptr_t>(o)); }
    static T *ptr_of(uint64_t s) noexcept {
        return reinterpret_cast<T *>(uintptr_t(s & ~tag_mask));
    }
    // Shards are chosen by the low bits of some hashes: start from higher ones.
    size_t home(uint64_t h) const noexcept { return size_t(h >> 8) & mask_; }
    size_t index_of(T *o) const noexcept {
        for (size_t i = home(hash_of_(o));; i = (i + 1) & mask_)
            if (ptr_of(slots_[i]) == o) return i;
    }
    void place(T *o, uint64_t h) noexcept {
        size_t i = home(h);
        while (slots_[i] != 0)
            i = (i + 1) & mask_;
        slots_[i] = tag_of(h) | bits(o);
    }
    void grow() {
        std::vector<uint64_t> old(slots_.empty() ? 16 : slots_.size() * 2, 0);
        old.swap(slots_);
        mask_ = slots_.size() - 1;
        for (uint64_t s : old)
            if (s) place(ptr_of(s), hash_of_(ptr_of(s)));
    }

    HashOf hash_of_;
    std::vector<uint64_t> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

} // namespace perch::cache

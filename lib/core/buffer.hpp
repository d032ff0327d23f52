// Refcounted byte buffers and slices of them. A Buffer is one allocation (header + bytes), or
// a header over a block of a BlockPool (large cached bodies). A BufferSlice keeps its buffer
// alive, so body bytes can travel from an origin read to the cache and to viewer writes
// without being copied.
//
// Layout (the header is 16 bytes: count, size, capacity, prefix):
//   heap buffer           [Buffer][bytes]
//   buffer with a prefix  [prefix, for the buffer's owner][Buffer][bytes]   (create_with_prefix)
//   pooled buffer         [Buffer][pool, data]    bytes in a pool's block (create_in)
// A block is freed when its buffer's count reaches 0: an owner living in the prefix ends its
// own life (runs its destructor) before it drops the reference it holds, and viewer writes
// holding slices may keep the block, and so the dead prefix, alive a while longer.
#pragma once

#include "core/block_pool.hpp"
#include "core/ref.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace perch::core {

class alignas(16) Buffer final : public RefCounted<Buffer> {
public:
    // Capacities are 32-bit (cached bodies come in chunks of at most 64 KiB).
    static constexpr size_t max_capacity = UINT32_MAX;
    // allocation_bytes() is at most capacity + prefix (rounded up to 16) + max_overhead: the
    // header and the rounding of the bytes to 16, or the header and the pool's data.
    static constexpr size_t max_overhead = 32;

    // Returns a buffer with a reference count of 1; throws std::bad_alloc (also when
    // `capacity` is above max_capacity).
    static Ref<Buffer> create(size_t capacity);
    // A buffer holding a copy of `bytes`, exactly their size; throws std::bad_alloc.
    static Ref<Buffer> copy_of(std::string_view bytes) {
        Ref<Buffer> b = create(bytes.size());
        b->append(bytes.data(), bytes.size());
        return b;
    }
    // A buffer of BlockPool::block_size bytes in a block of `pool` (keeps it alive); null when
    // the pool has no memory.
    static Ref<Buffer> create_in(BlockPool &pool);
    // A heap buffer whose block starts with `prefix_bytes` (rounded up to 16) of uninitialised
    // memory at prefix(), for one owner that the buffer's last reference frees with it (see the
    // lifetime rule above). Throws std::bad_alloc.
    static Ref<Buffer> create_with_prefix(size_t prefix_bytes, size_t capacity);
    // Where a buffer made by create_with_prefix(n, ...) is, given its prefix().
    static Buffer *after_prefix(void *prefix, size_t prefix_bytes) noexcept {
        return reinterpret_cast<Buffer *>(static_cast<uint8_t *>(prefix) + round_up(prefix_bytes));
    }
    void *prefix() noexcept { return reinterpret_cast<uint8_t *>(this) - prefix_; }

    uint8_t *data() noexcept { return in_pool() ? pool_data().data : inline_bytes(); }
    const uint8_t *data() const noexcept { return const_cast<Buffer *>(this)->data(); }
    bool in_pool() const noexcept { return prefix_ == pool_mark; }
    // Heap bytes of the buffer's block as asked of the allocator (prefix included; for a
    // pooled buffer, the header only).
    size_t allocation_bytes() const noexcept {
        return in_pool() ? sizeof(Buffer) + sizeof(PoolData)
                         : prefix_ + sizeof(Buffer) + round_up(capacity_);
    }
    // Bytes of a pool's block the buffer takes (0 for heap buffers).
    uint64_t pool_bytes() const noexcept { return in_pool() ? BlockPool::block_size : 0; }
    size_t capacity() const noexcept { return capacity_; }
    size_t size() const noexcept { return size_; }
    size_t room() const noexcept { return capacity_ - size_; }
    uint8_t *tail() noexcept { return data() + size_; }
    void grow(size_t n) noexcept { size_ += uint32_t(n); }
    void clear() noexcept { size_ = 0; }
    // Appends up to room() bytes; returns how many were taken.
    size_t append(const void *p, size_t n) noexcept {
        if (n > room()) n = room();
        if (n) std::memcpy(tail(), p, n);
        size_ += uint32_t(n);
        return n;
    }
    std::string_view view() const noexcept {
        return {reinterpret_cast<const char *>(data()), size_};
    }

    static void destroy(const Buffer *b) noexcept;

private:
    struct PoolData {
        BlockPool *pool; // holds a reference
        uint8_t *data;
    };
    static constexpr uint32_t pool_mark = UINT32_MAX; // prefix_ of a pooled buffer
    static size_t round_up(size_t n) noexcept { return (n + 15) & ~size_t(15); }

    Buffer(size_t cap, uint32_t prefix) noexcept : capacity_(uint32_t(cap)), prefix_(prefix) {}
    ~Buffer() = default;
    friend class RefCounted<Buffer>;

    uint8_t *inline_bytes() noexcept { return reinterpret_cast<uint8_t *>(this + 1); }
    const PoolData &pool_data() const noexcept {
        return *reinterpret_cast<const PoolData *>(this + 1);
    }

    uint32_t size_ = 0;
    uint32_t capacity_;
    uint32_t prefix_; // bytes of the block before the header, or pool_mark
};

// A view of bytes inside a Buffer that it keeps alive.
struct BufferSlice {
    Ref<Buffer> buf;
    const uint8_t *ptr = nullptr;
    size_t len = 0;

    BufferSlice() = default;
    BufferSlice(Ref<Buffer> b, const uint8_t *p, size_t n) : buf(std::move(b)), ptr(p), len(n) {}
    std::string_view view() const noexcept { return {reinterpret_cast<const char *>(ptr), len}; }
};

// `bytes`, or a copy of them in `tail` (a new tail when it has no room) when they are few: a
// small slice would otherwise pin the whole buffer it was read into (64 KiB for a few bytes of
// a chunked body). Bytes below a tail's size never change, so a tail may be appended to while
// other threads read what was appended before.
BufferSlice compact_slice(const BufferSlice &bytes, Ref<Buffer> &tail);

} // namespace perch::core

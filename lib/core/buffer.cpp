#include "core/buffer.hpp"

#include <new>

namespace perch::core {

namespace {
constexpr std::align_val_t block_align{alignof(Buffer)};
}

Ref<Buffer> Buffer::create(size_t capacity) {
    return create_with_prefix(0, capacity);
}

Ref<Buffer> Buffer::create_with_prefix(size_t prefix_bytes, size_t capacity) {
    size_t prefix = round_up(prefix_bytes);
    if (capacity > max_capacity || prefix >= pool_mark) throw std::bad_alloc();
    void *mem = ::operator new(prefix + sizeof(Buffer) + round_up(capacity), block_align);
    auto *b = new (static_cast<uint8_t *>(mem) + prefix) Buffer(capacity, uint32_t(prefix));
    return Ref<Buffer>::adopt(b);
}

Ref<Buffer> Buffer::create_in(BlockPool &pool) {
    void *mem = ::operator new(sizeof(Buffer) + sizeof(PoolData), block_align, std::nothrow);
    if (!mem) return nullptr;
    uint8_t *block = pool.allocate();
    if (!block) {
        ::operator delete(mem, block_align);
        return nullptr;
    }
    auto *b = new (mem) Buffer(BlockPool::block_size, pool_mark);
    new (b + 1) PoolData{&pool, block};
    pool.add_ref();
    return Ref<Buffer>::adopt(b);
}

void Buffer::destroy(const Buffer *b) noexcept {
    auto *self = const_cast<Buffer *>(b);
    void *block = self;
    if (self->in_pool()) {
        const PoolData &p = self->pool_data();
        p.pool->free(p.data);
        p.pool->release();
    } else {
        block = self->prefix();
    }
    self->~Buffer();
    ::operator delete(block, block_align);
}

BufferSlice compact_slice(const BufferSlice &bytes, Ref<Buffer> &tail) {
    constexpr size_t copy_below = 4096, tail_capacity = 32 * 1024;
    if (bytes.len >= copy_below || bytes.len == 0) return bytes;
    if (!tail || tail->room() < bytes.len) tail = Buffer::create(tail_capacity);
    const uint8_t *at = tail->tail();
    tail->append(bytes.ptr, bytes.len);
    return BufferSlice(tail, at, bytes.len);
}

} // namespace perch::core

#include "core/buffer.hpp"

#include <new>

namespace perch::core {

Ref<Buffer> Buffer::create(size_t capacity) {
    void *mem = ::operator new (sizeof(Buffer) + capacity, std::align_val_t{alignof(Buffer)});
    return Ref<Buffer>::adopt(new (mem) Buffer(capacity));
}

Ref<Buffer> Buffer::create_in(MemfdArena &arena, size_t capacity) {
    std::optional<uint64_t> off = arena.allocate(capacity);
    if (!off) return nullptr;
    void *mem = ::operator new (sizeof(Buffer), std::align_val_t{alignof(Buffer)});
    arena.add_ref();
    return Ref<Buffer>::adopt(new (mem) Buffer(capacity, &arena, *off));
}

void Buffer::destroy(const Buffer *b) noexcept {
    if (MemfdArena *arena = b->arena_) {
        arena->free_range(b->arena_offset_, b->capacity_);
        arena->release();
    }
    b->~Buffer();
    ::operator delete (const_cast<Buffer *>(b), std::align_val_t{alignof(Buffer)});
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

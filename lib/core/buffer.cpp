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

} // namespace perch::core

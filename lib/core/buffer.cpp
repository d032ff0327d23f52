#include "core/buffer.hpp"

#include <new>

namespace perch::core {

Ref<Buffer> Buffer::create(size_t capacity) {
    void *mem = ::operator new (sizeof(Buffer) + capacity, std::align_val_t{alignof(Buffer)});
    return Ref<Buffer>::adopt(new (mem) Buffer(capacity));
}

void Buffer::destroy(const Buffer *b) noexcept {
    b->~Buffer();
    ::operator delete (const_cast<Buffer *>(b), std::align_val_t{alignof(Buffer)});
}

} // namespace perch::core

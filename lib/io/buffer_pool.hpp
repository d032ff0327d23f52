// A per-loop pool of read buffers. A stream takes a buffer only while a read is in progress
// and gives it back when nobody kept a slice of it, so idle connections hold no buffer.
// Not thread-safe: one pool per loop.
#pragma once

#include "core/buffer.hpp"

#include <vector>

namespace perch::io {

class BufferPool {
public:
    explicit BufferPool(size_t buffer_size = 64 * 1024, size_t max_free = 256)
        : buffer_size_(buffer_size), max_free_(max_free) {}

    size_t buffer_size() const noexcept { return buffer_size_; }

    core::Ref<core::Buffer> take() {
        if (free_.empty()) return core::Buffer::create(buffer_size_);
        core::Ref<core::Buffer> b = std::move(free_.back());
        free_.pop_back();
        return b;
    }

    // Keeps `b` for reuse if it is ours alone; otherwise drops our reference (whoever kept a
    // slice frees it later).
    void give_back(core::Ref<core::Buffer> &&b) {
        if (b && b->ref_count() == 1 && b->capacity() == buffer_size_ && free_.size() < max_free_) {
            b->clear();
            free_.push_back(std::move(b));
        }
        b.reset();
    }

private:
    size_t buffer_size_;
    size_t max_free_;
    std::vector<core::Ref<core::Buffer>> free_;
};

} // namespace perch::io

// Refcounted byte buffers and slices of them. A Buffer is one allocation (header + bytes), or
// a header over a range of a MemfdArena (large cached bodies, which can then be sent with
// sendfile). A BufferSlice keeps its buffer alive, so body bytes can travel from an origin
// read to the cache and to viewer writes without being copied.
#pragma once

#include "core/memfd_arena.hpp"
#include "core/ref.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace perch::core {

class alignas(16) Buffer final : public RefCounted<Buffer> {
public:
    // Returns a buffer with a reference count of 1; throws std::bad_alloc.
    static Ref<Buffer> create(size_t capacity);
    // A buffer holding a copy of `bytes`, exactly their size; throws std::bad_alloc.
    static Ref<Buffer> copy_of(std::string_view bytes) {
        Ref<Buffer> b = create(bytes.size());
        b->append(bytes.data(), bytes.size());
        return b;
    }
    // A buffer whose bytes live in `arena` (keeps it alive); null when the arena is full.
    static Ref<Buffer> create_in(MemfdArena &arena, size_t capacity);

    uint8_t *data() noexcept { return data_; }
    const uint8_t *data() const noexcept { return data_; }
    // The file the bytes also live in, for sendfile: -1 for heap buffers.
    int file_fd() const noexcept { return arena_ ? arena_->fd() : -1; }
    uint64_t file_offset() const noexcept { return arena_offset_; }
    size_t capacity() const noexcept { return capacity_; }
    size_t size() const noexcept { return size_; }
    size_t room() const noexcept { return capacity_ - size_; }
    uint8_t *tail() noexcept { return data() + size_; }
    void grow(size_t n) noexcept { size_ += n; }
    void clear() noexcept { size_ = 0; }
    // Appends up to room() bytes; returns how many were taken.
    size_t append(const void *p, size_t n) noexcept {
        if (n > room()) n = room();
        if (n) std::memcpy(tail(), p, n);
        size_ += n;
        return n;
    }
    std::string_view view() const noexcept {
        return {reinterpret_cast<const char *>(data()), size_};
    }

    static void destroy(const Buffer *b) noexcept;

private:
    // Inline bytes follow the header in the same allocation.
    explicit Buffer(size_t cap) noexcept
        : capacity_(cap), data_(reinterpret_cast<uint8_t *>(this + 1)) {}
    Buffer(size_t cap, MemfdArena *arena, uint64_t offset) noexcept
        : capacity_(cap), data_(arena->at(offset)), arena_(arena), arena_offset_(offset) {}
    ~Buffer() = default;
    friend class RefCounted<Buffer>;

    size_t capacity_;
    size_t size_ = 0;
    uint8_t *data_;
    MemfdArena *arena_ = nullptr; // holds a reference
    uint64_t arena_offset_ = 0;
};

// A view of bytes inside a Buffer that it keeps alive.
struct BufferSlice {
    Ref<Buffer> buf;
    const uint8_t *ptr = nullptr;
    size_t len = 0;

    BufferSlice() = default;
    BufferSlice(Ref<Buffer> b, const uint8_t *p, size_t n) : buf(std::move(b)), ptr(p), len(n) {}
    std::string_view view() const noexcept { return {reinterpret_cast<const char *>(ptr), len}; }
    int file_fd() const noexcept { return buf ? buf->file_fd() : -1; }
    uint64_t file_offset() const noexcept {
        return buf->file_offset() + uint64_t(ptr - buf->data());
    }
};

// `bytes`, or a copy of them in `tail` (a new tail when it has no room) when they are few: a
// small slice would otherwise pin the whole buffer it was read into (64 KiB for a few bytes of
// a chunked body). Bytes below a tail's size never change, so a tail may be appended to while
// other threads read what was appended before.
BufferSlice compact_slice(const BufferSlice &bytes, Ref<Buffer> &tail);

} // namespace perch::core

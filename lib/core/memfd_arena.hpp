// Shared-memory arena for large cached bodies: one memfd, sparse, mapped once. Bodies placed
// here live outside the heap, page by page, so an evicted body gives its pages back to the
// system at once instead of fragmenting the allocator; they are written to sockets from the
// mapping (sendfile from a memfd measured slower than writev: README, performance).
//
// Allocation only moves forward: a range is never reused while the arena lives. Releasing a
// range punches a hole (fallocate PUNCH_HOLE), which frees its pages from the file while
// anything still holding them keeps them alive and intact: an evicted object can
// never corrupt a response that is being sent. When an arena runs out of address space the
// owner starts a new one; the old one goes away with its last buffer. Thread-safe.
#pragma once

#include "core/ref.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace perch::core {

class MemfdArena final : public RefCounted<MemfdArena> {
public:
    static constexpr uint64_t page_size = 4096;
    static uint64_t round_to_pages(uint64_t n) noexcept {
        return (n + page_size - 1) & ~(page_size - 1);
    }

    // A sparse arena of `size` bytes of address space; null if the system lacks memfd.
    static Ref<MemfdArena> create(uint64_t size);
    ~MemfdArena();

    // Reserves `len` bytes (page-rounded); nullopt once the arena's address space is used up.
    std::optional<uint64_t> allocate(uint64_t len) noexcept;
    // Gives the pages of [offset, offset + round_to_pages(len)) back to the system.
    void free_range(uint64_t offset, uint64_t len) noexcept;

    int fd() const noexcept { return fd_; }
    uint8_t *at(uint64_t offset) const noexcept { return base_ + offset; }

private:
    MemfdArena(int fd, uint8_t *base, uint64_t size) : fd_(fd), base_(base), size_(size) {}
    int fd_;
    uint8_t *base_;
    uint64_t size_;
    std::atomic<uint64_t> next_{0};
};

} // namespace perch::core

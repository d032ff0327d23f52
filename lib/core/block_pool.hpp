// Fixed-size blocks for large cached bodies, recycled: a block freed by an evicted body keeps its
// pages, and the next fill writes into them without a page fault. A store's large bodies are
// chains of these blocks (and a heap tail below block_size), so they never fragment the heap
// allocator, and the memory they take settles at what the store's budget allows.
//
// Why not the kernel: bodies used to live in a sparse memfd whose freed ranges were punched
// out. Every fill then faulted in fresh, zeroed shmem pages one by one (page cache insertion,
// LRU and memory-cgroup charging) and every eviction unmapped them: in the realistic mix of
// `bench/edge` that was a third of the server core, and this pool nearly doubled its rate
// (README, performance).
//
// Memory comes from anonymous mappings of slab_blocks blocks, made as blocks are first needed
// and unmapped only with the pool, which lives until its last block is freed (a Buffer holding
// a block holds the pool). Freed blocks are reused last-freed first, whose pages are most likely
// still in the CPU's caches. At most `keep_bytes` of free blocks keep their pages: beyond that a
// freed block's pages go back to the system (MADV_DONTNEED), so that when small objects take
// the place of large ones the blocks they left do not stay resident beside them. Thread-safe.
#pragma once

#include "core/ref.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace perch::core {

class BlockPool final : public RefCounted<BlockPool> {
public:
    // As large as one paced socket write (edge/http1/server_connection.hpp), so a body goes
    // out a block per write.
    static constexpr size_t block_size = 64 * 1024;
    static constexpr size_t slab_blocks = 32; // 2 MiB a mapping

    static Ref<BlockPool> create(uint64_t keep_bytes) {
        return Ref<BlockPool>::adopt(new BlockPool(keep_bytes));
    }
    ~BlockPool();

    // A block of block_size bytes, its contents undefined; null when the system has no memory
    // to map.
    uint8_t *allocate() noexcept;
    void free(uint8_t *block) noexcept;

    struct Stats {
        uint64_t mapped_blocks = 0; // blocks of address space mapped so far
        uint64_t free_blocks = 0;   // of them, ready for reuse
        uint64_t resident_free = 0; // of those, with their pages kept
    };
    Stats stats() const noexcept;

private:
    explicit BlockPool(uint64_t keep_bytes) : keep_blocks_(keep_bytes / block_size) {}
    const size_t keep_blocks_;
    mutable std::mutex mu_;
    std::vector<uint8_t *> free_;     // pages kept; last freed at the back
    std::vector<uint8_t *> released_; // pages given back
    std::vector<uint8_t *> slabs_;
};

} // namespace perch::core

#include "core/block_pool.hpp"

#include <sys/mman.h>

namespace perch::core {

namespace {
constexpr size_t slab_bytes = BlockPool::block_size * BlockPool::slab_blocks;
}

BlockPool::~BlockPool() {
    for (uint8_t *slab : slabs_)
        munmap(slab, slab_bytes);
}

uint8_t *BlockPool::allocate() noexcept {
    std::lock_guard lock(mu_);
    if (free_.empty() && released_.empty()) {
        void *slab = mmap(nullptr, slab_bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slab == MAP_FAILED) return nullptr;
        try {
            slabs_.push_back(static_cast<uint8_t *>(slab));
            // Room for every mapped block in either list, so that free() never allocates.
            free_.reserve(slabs_.size() * slab_blocks);
            released_.reserve(slabs_.size() * slab_blocks);
        } catch (...) {
            if (slabs_.empty() || slabs_.back() != slab) munmap(slab, slab_bytes);
            return nullptr;
        }
        // Handed out lowest address first (the back goes first); fresh pages are not resident
        // until written, as released ones.
        for (size_t i = slab_blocks; i-- > 0;)
            released_.push_back(static_cast<uint8_t *>(slab) + i * block_size);
    }
    std::vector<uint8_t *> &from = free_.empty() ? released_ : free_;
    uint8_t *block = from.back();
    from.pop_back();
    return block;
}

void BlockPool::free(uint8_t *block) noexcept {
    {
        std::lock_guard lock(mu_);
        if (free_.size() < keep_blocks_) {
            free_.push_back(block);
            return;
        }
    }
    madvise(block, block_size, MADV_DONTNEED); // outside the lock: it unmaps 16 pages
    std::lock_guard lock(mu_);
    released_.push_back(block);
}

BlockPool::Stats BlockPool::stats() const noexcept {
    std::lock_guard lock(mu_);
    return {slabs_.size() * slab_blocks, free_.size() + released_.size(), free_.size()};
}

} // namespace perch::core

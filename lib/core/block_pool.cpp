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
    if (free_.empty()) {
        void *slab = mmap(nullptr, slab_bytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slab == MAP_FAILED) return nullptr;
        try {
            slabs_.push_back(static_cast<uint8_t *>(slab));
            free_.reserve(slabs_.size() * slab_blocks);
        } catch (...) {
            if (slabs_.empty() || slabs_.back() != slab) munmap(slab, slab_bytes);
            return nullptr;
        }
        // Handed out lowest address first (the back of free_ goes first).
        for (size_t i = slab_blocks; i-- > 0;)
            free_.push_back(static_cast<uint8_t *>(slab) + i * block_size);
    }
    uint8_t *block = free_.back();
    free_.pop_back();
    return block;
}

void BlockPool::free(uint8_t *block) noexcept {
    std::lock_guard lock(mu_);
    free_.push_back(block); // never reallocates: reserved for every mapped block
}

BlockPool::Stats BlockPool::stats() const noexcept {
    std::lock_guard lock(mu_);
    return {slabs_.size() * slab_blocks, free_.size()};
}

} // namespace perch::core

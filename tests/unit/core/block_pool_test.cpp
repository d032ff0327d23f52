#include "core/block_pool.hpp"
#include "core/buffer.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <set>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <vector>

using perch::core::BlockPool;
using perch::core::Buffer;
using perch::core::Ref;

namespace {
// Whether the page holding `p` is resident (mincore).
bool resident(const void *p) {
    auto page = reinterpret_cast<uintptr_t>(p) & ~uintptr_t(4095);
    unsigned char v = 0;
    REQUIRE(mincore(reinterpret_cast<void *>(page), 4096, &v) == 0);
    return v & 1;
}
} // namespace

TEST_CASE("core/block_pool: blocks are distinct, block-sized, and mapped a slab at a time") {
    Ref<BlockPool> pool = BlockPool::create(64 << 20);
    std::set<uint8_t *> seen;
    std::vector<uint8_t *> blocks;
    for (size_t i = 0; i < BlockPool::slab_blocks + 1; ++i) {
        uint8_t *b = pool->allocate();
        REQUIRE(b);
        std::memset(b, int(i), BlockPool::block_size); // every byte writable
        blocks.push_back(b);
        seen.insert(b);
    }
    CHECK(seen.size() == blocks.size());
    for (size_t i = 0; i + 1 < BlockPool::slab_blocks; ++i) // within a slab, in address order
        CHECK(blocks[i + 1] == blocks[i] + BlockPool::block_size);
    CHECK(pool->stats().mapped_blocks == 2 * BlockPool::slab_blocks);
    CHECK(pool->stats().free_blocks == BlockPool::slab_blocks - 1);
    for (size_t i = 0; i < blocks.size(); ++i) // no block overlapped another
        CHECK(blocks[i][BlockPool::block_size - 1] == uint8_t(i));
    for (uint8_t *b : blocks)
        pool->free(b);
    CHECK(pool->stats().free_blocks == 2 * BlockPool::slab_blocks);
}

TEST_CASE("core/block_pool: a freed block is reused first, its pages still in place") {
    Ref<BlockPool> pool = BlockPool::create(64 << 20);
    uint8_t *a = pool->allocate();
    std::memset(a, 'a', BlockPool::block_size);
    pool->free(a);
    uint8_t *again = pool->allocate();
    CHECK(again == a);
    // No page fault to come: the pages were kept (what a fill into an evicted body's block
    // saves), not given back and zeroed.
    for (size_t off = 0; off < BlockPool::block_size; off += 4096)
        CHECK(resident(again + off));
    CHECK(again[123] == 'a');
    CHECK(pool->stats().mapped_blocks == BlockPool::slab_blocks); // nothing new mapped
}

TEST_CASE("core/block_pool: beyond keep_bytes a freed block gives its pages back") {
    Ref<BlockPool> pool = BlockPool::create(4 * BlockPool::block_size);
    std::vector<uint8_t *> blocks;
    for (int i = 0; i < 10; ++i) {
        blocks.push_back(pool->allocate());
        std::memset(blocks.back(), 'x', BlockPool::block_size);
    }
    for (uint8_t *b : blocks)
        pool->free(b);
    BlockPool::Stats s = pool->stats();
    CHECK(s.free_blocks == s.mapped_blocks);
    CHECK(s.resident_free == 4);
    for (size_t i = 0; i < 4; ++i) // the first four freed kept their pages
        CHECK(resident(blocks[i]));
    for (size_t i = 4; i < 10; ++i)
        for (size_t off = 0; off < BlockPool::block_size; off += 4096)
            CHECK_FALSE(resident(blocks[i] + off));
    // Kept blocks come back first, then the released ones (last released first).
    for (size_t i = 4; i-- > 0;)
        CHECK(pool->allocate() == blocks[i]);
    CHECK(pool->allocate() == blocks[9]);
    CHECK(blocks[9][0] == 0); // its pages were given back: zero-filled again
    CHECK(pool->stats().resident_free == 0);
}

TEST_CASE("core/block_pool: a pooled buffer holds the pool, and its last reference returns the "
          "block") {
    Ref<BlockPool> pool = BlockPool::create(64 << 20);
    Ref<Buffer> b = Buffer::create_in(*pool);
    REQUIRE(b);
    CHECK(b->in_pool());
    CHECK(b->capacity() == BlockPool::block_size);
    CHECK(b->pool_bytes() == BlockPool::block_size);
    CHECK(b->allocation_bytes() == 32); // the header and the pool's data on the heap
    CHECK(b->allocation_bytes() <= Buffer::max_overhead);
    std::string text(BlockPool::block_size, 'q');
    CHECK(b->append(text.data(), text.size()) == text.size());
    CHECK(b->append("x", 1) == 0); // full
    CHECK(b->view() == text);
    uint8_t *block = b->data();
    BlockPool *raw = pool.get();
    pool.reset(); // the buffer still holds the pool
    CHECK(raw->ref_count() == 1);
    Ref<Buffer> other = Buffer::create_in(*raw);
    CHECK(other->data() != block);
    other.reset();
    CHECK(raw->stats().free_blocks == BlockPool::slab_blocks - 1);
    Ref<BlockPool> keep = Ref<BlockPool>::share(raw);
    b.reset(); // the block goes back; the pool lives on through `keep`
    CHECK(keep->stats().free_blocks == BlockPool::slab_blocks);
    CHECK(keep->allocate() == block); // the last freed comes first
    CHECK_FALSE(Buffer::create(10)->in_pool());
}

TEST_CASE("core/block_pool: threads allocating and freeing at once never share a block") {
    Ref<BlockPool> pool = BlockPool::create(4 * BlockPool::block_size); // both lists in use
    std::vector<std::thread> threads;
    std::atomic<int> clashes{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            std::vector<uint8_t *> mine;
            for (int round = 0; round < 2000; ++round) {
                uint8_t *b = pool->allocate();
                if (!b) {
                    clashes++; // no memory to map: counted as a failure
                    continue;
                }
                std::memset(b, t + 1, 64);
                mine.push_back(b);
                if (mine.size() > 20) {
                    for (uint8_t *m : mine)
                        if (m[0] != t + 1 || m[63] != t + 1) clashes++;
                    for (uint8_t *m : mine)
                        pool->free(m);
                    mine.clear();
                }
            }
            for (uint8_t *m : mine)
                pool->free(m);
        });
    }
    for (std::thread &t : threads)
        t.join();
    CHECK(clashes == 0);
    BlockPool::Stats s = pool->stats();
    CHECK(s.free_blocks == s.mapped_blocks);
    CHECK(s.mapped_blocks <= 4 * 21 + BlockPool::slab_blocks); // reused, not leaked
}

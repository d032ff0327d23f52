#include "io/buffer_pool.hpp"

#include <doctest/doctest.h>

#include <vector>

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;
using perch::io::BufferPool;

TEST_CASE("io/buffer_pool: take() gives an empty buffer of the pool's size") {
    BufferPool pool(4096);
    CHECK(pool.buffer_size() == 4096);
    Ref<Buffer> b = pool.take();
    REQUIRE(b);
    CHECK(b->capacity() == 4096);
    CHECK(b->size() == 0);
    CHECK(b->ref_count() == 1);
    CHECK(BufferPool().buffer_size() == 64 * 1024);
}

TEST_CASE("io/buffer_pool: a buffer given back unshared is reused, emptied") {
    BufferPool pool(1024);
    Ref<Buffer> b = pool.take();
    b->append("bytes", 5);
    Buffer *first = b.get();
    pool.give_back(std::move(b));
    CHECK(!b); // the caller's reference is always gone
    Ref<Buffer> again = pool.take();
    CHECK(again.get() == first);
    CHECK(again->size() == 0);
}

TEST_CASE("io/buffer_pool: a buffer someone still holds a slice of is not reused") {
    BufferPool pool(1024);
    Ref<Buffer> b = pool.take();
    b->append("kept", 4);
    BufferSlice slice(b, b->data(), 4);
    Buffer *held = b.get();
    pool.give_back(std::move(b));
    CHECK(!b);
    CHECK(held->ref_count() == 1); // only the slice holds it now
    Ref<Buffer> other = pool.take();
    CHECK(other.get() != held);
    CHECK(slice.view() == "kept"); // untouched
}

TEST_CASE("io/buffer_pool: buffers of another size are not kept") {
    BufferPool pool(1024);
    Ref<Buffer> foreign = Buffer::create(512);
    pool.give_back(std::move(foreign));
    CHECK(!foreign);
    CHECK(pool.take()->capacity() == 1024); // a kept 512-byte buffer would come back here
}

TEST_CASE("io/buffer_pool: at most max_free buffers wait in the pool") {
    BufferPool pool(256, /*max_free=*/2);
    std::vector<Ref<Buffer>> taken;
    std::vector<Buffer *> addresses;
    for (int i = 0; i < 3; ++i) {
        taken.push_back(pool.take());
        addresses.push_back(taken.back().get());
    }
    for (auto &b : taken)
        pool.give_back(std::move(b)); // the third is freed
    // The two kept come back last in, first out; then new ones.
    CHECK(pool.take().get() == addresses[1]);
    CHECK(pool.take().get() == addresses[0]);
    Ref<Buffer> fresh = pool.take();
    CHECK(fresh->capacity() == 256);
}

TEST_CASE("io/buffer_pool: giving back nothing is harmless") {
    BufferPool pool(256);
    Ref<Buffer> none;
    pool.give_back(std::move(none));
    CHECK(pool.take());
}

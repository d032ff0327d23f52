#include "core/buffer.hpp"
#include "core/memfd_arena.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using perch::core::Buffer;
using perch::core::MemfdArena;
using perch::core::Ref;

namespace {
// Bytes the arena's file holds (pages actually allocated).
long long allocated_bytes(int fd) {
    struct stat st;
    fstat(fd, &st);
    return (long long)st.st_blocks * 512;
}
} // namespace

TEST_CASE("core/memfd_arena: allocations are page aligned, move forward and never overlap") {
    Ref<MemfdArena> a = MemfdArena::create(1 << 20);
    REQUIRE(a);
    auto x = a->allocate(1);
    auto y = a->allocate(5000);
    auto z = a->allocate(4096);
    REQUIRE((x && y && z));
    CHECK(*x == 0);
    CHECK(*y == 4096);
    CHECK(*z == 4096 + 8192);
    CHECK(*x % MemfdArena::page_size == 0);
}

TEST_CASE("core/memfd_arena: a full arena refuses instead of wrapping around") {
    Ref<MemfdArena> a = MemfdArena::create(8192);
    CHECK(a->allocate(8192));
    CHECK_FALSE(a->allocate(1));
}

TEST_CASE("core/memfd_arena: a buffer's bytes are readable through the file and the mapping") {
    Ref<MemfdArena> a = MemfdArena::create(1 << 20);
    Ref<Buffer> b = Buffer::create_in(*a, 10000);
    REQUIRE(b);
    CHECK(b->file_fd() == a->fd());
    std::string text(10000, 'q');
    CHECK(b->append(text.data(), text.size()) == text.size());
    char back[16];
    REQUIRE(pread(b->file_fd(), back, sizeof back, off_t(b->file_offset())) == sizeof back);
    CHECK(std::memcmp(back, "qqqqqqqqqqqqqqqq", 16) == 0);
    CHECK(Buffer::create(10)->file_fd() == -1);
}

TEST_CASE("core/memfd_arena: freeing a buffer gives its pages back and keeps the arena alive until "
          "then") {
    Ref<MemfdArena> a = MemfdArena::create(64 << 20);
    int fd = a->fd();
    Ref<Buffer> b = Buffer::create_in(*a, 4 << 20);
    std::memset(b->data(), 'z', b->capacity());
    b->grow(b->capacity());
    CHECK(allocated_bytes(fd) >= (4 << 20));
    MemfdArena *raw = a.get();
    a.reset(); // the buffer still holds the arena
    CHECK(raw->ref_count() == 1);
    Ref<Buffer> other = Buffer::create_in(*raw, 8192);
    other.reset();
    b.reset(); // last reference: the range is punched out, then the arena goes away
    CHECK(fcntl(fd, F_GETFD) == -1); // closed with the arena
}

TEST_CASE("core/memfd_arena: punching a freed range leaves the other buffers' bytes intact") {
    Ref<MemfdArena> a = MemfdArena::create(1 << 20);
    Ref<Buffer> keep = Buffer::create_in(*a, 8192);
    Ref<Buffer> drop = Buffer::create_in(*a, 8192);
    keep->append(std::string(8192, 'k').data(), 8192);
    drop->append(std::string(8192, 'd').data(), 8192);
    long long before = allocated_bytes(a->fd());
    drop.reset();
    CHECK(allocated_bytes(a->fd()) <= before - 8192);
    CHECK(keep->view() == std::string(8192, 'k'));
}

TEST_CASE("core/memfd_arena: an arena buffer takes a small header on the heap and whole pages") {
    Ref<MemfdArena> a = MemfdArena::create(1 << 20);
    Ref<Buffer> first = Buffer::create_in(*a, 10);
    Ref<Buffer> b = Buffer::create_in(*a, 10000);
    REQUIRE(b);
    CHECK(b->allocation_bytes() == 32);
    CHECK(b->allocation_bytes() <= Buffer::max_overhead);
    CHECK(b->file_bytes() == 3 * MemfdArena::page_size);
    CHECK(b->file_offset() == MemfdArena::page_size); // after the first buffer's page
    CHECK(b->data() == a->at(MemfdArena::page_size));
}

#include "core/buffer.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <new>
#include <string>
#include <utility>

using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;
using perch::core::RefCounted;

namespace {

// A refcounted type that reports its destruction, to watch Ref release the last reference.
class Probe final : public RefCounted<Probe> {
public:
    explicit Probe(int &destroyed) : destroyed_(destroyed) {}
    static void destroy(const Probe *p) noexcept {
        ++p->destroyed_;
        delete p;
    }

private:
    ~Probe() = default;
    friend class RefCounted<Probe>;
    int &destroyed_;
};

Ref<Probe> make_probe(int &destroyed) {
    return Ref<Probe>::adopt(new Probe(destroyed));
}

} // namespace

TEST_CASE("core/buffer: a new buffer is empty with the capacity asked for") {
    Ref<Buffer> b = Buffer::create(64);
    REQUIRE(b);
    CHECK(b->ref_count() == 1);
    CHECK(b->capacity() == 64);
    CHECK(b->size() == 0);
    CHECK(b->room() == 64);
    CHECK(b->view().empty());
    CHECK(b->tail() == b->data());
}

TEST_CASE("core/buffer: its bytes follow the header in the same allocation and are aligned") {
    Ref<Buffer> b = Buffer::create(8);
    auto header = reinterpret_cast<uintptr_t>(b.get());
    auto bytes = reinterpret_cast<uintptr_t>(b->data());
    CHECK(bytes == header + sizeof(Buffer));
    CHECK(header % 16 == 0);
}

TEST_CASE("core/buffer: append copies bytes and advances size and tail") {
    Ref<Buffer> b = Buffer::create(16);
    CHECK(b->append("hello", 5) == 5);
    CHECK(b->append(" world", 6) == 6);
    CHECK(b->view() == "hello world");
    CHECK(b->size() == 11);
    CHECK(b->room() == 5);
    CHECK(b->tail() == b->data() + 11);
}

TEST_CASE("core/buffer: append takes only what fits and returns how much it took") {
    Ref<Buffer> b = Buffer::create(4);
    CHECK(b->append("abcdef", 6) == 4);
    CHECK(b->view() == "abcd");
    CHECK(b->room() == 0);
    CHECK(b->append("x", 1) == 0);
    CHECK(b->view() == "abcd");
}

TEST_CASE("core/buffer: appending nothing changes nothing") {
    Ref<Buffer> b = Buffer::create(4);
    CHECK(b->append(nullptr, 0) == 0);
    CHECK(b->size() == 0);
}

TEST_CASE("core/buffer: a zero-capacity buffer has no room") {
    Ref<Buffer> b = Buffer::create(0);
    CHECK(b->capacity() == 0);
    CHECK(b->room() == 0);
    CHECK(b->append("a", 1) == 0);
    CHECK(b->view().empty());
}

TEST_CASE("core/buffer: bytes written at tail become visible with grow, and clear empties it") {
    Ref<Buffer> b = Buffer::create(8);
    b->tail()[0] = 'o';
    b->tail()[1] = 'k';
    b->grow(2);
    CHECK(b->view() == "ok");
    CHECK(b->room() == 6);
    b->clear();
    CHECK(b->size() == 0);
    CHECK(b->room() == 8);
    CHECK(b->append("again", 5) == 5);
    CHECK(b->view() == "again");
}

TEST_CASE("core/ref: copies add references and destruction of copies releases them") {
    Ref<Buffer> a = Buffer::create(1);
    {
        Ref<Buffer> b = a;
        CHECK(a->ref_count() == 2);
        Ref<Buffer> c;
        c = b;
        CHECK(a->ref_count() == 3);
        CHECK(c == a);
        CHECK(c.get() == a.get());
    }
    CHECK(a->ref_count() == 1);
}

TEST_CASE("core/ref: moves transfer the reference without changing the count") {
    Ref<Buffer> a = Buffer::create(1);
    Buffer *raw = a.get();
    Ref<Buffer> b = std::move(a);
    CHECK(!a); // NOLINT(bugprone-use-after-move): a moved-from Ref is documented null
    CHECK(b.get() == raw);
    CHECK(b->ref_count() == 1);
    Ref<Buffer> c;
    c = std::move(b);
    CHECK(!b); // NOLINT(bugprone-use-after-move)
    CHECK(c.get() == raw);
    CHECK(c->ref_count() == 1);
}

TEST_CASE("core/ref: the object is destroyed when its last reference goes, not before") {
    int destroyed = 0;
    {
        Ref<Probe> a = make_probe(destroyed);
        Ref<Probe> b = a;
        a.reset();
        CHECK(!a);
        CHECK(destroyed == 0);
        CHECK(b->ref_count() == 1);
    }
    CHECK(destroyed == 1);
}

TEST_CASE("core/ref: assigning over a Ref releases what it held") {
    int first = 0, second = 0;
    Ref<Probe> r = make_probe(first);
    r = make_probe(second);
    CHECK(first == 1);
    CHECK(second == 0);
    r = nullptr;
    CHECK(second == 1);
}

TEST_CASE("core/ref: self-assignment keeps the object alive") {
    int destroyed = 0;
    Ref<Probe> r = make_probe(destroyed);
    Ref<Probe> &alias = r;
    r = alias;
    CHECK(destroyed == 0);
    REQUIRE(r);
    CHECK(r->ref_count() == 1);
}

TEST_CASE("core/ref: share adds a reference, adopt takes one over, detach gives one up") {
    int destroyed = 0;
    Ref<Probe> owner = make_probe(destroyed);
    Ref<Probe> shared = Ref<Probe>::share(owner.get());
    CHECK(owner->ref_count() == 2);

    Probe *raw =
        shared.detach(); // the reference now travels as a raw pointer (as across the C ABI)
    CHECK(!shared);
    CHECK(owner->ref_count() == 2);
    Ref<Probe> back = Ref<Probe>::adopt(raw);
    CHECK(owner->ref_count() == 2);
    back.reset();
    CHECK(owner->ref_count() == 1);
    owner.reset();
    CHECK(destroyed == 1);
}

TEST_CASE("core/ref: share of null is a null Ref") {
    Ref<Buffer> r = Ref<Buffer>::share(nullptr);
    CHECK(!r);
    CHECK(r == Ref<Buffer>(nullptr));
}

TEST_CASE("core/ref: swap exchanges the objects without touching the counts") {
    Ref<Buffer> a = Buffer::create(1), b = Buffer::create(2);
    Buffer *ra = a.get(), *rb = b.get();
    a.swap(b);
    CHECK(a.get() == rb);
    CHECK(b.get() == ra);
    CHECK(a->ref_count() == 1);
    CHECK(b->ref_count() == 1);
}

TEST_CASE("core/buffer: a slice keeps its buffer alive after every other reference is gone") {
    BufferSlice slice;
    {
        Ref<Buffer> b = Buffer::create(32);
        b->append("header:body-bytes", 17);
        slice = BufferSlice(b, b->data() + 7, 10);
        CHECK(b->ref_count() == 2);
    }
    REQUIRE(slice.buf);
    CHECK(slice.buf->ref_count() == 1);
    CHECK(slice.view() == "body-bytes");
    CHECK(slice.ptr == slice.buf->data() + 7);
}

TEST_CASE("core/buffer: copies of a slice share the buffer and the bytes") {
    Ref<Buffer> b = Buffer::create(8);
    b->append("abcdefgh", 8);
    BufferSlice s1(b, b->data() + 2, 3);
    BufferSlice s2 = s1;
    CHECK(b->ref_count() == 3);
    CHECK(s2.ptr == s1.ptr);
    CHECK(s2.view() == "cde");
    BufferSlice s3 = std::move(s2);
    CHECK(b->ref_count() == 3);
    CHECK(s3.view() == "cde");
}

TEST_CASE("core/buffer: a default slice is empty and holds no buffer") {
    BufferSlice s;
    CHECK(!s.buf);
    CHECK(s.len == 0);
    CHECK(s.view().empty());
}

TEST_CASE("core/buffer: the header is 16 bytes and capacities above 32 bits are refused") {
    CHECK(sizeof(Buffer) == 16);
    CHECK_THROWS_AS(Buffer::create(size_t(Buffer::max_capacity) + 1), std::bad_alloc);
    Ref<Buffer> b = Buffer::create(100);
    CHECK(b->allocation_bytes() == sizeof(Buffer) + 112); // bytes rounded up to 16
    CHECK(b->allocation_bytes() <= b->capacity() + Buffer::max_overhead);
    CHECK(b->pool_bytes() == 0);
}

namespace {

// An owner living in a buffer's prefix, as a compact cached object does: it holds one
// reference to its buffer and drops it after its destructor ran.
struct PrefixOwner {
    static constexpr size_t bytes = 40;
    int &destroyed;
    Buffer *buf;

    static PrefixOwner *create(int &destroyed, std::string_view text) {
        Ref<Buffer> b = Buffer::create_with_prefix(bytes, text.size());
        b->append(text.data(), text.size());
        return new (b->prefix()) PrefixOwner{destroyed, b.detach()};
    }
    static void destroy(PrefixOwner *o) {
        Buffer *b = o->buf;
        o->~PrefixOwner();
        b->release();
    }
    ~PrefixOwner() { ++destroyed; }
};

} // namespace

TEST_CASE("core/buffer: a buffer with a prefix is one block, the prefix first") {
    int destroyed = 0;
    PrefixOwner *o = PrefixOwner::create(destroyed, "body");
    Buffer *b = o->buf;
    CHECK(b->prefix() == o);
    CHECK(reinterpret_cast<uintptr_t>(o) % 16 == 0);
    CHECK(Buffer::after_prefix(o, PrefixOwner::bytes) == b);
    CHECK(reinterpret_cast<char *>(b) == reinterpret_cast<char *>(o) + 48); // 40, rounded to 16
    CHECK(b->data() == reinterpret_cast<uint8_t *>(b + 1));
    CHECK(b->view() == "body");
    CHECK_FALSE(b->in_pool());
    CHECK(b->allocation_bytes() == 48 + sizeof(Buffer) + 16);
    PrefixOwner::destroy(o);
    CHECK(destroyed == 1);
}

TEST_CASE("core/buffer: a slice keeps a prefixed block readable after its owner is gone") {
    int destroyed = 0;
    PrefixOwner *o = PrefixOwner::create(destroyed, "still here");
    BufferSlice slice(Ref<Buffer>::share(o->buf), o->buf->data() + 6, 4);
    PrefixOwner::destroy(o); // the owner's reference goes; the slice's keeps the block
    CHECK(destroyed == 1);
    REQUIRE(slice.buf->ref_count() == 1);
    CHECK(slice.view() == "here");
    slice = BufferSlice(); // frees the block (ASan reports a leak or a use after free otherwise)
}

#include "core/ref.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

using perch::core::Ref;
using perch::core::RefCounted;

namespace {

struct Base : RefCounted<Base> {
    explicit Base(int *destroyed) : destroyed_(destroyed) {}
    virtual ~Base() { ++*destroyed_; }
    int *destroyed_;
};
struct Derived final : Base {
    using Base::Base;
};

// A type with its own Deleter: counts instead of deleting.
struct Counted final : RefCounted<Counted> {
    static inline int destroyed = 0;
    static void destroy(const Counted *) noexcept { ++destroyed; }
};

} // namespace

TEST_CASE("core/ref: adopt takes the creator's reference, share adds one") {
    int destroyed = 0;
    Base *raw = new Base(&destroyed);
    {
        Ref<Base> a = Ref<Base>::adopt(raw);
        CHECK(raw->ref_count() == 1);
        {
            Ref<Base> b = Ref<Base>::share(raw);
            CHECK(raw->ref_count() == 2);
            CHECK(a == b);
        }
        CHECK(raw->ref_count() == 1);
        CHECK(destroyed == 0);
    }
    CHECK(destroyed == 1);
    CHECK(!Ref<Base>::share(nullptr));
}

TEST_CASE("core/ref: copies count, moves and detach() do not") {
    int destroyed = 0;
    Ref<Base> a = Ref<Base>::adopt(new Base(&destroyed));
    Base *raw = a.get();
    Ref<Base> copy = a;
    CHECK(raw->ref_count() == 2);
    Ref<Base> moved = std::move(copy);
    CHECK(!copy);
    CHECK(raw->ref_count() == 2);
    Ref<Base> assigned;
    assigned = moved; // copy-assignment
    CHECK(raw->ref_count() == 3);
    assigned = std::move(moved);
    CHECK(raw->ref_count() == 2);
    Base *detached = assigned.detach();
    CHECK(!assigned);
    CHECK(detached == raw);
    CHECK(raw->ref_count() == 2); // the caller now holds that reference by hand
    raw->release();
    a.reset();
    CHECK(destroyed == 1);
}

TEST_CASE("core/ref: a Ref to a derived type moves into a Ref to its base") {
    int destroyed = 0;
    Ref<Derived> d = Ref<Derived>::adopt(new Derived(&destroyed));
    Derived *raw = d.get();
    Ref<Base> b = std::move(d);
    CHECK(!d);
    CHECK(b.get() == raw);
    CHECK(b->ref_count() == 1);
    b = nullptr;
    CHECK(destroyed == 1); // through the virtual destructor
}

TEST_CASE("core/ref: the last release calls the type's own destroy()") {
    Counted c; // lives on the stack: destroy() must not delete it
    Counted::destroyed = 0;
    c.add_ref();
    {
        Ref<Counted> r = Ref<Counted>::adopt(&c);
        CHECK(c.ref_count() == 2);
    }
    CHECK(Counted::destroyed == 0);
    c.release();
    CHECK(Counted::destroyed == 1);
}

TEST_CASE("core/ref: references taken and dropped on many threads free the object once") {
    int destroyed = 0;
    Ref<Base> shared = Ref<Base>::adopt(new Base(&destroyed));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([p = shared.get()] {
            for (int i = 0; i < 20000; ++i) {
                Ref<Base> r = Ref<Base>::share(p);
                Ref<Base> copy = r;
            }
        });
    for (auto &t : threads)
        t.join();
    CHECK(shared->ref_count() == 1);
    CHECK(destroyed == 0);
    shared.reset();
    CHECK(destroyed == 1);
}

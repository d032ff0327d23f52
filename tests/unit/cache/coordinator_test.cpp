#include "cache/coordinator.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using perch::cache::CacheKey;
using perch::cache::Coordinator;
using perch::cache::Fill;
using perch::cache::FillState;
using perch::cache::FillWaiter;
using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;

namespace {

CacheKey key(std::string text) {
    CacheKey k;
    k.text = std::move(text);
    k.finalize();
    return k;
}

struct CountingWaiter final : FillWaiter {
    std::atomic<int> calls{0};
    void fill_changed() noexcept override { calls.fetch_add(1); }
};

BufferSlice slice_of(std::string_view text) {
    Ref<Buffer> b = Buffer::create(text.size());
    b->append(text.data(), text.size());
    return BufferSlice(b, b->data(), b->size());
}

std::string read_all(Fill &f, FillState &state) {
    BufferSlice out[64];
    size_t published = 0;
    size_t n = f.read(nullptr, 0, out, 64, state, published);
    std::string s;
    for (size_t i = 0; i < n; ++i)
        s.append(out[i].view());
    return s;
}

} // namespace

TEST_CASE("cache/coordinator: the first request for a key leads and the others wait on it") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto a = c->join(key("k"));
    auto b = c->join(key("k"));
    auto other = c->join(key("other"));
    CHECK(a.leader);
    CHECK_FALSE(b.leader);
    CHECK(b.fill.get() == a.fill.get());
    CHECK(other.leader);
    CHECK(c->in_flight() == 2);
    a.fill->end(FillState::complete);
    other.fill->end(FillState::released);
    CHECK(c->in_flight() == 0);
    auto again = c->join(key("k"));
    CHECK(again.leader);                  // after the end, a new fill
    again.fill->end(FillState::complete); // (a fill never ended would hold the coordinator)
}

TEST_CASE("cache/coordinator: waiters are woken on each change and see the bytes in order") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto lead = c->join(key("k"));
    auto w = Ref<CountingWaiter>::adopt(new CountingWaiter);
    auto follower = c->join(key("k"));
    follower.fill->add_waiter(Ref<FillWaiter>::share(w.get()));
    CHECK(follower.fill->head().state == FillState::pending);

    lead.fill->publish_head(Buffer::create(8), 200, 11, {});
    lead.fill->publish_body(slice_of("hello ")); // small: copied
    std::string big(5000, 'x');
    lead.fill->publish_body(slice_of(big)); // large: shared
    CHECK(w->calls.load() == 3);
    FillState state;
    CHECK(read_all(*follower.fill, state) == "hello " + big);
    CHECK(state == FillState::streaming);
    Fill::Head h = follower.fill->head();
    CHECK(h.status == 200);
    CHECK(h.length == 11u);

    lead.fill->end(FillState::complete);
    CHECK(w->calls.load() == 4);
    read_all(*follower.fill, state);
    CHECK(state == FillState::complete);
    lead.fill->end(FillState::failed); // ignored: a fill ends once
    CHECK(follower.fill->head().state == FillState::complete);
}

TEST_CASE("cache/coordinator: a waiter that leaves is not woken again") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto lead = c->join(key("k"));
    auto w = Ref<CountingWaiter>::adopt(new CountingWaiter);
    lead.fill->add_waiter(Ref<FillWaiter>::share(w.get()));
    CHECK(lead.fill->has_waiters());
    lead.fill->remove_waiter(w.get());
    CHECK_FALSE(lead.fill->has_waiters());
    lead.fill->end(FillState::failed);
    CHECK(w->calls.load() == 0);
}

TEST_CASE("cache/coordinator: small pieces published from another thread read back intact") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto lead = c->join(key("k"));
    auto follower = c->join(key("k"));
    std::string expected;
    for (int i = 0; i < 2000; ++i)
        expected += std::to_string(i) + ",";
    std::thread leader([&] {
        lead.fill->publish_head(Buffer::create(1), 200, std::nullopt, {});
        for (int i = 0; i < 2000; ++i)
            lead.fill->publish_body(slice_of(std::to_string(i) + ","));
        lead.fill->end(FillState::complete);
    });
    std::string got;
    size_t index = 0;
    FillState state = FillState::pending;
    while (true) {
        BufferSlice out[16];
        size_t published = 0;
        size_t n = follower.fill->read(nullptr, index, out, 16, state, published);
        for (size_t i = 0; i < n; ++i)
            got.append(out[i].view());
        index += n;
        if (state == FillState::complete && index == published) break;
    }
    leader.join();
    CHECK(got == expected);
}

TEST_CASE("cache/coordinator: keys sharing a hash slot lead separately") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    CacheKey a = key("a"), b = key("b");
    b.hash = a.hash; // a forced collision
    auto ja = c->join(a);
    auto jb = c->join(b);
    CHECK(ja.leader);
    CHECK(jb.leader);
    CHECK(ja.fill.get() != jb.fill.get());
    jb.fill->end(FillState::complete); // not registered: must not remove a's fill
    CHECK_FALSE(c->join(a).leader);
    ja.fill->end(FillState::complete);
}

TEST_CASE("cache/coordinator: the leader learns when the slowest waiter has caught up") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto lead = c->join(key("k"));
    auto fast = Ref<CountingWaiter>::adopt(new CountingWaiter);
    auto slow = Ref<CountingWaiter>::adopt(new CountingWaiter);
    auto drained = Ref<CountingWaiter>::adopt(new CountingWaiter);
    lead.fill->add_waiter(Ref<FillWaiter>::share(fast.get()));
    lead.fill->add_waiter(Ref<FillWaiter>::share(slow.get()));
    lead.fill->publish_head(Buffer::create(1), 200, std::nullopt, {});
    CHECK(lead.fill->unread_bytes() == 0);
    const std::string piece(4000, 'p'); // large enough to be shared, not copied together
    for (int i = 0; i < 3; ++i)
        lead.fill->publish_body(slice_of(piece));
    CHECK(lead.fill->unread_bytes() == 12000);

    FillState state;
    size_t published = 0;
    BufferSlice out[8];
    CHECK(lead.fill->read(fast.get(), 0, out, 8, state, published) == 3);
    CHECK(lead.fill->unread_bytes() == 12000); // the slow one has read nothing
    lead.fill->wake_when_read(Ref<FillWaiter>::share(drained.get()), 4000);
    CHECK(drained->calls.load() == 0);
    CHECK(lead.fill->read(slow.get(), 0, out, 1, state, published) == 1);
    CHECK(lead.fill->unread_bytes() == 8000);
    CHECK(drained->calls.load() == 0);
    CHECK(lead.fill->read(slow.get(), 1, out, 1, state, published) == 1);
    CHECK(lead.fill->unread_bytes() == 4000);
    CHECK(drained->calls.load() == 1); // woken once, then forgotten
    lead.fill->read(slow.get(), 2, out, 8, state, published);
    CHECK(drained->calls.load() == 1);
    // Already caught up: woken at once.
    lead.fill->wake_when_read(Ref<FillWaiter>::share(drained.get()), 0);
    CHECK(drained->calls.load() == 2);
    // A waiter that leaves no longer holds the leader back.
    lead.fill->publish_body(slice_of(piece));
    lead.fill->wake_when_read(Ref<FillWaiter>::share(drained.get()), 0);
    lead.fill->read(fast.get(), 3, out, 8, state, published);
    CHECK(drained->calls.load() == 2);
    lead.fill->remove_waiter(slow.get());
    CHECK(drained->calls.load() == 3);
    lead.fill->end(FillState::complete);
}

TEST_CASE("cache/coordinator: a fill that stops joining lets read pieces go and turns late "
          "waiters away") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto lead = c->join(key("k"));
    auto w = Ref<CountingWaiter>::adopt(new CountingWaiter);
    auto early = c->join(key("k"));
    CHECK(early.fill->add_waiter(Ref<FillWaiter>::share(w.get())));
    lead.fill->publish_head(Buffer::create(1), 200, std::nullopt, {});
    const std::string piece(4000, 'q');
    lead.fill->publish_body(slice_of(piece));
    lead.fill->publish_body(slice_of(piece));
    FillState state;
    size_t published = 0;
    BufferSlice out[8];
    CHECK(lead.fill->read(w.get(), 0, out, 1, state, published) == 1);
    lead.fill->stop_joining();
    auto next = c->join(key("k"));
    CHECK(next.leader); // no longer found: a new request leads its own fetch
    next.fill->end(FillState::released);
    auto late = Ref<CountingWaiter>::adopt(new CountingWaiter);
    CHECK_FALSE(lead.fill->add_waiter(Ref<FillWaiter>::share(late.get()))); // piece 0 is gone
    // The waiter still reads on from where it was, by index.
    CHECK(lead.fill->read(w.get(), 1, out, 8, state, published) == 1);
    CHECK(out[0].view() == piece);
    CHECK(published == 2);
    lead.fill->publish_body(slice_of(piece));
    CHECK(lead.fill->read(w.get(), 2, out, 8, state, published) == 1);
    CHECK(published == 3);
    lead.fill->end(FillState::complete);
}

TEST_CASE("cache/coordinator: a waiter cut loose stops counting and its reads end") {
    Ref<Coordinator> c = Ref<Coordinator>::adopt(new Coordinator);
    auto lead = c->join(key("k"));
    auto fast = Ref<CountingWaiter>::adopt(new CountingWaiter);
    auto slow = Ref<CountingWaiter>::adopt(new CountingWaiter);
    lead.fill->add_waiter(Ref<FillWaiter>::share(fast.get()));
    lead.fill->add_waiter(Ref<FillWaiter>::share(slow.get()));
    lead.fill->publish_head(Buffer::create(1), 200, std::nullopt, {});
    const std::string piece(4000, 'p');
    for (int i = 0; i < 3; ++i)
        lead.fill->publish_body(slice_of(piece));
    FillState state;
    size_t published = 0;
    BufferSlice out[8];
    CHECK(lead.fill->read(fast.get(), 0, out, 8, state, published) == 3);
    CHECK(lead.fill->read(slow.get(), 0, out, 1, state, published) == 1);
    CHECK(lead.fill->unread_bytes() == 8000);
    int slow_calls = slow->calls.load(), fast_calls = fast->calls.load();
    CHECK(lead.fill->cut_lagging(8000) == 0); // not more than the bound behind
    CHECK(lead.fill->cut_lagging(4000) == 1);
    CHECK(lead.fill->cut(slow.get()));
    CHECK_FALSE(lead.fill->cut(fast.get()));
    CHECK(slow->calls.load() == slow_calls + 1); // woken to end its response
    CHECK(fast->calls.load() == fast_calls);
    CHECK(lead.fill->unread_bytes() == 0); // the fast one has read everything
    // Its next read gets nothing, as a failed fill, at its own index.
    CHECK(lead.fill->read(slow.get(), 1, out, 8, state, published) == 0);
    CHECK(state == FillState::failed);
    CHECK(published == 1);
    CHECK(lead.fill->cut_lagging(0) == 0); // cut once
    lead.fill->remove_waiter(slow.get());
    lead.fill->end(FillState::complete);
}

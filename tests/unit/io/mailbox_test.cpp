#include "io/mailbox.hpp"

#include "uv_test_loop.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

using namespace perch;
using perch::test::UvTestLoop;

namespace {

// What the tasks of one test saw. `ran` and `threads` are touched on the loop thread only;
// `destroyed` also by posters whose task was refused.
struct Record {
    std::vector<int> ran;
    std::vector<std::thread::id> threads;
    std::vector<uint64_t> iterations; // the loop iteration each task ran in
    const uint64_t *iteration = nullptr;
    std::atomic<size_t> destroyed{0};
};

class Task final : public io::MailboxTask {
public:
    Task(Record &r, int n) : r_(r), n_(n) {}
    ~Task() override { r_.destroyed.fetch_add(1); }
    void run() noexcept override {
        r_.ran.push_back(n_);
        r_.threads.push_back(std::this_thread::get_id());
        if (r_.iteration) r_.iterations.push_back(*r_.iteration);
    }

private:
    Record &r_;
    int n_;
};

core::Ref<io::MailboxTask> task(Record &r, int n) {
    return core::Ref<io::MailboxTask>::adopt(new Task(r, n));
}

// Closes `m` and runs the loop until libuv has released its handle.
void close_mailbox(UvTestLoop &loop, io::Mailbox &m) {
    bool closed = false;
    m.close([](void *c) { *static_cast<bool *>(c) = true; }, &closed);
    CHECK(!closed); // the handle is released on a later loop turn
    CHECK(loop.run_until([&] { return closed; }));
}

// Counts loop iterations (a check handle runs once per iteration, after the poll).
struct IterationCounter {
    uv_check_t check;
    uint64_t n = 0;
    explicit IterationCounter(uv_loop_t *loop) {
        uv_check_init(loop, &check);
        check.data = this;
        uv_check_start(&check,
                       [](uv_check_t *c) { ++static_cast<IterationCounter *>(c->data)->n; });
    }
};

} // namespace

TEST_CASE("io/mailbox: tasks posted from another thread run on the loop thread, in order") {
    UvTestLoop loop;
    core::Ref<io::Mailbox> m = io::Mailbox::open(loop.get());
    Record r;
    constexpr int n = 2000;
    std::atomic<int> accepted{0};
    std::thread poster([&] {
        for (int i = 0; i < n; ++i)
            if (m->post(task(r, i))) accepted.fetch_add(1);
    });
    bool all_ran = loop.run_until([&] { return r.ran.size() == size_t(n); });
    poster.join();
    CHECK(all_ran);
    CHECK(accepted.load() == n);
    REQUIRE(r.ran.size() == size_t(n));
    for (int i = 0; i < n; ++i)
        CHECK_MESSAGE(r.ran[size_t(i)] == i, "task ", i, " ran out of order");
    for (const auto &id : r.threads)
        CHECK(id == std::this_thread::get_id());
    CHECK(r.destroyed.load() == size_t(n)); // each task is released once it has run
    close_mailbox(loop, *m);
}

TEST_CASE("io/mailbox: many posts coalesce into one wakeup and every task still runs") {
    UvTestLoop loop;
    IterationCounter iterations(loop.get());
    core::Ref<io::Mailbox> m = io::Mailbox::open(loop.get());
    Record r;
    r.iteration = &iterations.n;
    constexpr int n = 500;
    // All posted before the loop looks: one wakeup must drain them all.
    std::thread poster([&] {
        for (int i = 0; i < n; ++i)
            m->post(task(r, i));
    });
    poster.join();
    CHECK(r.ran.empty()); // nothing runs inside post()
    CHECK(loop.run_until([&] { return r.ran.size() == size_t(n); }));
    REQUIRE(r.iterations.size() == size_t(n));
    for (uint64_t it : r.iterations)
        CHECK(it == r.iterations.front()); // all ran within one loop iteration
    for (int i = 0; i < n; ++i)
        CHECK(r.ran[size_t(i)] == i);
    loop.close(reinterpret_cast<uv_handle_t *>(&iterations.check));
    close_mailbox(loop, *m);
}

TEST_CASE("io/mailbox: a task may post another task from inside run()") {
    UvTestLoop loop;
    core::Ref<io::Mailbox> m = io::Mailbox::open(loop.get());
    Record r;
    struct Reposter final : io::MailboxTask {
        io::Mailbox *m;
        Record *r;
        bool posted = false;
        void run() noexcept override { posted = m->post(task(*r, 7)); }
    };
    auto *rp = new Reposter;
    rp->m = m.get();
    rp->r = &r;
    core::Ref<io::MailboxTask> keep = core::Ref<io::MailboxTask>::share(rp);
    std::thread poster([&] { m->post(core::Ref<io::MailboxTask>::adopt(rp)); });
    poster.join();
    CHECK(loop.run_until([&] { return r.ran.size() == 1; })); // no deadlock on the queue lock
    CHECK(rp->posted);
    CHECK(r.ran == std::vector<int>{7});
    close_mailbox(loop, *m);
}

TEST_CASE("io/mailbox: after close(), post() returns false and drops the task") {
    UvTestLoop loop;
    core::Ref<io::Mailbox> m = io::Mailbox::open(loop.get());
    Record r;
    bool closed = false;
    m->close([](void *c) { *static_cast<bool *>(c) = true; }, &closed);
    // Refused at once, even before libuv has released the handle.
    CHECK(!m->post(task(r, 1)));
    CHECK(r.destroyed.load() == 1);
    CHECK(loop.run_until([&] { return closed; }));
    bool from_thread = true;
    std::thread poster([&] { from_thread = m->post(task(r, 2)); });
    poster.join();
    CHECK(!from_thread);
    CHECK(!m->post(task(r, 3)));
    loop.run_for(20); // a wakeup, were one sent, would run now
    CHECK(r.ran.empty());
    CHECK(r.destroyed.load() == 3);
}

TEST_CASE("io/mailbox: tasks still queued when the mailbox closes are dropped, not run") {
    UvTestLoop loop;
    core::Ref<io::Mailbox> m = io::Mailbox::open(loop.get());
    Record r;
    for (int i = 0; i < 3; ++i)
        CHECK(m->post(task(r, i)));
    close_mailbox(loop, *m);
    CHECK(r.ran.empty());
    CHECK(r.destroyed.load() == 3);
}

TEST_CASE("io/mailbox: a poster may keep the mailbox past the end of its loop") {
    Record r;
    core::Ref<io::Mailbox> kept;
    {
        UvTestLoop loop;
        kept = io::Mailbox::open(loop.get());
        close_mailbox(loop, *kept);
    }                              // the loop is closed and gone here
    CHECK(kept->ref_count() == 1); // the loop let go of its reference
    bool accepted = true;
    std::thread poster([&] { accepted = kept->post(task(r, 1)); });
    poster.join();
    CHECK(!accepted);
    CHECK(r.destroyed.load() == 1);
}

TEST_CASE("io/mailbox: posts racing close() are each either run or dropped, exactly once") {
    UvTestLoop loop;
    core::Ref<io::Mailbox> m = io::Mailbox::open(loop.get());
    Record r;
    std::atomic<size_t> posted{0}, accepted{0};
    std::atomic<bool> accepted_after_refusal{false};
    std::thread poster([&] {
        bool refused = false;
        for (int i = 0; i < 1000000; ++i) {
            bool ok = m->post(task(r, i));
            posted.fetch_add(1);
            if (ok) {
                accepted.fetch_add(1);
                if (refused) accepted_after_refusal = true;
            } else if (refused) {
                break; // refused twice: closed for good
            } else {
                refused = true;
            }
        }
    });
    CHECK(loop.run_until([&] { return r.ran.size() >= 100; }));
    close_mailbox(loop, *m);
    poster.join();
    CHECK(!accepted_after_refusal.load());
    CHECK(r.ran.size() <= accepted.load());
    CHECK(r.destroyed.load() == posted.load()); // no task leaked, none freed twice
    for (size_t i = 0; i < r.ran.size(); ++i)
        CHECK(r.ran[i] == int(i)); // the ones that ran are a prefix, in order
}

#include "io/deadline_list.hpp"
#include "uv_test_loop.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using perch::io::Deadline;
using perch::io::DeadlineList;
using perch::io::Deadlines;

namespace {

using Loop = perch::test::UvTestLoop; // run until a condition holds, bounded

// An owner that records, in a shared log, its name each time its deadline fires.
struct Owner {
    std::string name;
    std::vector<std::string> *log;
    std::function<void()> on_fire;
    Deadline deadline{&Owner::fire, this};

    Owner(std::string n, std::vector<std::string> &l) : name(std::move(n)), log(&l) {}
    static void fire(void *p) {
        auto *o = static_cast<Owner *>(p);
        o->log->push_back(o->name);
        if (o->on_fire) o->on_fire();
    }
};

bool contains(const std::vector<std::string> &log, const std::string &name) {
    for (const auto &n : log)
        if (n == name) return true;
    return false;
}

} // namespace

TEST_CASE("io/deadline_list: deadlines of one list fire in the order they were armed") {
    Loop loop;
    std::vector<std::string> log;
    {
        DeadlineList list(loop.get(), 5);
        CHECK(list.duration_ms() == 5);
        Owner a("a", log), b("b", log), c("c", log);
        list.arm(a.deadline);
        list.arm(b.deadline);
        list.arm(c.deadline);
        CHECK(a.deadline.armed());
        CHECK(log.empty()); // nothing fires from inside arm
        CHECK(loop.run_until([&] { return log.size() == 3; }));
        CHECK(log == std::vector<std::string>{"a", "b", "c"});
        CHECK(!a.deadline.armed());
        CHECK(!b.deadline.armed());
        CHECK(!c.deadline.armed());
    }
}

TEST_CASE("io/deadline_list: a deadline fires once, no earlier than its duration") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 20);
    Owner a("a", log);
    uv_update_time(loop.get());
    uint64_t armed_at = uv_now(loop.get());
    uint64_t fired_at = 0;
    a.on_fire = [&] { fired_at = uv_now(loop.get()); };
    list.arm(a.deadline);
    CHECK(loop.run_until([&] { return !log.empty(); }));
    CHECK(fired_at >= armed_at + 20);
    // Run past a second period: it does not fire again.
    Owner later("later", log);
    list.arm(later.deadline);
    CHECK(loop.run_until([&] { return contains(log, "later"); }));
    CHECK(log == std::vector<std::string>{"a", "later"});
    list.close();
}

TEST_CASE("io/deadline_list: re-arming moves a deadline to the back") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 5);
    Owner a("a", log), b("b", log), c("c", log);
    list.arm(a.deadline);
    list.arm(b.deadline);
    list.arm(c.deadline);
    list.arm(a.deadline);
    CHECK(a.deadline.armed());
    CHECK(loop.run_until([&] { return log.size() == 3; }));
    CHECK(log == std::vector<std::string>{"b", "c", "a"});
    list.close();
}

TEST_CASE("io/deadline_list: re-arming the only deadline pushes its expiry back") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 30);
    Owner a("a", log);
    uv_update_time(loop.get());
    list.arm(a.deadline);
    // Let 15 ms of loop time pass (a short referenced timer), then re-arm.
    uv_timer_t step;
    uv_timer_init(loop.get(), &step);
    bool stepped = false;
    step.data = &stepped;
    uv_timer_start(
        &step, [](uv_timer_t *t) { *static_cast<bool *>(t->data) = true; }, 15, 0);
    CHECK(loop.run_until([&] { return stepped; }));
    CHECK(log.empty());
    uint64_t rearmed_at = uv_now(loop.get());
    uint64_t fired_at = 0;
    a.on_fire = [&] { fired_at = uv_now(loop.get()); };
    list.arm(a.deadline);
    CHECK(loop.run_until([&] { return !log.empty(); }));
    CHECK(fired_at >= rearmed_at + 30);
    loop.close(reinterpret_cast<uv_handle_t *>(&step));
    list.close();
}

TEST_CASE("io/deadline_list: a disarmed deadline does not fire") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 5);
    Owner a("a", log), b("b", log), c("c", log);
    list.arm(a.deadline);
    list.arm(b.deadline);
    list.arm(c.deadline);
    b.deadline.disarm();
    CHECK(!b.deadline.armed());
    a.deadline.disarm(); // the head, for which the timer is armed
    b.deadline.disarm(); // disarming twice is harmless
    CHECK(loop.run_until([&] { return contains(log, "c"); }));
    CHECK(log == std::vector<std::string>{"c"});
    list.close();
}

TEST_CASE("io/deadline_list: a list whose every deadline was disarmed stays quiet") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList quiet(loop.get(), 2), witness(loop.get(), 10);
    Owner a("a", log), w("w", log);
    quiet.arm(a.deadline);
    a.deadline.disarm();
    witness.arm(w.deadline); // fires after the quiet list's timer would have
    CHECK(loop.run_until([&] { return contains(log, "w"); }));
    CHECK(log == std::vector<std::string>{"w"});
    quiet.close();
    witness.close();
}

TEST_CASE("io/deadline_list: a callback may arm another deadline") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 3);
    DeadlineList other(loop.get(), 5);
    Owner a("a", log), b("b", log), c("c", log);
    a.on_fire = [&] {
        list.arm(b.deadline);  // same list, from inside its own timer callback
        other.arm(c.deadline); // another list
    };
    list.arm(a.deadline);
    CHECK(loop.run_until([&] { return log.size() == 3; }));
    CHECK(log == std::vector<std::string>{"a", "b", "c"});
    list.close();
    other.close();
}

TEST_CASE("io/deadline_list: a callback may re-arm its own deadline") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 2);
    Owner a("a", log);
    int fires = 0;
    a.on_fire = [&] {
        if (++fires < 3) list.arm(a.deadline);
    };
    list.arm(a.deadline);
    CHECK(loop.run_until([&] { return fires == 3; }));
    CHECK(!a.deadline.armed());
    CHECK(log.size() == 3);
    list.close();
}

TEST_CASE("io/deadline_list: a callback may disarm a deadline due at the same time") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 3);
    Owner a("a", log), b("b", log), c("c", log);
    a.on_fire = [&] { b.deadline.disarm(); };
    list.arm(a.deadline);
    list.arm(b.deadline);
    list.arm(c.deadline);
    CHECK(loop.run_until([&] { return contains(log, "c"); }));
    CHECK(log == std::vector<std::string>{"a", "c"});
    list.close();
}

TEST_CASE("io/deadline_list: arming in another list moves the deadline there") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList slow(loop.get(), 40), fast(loop.get(), 2);
    Owner a("a", log), b("b", log);
    slow.arm(a.deadline);
    slow.arm(b.deadline);
    fast.arm(a.deadline);
    CHECK(loop.run_until([&] { return log.size() == 2; }));
    CHECK(log == std::vector<std::string>{"a", "b"});
    slow.close();
    fast.close();
}

TEST_CASE("io/deadline_list: shorter lists fire first whatever the arming order") {
    Loop loop;
    std::vector<std::string> log;
    Deadlines lists(loop.get());
    Owner slow("slow", log), fast("fast", log);
    lists.arm(slow.deadline, 20);
    lists.arm(fast.deadline, 1);
    CHECK(loop.run_until([&] { return log.size() == 2; }));
    CHECK(log == std::vector<std::string>{"fast", "slow"});
}

TEST_CASE("io/deadline_list: destroying a deadline disarms it") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 5);
    auto a = std::make_unique<Owner>("a", log);
    Owner b("b", log);
    auto c = std::make_unique<Owner>("c", log);
    list.arm(a->deadline);
    list.arm(b.deadline);
    list.arm(c->deadline);
    a.reset(); // the head
    c.reset(); // the tail
    CHECK(loop.run_until([&] { return contains(log, "b"); }));
    CHECK(log == std::vector<std::string>{"b"});
    // The list is still usable afterwards.
    Owner d("d", log);
    list.arm(d.deadline);
    CHECK(loop.run_until([&] { return contains(log, "d"); }));
    list.close();
}

TEST_CASE("io/deadline_list: a disarmed deadline can be destroyed and an unarmed one too") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 5);
    {
        Owner never("never", log);
        CHECK(!never.deadline.armed());
        Owner once("once", log);
        list.arm(once.deadline);
        once.deadline.disarm();
    }
    list.close();
    CHECK(log.empty());
}

TEST_CASE("io/deadline_list: Deadlines keeps one list per duration") {
    Loop loop;
    Deadlines lists(loop.get());
    DeadlineList &ten = lists.list(10);
    DeadlineList &twenty = lists.list(20);
    CHECK(&lists.list(10) == &ten);
    CHECK(&lists.list(20) == &twenty);
    CHECK(&ten != &twenty);
    CHECK(ten.duration_ms() == 10);
    CHECK(twenty.duration_ms() == 20);
    CHECK(lists.list(0).duration_ms() == 0);
}

TEST_CASE("io/deadline_list: a zero duration fires on the next loop iteration") {
    Loop loop;
    std::vector<std::string> log;
    Deadlines lists(loop.get());
    Owner a("a", log);
    lists.arm(a.deadline, 0);
    CHECK(log.empty());
    CHECK(loop.run_until([&] { return !log.empty(); }));
}

TEST_CASE("io/deadline_list: close disarms everything and nothing fires afterwards") {
    Loop loop;
    std::vector<std::string> log;
    Owner a("a", log), b("b", log), c("c", log);
    {
        Deadlines lists(loop.get());
        lists.arm(a.deadline, 2);
        lists.arm(b.deadline, 2);
        lists.arm(c.deadline, 4);
        lists.close();
        CHECK(!a.deadline.armed());
        CHECK(!b.deadline.armed());
        CHECK(!c.deadline.armed());
        lists.close(); // closing twice is harmless
    }
    // A fresh list fires after the closed ones would have; they stay silent.
    DeadlineList witness(loop.get(), 10);
    Owner w("w", log);
    witness.arm(w.deadline);
    CHECK(loop.run_until([&] { return contains(log, "w"); }));
    CHECK(log == std::vector<std::string>{"w"});
    witness.close();
}

TEST_CASE("io/deadline_list: a callback may close its own list") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 2);
    Owner a("a", log), b("b", log);
    a.on_fire = [&] { list.close(); };
    list.arm(a.deadline);
    list.arm(b.deadline);
    CHECK(loop.run_until([&] { return !log.empty(); }));
    CHECK(!b.deadline.armed());
    // Give b's old expiry time to pass: nothing more fires.
    DeadlineList witness(loop.get(), 10);
    Owner w("w", log);
    witness.arm(w.deadline);
    CHECK(loop.run_until([&] { return contains(log, "w"); }));
    CHECK(log == std::vector<std::string>{"a", "w"});
    witness.close();
}

TEST_CASE("io/deadline_list: a list keeps the loop alive exactly while something is armed") {
    Loop loop;
    std::vector<std::string> log;
    DeadlineList list(loop.get(), 1000);
    CHECK(uv_loop_alive(loop.get()) == 0);
    Owner a("a", log), b("b", log);
    list.arm(a.deadline);
    list.arm(b.deadline);
    CHECK(uv_loop_alive(loop.get()) != 0);
    a.deadline.disarm();
    CHECK(uv_loop_alive(loop.get()) != 0); // b is still due
    b.deadline.disarm();
    CHECK(uv_loop_alive(loop.get()) == 0);
    list.close();
}

TEST_CASE("io/deadline_list: uv_run returns once the last armed deadline has fired") {
    Loop loop;
    std::vector<std::string> log;
    Deadlines lists(loop.get());
    Owner a("a", log), b("b", log), c("c", log);
    lists.arm(a.deadline, 1);
    lists.arm(b.deadline, 3);
    c.on_fire = [&] { lists.arm(b.deadline, 1); }; // re-armed from a callback: still waited for
    lists.arm(c.deadline, 2);
    b.deadline.disarm();
    CHECK(uv_run(loop.get(), UV_RUN_DEFAULT) == 0);
    CHECK(log == std::vector<std::string>{"a", "c", "b"});
    CHECK(uv_loop_alive(loop.get()) == 0);
}

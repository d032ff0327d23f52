#include "io/live_count.hpp"

#include <doctest/doctest.h>

using perch::io::LiveCount;

namespace {
void count_call(void *n) {
    ++*static_cast<int *>(n);
}
} // namespace

TEST_CASE("io/live_count: when_zero on an empty count calls back at once") {
    LiveCount live;
    int calls = 0;
    live.when_zero(&count_call, &calls);
    CHECK(calls == 1);
    CHECK(live.count() == 0);
}

TEST_CASE("io/live_count: when_zero calls back once the last object drops, not before") {
    LiveCount live;
    live.add();
    live.add();
    CHECK(live.count() == 2);
    int calls = 0;
    live.when_zero(&count_call, &calls);
    CHECK(calls == 0);
    live.drop();
    CHECK(calls == 0);
    CHECK(live.count() == 1);
    live.drop();
    CHECK(calls == 1);
    CHECK(live.count() == 0);
}

TEST_CASE("io/live_count: reaching zero without a when_zero calls nothing") {
    LiveCount live;
    live.add();
    live.drop();
    CHECK(live.count() == 0);
    // Counting up and down again after the callback was set fires it again at each zero.
    int calls = 0;
    live.when_zero(&count_call, &calls);
    CHECK(calls == 1);
    live.add();
    live.drop();
    CHECK(calls == 2);
}

TEST_CASE("io/live_count: the callback may free the object that holds the count") {
    struct Owner {
        LiveCount live;
        bool *freed;
    };
    bool freed = false;
    auto *o = new Owner{{}, &freed};
    o->live.add();
    o->live.when_zero(
        [](void *p) {
            auto *owner = static_cast<Owner *>(p);
            *owner->freed = true;
            delete owner;
        },
        o);
    o->live.drop(); // the last thing drop() does is call back
    CHECK(freed);
}

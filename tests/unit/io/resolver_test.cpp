// Only numeric hosts and "localhost" (answered from /etc/hosts) are resolved here: these tests
// never ask a DNS server anything.
#include "io/resolver.hpp"

#include "uv_test_loop.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <vector>

using namespace perch;
using perch::test::UvTestLoop;

namespace {

// What one resolve() reported.
struct Answer {
    int calls = 0;
    int status = 1;
    std::vector<sockaddr_storage> addrs;

    static void done(void *user, int status, const std::vector<sockaddr_storage> &addrs) {
        auto *a = static_cast<Answer *>(user);
        a->calls++;
        a->status = status;
        a->addrs = addrs;
    }
};

uint16_t port_of(const sockaddr_storage &ss) {
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in &>(ss).sin_port);
    return ntohs(reinterpret_cast<const sockaddr_in6 &>(ss).sin6_port);
}

std::string numeric_host(const sockaddr_storage &ss) {
    char text[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(ss).sin_addr, text, sizeof text);
    else
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 &>(ss).sin6_addr, text,
                  sizeof text);
    return text;
}

bool is_loopback(const sockaddr_storage &ss) {
    if (ss.ss_family == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in &>(ss).sin_addr.s_addr) >> 24) == 127;
    if (ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6 &>(ss).sin6_addr);
    return false;
}

} // namespace

TEST_CASE("io/resolver: a numeric IPv4 host completes inside resolve() without a lookup") {
    UvTestLoop loop;
    io::LiveCount live;
    io::Resolver r(loop.get(), &live);
    Answer a;
    CHECK(r.resolve("127.0.0.1", 8080, &Answer::done, &a) == nullptr);
    CHECK(a.calls == 1);
    CHECK(a.status == 0);
    REQUIRE(a.addrs.size() == 1);
    CHECK(a.addrs[0].ss_family == AF_INET);
    CHECK(numeric_host(a.addrs[0]) == "127.0.0.1");
    CHECK(port_of(a.addrs[0]) == 8080);
    CHECK(live.count() == 0);
}

TEST_CASE("io/resolver: a literal IPv6 host, bracketed or not, completes inside resolve()") {
    UvTestLoop loop;
    io::Resolver r(loop.get());
    for (const char *host : {"::1", "[::1]"}) {
        CAPTURE(host);
        Answer a;
        CHECK(r.resolve(host, 443, &Answer::done, &a) == nullptr);
        CHECK(a.calls == 1);
        CHECK(a.status == 0);
        REQUIRE(a.addrs.size() == 1);
        CHECK(a.addrs[0].ss_family == AF_INET6);
        CHECK(numeric_host(a.addrs[0]) == "::1");
        CHECK(port_of(a.addrs[0]) == 443);
    }
}

TEST_CASE("io/resolver: localhost resolves through uv_getaddrinfo to a loopback address") {
    UvTestLoop loop;
    io::LiveCount live;
    io::Resolver r(loop.get(), &live);
    Answer a;
    io::Resolver::Lookup *l = r.resolve("localhost", 8080, &Answer::done, &a);
    CHECK(l != nullptr);
    CHECK(a.calls == 0); // later, from the loop
    CHECK(live.count() == 1);
    CHECK(loop.run_until([&] { return a.calls > 0; }));
    CHECK(a.calls == 1);
    CHECK(a.status == 0);
    REQUIRE(!a.addrs.empty());
    CHECK(a.addrs[0].ss_family == AF_INET); // IPv4 first
    for (const auto &ss : a.addrs) {
        CAPTURE(numeric_host(ss));
        CHECK(is_loopback(ss));
        CHECK(port_of(ss) == 8080);
    }
    CHECK(live.count() == 0);
    loop.run_for(10);
    CHECK(a.calls == 1); // exactly once
}

TEST_CASE("io/resolver: a resolved name is answered from the cache, with the new port") {
    UvTestLoop loop;
    io::Resolver r(loop.get());
    Answer first;
    REQUIRE(r.resolve("localhost", 80, &Answer::done, &first) != nullptr);
    CHECK(loop.run_until([&] { return first.calls > 0; }));
    REQUIRE(first.status == 0);
    Answer second;
    CHECK(r.resolve("localhost", 8443, &Answer::done, &second) == nullptr);
    CHECK(second.calls == 1);
    CHECK(second.status == 0);
    REQUIRE(second.addrs.size() == first.addrs.size());
    for (size_t i = 0; i < second.addrs.size(); ++i) {
        CHECK(numeric_host(second.addrs[i]) == numeric_host(first.addrs[i]));
        CHECK(port_of(second.addrs[i]) == 8443);
    }
}

TEST_CASE("io/resolver: a cached name is looked up again once cache_ms has passed") {
    UvTestLoop loop;
    io::Resolver r(loop.get(), nullptr, /*cache_ms=*/20);
    Answer first;
    REQUIRE(r.resolve("localhost", 80, &Answer::done, &first) != nullptr);
    CHECK(loop.run_until([&] { return first.calls > 0; }));
    loop.run_for(30); // loop time moves past the entry's expiry
    Answer again;
    CHECK(r.resolve("localhost", 80, &Answer::done, &again) != nullptr);
    CHECK(again.calls == 0);
    CHECK(loop.run_until([&] { return again.calls > 0; }));
    CHECK(again.status == 0);
}

TEST_CASE("io/resolver: with cache_ms 0 every lookup goes to getaddrinfo") {
    UvTestLoop loop;
    io::Resolver r(loop.get(), nullptr, 0);
    for (int i = 0; i < 2; ++i) {
        Answer a;
        CHECK(r.resolve("localhost", 80, &Answer::done, &a) != nullptr);
        CHECK(loop.run_until([&] { return a.calls > 0; }));
        CHECK(a.status == 0);
    }
}

TEST_CASE("io/resolver: a cancelled lookup never calls back, and its live count drops") {
    UvTestLoop loop;
    io::LiveCount live;
    io::Resolver r(loop.get(), &live);
    Answer cancelled, witness;
    io::Resolver::Lookup *l = r.resolve("localhost", 80, &Answer::done, &cancelled);
    REQUIRE(l != nullptr);
    REQUIRE(r.resolve("localhost", 81, &Answer::done, &witness) != nullptr);
    io::Resolver::cancel(l);
    // The witness answers after the cancelled lookup's own callback has had its turn.
    CHECK(loop.run_until([&] { return witness.calls > 0 && live.count() == 0; }));
    CHECK(cancelled.calls == 0);
    CHECK(witness.status == 0);
    io::Resolver::cancel(nullptr); // harmless
}

TEST_CASE("io/resolver: destroying the resolver cancels every lookup still in flight") {
    UvTestLoop loop;
    io::LiveCount live;
    bool zero = false;
    Answer answers[5];
    auto r = std::make_unique<io::Resolver>(loop.get(), &live);
    for (Answer &a : answers)
        REQUIRE(r->resolve("localhost", 80, &Answer::done, &a) != nullptr);
    CHECK(live.count() == 5);
    r.reset();
    live.when_zero([](void *z) { *static_cast<bool *>(z) = true; }, &zero);
    // The lookups still call back into libuv; whoever frees the loop waits for the count.
    CHECK(loop.run_until([&] { return zero; }));
    for (const Answer &a : answers)
        CHECK(a.calls == 0);
}

TEST_CASE("io/resolver: a host libuv refuses at once fails inside resolve()") {
    UvTestLoop loop;
    io::LiveCount live;
    io::Resolver r(loop.get(), &live);
    Answer a;
    // Not UTF-8: libuv's IDNA conversion refuses it before any lookup.
    CHECK(r.resolve("\xff\xfe.example", 80, &Answer::done, &a) == nullptr);
    CHECK(a.calls == 1);
    CHECK(a.status == UV_EINVAL);
    CHECK(a.addrs.empty());
    CHECK(live.count() == 0);
}

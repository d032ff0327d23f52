// Host name resolution through libuv's getaddrinfo (on its thread pool, never on the loop),
// with a small per-host cache so that every new origin connection does not cost a lookup.
// Not thread-safe: one resolver per loop.
#pragma once

#include "core/status.hpp"
#include "io/live_count.hpp"

#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <unordered_map>
#include <uv.h>
#include <vector>

namespace perch::io {

class Resolver {
public:
    // `live` (may be null) counts lookups in progress: they call back after their owner may
    // have stopped waiting, so whoever frees the loop waits for them.
    explicit Resolver(uv_loop_t *loop, LiveCount *live = nullptr, uint64_t cache_ms = 30000)
        : loop_(loop), live_(live), cache_ms_(cache_ms) {}
    ~Resolver();

    class Lookup; // an in-flight resolution; cancel() it if the caller goes away
    using Done = void (*)(void *user, int status, const std::vector<sockaddr_storage> &addrs);

    // Resolves host:port. Numeric hosts and cached names complete synchronously (returns
    // nullptr after calling done); otherwise returns a Lookup whose done fires later exactly
    // once unless cancelled. Addresses come IPv4 first.
    Lookup *resolve(const std::string &host, uint16_t port, Done done, void *user);
    static void cancel(Lookup *l) noexcept;

private:
    struct Cached {
        std::vector<sockaddr_storage> addrs;
        uint64_t expires = 0;
    };
    static void on_resolved(uv_getaddrinfo_t *req, int status, addrinfo *res);

    uv_loop_t *loop_;
    LiveCount *live_;
    uint64_t cache_ms_;
    std::unordered_map<std::string, Cached> cache_;
    std::vector<Lookup *> pending_;
};

} // namespace perch::io

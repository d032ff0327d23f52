// A runtime: the edge on one libuv loop (one thread). It owns the loop services (read
// buffers, deadlines, DNS), one connector per origin (with its connection pool), the viewer
// listeners and connections, and counters other threads may read. It shares the immutable
// Deployment and the cache store with the other runtimes of the process.
//
// Lifetime: close() stops everything at once; the runtime frees itself once every
// connection, handle and file read it started has finished (libuv completes those on later
// loop turns), then calls the closed callback.
#pragma once

#include "cache/coordinator.hpp"
#include "cache/store.hpp"
#include "core/log.hpp"
#include "core/ref.hpp"
#include "edge/deployment.hpp"
#include "edge/origins.hpp"
#include "io/buffer_pool.hpp"
#include "io/deadline_list.hpp"
#include "io/live_count.hpp"
#include "io/mailbox.hpp"
#include "io/resolver.hpp"
#include "origin/connector.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace perch::edge {

class AdminListener;
class BackgroundWork;
class ViewerConnection;
class ViewerListener;

// Monotonic counters, written by the runtime's thread, readable from any thread.
struct RuntimeStats {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> hits{0}; // Hit and RefreshHit
    std::atomic<uint64_t> refresh_hits{0};
    std::atomic<uint64_t> misses{0};
    std::atomic<uint64_t> errors{0};    // responses with status >= 500 made by the edge
    std::atomic<uint64_t> bytes_out{0}; // bytes written to viewers (heads and bodies)
    std::atomic<uint64_t> connections_accepted{0};
    std::atomic<uint64_t> connections_active{0};
    std::atomic<uint64_t> origin_fetches{0};
    // Requests refused before the pipeline could serve them: malformed framing or fields, or no
    // single valid Host (each answered 4xx, then the connection closed).
    std::atomic<uint64_t> rejected{0};
};

class Runtime {
public:
    // `coordinator` collapses misses; runtimes sharing a store should share it (null: one of
    // this runtime's own). `clock` (null: the wall clock) must outlive the runtime.
    Runtime(uv_loop_t *loop, core::Ref<Deployment> dist, core::Ref<cache::CacheStore> store,
            core::Logger logger, core::Ref<cache::Coordinator> coordinator = nullptr,
            const core::Clock *clock = nullptr);
    Runtime(const Runtime &) = delete;
    Runtime &operator=(const Runtime &) = delete;

    uv_loop_t *loop() const noexcept { return loop_; }
    const Deployment &distribution() const noexcept { return *dist_; }
    cache::CacheStore &store() noexcept { return *store_; }
    cache::Coordinator &coordinator() noexcept { return *coordinator_; }
    // Where other threads hand work to this runtime's loop.
    const core::Ref<io::Mailbox> &mailbox() const noexcept { return mailbox_; }
    // The distribution's origins: connectors and how a request reaches each.
    Origins &origins() noexcept { return origins_; }
    io::BufferPool &buffers() noexcept { return buffers_; }
    io::Deadlines &deadlines() noexcept { return deadlines_; }
    io::LiveCount &live() noexcept { return live_; }
    RuntimeStats &stats() noexcept { return stats_; }
    const core::Logger &log() const noexcept { return log_; }
    core::UnixMillis now() const noexcept { return clock_->now(); }

    // Writes a new request id (16 characters) into out; returns its length.
    size_t next_request_id(char *out) noexcept;

    // Starts accepting viewer connections on `addr`. Returns the bound port.
    core::Result<uint16_t> listen(const config::ListenAddress &addr);

    // Starts the admin endpoint (see http1/admin_listener.hpp) on settings.listen, on a socket of
    // its own (an address already listened on is refused). Returns the bound port.
    core::Result<uint16_t> listen_admin(const config::AdminSettings &settings);

    // Graceful stop: stop accepting, close idle connections, let in-flight responses finish
    // for up to grace_ms, then close what is left. `done` fires once no connection remains.
    using ShutdownDone = void (*)(void *user);
    void shutdown(uint32_t grace_ms, ShutdownDone done, void *user);
    bool draining() const noexcept { return draining_; }

    // Immediate stop; frees the runtime when everything has finished (see above).
    using Closed = void (*)(void *user);
    void close(Closed closed, void *user);

    // Viewer connection bookkeeping (ViewerConnection calls these).
    void connection_opened(ViewerConnection *c);
    void connection_closed(ViewerConnection *c);
    void listener_closed(ViewerListener *l);
    void admin_listener_closed(AdminListener *l);
    // Work for no viewer (BackgroundWork implementations call these).
    void background_started(BackgroundWork *w);
    void background_finished(BackgroundWork *w) noexcept;

private:
    ~Runtime();
    static void on_grace_expired(void *self);
    static void on_all_closed(void *self);
    void maybe_shutdown_done();

    uv_loop_t *loop_;
    core::Ref<Deployment> dist_;
    core::Ref<cache::CacheStore> store_;
    core::Ref<cache::Coordinator> coordinator_;
    core::Ref<io::Mailbox> mailbox_;
    core::Logger log_;
    const core::Clock *clock_;
    io::BufferPool buffers_;
    io::Deadlines deadlines_;
    io::Resolver resolver_;
    io::LiveCount live_;
    Origins origins_;
    std::vector<ViewerListener *> listeners_;
    std::vector<AdminListener *> admin_listeners_;
    std::vector<ViewerConnection *> connections_;
    std::vector<BackgroundWork *> background_;
    RuntimeStats stats_;
    io::Deadline grace_;
    ShutdownDone shutdown_done_ = nullptr;
    void *shutdown_user_ = nullptr;
    Closed closed_ = nullptr;
    void *closed_user_ = nullptr;
    uint64_t id_prefix_ = 0;
    uint64_t id_counter_ = 0;
    bool draining_ = false;
    bool closing_ = false;
};

} // namespace perch::edge

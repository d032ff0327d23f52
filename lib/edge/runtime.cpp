#include "edge/runtime.hpp"

#include "edge/background_work.hpp"
#include "edge/http1/admin_listener.hpp"
#include "edge/http1/viewer_connection.hpp"
#include "edge/http1/viewer_listener.hpp"
#include "io/listen_socket.hpp"

#include <algorithm>
#include <unistd.h>

namespace perch::edge {

using core::Code;
using core::Error;
using core::Source;

namespace {

uint64_t random_u64() {
    uint64_t v = 0;
    if (uv_random(nullptr, nullptr, &v, sizeof v, 0, nullptr) != 0)
        v = uint64_t(uv_hrtime()) ^ (uint64_t(getpid()) << 32);
    return v;
}

} // namespace

Runtime::Runtime(uv_loop_t *loop, core::Ref<Deployment> dist, core::Ref<cache::CacheStore> store,
                 core::Logger logger, core::Ref<cache::Coordinator> coordinator,
                 const core::Clock *clock)
    : loop_(loop), dist_(std::move(dist)), store_(std::move(store)),
      coordinator_(coordinator ? std::move(coordinator)
                               : core::Ref<cache::Coordinator>::adopt(new cache::Coordinator)),
      mailbox_(io::Mailbox::open(loop)), log_(logger),
      clock_(clock ? clock : &core::WallClock::instance()), deadlines_(loop),
      resolver_(loop, &live_),
      origins_(origin::LoopServices{loop_, &buffers_, &deadlines_, &resolver_, &live_}, *dist_),
      grace_(&Runtime::on_grace_expired, this) {
    id_prefix_ = random_u64() & 0xffffffffu;
}

Runtime::~Runtime() = default;

size_t Runtime::next_request_id(char *out) noexcept {
    // 8 hex digits unique to this runtime, then a counter: unique enough to find a request in
    // logs, and cheap (this runs on every hit).
    static constexpr char hex[] = "0123456789abcdef";
    uint64_t v = (id_prefix_ << 32) | (++id_counter_ & 0xffffffffu);
    for (int i = 15; i >= 0; --i, v >>= 4)
        out[i] = hex[v & 0xf];
    return 16;
}

core::Result<uint16_t> Runtime::listen(const config::ListenAddress &addr) {
    if (closing_ || draining_)
        return Error::make(Code::state, Source::internal, "runtime is stopping");
    if (addr.tls && !dist_->tls_server())
        return Error::make(Code::config, Source::config,
                           addr.text + ": https needs perch.tls (certificate and key)");
    auto sa = io::listen_address(addr.host, addr.port);
    if (!sa) return sa.error();
    auto fd = io::open_listen_socket(sa.value(), 511);
    if (!fd) return Error::make(Code::io, Source::internal, addr.text + ": " + fd.error().context);
    uint16_t port = io::bound_port(fd.value());
    auto *l = new ViewerListener(*this, addr.tls ? dist_->tls_server() : nullptr);
    listeners_.push_back(l);
    if (int rc = l->open(fd.value()); rc != 0) {
        l->close();
        return Error::make(Code::io, Source::internal, addr.text + ": " + uv_strerror(rc));
    }
    return port;
}

core::Result<uint16_t> Runtime::listen_admin(const config::AdminSettings &settings) {
    const config::ListenAddress &addr = settings.listen;
    if (closing_ || draining_)
        return Error::make(Code::state, Source::internal, "runtime is stopping");
    if (addr.tls)
        return Error::make(Code::config, Source::config, addr.text + ": admin needs http://");
    auto sa = io::listen_address(addr.host, addr.port);
    if (!sa) return sa.error();
    auto fd = io::open_listen_socket(sa.value(), 64, /*reuse_port=*/false);
    if (!fd)
        return Error::make(Code::io, Source::internal,
                           "perch.admin " + addr.text + ": " + fd.error().context);
    uint16_t port = io::bound_port(fd.value());
    auto *l = new AdminListener(*this, settings.token);
    admin_listeners_.push_back(l);
    if (int rc = l->open(fd.value()); rc != 0) {
        l->close();
        return Error::make(Code::io, Source::internal,
                           "perch.admin " + addr.text + ": " + uv_strerror(rc));
    }
    return port;
}

void Runtime::admin_listener_closed(AdminListener *l) {
    admin_listeners_.erase(std::remove(admin_listeners_.begin(), admin_listeners_.end(), l),
                           admin_listeners_.end());
}

void Runtime::connection_opened(ViewerConnection *c) {
    connections_.push_back(c);
    stats_.connections_active.fetch_add(1, std::memory_order_relaxed);
    if (draining_) c->drain();
}

void Runtime::connection_closed(ViewerConnection *c) {
    connections_.erase(std::remove(connections_.begin(), connections_.end(), c),
                       connections_.end());
    stats_.connections_active.fetch_sub(1, std::memory_order_relaxed);
    maybe_shutdown_done();
}

void Runtime::background_started(BackgroundWork *w) {
    background_.push_back(w);
}

void Runtime::background_finished(BackgroundWork *w) noexcept {
    background_.erase(std::remove(background_.begin(), background_.end(), w), background_.end());
}

void Runtime::listener_closed(ViewerListener *l) {
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
}

void Runtime::shutdown(uint32_t grace_ms, ShutdownDone done, void *user) {
    shutdown_done_ = done;
    shutdown_user_ = user;
    if (!draining_) {
        draining_ = true;
        for (ViewerListener *l : std::vector<ViewerListener *>(listeners_))
            l->close();
        for (AdminListener *l : std::vector<AdminListener *>(admin_listeners_))
            l->close();
        for (ViewerConnection *c : std::vector<ViewerConnection *>(connections_))
            c->drain();
        if (!connections_.empty()) deadlines_.arm(grace_, grace_ms);
    }
    maybe_shutdown_done();
}

void Runtime::on_grace_expired(void *p) {
    auto *rt = static_cast<Runtime *>(p);
    if (!rt->connections_.empty())
        rt->log_.log(core::LogLevel::warn, {}, "shutdown timeout: closing %zu connections",
                     rt->connections_.size());
    for (ViewerConnection *c : std::vector<ViewerConnection *>(rt->connections_))
        c->close_now();
}

void Runtime::maybe_shutdown_done() {
    if (!draining_ || closing_ || !connections_.empty()) return;
    grace_.disarm();
    origins_.close_idle(); // pooled origin connections keep loops alive
    if (ShutdownDone done = std::exchange(shutdown_done_, nullptr)) done(shutdown_user_);
}

void Runtime::close(Closed closed, void *user) {
    if (closing_) return;
    closing_ = true;
    draining_ = true;
    shutdown_done_ = nullptr;
    closed_ = closed;
    closed_user_ = user;
    grace_.disarm();
    for (ViewerListener *l : std::vector<ViewerListener *>(listeners_))
        l->close();
    for (AdminListener *l : std::vector<AdminListener *>(admin_listeners_))
        l->close();
    for (ViewerConnection *c : std::vector<ViewerConnection *>(connections_))
        c->close_now();
    for (BackgroundWork *w : std::vector<BackgroundWork *>(background_))
        w->cancel();
    origins_.clear(); // fetches were cancelled with their transactions
    live_.add();
    mailbox_->close([](void *live) { static_cast<io::LiveCount *>(live)->drop(); }, &live_);
    deadlines_.close();
    live_.when_zero(&Runtime::on_all_closed, this);
}

void Runtime::on_all_closed(void *p) {
    auto *rt = static_cast<Runtime *>(p);
    Closed cb = rt->closed_;
    void *user = rt->closed_user_;
    delete rt;
    if (cb) cb(user);
}

} // namespace perch::edge

// perch_runtime_*: an edge runtime on the host's libuv loop or on its own.
#include "capi/handles.hpp"
#include "capi/log_level.hpp"

#include "cache/memory_store.hpp"
#include "edge/runtime.hpp"

using namespace perch;
using capi::guarded;
using capi::valid;

namespace {

void free_handle_now(perch_runtime *r) {
    perch_config_unref(r->config);
    perch_cache_unref(r->cache);
    r->tag = capi::dead_tag;
    delete r;
}

// A handle destroyed from inside one of its callbacks is freed when the callback returns.
void free_handle(perch_runtime *r) {
    if (r->callback_depth > 0) {
        r->free_pending = true;
        return;
    }
    free_handle_now(r);
}

struct CallbackScope {
    explicit CallbackScope(perch_runtime *r) : r_(r) { ++r_->callback_depth; }
    ~CallbackScope() {
        if (--r_->callback_depth == 0 && r_->free_pending) free_handle_now(r_);
    }
    perch_runtime *r_;
};

void log_sink(void *user, core::LogLevel level, std::string_view id, std::string_view msg) {
    auto *r = static_cast<perch_runtime *>(user);
    if (!r->log) return; // destroyed: logging stops
    CallbackScope scope(r);
    r->log(r->log_user, capi::log_level_to_public(level), id.data(), id.size(), msg.data(),
           msg.size());
}

void on_runtime_closed(void *user) {
    auto *r = static_cast<perch_runtime *>(user);
    r->rt = nullptr;
    r->closed = true;
    // With an external loop nobody waits: free now. With an own loop, the destroying call
    // finishes the job after the loop has run down.
    if (r->loop_mode == PERCH_LOOP_EXTERNAL) free_handle(r);
}

// Own loop: run until every handle has closed, then close the loop and free the handle.
void finish_own_loop(perch_runtime *r) {
    while (!r->closed)
        uv_run(r->loop, UV_RUN_ONCE);
    // Everything the runtime started has finished (connections, file reads and DNS lookups
    // are counted); let the last close callbacks run, then the loop can close.
    while (uv_loop_close(r->loop) == UV_EBUSY) {
        uv_walk(
            r->loop,
            [](uv_handle_t *h, void *) {
                if (!uv_is_closing(h)) uv_close(h, nullptr);
            },
            nullptr);
        uv_run(r->loop, UV_RUN_DEFAULT);
    }
    free_handle(r);
}

void on_shutdown_done(void *user) {
    auto *r = static_cast<perch_runtime *>(user);
    if (auto cb = std::exchange(r->shutdown_cb, nullptr)) {
        CallbackScope scope(r);
        cb(r->shutdown_user, r);
    }
}

perch_status fail(perch_runtime *r, const core::Error &e) {
    r->last_error = e.context;
    return capi::to_status(e.code);
}

} // namespace

extern "C" {

PERCH_API void perch_runtime_options_init(perch_runtime_options *o, uint32_t struct_size) {
    capi::init_options(o, struct_size);
}

PERCH_API perch_status perch_runtime_create(perch_config *cfg, const perch_runtime_options *opts,
                                            perch_runtime **out) {
    if (!out) return PERCH_E_INVALID_ARGUMENT;
    if (!valid(cfg)) return PERCH_E_INVALID_HANDLE;
    if (!cfg->deployment) return PERCH_E_STATE;
    perch_runtime_options defaults{};
    defaults.struct_size = sizeof defaults;
    perch_runtime_options o = capi::read_prefix(opts, defaults);
    if (o.loop_mode != PERCH_LOOP_EXTERNAL && o.loop_mode != PERCH_LOOP_OWN)
        return PERCH_E_INVALID_ARGUMENT;
    if (o.loop_mode == PERCH_LOOP_EXTERNAL && !o.uv_loop) return PERCH_E_INVALID_ARGUMENT;
    std::optional<core::LogLevel> level = capi::log_level_from_public(o.log_level);
    if (!level) return PERCH_E_INVALID_ARGUMENT;
    if (o.cache && !valid(o.cache)) return PERCH_E_INVALID_HANDLE;
    if (uv_version() < ((1u << 16) | (44u << 8))) return PERCH_E_UNSUPPORTED;
    return guarded([&] {
        auto *r = new perch_runtime;
        r->loop_mode = o.loop_mode;
        if (o.loop_mode == PERCH_LOOP_OWN) {
            if (int rc = uv_loop_init(&r->own_loop); rc != 0) {
                delete r;
                return PERCH_E_IO;
            }
            r->loop = &r->own_loop;
        } else {
            r->loop = static_cast<uv_loop_t *>(o.uv_loop);
        }
        perch_config_ref(cfg);
        r->config = cfg;
        if (o.cache) {
            perch_cache_ref(o.cache);
            r->cache = o.cache;
        } else if (perch_status s = perch_cache_create(cfg, nullptr, &r->cache); s != PERCH_OK) {
            perch_config_unref(cfg);
            if (o.loop_mode == PERCH_LOOP_OWN) uv_loop_close(&r->own_loop);
            delete r;
            return s;
        }
        r->log = o.log;
        r->log_user = o.log_user;
        core::Logger logger = o.log ? core::Logger(&log_sink, r, *level)
                                    : core::Logger(&core::Logger::stderr_sink, nullptr, *level);
        r->rt = new edge::Runtime(r->loop, cfg->deployment, r->cache->store, logger,
                                  r->cache->coordinator);
        *out = r;
        return PERCH_OK;
    });
}

PERCH_API void perch_runtime_destroy(perch_runtime *r) {
    if (!valid(r)) return;
    capi::guarded_void([&] {
        r->destroy_requested = true;
        r->log = nullptr;
        r->shutdown_cb = nullptr;
        // With an external loop, close() may free the handle before it returns (when nothing
        // was left open): decide everything before calling it.
        bool run_down_here = r->loop_mode == PERCH_LOOP_OWN && !r->driving;
        r->rt->close(&on_runtime_closed, r);
        // An own loop is run down here, unless a run/step is on the stack: it finishes then.
        if (run_down_here) finish_own_loop(r);
    });
}

PERCH_API const char *perch_runtime_last_error(const perch_runtime *r) {
    if (!valid(r)) return "invalid perch_runtime handle";
    return r->last_error.c_str();
}

PERCH_API perch_status perch_runtime_listen(perch_runtime *r, const char *url, size_t len,
                                            uint16_t *bound_port) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    if (!url) return PERCH_E_INVALID_ARGUMENT;
    return guarded([&] {
        config::ListenAddress addr;
        if (const char *why =
                config::parse_listen_address(std::string_view(url, len), addr, true)) {
            r->last_error = std::string(url, len) + ": " + why;
            return PERCH_E_INVALID_ARGUMENT;
        }
        auto port = r->rt->listen(addr);
        if (!port) return fail(r, port.error());
        if (bound_port) *bound_port = port.value();
        return PERCH_OK;
    });
}

PERCH_API perch_status perch_runtime_listen_configured(perch_runtime *r) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    return guarded([&] {
        for (const config::ListenAddress &a : r->config->deployment->config().perch.listen) {
            auto port = r->rt->listen(a);
            if (!port) return fail(r, port.error());
        }
        return PERCH_OK;
    });
}

PERCH_API perch_status perch_runtime_listen_admin(perch_runtime *r, uint16_t *bound_port) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    return guarded([&] {
        const auto &admin = r->config->deployment->config().perch.admin;
        if (!admin) {
            r->last_error = "the configuration has no perch.admin";
            return PERCH_E_NOT_FOUND;
        }
        auto port = r->rt->listen_admin(*admin);
        if (!port) return fail(r, port.error());
        if (bound_port) *bound_port = port.value();
        return PERCH_OK;
    });
}

PERCH_API perch_status perch_runtime_shutdown(perch_runtime *r, uint32_t grace_ms,
                                              perch_runtime_shutdown_cb cb, void *user) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    return guarded([&] {
        r->shutdown_cb = cb;
        r->shutdown_user = user;
        r->rt->shutdown(grace_ms, &on_shutdown_done, r);
        return PERCH_OK;
    });
}

PERCH_API perch_status perch_runtime_run(perch_runtime *r) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    if (r->loop_mode != PERCH_LOOP_OWN) return PERCH_E_STATE;
    if (r->callback_depth > 0 || r->driving) return PERCH_E_REENTRANT;
    return guarded([&] {
        r->driving = true;
        uv_run(r->loop, UV_RUN_DEFAULT);
        r->driving = false;
        if (r->destroy_requested) finish_own_loop(r);
        return PERCH_OK;
    });
}

PERCH_API int perch_runtime_backend_fd(const perch_runtime *r) {
    if (!valid(r) || r->loop_mode != PERCH_LOOP_OWN) return -1;
    return uv_backend_fd(r->loop);
}

PERCH_API int32_t perch_runtime_timeout_ms(const perch_runtime *r) {
    if (!valid(r) || r->loop_mode != PERCH_LOOP_OWN) return -1;
    return uv_backend_timeout(r->loop);
}

PERCH_API perch_status perch_runtime_step(perch_runtime *r) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    if (r->loop_mode != PERCH_LOOP_OWN) return PERCH_E_STATE;
    if (r->callback_depth > 0 || r->driving) return PERCH_E_REENTRANT;
    return guarded([&] {
        r->driving = true;
        uv_run(r->loop, UV_RUN_NOWAIT);
        r->driving = false;
        if (r->destroy_requested) finish_own_loop(r);
        return PERCH_OK;
    });
}

PERCH_API perch_status perch_runtime_get_stats(const perch_runtime *r, perch_runtime_stats *out) {
    if (!valid(r)) return PERCH_E_INVALID_HANDLE;
    if (!out || out->struct_size < sizeof(uint32_t)) return PERCH_E_INVALID_ARGUMENT;
    const edge::RuntimeStats &s = r->rt->stats();
    auto rd = [](const std::atomic<uint64_t> &a) { return a.load(std::memory_order_relaxed); };
    perch_runtime_stats full{};
    full.struct_size = sizeof full;
    full.requests = rd(s.requests);
    full.hits = rd(s.hits);
    full.refresh_hits = rd(s.refresh_hits);
    full.misses = rd(s.misses);
    full.errors = rd(s.errors);
    full.bytes_out = rd(s.bytes_out);
    full.connections_accepted = rd(s.connections_accepted);
    full.connections_active = rd(s.connections_active);
    full.origin_fetches = rd(s.origin_fetches);
    full.rejected = rd(s.rejected);
    capi::copy_prefix(out, full, out->struct_size);
    return PERCH_OK;
}

PERCH_API perch_cache *perch_runtime_cache(perch_runtime *r) {
    return valid(r) ? r->cache : nullptr;
}

} // extern "C"

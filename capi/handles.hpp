// L4: the structs behind the opaque C handles, their type tags, and the exception firewall
// every entry point runs in (STYLE §4: nothing escapes the boundary).
#pragma once

#include "perch/perch.h"

#include "cache/coordinator.hpp"
#include "cache/store.hpp"
#include "core/status.hpp"
#include "edge/deployment.hpp"

#include <atomic>
#include <cstring>
#include <new>
#include <string>
#include <uv.h>

namespace perch::edge {
class Runtime;
}

namespace perch::capi {

// Type tags: the first field of every handle, checked by each entry point and poisoned when
// the handle is freed (so that a use after destroy is usually caught rather than undefined).
enum : uint32_t {
    config_tag = 0x70636667,  // "pcfg"
    cache_tag = 0x70636368,   // "pcch"
    runtime_tag = 0x7072746d, // "prtm"
    dead_tag = 0xdeaddead,
};

inline perch_status to_status(core::Code c) noexcept {
    return static_cast<perch_status>(c);
}

// Runs f (returning perch_status) with exceptions mapped to statuses.
template <class F> perch_status guarded(F &&f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return PERCH_E_NOMEM;
    } catch (...) {
        return PERCH_E_INTERNAL;
    }
}

// For entry points without a status: exceptions are swallowed (only bad_alloc can occur).
template <class F> void guarded_void(F &&f) noexcept {
    try {
        f();
    } catch (...) {
    }
}

} // namespace perch::capi

struct perch_config {
    uint32_t tag = perch::capi::config_tag;
    std::atomic<uint32_t> refs{1};
    std::string last_error;
    perch::core::Ref<perch::edge::Deployment> deployment; // set once loaded
};

struct perch_cache {
    uint32_t tag = perch::capi::cache_tag;
    std::atomic<uint32_t> refs{1};
    perch::core::Ref<perch::cache::CacheStore> store;
    // Collapses misses across every runtime that shares this store.
    perch::core::Ref<perch::cache::Coordinator> coordinator =
        perch::core::Ref<perch::cache::Coordinator>::adopt(new perch::cache::Coordinator);
};

struct perch_runtime {
    uint32_t tag = perch::capi::runtime_tag;
    uint32_t loop_mode = PERCH_LOOP_EXTERNAL;
    uv_loop_t own_loop{};
    uv_loop_t *loop = nullptr;
    perch::edge::Runtime *rt = nullptr;
    perch_config *config = nullptr; // references held
    perch_cache *cache = nullptr;
    std::string last_error;
    perch_log_cb log = nullptr;
    void *log_user = nullptr;
    perch_runtime_shutdown_cb shutdown_cb = nullptr;
    void *shutdown_user = nullptr;
    int callback_depth = 0; // > 0 while a host callback runs
    bool driving = false;   // inside perch_runtime_run/step
    bool destroy_requested = false;
    bool closed = false;       // the edge::Runtime has freed itself
    bool free_pending = false; // destroyed inside a callback: freed when it returns
};

namespace perch::capi {

inline bool valid(const perch_config *c) noexcept {
    return c && c->tag == config_tag;
}
inline bool valid(const perch_cache *c) noexcept {
    return c && c->tag == cache_tag;
}
inline bool valid(const perch_runtime *r) noexcept {
    return r && r->tag == runtime_tag && !r->destroy_requested;
}

// Copies the prefix of `src` that the caller's struct (of caller_size bytes) has room for.
template <class T> void copy_prefix(T *dst, const T &src, uint32_t caller_size) noexcept {
    size_t n = caller_size < sizeof(T) ? caller_size : sizeof(T);
    uint32_t keep = caller_size;
    std::memcpy(static_cast<void *>(dst), &src, n);
    dst->struct_size = keep;
}

// perch_<x>_options_init: zero (defaults) with struct_size set, for the prefix the caller has.
template <class T> void init_options(T *o, uint32_t struct_size) noexcept {
    if (!o || struct_size < sizeof(uint32_t)) return;
    T defaults{};
    defaults.struct_size = struct_size;
    std::memcpy(static_cast<void *>(o), &defaults,
                struct_size < sizeof(T) ? struct_size : sizeof(T));
}

// ref/unref of the shared handles (config, cache): the last unref poisons and frees.
template <class H> void ref_handle(H *h) noexcept {
    if (valid(h)) h->refs.fetch_add(1, std::memory_order_relaxed);
}
template <class H> void unref_handle(H *h) noexcept {
    if (!valid(h)) return;
    if (h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        h->tag = dead_tag;
        delete h;
    }
}

// Reads the prefix of the caller's options that this library knows; the rest stays default.
template <class T> T read_prefix(const T *src, const T &defaults) noexcept {
    T out = defaults;
    if (!src) return out;
    size_t n = src->struct_size < sizeof(T) ? src->struct_size : sizeof(T);
    std::memcpy(static_cast<void *>(&out), src, n);
    out.struct_size = sizeof(T);
    return out;
}

} // namespace perch::capi

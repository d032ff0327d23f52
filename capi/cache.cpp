// perch_cache_*: a cache store shared between runtimes.
#include "capi/handles.hpp"

#include "cache/invalidation.hpp"
#include "cache/memory_store.hpp"

#include <vector>

using namespace perch;
using capi::guarded;
using capi::valid;

extern "C" {

PERCH_API void perch_cache_options_init(perch_cache_options *o, uint32_t struct_size) {
    capi::init_options(o, struct_size);
}

PERCH_API perch_status perch_cache_create(const perch_config *cfg, const perch_cache_options *opts,
                                          perch_cache **out) {
    if (!out) return PERCH_E_INVALID_ARGUMENT;
    if (cfg && !valid(cfg)) return PERCH_E_INVALID_HANDLE;
    perch_cache_options defaults{};
    defaults.struct_size = sizeof defaults;
    perch_cache_options o = capi::read_prefix(opts, defaults);
    return guarded([&] {
        cache::MemoryStoreOptions mo;
        mo.budget_bytes = o.memory_bytes;
        if (!mo.budget_bytes)
            mo.budget_bytes = cfg && cfg->deployment
                                  ? cfg->deployment->config().perch.cache_memory_bytes
                                  : 256ull << 20;
        mo.max_object_bytes = o.max_object_bytes;
        if (!mo.max_object_bytes && cfg && cfg->deployment)
            mo.max_object_bytes = cfg->deployment->config().perch.cache_max_object_bytes;
        auto *c = new perch_cache;
        c->store = core::Ref<cache::CacheStore>::adopt(new cache::MemoryStore(mo));
        *out = c;
        return PERCH_OK;
    });
}

PERCH_API void perch_cache_ref(perch_cache *c) {
    capi::ref_handle(c);
}

PERCH_API void perch_cache_unref(perch_cache *c) {
    capi::unref_handle(c);
}

PERCH_API perch_status perch_cache_get_stats(const perch_cache *c, perch_cache_stats *out) {
    if (!valid(c)) return PERCH_E_INVALID_HANDLE;
    if (!out || out->struct_size < sizeof(uint32_t)) return PERCH_E_INVALID_ARGUMENT;
    cache::StoreStats s = c->store->stats();
    perch_cache_stats full{};
    full.struct_size = sizeof full;
    full.entries = s.entries;
    full.bytes_used = s.bytes_used;
    full.bytes_budget = s.bytes_budget;
    full.evictions = s.evictions;
    full.inserts = s.inserts;
    full.invalidated = s.invalidations;
    capi::copy_prefix(out, full, out->struct_size);
    return PERCH_OK;
}

PERCH_API perch_status perch_cache_invalidate(perch_cache *c, const perch_slice *paths,
                                              size_t count, perch_cache_invalidate_result *result) {
    // Written whatever the outcome (the prefix the caller's struct has room for): the detail
    // of a refusal travels back through the call, since the handle is shared between threads.
    if (result && result->struct_size < sizeof(uint32_t)) return PERCH_E_INVALID_ARGUMENT;
    perch_cache_invalidate_result out{};
    out.struct_size = sizeof out;
    auto report = [&](perch_status s) {
        if (result) capi::copy_prefix(result, out, result->struct_size);
        return s;
    };
    if (!valid(c)) return report(PERCH_E_INVALID_HANDLE);
    if (!paths && count) return report(PERCH_E_INVALID_ARGUMENT);
    return report(guarded([&] {
        // Validate every path first: an invalid list invalidates nothing.
        std::vector<cache::InvalidationTarget> targets(count);
        for (size_t i = 0; i < count; ++i) {
            const char *why = nullptr;
            if (!paths[i].ptr && paths[i].len) {
                why = "has a NULL ptr with a non-zero len";
            } else {
                std::string_view p(reinterpret_cast<const char *>(paths[i].ptr), paths[i].len);
                why = cache::parse_invalidation_path(p, targets[i]);
            }
            if (why) {
                out.refused_index = i;
                out.refused_reason = why; // static strings (parse_invalidation_path's and ours)
                return PERCH_E_INVALID_ARGUMENT;
            }
        }
        out.removed = cache::invalidate_targets(*c->store, targets);
        return PERCH_OK;
    }));
}

} // extern "C"

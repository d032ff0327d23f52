// cache_key and cache_lookup: the behavior's cache policy builds the key; the store answers Hit,
// stale (served while it is refreshed, or kept for revalidation and errors) or Miss; a miss
// collapses with the fetch in flight for its key, or leads one.
#include "cache/policy.hpp"
#include "cache/vary.hpp"
#include "edge/background_refresh.hpp"
#include "edge/request_shaping.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"
#include "http/cache_control.hpp"

namespace perch::edge {

using core::Ref;

void Transaction::lookup_and_route() {
    phase_ = Phase::cache_key;
    // A cache policy with a maximum TTL of 0 (CachingDisabled) turns caching off; legacy TTLs
    // of 0 mean stored and revalidated every time, as CloudFront's FAQ describes.
    cacheable_ = behavior_->cached_methods.contains(req_->method) &&
                 (behavior_->ttl.max_ttl > 0 || behavior_->cache_policy_id.empty());
    if (!cacheable_) return fetch_from_origin(); // Bypass
    build_cache_key(*req_, host(), path_, *behavior_, key_);
    base_key_len_ = key_.text.size();

    phase_ = Phase::cache_lookup;
    Ref<cache::CachedObject> obj = lookup_variant(rt_.store().lookup(key_));
    if (obj) {
        if (cache::is_fresh(obj->times(), now_)) return serve_object(obj, CacheResult::hit);
        if (sink_ && override_status_ == 0 &&
            cache::usable_while_revalidating(obj->times(), now_)) {
            // stale-while-revalidate: once per key, while a refresh is not in flight.
            if (!rt_.coordinator().busy(key_)) BackgroundRefresh::start(rt_, viewer_);
            return serve_object(obj, CacheResult::hit);
        }
        stale_ = std::move(obj);
    }
    if (sink_ && req_->headers.contains("cache-control") &&
        http::parse_cache_control(req_->headers.joined("cache-control")).only_if_cached)
        return respond_generated(504, "The object is not in the cache (only-if-cached).");
    join_or_fetch();
}

Ref<cache::CachedObject> Transaction::lookup_variant(Ref<cache::CachedObject> obj) {
    if (!obj || obj->status != cache::vary_marker_status) return obj;
    // Stored with Vary: look for this request's variant.
    build_origin_request_head();
    cache::append_variant_suffix(obj->head_view(), origin_req_.headers, key_.text);
    key_.finalize();
    return rt_.store().lookup(key_);
}

void Transaction::join_or_fetch() {
    // Collapse with a fetch in flight for this key, or lead one (error pages and requests
    // with bodies are fetched alone).
    if (!no_collapse_ && upload_ == Upload::none && override_status_ == 0) {
        cache::Coordinator::Joined j = rt_.coordinator().join(key_);
        if (!j.leader && !sink_) { // a background refresh: a fetch is in flight already
            phase_ = Phase::viewer_done;
            return maybe_finish();
        }
        if (!j.leader) return follow_fill(std::move(j.fill));
        fill_ = std::move(j.fill);
        fill_role_ = FillRole::leader;
    }
    fetch_from_origin();
}

} // namespace perch::edge

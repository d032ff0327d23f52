#include "edge/transaction.hpp"

#include "cache/policy.hpp"
#include "cache/stored_head.hpp"
#include "cache/unsafe_invalidation.hpp"
#include "cache/vary.hpp"
#include "core/ascii.hpp"
#include "edge/background_refresh.hpp"
#include "edge/detached_fill.hpp"
#include "edge/error_status.hpp"
#include "edge/fill_wake.hpp"
#include "edge/request_shaping.hpp"
#include "edge/runtime.hpp"
#include "http/cache_control.hpp"
#include "http/conditional.hpp"
#include "http/head_writer.hpp"
#include "http/http_date.hpp"
#include "http/url_path.hpp"

#include <cstdio>

namespace perch::edge {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

namespace {
// Request body bytes waiting for the origin above which the viewer is paused.
constexpr size_t origin_high_water = 256 * 1024;

std::string_view x_cache_value(CacheResult r) {
    switch (r) {
    case CacheResult::hit:
        return "Hit from perch";
    case CacheResult::refresh_hit:
        return "RefreshHit from perch";
    case CacheResult::miss:
        return "Miss from perch";
    case CacheResult::error:
        return "Error from perch";
    case CacheResult::none:
        break;
    }
    return "";
}

} // namespace

Transaction::Transaction(Runtime &rt, ViewerSink &sink, bool background)
    : rt_(rt), sink_(sink), background_(background) {}

Transaction::~Transaction() {
    cancel();
    if (wake_) wake_->listener = nullptr;
}

void Transaction::reset() noexcept {
    leave_fill(cache::FillState::failed);
    no_collapse_ = false;
    req_ = viewer_req_ = nullptr;
    behavior_ = nullptr;
    id_len_ = 0;
    path_.clear();
    stale_.reset();
    writer_.reset();
    head_buf_.reset();
    origin_length_.reset();
    origin_received_ = 0;
    status_ = origin_status_ = override_status_ = 0;
    pending_page_ = nullptr;
    result_ = CacheResult::none;
    not_cached_reason_ = nullptr;
    active_ = cacheable_ = revalidating_ = head_sent_ = viewer_body_ = head_only_ = false;
    paused_ = forwarding_body_ = body_done_ = viewer_done_ = false;
    ranged_ = origin_body_ = false;
    viewer_tail_.reset();
    fill_offset_ = 0;
    body_length_.reset();
    refreshed_.reset();
    times_ = {};
    vary_.clear();
}

void Transaction::start(const core::RequestHead &req, bool has_body,
                        std::optional<uint64_t> body_length) {
    reset();
    active_ = true;
    req_ = viewer_req_ = &req;
    now_ = rt_.now(); // one clock read serves lookup and Age on a hit
    id_len_ = rt_.next_request_id(id_);
    if (!background_) rt_.stats().requests.fetch_add(1, std::memory_order_relaxed);
    head_only_ = req.method == core::Method::head;
    conditional_ = has_conditional_or_range(req.headers);
    forwarding_body_ = has_body;
    body_done_ = !has_body;
    body_length_ = body_length;
    viewer_request();
}

std::string_view Transaction::host() const noexcept {
    auto h = req_->headers.get("host");
    return h ? *h : std::string_view{};
}

// --- viewer_request -------------------------------------------------------------------------

void Transaction::viewer_request() {
    const Deployment &d = rt_.distribution();
    std::string_view target = req_->target;
    if (target.empty() || target[0] != '/') {
        // absolute-form (a request meant for a proxy): keep the path (RFC 9112 §3.2.2).
        size_t scheme = target.find("://");
        if (target == "*" || scheme == std::string_view::npos)
            return respond_generated(400, "The request target is not valid.");
        size_t slash = target.find('/', scheme + 3);
        target = slash == std::string_view::npos ? "/" : target.substr(slash);
    }
    if (req_->headers.count("host") > 1 ||
        (req_->version_minor >= 1 && !req_->headers.contains("host")))
        return respond_generated(400, "The request needs exactly one Host header field.");
    if (!d.config().distribution.enabled)
        return respond_generated(403, "This distribution is disabled.");
    if (!http::normalize_path_into(target.substr(0, target.find('?')), path_))
        return respond_generated(400, "The request path is not valid.");
    const std::string &root_object = d.config().distribution.default_root_object;
    if (path_ == "/" && !root_object.empty()) path_ += root_object;
    behavior_ = &d.behavior_for(path_);
    if (!viewer_policy()) return;
    lookup_and_route();
}

// --- viewer_policy --------------------------------------------------------------------------

bool Transaction::viewer_policy() {
    if (!behavior_->allowed_methods.contains(req_->method)) {
        respond_generated(403, "This distribution is not configured to allow the HTTP request "
                               "method that was used for this request.");
        return false;
    }
    if (!sink_.viewer_is_https()) {
        switch (behavior_->viewer_protocol_policy) {
        case config::ViewerProtocolPolicy::allow_all:
            break;
        case config::ViewerProtocolPolicy::redirect_to_https: {
            std::string location = "https://";
            location += host();
            location += req_->target[0] == '/' ? std::string_view(req_->target) : path_;
            // 301 as CloudFront answers; 307 keeps the method of unsafe requests.
            respond_generated(core::method_is_safe(req_->method) ? 301 : 307, "", location);
            return false;
        }
        case config::ViewerProtocolPolicy::https_only:
            respond_generated(403, "This distribution only accepts HTTPS requests.");
            return false;
        }
    }
    return true;
}

// --- cache_key and cache_lookup -------------------------------------------------------------

void Transaction::lookup_and_route() {
    // A cache policy with a maximum TTL of 0 (CachingDisabled) turns caching off; legacy TTLs
    // of 0 mean stored and revalidated every time, as CloudFront's FAQ describes.
    cacheable_ = behavior_->cached_methods.contains(req_->method) &&
                 (behavior_->ttl.max_ttl > 0 || behavior_->cache_policy_id.empty());
    if (cacheable_) {
        build_cache_key(*req_, host(), path_, *behavior_, key_);
        base_key_len_ = key_.text.size();
        Ref<cache::CachedObject> obj = rt_.store().lookup(key_);
        if (obj && obj->status == cache::vary_marker_status) {
            // Stored with Vary: look for this request's variant.
            build_origin_request_head();
            cache::append_variant_suffix(obj->head_view(), origin_req_.headers, key_.text);
            key_.finalize();
            obj = rt_.store().lookup(key_);
        }
        if (obj) {
            if (cache::is_fresh(obj->times(), now_)) return serve_object(obj, CacheResult::hit);
            if (!background_ && override_status_ == 0 &&
                cache::usable_while_revalidating(obj->times(), now_)) {
                // stale-while-revalidate: once per key, while a refresh is not in flight.
                if (!rt_.coordinator().busy(key_))
                    BackgroundRefresh::start(rt_, *req_, sink_.viewer_is_https(),
                                             sink_.client_address());
                return serve_object(obj, CacheResult::hit);
            }
            stale_ = std::move(obj);
        }
        if (!background_ && req_->headers.contains("cache-control") &&
            http::parse_cache_control(req_->headers.joined("cache-control")).only_if_cached)
            return respond_generated(504, "The object is not in the cache (only-if-cached).");
        return join_or_fetch();
    }
    fetch_from_origin();
}

void Transaction::join_or_fetch() {
    // Collapse with a fetch in flight for this key, or lead one (error pages and requests
    // with bodies are fetched alone).
    if (!no_collapse_ && !forwarding_body_ && override_status_ == 0) {
        cache::Coordinator::Joined j = rt_.coordinator().join(key_);
        if (!j.leader && background_) { // a fetch is in flight already
            viewer_done_ = true;
            return maybe_finish();
        }
        if (!j.leader) return follow_fill(std::move(j.fill));
        fill_ = std::move(j.fill);
        fill_leader_ = true;
    }
    fetch_from_origin();
}

// --- origin_request -------------------------------------------------------------------------

void Transaction::build_origin_request_head() {
    const Deployment &d = rt_.distribution();
    const config::Origin &o = d.origin(behavior_->origin_index);
    bool https = false;
    uint16_t port = 0;
    if (o.custom_origin_config) {
        const config::CustomOriginConfig &c = *o.custom_origin_config;
        https = c.origin_protocol_policy == config::OriginProtocolPolicy::https_only ||
                (c.origin_protocol_policy == config::OriginProtocolPolicy::match_viewer &&
                 sink_.viewer_is_https());
        port = https ? c.https_port : c.http_port;
    }
    OriginRequestInput in;
    in.viewer = req_;
    in.path = path_;
    in.client_ip = sink_.client_address();
    in.behavior = behavior_;
    in.origin = &o;
    in.origin_port = port;
    in.origin_https = https;
    in.for_cache = cacheable_;
    build_origin_request(in, origin_req_);
}

void Transaction::fetch_from_origin() {
    bool revalidate = stale_ && (!stale_->etag().empty() || !stale_->last_modified().empty());
    if (fetch_) std::exchange(fetch_, nullptr)->cancel(); // one origin fetch at a time
    size_t oi = behavior_->origin_index;
    build_origin_request_head();
    revalidating_ = revalidate;
    if (revalidate) {
        if (!stale_->etag().empty()) origin_req_.headers.add("If-None-Match", stale_->etag());
        if (!stale_->last_modified().empty())
            origin_req_.headers.add("If-Modified-Since", stale_->last_modified());
    }
    origin::OriginRequest r;
    r.head = &origin_req_;
    r.has_body = forwarding_body_;
    r.body_length = forwarding_body_ ? body_length_ : std::nullopt;
    r.retryable = !forwarding_body_ && core::method_is_safe(origin_req_.method);
    r.viewer_https = sink_.viewer_is_https();
    request_time_ = now_ = rt_.now();
    rt_.stats().origin_fetches.fetch_add(1, std::memory_order_relaxed);
    fetch_ = rt_.connector(oi).fetch(r, *this);
    if (forwarding_body_ && body_done_) fetch_->end_body();
}

void Transaction::on_request_body(const BufferSlice &chunk) {
    if (!fetch_ || !forwarding_body_) return; // answered without the origin: discard
    fetch_->write_body(chunk);
    if (fetch_->body_queue_bytes() > origin_high_water) sink_.pause_request_body();
}

void Transaction::on_request_body_end() {
    body_done_ = true;
    if (fetch_ && forwarding_body_) fetch_->end_body();
}

void Transaction::on_origin_body_drained() {
    if (fetch_ && fetch_->body_queue_bytes() <= origin_high_water / 2) sink_.resume_request_body();
}

// --- origin_response ------------------------------------------------------------------------

void Transaction::on_origin_head(core::ResponseHead &head, const origin::ResponseInfo &info) {
    response_time_ = now_ = rt_.now();
    origin_status_ = head.status;
    if (cache::invalidates_stored(req_->method, head.status)) {
        // This host's objects only: one host's POST must not evict another's.
        std::string prefix;
        for (const std::string &p : cache::invalidated_paths(path_, host(), head.headers)) {
            prefix.clear();
            append_cache_key_prefix(host(), p, prefix);
            rt_.store().invalidate_keys(p, prefix);
        }
    }
    if (head.status >= 500 && serve_stale_on_error(head.status)) return;
    if (revalidating_ && head.status == 304) {
        if (http::not_modified_selects(stale_->etag(), stale_->last_modified(), head.headers))
            return handle_not_modified(head);
        // RFC 9111 §4.3.4: the 304 is about another representation: ask again, unconditionally.
        stale_.reset();
        return fetch_from_origin();
    }
    stale_.reset(); // the new response replaces it
    revalidating_ = false;
    const Deployment &d = rt_.distribution();
    const config::CustomErrorResponse *cer =
        override_status_ == 0 && head.status >= 400 ? d.custom_error(head.status) : nullptr;
    std::optional<int64_t> error_ttl = error_caching_ttl(head.status);

    not_cached_reason_ = "method";
    bool varies = false; // stored as a variant: waiters may want another one
    // This response's Age, as the viewer will see it.
    std::optional<int64_t> age = http::parse_age(head.headers);
    if (cacheable_) {
        cache::StorageDecision dec = cache::decide_storage(
            origin_req_, head, behavior_->ttl, request_time_, response_time_, error_ttl);
        not_cached_reason_ = dec.reason;
        if (dec.store) {
            if (age) age = dec.initial_age_ms / 1000; // corrected (RFC 9111 §4.2.3)
            times_ = cache::stored_times(dec, response_time_);
            vary_ = cache::vary_field_list(head.headers);
            if (!vary_.empty()) {
                varies = true;
                store_as_variant(vary_);
            }
            writer_ = rt_.store().begin_insert(key_, info.no_body ? std::optional<uint64_t>(0)
                                                                  : info.content_length);
            if (!writer_) not_cached_reason_ = "too large for the cache";
        }
    }
    origin_length_ = info.no_body ? std::optional<uint64_t>(0) : info.content_length;
    origin_received_ = 0;
    // The stored head keeps the origin's status; the viewer may get another one.
    bool keep_cookies = behavior_->shape.forwards_cookies();
    head_text_.clear();
    append_response_head(head, head.status, keep_cookies, response_time_, head_text_);
    etag_.assign(head.headers.get("etag").value_or(""));
    last_modified_.assign(head.headers.get("last-modified").value_or(""));
    origin_body_ = !info.no_body;
    if (fill_leader_) {
        // Waiters share what is stored; a custom error response is looked up again by each.
        if (!writer_) {
            leave_fill(cache::FillState::released);
        } else if (!cer) {
            if (varies)
                fill_->publish_variant_head(Buffer::copy_of(head_text_), head.status,
                                            origin_length_, times_, vary_, key_);
            else
                fill_->publish_head(Buffer::copy_of(head_text_), head.status, origin_length_,
                                    times_);
            fill_streaming_ = true;
        }
    }

    if (cer && !cer->response_page_path.empty()) {
        // Keep the origin's error (drained into the store), then answer with the page.
        pending_page_ = cer;
        viewer_body_ = false;
        if (!writer_) {
            fetch_->cancel();
            fetch_ = nullptr;
            pending_page_ = nullptr;
            serve_error_page(*cer, head.status);
        }
        return;
    }
    status_ = cer && cer->response_code ? cer->response_code
              : override_status_        ? override_status_
                                        : head.status;
    result_ = status_ >= 400 ? CacheResult::error : CacheResult::miss;
    rt_.stats().misses.fetch_add(1, std::memory_order_relaxed);
    append_request_fields(result_, age);
    if (conditional_ && cacheable_ && status_ == 200 && head.status == 200) {
        // The origin was asked for the whole object: the edge answers If-* and Range itself.
        if (answer_preconditions(head_text_, response_time_) ||
            start_range(head_text_, origin_length_))
            return maybe_finish();
    }
    std::string viewer_head = head_text_;
    if (status_ != head.status) cache::replace_status_line(viewer_head, status_);
    head_buf_ = Buffer::copy_of(viewer_head);
    bool no_body = head_only_ || info.no_body;
    viewer_body_ = !no_body;
    write_viewer_head(BufferSlice(head_buf_, head_buf_->data(), head_buf_->size()),
                      info.no_body && !head_only_ ? std::nullopt : origin_length_, false, no_body,
                      no_body);
    if (no_body) viewer_done_ = true;
}

void Transaction::store_as_variant(std::string_view vary) {
    cache::CacheKey base;
    base.text.assign(key_.text, 0, base_key_len_);
    base.path = key_.path;
    base.finalize();
    Ref<cache::CachedObject> marker = rt_.store().lookup(base);
    if (!marker || marker->status != cache::vary_marker_status || marker->head_view() != vary) {
        if (auto w = rt_.store().begin_insert(base, 0)) cache::commit_vary_marker(*w, vary, times_);
    }
    key_.text.resize(base_key_len_);
    cache::append_variant_suffix(vary, origin_req_.headers, key_.text);
    key_.finalize();
}

bool Transaction::serve_stale_on_error(uint16_t status) {
    if (!stale_ || stale_->status >= 500 || !cache::usable_on_error(stale_->times(), now_))
        return false;
    if (status != 0 && (status < 500 || status > 599)) return false; // CloudFront: any 5xx
    if (fetch_) std::exchange(fetch_, nullptr)->cancel();
    writer_.reset();
    revalidating_ = false;
    // CloudFront: the stale copy stands in for the error caching TTL (within stale-if-error).
    cache::StoredTimes t = stale_->times();
    int64_t age = cache::current_age_ms(t, now_);
    int64_t keep_ms =
        error_caching_ttl(status ? status : 502).value_or(cache::default_error_caching_min_ttl) *
        1000;
    int64_t ttl = age + keep_ms;
    if (t.stale_if_error_ms > 0) ttl = std::min(ttl, t.ttl_ms + t.stale_if_error_ms);
    t.response_time = now_;
    t.initial_age_ms = age;
    t.ttl_ms = ttl;
    Ref<cache::CachedObject> kept =
        cache::restamped(*stale_, Buffer::copy_of(stale_->head_view()), t,
                         std::string(stale_->etag()), std::string(stale_->last_modified()));
    rt_.store().refresh(stale_, kept);
    stale_.reset();
    leave_fill(cache::FillState::complete); // waiters find the kept copy
    rt_.log().log(core::LogLevel::warn, request_id(), "origin %s: %s; serving the stale copy",
                  rt_.distribution().origin(behavior_->origin_index).origin_id.c_str(),
                  status ? "5xx answer" : "unreachable");
    serve_object(kept, CacheResult::hit);
    return true;
}

void Transaction::handle_not_modified(core::ResponseHead &head) {
    // RFC 9111 §4.3.4: the stored response, with the fields the 304 carries. A 304 without
    // Date gets one now, as the stored head did when it arrived (RFC 9110 §6.6.1): the old
    // Date would make the refreshed copy look as old as the first fetch.
    if (!head.headers.contains("date")) {
        char date[http::http_date_length];
        head.headers.add("Date",
                         std::string_view(date, http::format_http_date(response_time_, date)));
    }
    std::string merged = cache::merge_stored_head(stale_->head_view(), head.headers,
                                                  behavior_->shape.forwards_cookies());
    core::ResponseHead merged_head;
    cache::parse_stored_head(merged, merged_head);
    cache::StorageDecision dec =
        cache::decide_storage(origin_req_, merged_head, behavior_->ttl, request_time_,
                              response_time_, error_caching_ttl(stale_->status));
    cache::CommitInfo info{
        stale_->status, cache::stored_times(dec, response_time_),
        std::string(merged_head.headers.get("etag").value_or(stale_->etag())),
        std::string(merged_head.headers.get("last-modified").value_or(stale_->last_modified())),
        std::string(stale_->vary())};
    Ref<cache::CachedObject> fresh =
        cache::CachedObject::refreshed(*stale_, Buffer::copy_of(merged), std::move(info));
    if (dec.store) rt_.store().refresh(stale_, fresh);
    stale_.reset();
    revalidating_ = false;
    // Served once this fetch has completed (a 304 has no body): serving may start another
    // fetch (a custom error page), and a transaction has one fetch at a time.
    refreshed_ = std::move(fresh);
}

void Transaction::on_origin_body(const BufferSlice &chunk) {
    origin_received_ += chunk.len;
    if (fill_streaming_) fill_->publish_body(chunk);
    if (writer_ && !writer_->append(chunk.ptr, chunk.len)) {
        writer_.reset();
        not_cached_reason_ = "too large for the cache";
        if (fill_streaming_) fill_->stop_joining(); // waiters keep only what they lack
    }
    if (fill_streaming_) pause_origin_for_fill();
    if (viewer_body_) {
        if (ranged_) {
            write_range_bytes(origin_received_ - chunk.len, &chunk, 1);
            if (viewer_done_) return maybe_finish();
        } else {
            BufferSlice piece = core::compact_slice(chunk, viewer_tail_);
            ResponseWrite w;
            w.body = &piece;
            w.body_count = 1;
            sink_.write_response(w);
        }
        if (!paused_ && fetch_ && sink_.pending_write_bytes() > viewer_high_water) {
            paused_ = true;
            fetch_->pause_response();
        }
    } else if (!writer_ && !fill_streaming_ && fetch_) {
        // Nobody wants these bytes (a HEAD, an error page's origin error): stop fetching.
        fetch_->cancel();
        fetch_ = nullptr;
        if (pending_page_) {
            const config::CustomErrorResponse *cer = std::exchange(pending_page_, nullptr);
            return serve_error_page(*cer, origin_status_);
        }
        maybe_finish();
    }
}

void Transaction::on_viewer_drained() {
    if (fill_streaming_ && !fill_leader_) return pump_fill();
    maybe_resume_origin();
}

void Transaction::on_origin_complete() {
    fetch_ = nullptr;
    bool truncated = origin_length_ && origin_received_ != *origin_length_;
    if (refreshed_) {
        leave_fill(cache::FillState::complete);
        return serve_object(std::exchange(refreshed_, nullptr), CacheResult::refresh_hit);
    }
    if (writer_) {
        if (truncated) {
            writer_.reset(); // never store a truncated object
        } else {
            cache::commit_stored(*writer_, head_text_, origin_status_, origin_received_, times_,
                                 std::move(etag_), std::move(last_modified_));
            writer_.reset();
        }
    }
    leave_fill(truncated ? cache::FillState::failed : cache::FillState::complete);
    if (pending_page_) {
        const config::CustomErrorResponse *cer = std::exchange(pending_page_, nullptr);
        return serve_error_page(*cer, origin_status_);
    }
    if (head_sent_ && !viewer_done_) {
        if (truncated) {
            sink_.abort_response(); // never a complete-looking response
        } else {
            ResponseWrite w;
            w.last = true;
            sink_.write_response(w);
        }
        viewer_done_ = true;
    }
    maybe_finish();
}

void Transaction::on_origin_error(const core::Error &e) {
    fetch_ = nullptr;
    writer_.reset();
    if (!head_sent_ && !refreshed_ && serve_stale_on_error(0)) return;
    leave_fill(cache::FillState::failed);
    if (refreshed_)
        return serve_object(std::exchange(refreshed_, nullptr), CacheResult::refresh_hit);
    rt_.log().log(core::LogLevel::warn, request_id(), "origin %s: %s (%s %s)",
                  rt_.distribution().origin(behavior_->origin_index).origin_id.c_str(),
                  e.context.c_str(), req_->method_text.c_str(), path_.c_str());
    if (pending_page_) {
        const config::CustomErrorResponse *cer = std::exchange(pending_page_, nullptr);
        return serve_error_page(*cer, origin_status_);
    }
    if (viewer_done_) return maybe_finish();
    if (head_sent_) {
        sink_.abort_response();
        viewer_done_ = true;
        return maybe_finish();
    }
    respond_origin_failure(e);
}

void Transaction::respond_origin_failure(const core::Error &e) {
    uint16_t status = http_status_for(e);
    if (override_status_ == 0) {
        if (const config::CustomErrorResponse *cer = rt_.distribution().custom_error(status)) {
            if (!cer->response_page_path.empty()) return serve_error_page(*cer, status);
            if (cer->response_code) status = cer->response_code;
        }
    }
    respond_generated(status, status == 504 ? "The origin did not answer in time."
                                            : "The edge could not get a response from the origin.");
}

std::optional<int64_t> Transaction::error_caching_ttl(uint16_t status) const noexcept {
    if (const config::CustomErrorResponse *cer = rt_.distribution().custom_error(status))
        return cer->error_caching_min_ttl;
    if (cache::error_caching_of(status) != cache::ErrorCaching::none)
        return cache::default_error_caching_min_ttl;
    return std::nullopt;
}

// --- viewer_response ------------------------------------------------------------------------

void Transaction::serve_error_page(const config::CustomErrorResponse &cer,
                                   uint16_t original_status) {
    override_status_ = cer.response_code ? cer.response_code : original_status;
    // The page is fetched like any object (through its own behavior and cache key).
    page_req_.clear();
    page_req_.method = head_only_ ? core::Method::head : core::Method::get;
    page_req_.method_text = head_only_ ? "HEAD" : "GET";
    page_req_.target = cer.response_page_path;
    if (auto h = req_->headers.get("host")) page_req_.headers.add("Host", *h);
    if (auto ae = req_->headers.get("accept-encoding"))
        page_req_.headers.add("Accept-Encoding", *ae);
    req_ = &page_req_;
    path_ = cer.response_page_path;
    behavior_ = &rt_.distribution().behavior_for(path_);
    forwarding_body_ = false;
    revalidating_ = false;
    stale_.reset();
    writer_.reset();
    lookup_and_route();
}

void Transaction::serve_object(const Ref<cache::CachedObject> &obj, CacheResult result) {
    if (override_status_ == 0 && obj->status >= 400) {
        if (const config::CustomErrorResponse *cer = rt_.distribution().custom_error(obj->status)) {
            if (!cer->response_page_path.empty()) return serve_error_page(*cer, obj->status);
            if (cer->response_code) override_status_ = cer->response_code;
        }
    }
    status_ = override_status_ ? override_status_ : obj->status;
    result_ = status_ >= 400 ? CacheResult::error : result;
    auto &st = rt_.stats();
    st.hits.fetch_add(1, std::memory_order_relaxed);
    if (result == CacheResult::refresh_hit) st.refresh_hits.fetch_add(1, std::memory_order_relaxed);
    append_request_fields(result_, cache::current_age_ms(obj->times(), now_) / 1000);
    if (conditional_ && status_ == obj->status) {
        if (answer_preconditions(obj->head_view(), obj->times().response_time))
            return maybe_finish();
        if (start_range(obj->head_view(), obj->body_size())) {
            if (ranged_) serve_stored_range(*obj);
            return maybe_finish();
        }
    }

    BufferSlice head = obj->head_slice();
    if (status_ != obj->status) {
        std::string text(obj->head_view());
        cache::replace_status_line(text, status_);
        head_buf_ = Buffer::copy_of(text);
        head = BufferSlice(head_buf_, head_buf_->data(), head_buf_->size());
    }
    bool no_body = head_only_ || status_ == 204 || status_ == 304;
    constexpr size_t batch = 16;
    BufferSlice slices[batch];
    size_t next = 0, total = no_body ? 0 : obj->body_count();
    ResponseWrite w;
    w.head = &head;
    w.fields = fields_text_;
    w.status = status_;
    w.content_length = obj->body_size();
    w.length_in_head = true;
    w.no_body = no_body;
    do {
        size_t n = 0;
        for (; n < batch && next < total; ++n, ++next)
            slices[n] = obj->body_slice(next);
        w.body = slices;
        w.body_count = n;
        w.last = next >= total;
        sink_.write_response(w);
        w.head = nullptr;
        w.fields = {};
    } while (next < total);
    head_sent_ = true;
    viewer_done_ = true;
    maybe_finish();
}

void Transaction::respond_generated(uint16_t status, std::string_view message,
                                    std::string_view location) {
    status_ = status;
    result_ = status >= 400 ? CacheResult::error : CacheResult::none;
    if (status >= 500) rt_.stats().errors.fetch_add(1, std::memory_order_relaxed);
    std::string body;
    if (!message.empty()) {
        char code[8];
        snprintf(code, sizeof code, "%u", status);
        std::string title = std::string(code) + " " + std::string(core::reason_phrase(status));
        body = "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head><body><h1>" +
               title + "</h1><p>" + std::string(message) +
               "</p><p>Request ID: " + std::string(request_id()) + "</p></body></html>\n";
    }
    head_text_.clear();
    http::HeadWriter w(head_text_);
    w.status_line(status, {});
    char date[http::http_date_length];
    w.field("Date", std::string_view(date, http::format_http_date(rt_.now(), date)));
    if (!body.empty()) w.field("Content-Type", "text/html; charset=utf-8");
    if (!location.empty()) w.field("Location", location);
    w.field("Via", via_value);
    append_request_fields(result_, std::nullopt);
    head_buf_ = Buffer::create(head_text_.size() + body.size());
    head_buf_->append(head_text_.data(), head_text_.size());
    head_buf_->append(body.data(), body.size());
    BufferSlice head(head_buf_, head_buf_->data(), head_text_.size());
    BufferSlice content(head_buf_, head_buf_->data() + head_text_.size(), body.size());
    ResponseWrite rw;
    rw.head = &head;
    rw.fields = fields_text_;
    rw.status = status;
    rw.content_length = body.size();
    rw.no_body = head_only_;
    rw.body = head_only_ || body.empty() ? nullptr : &content;
    rw.body_count = rw.body ? 1 : 0;
    rw.last = true;
    sink_.write_response(rw);
    head_sent_ = true;
    viewer_done_ = true;
    maybe_finish();
}

void Transaction::write_viewer_head(const BufferSlice &head, std::optional<uint64_t> length,
                                    bool length_in_head, bool no_body, bool last) {
    ResponseWrite w;
    w.head = &head;
    w.fields = fields_text_;
    w.status = status_;
    w.content_length = length;
    w.length_in_head = length_in_head;
    w.no_body = no_body;
    w.last = last;
    sink_.write_response(w);
    head_sent_ = true;
}

void Transaction::append_request_fields(CacheResult result, std::optional<int64_t> age_s) {
    fields_text_.clear();
    http::HeadWriter w(fields_text_);
    if (age_s) w.field("Age", uint64_t(*age_s < 0 ? 0 : *age_s));
    if (result != CacheResult::none) w.field("X-Cache", x_cache_value(result));
    w.field("X-Request-Id", request_id());
}

void Transaction::maybe_finish() {
    if (!active_ || !viewer_done_) return;
    if (fetch_) {
        // The viewer has its answer (a 304, a range, a HEAD) while the body still arrives for
        // the store or waiters: let that finish without holding the viewer's connection.
        if (!origin_body_ || pending_page_ || (forwarding_body_ && !body_done_)) return;
        if (writer_ || fill_streaming_)
            detach_fetch();
        else
            std::exchange(fetch_, nullptr)->cancel();
    }
    active_ = false;
    log_completion();
    sink_.transaction_finished();
}

void Transaction::log_completion() {
    const core::Logger &log = rt_.log();
    if (!log.enabled(core::LogLevel::debug) || !viewer_req_) return;
    log.log(core::LogLevel::debug, request_id(), "%s %s -> %u %s%s%s",
            viewer_req_->method_text.c_str(), viewer_req_->target.c_str(), status_,
            result_ == CacheResult::none ? "-" : x_cache_value(result_).data(),
            not_cached_reason_ ? " not cached: " : "",
            not_cached_reason_ ? not_cached_reason_ : "");
}

void Transaction::detach_fetch() {
    DetachedFill::State d;
    d.fetch = std::exchange(fetch_, nullptr);
    d.writer = std::move(writer_);
    d.fill = std::exchange(fill_, nullptr);
    d.head_text = std::move(head_text_);
    d.status = origin_status_;
    d.times = times_;
    d.etag = std::move(etag_);
    d.last_modified = std::move(last_modified_);
    d.length = origin_length_;
    d.received = origin_received_;
    fill_leader_ = fill_streaming_ = false;
    DetachedFill::start(rt_, std::move(d));
}

void Transaction::cancel() {
    // Waiters are streaming this response: finish it for them.
    if (fetch_ && origin_body_ && fill_leader_ && fill_streaming_ && fill_->has_waiters())
        detach_fetch();
    // Waiters still wait for a head that will not come: they elect a new leader.
    if (fetch_ && fill_leader_ && origin_status_ == 0) leave_fill(cache::FillState::abandoned);
    if (fetch_) {
        origin::Fetch *f = std::exchange(fetch_, nullptr);
        f->cancel();
    }
    writer_.reset();
    leave_fill(cache::FillState::failed);
    active_ = false;
}

} // namespace perch::edge

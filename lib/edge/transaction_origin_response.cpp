// origin_response: the origin's head decides what happens next: unsafe methods invalidate,
// a 5xx may be answered with a stale copy, a 304 refreshes the stored one, and a storable
// response starts being stored; its body then arrives through the fill feed (fill_feed.hpp),
// which tees it into the store and to collapsed waiters as this transaction streams it.
#include "cache/policy.hpp"
#include "cache/stored_head.hpp"
#include "cache/unsafe_invalidation.hpp"
#include "cache/vary.hpp"
#include "edge/request_shaping.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"
#include "http/cache_control.hpp"
#include "http/conditional.hpp"
#include "http/head_writer.hpp"
#include "http/http_date.hpp"

namespace perch::edge {

using core::Buffer;
using core::BufferSlice;
using core::Ref;

void Transaction::on_origin_head(core::ResponseHead &head, const origin::ResponseInfo &info) {
    phase_ = Phase::origin_response;
    response_time_ = now_ = rt_.now();
    origin_status_ = head.status;
    invalidate_for_unsafe_method(head);
    if (head.status >= 500 && serve_stale_on_error(head.status)) return;
    if (revalidating() && head.status == 304) {
        if (http::not_modified_selects(stale_->etag(), stale_->last_modified(), head.headers))
            return handle_not_modified(head);
        // RFC 9111 §4.3.4: the 304 is about another representation: ask again, unconditionally.
        stale_.reset();
        return fetch_from_origin();
    }
    stale_.reset(); // the new response replaces it
    std::optional<policy::ErrorResponse> cer;
    if (override_status_ == 0)
        cer = policy::error_response(rt_.distribution().config().distribution, head.status);
    std::optional<int64_t> age = http::parse_age(head.headers); // as the viewer will see it
    not_cached_reason_ = "method";
    Storing storing;
    if (cacheable_) storing = begin_storing(head, info, age);
    // Waiters share what is stored; a custom error response is looked up again by each.
    bool publish = storing.writer && !cer;
    if (fill_role_ == FillRole::leader && !storing.writer) leave_fill(cache::FillState::released);
    start_feed(head, info, std::move(storing), publish);
    if (cer && !cer->page_path.empty()) {
        // Keep the origin's error (drained into the store), then answer with the page.
        if (feed_->storing()) {
            pending_page_ = cer;
            return;
        }
        feed_.reset();
        return serve_error_page(*cer, head.status);
    }
    status_ = cer                ? cer->status_for(head.status)
              : override_status_ ? override_status_
                                 : head.status;
    respond_from_origin(head, info, age);
}

void Transaction::invalidate_for_unsafe_method(const core::ResponseHead &head) {
    if (!cache::invalidates_stored(req_->method, head.status)) return;
    // This host's objects only: one host's POST must not evict another's.
    std::string prefix;
    for (const std::string &p : cache::invalidated_paths(path_, host(), head.headers)) {
        prefix.clear();
        append_cache_key_prefix(host(), p, prefix);
        rt_.store().invalidate_keys(p, prefix);
    }
}

cache::SetCookieRule Transaction::set_cookie_rule() const noexcept {
    if (!behavior_->shape.forwards_cookies()) return cache::SetCookieRule::stripped;
    return behavior_->store_set_cookie ? cache::SetCookieRule::stored
                                       : cache::SetCookieRule::shared_only;
}

// 1xx relayed to this transaction's own viewer (a collapsed waiter or a hit has none), not to
// HTTP/1.0 viewers, which cannot read them (RFC 9110 §15.2); never stored.
void Transaction::on_origin_interim(const core::ResponseHead &head) {
    if (!sink_ || phase_ != Phase::origin_request || req_->version_minor < 1 ||
        override_status_ != 0)
        return;
    head_text_.clear();
    http::HeadWriter w(head_text_);
    w.status_line(head.status, head.reason);
    const http::HopByHopFields hop_by_hop(head.headers);
    for (size_t i = 0; i < head.headers.size(); ++i)
        if (!hop_by_hop.covers(head.headers.name(i)))
            w.field(head.headers.name(i), head.headers.value(i));
    sink_->send_interim(head.status, head_text_);
}

Transaction::Storing Transaction::begin_storing(const core::ResponseHead &head,
                                                const origin::ResponseInfo &info,
                                                std::optional<int64_t> &age) {
    Storing s;
    std::optional<int64_t> error_ttl =
        policy::error_caching_ttl(rt_.distribution().config().distribution, head.status);
    cache::StorageDecision dec =
        cache::decide_storage(origin_req_, head, behavior_->ttl, request_time_, response_time_,
                              error_ttl, set_cookie_rule());
    not_cached_reason_ = dec.reason;
    if (!dec.store) return s;
    if (age) age = dec.initial_age_ms / 1000; // corrected (RFC 9111 §4.2.3)
    s.times = cache::stored_times(dec, response_time_);
    s.vary = cache::vary_field_list(head.headers);
    if (!s.vary.empty()) store_as_variant(s.vary, s.times);
    s.writer = rt_.store().begin_insert(key_, info.no_body ? std::optional<uint64_t>(0)
                                                           : info.content_length);
    if (!s.writer) not_cached_reason_ = "too large for the cache";
    return s;
}

void Transaction::store_as_variant(std::string_view vary, const cache::StoredTimes &times) {
    cache::CacheKey base;
    base.text.assign(key_.text, 0, base_key_len_);
    base.path = key_.path;
    base.finalize();
    Ref<cache::CachedObject> marker = rt_.store().lookup(base);
    if (!marker || marker->status != cache::vary_marker_status || marker->head_view() != vary) {
        if (auto w = rt_.store().begin_insert(base, 0)) cache::commit_vary_marker(*w, vary, times);
    }
    key_.text.resize(base_key_len_);
    cache::append_variant_suffix(vary, origin_req_.headers, key_.text);
    key_.finalize();
}

void Transaction::start_feed(const core::ResponseHead &head, const origin::ResponseInfo &info,
                             Storing storing, bool publish) {
    // The stored head keeps the origin's status; the viewer may get another one.
    head_text_.clear();
    append_response_head(head, head.status, behavior_->shape.forwards_cookies(), response_time_,
                         head_text_);
    FillFeed::Setup s;
    s.fetch = std::exchange(fetch_, nullptr);
    s.writer = std::move(storing.writer);
    if (s.writer) { // what the stored object will be committed with
        s.head_text = head_text_;
        s.etag.assign(head.headers.get("etag").value_or(""));
        s.last_modified.assign(head.headers.get("last-modified").value_or(""));
    }
    s.status = head.status;
    s.times = storing.times;
    s.length = info.no_body ? std::optional<uint64_t>(0) : info.content_length;
    if (fill_role_ == FillRole::leader) {
        if (publish && storing.vary.empty())
            fill_->publish_head(Buffer::copy_of(head_text_), head.status, s.length, s.times);
        else if (publish)
            fill_->publish_variant_head(Buffer::copy_of(head_text_), head.status, s.length, s.times,
                                        storing.vary, key_);
        s.fill = std::move(fill_);
        s.fill_streaming = publish;
        fill_role_ = FillRole::none;
    }
    feed_ = std::make_unique<FillFeed>(rt_, std::move(s), static_cast<FillFeed::Reader *>(this));
}

void Transaction::respond_from_origin(const core::ResponseHead &head,
                                      const origin::ResponseInfo &info,
                                      std::optional<int64_t> age) {
    result_ = status_ >= 400 ? CacheResult::error : CacheResult::miss;
    rt_.stats().misses.fetch_add(1, std::memory_order_relaxed);
    append_request_fields(result_, age);
    std::optional<uint64_t> length =
        info.no_body ? std::optional<uint64_t>(0) : info.content_length;
    if (conditional_ && cacheable_ && status_ == 200 && head.status == 200) {
        // The origin was asked for the whole object: the edge answers If-* and Range itself.
        if (answer_preconditions(head_text_, response_time_)) return maybe_finish();
        if (start_range(head_text_, length)) {
            body_ = ranged_ ? Body::origin : Body::none; // the selected bytes come with the body
            return maybe_finish();
        }
    }
    if (status_ == head.status) {
        head_buf_ = Buffer::copy_of(head_text_);
    } else {
        std::string viewer_head = head_text_;
        cache::replace_status_line(viewer_head, status_);
        head_buf_ = Buffer::copy_of(viewer_head);
    }
    bool no_body = head_only_ || info.no_body;
    body_ = no_body ? Body::none : Body::origin;
    send_head(BufferSlice(head_buf_, head_buf_->data(), head_buf_->size()),
              info.no_body && !head_only_ ? std::nullopt : length, false, no_body);
    maybe_finish();
}

void Transaction::on_feed_body(uint64_t offset, const BufferSlice &chunk) {
    if (body_ != Body::origin || phase_ != Phase::viewer_response || origin_end_) return;
    if (ranged_) {
        range_.select(offset, chunk, pending_);
        // Once the last selected byte is in, the rest of the body goes only to the store.
        if (range_.done()) origin_end_ = FeedEnd::complete;
    } else {
        pending_.push_back(core::compact_slice(chunk, viewer_tail_));
    }
    if (!wanted_) {
        if (!pending_.empty() && feed_) feed_->hold(true); // proceed() lets it go on
        return;
    }
    emit();
}

void Transaction::on_feed_reader_cut() {
    rt_.log().log(core::LogLevel::info, request_id(),
                  "viewer cut loose: it held a stream that is not stored, and its collapsed "
                  "viewers, too long");
    FillFeed::leave(std::move(feed_), FillFeed::Leave::viewer_gone);
    pending_.clear();
    origin_end_ = FeedEnd::failed;
    if (sink_) sink_->abort(); // never a complete-looking response
    viewer_done();
}

void Transaction::on_feed_end(FeedEnd how, const core::Error *error) {
    feed_.reset(); // it has finished
    if (how == FeedEnd::failed && error)
        rt_.log().log(core::LogLevel::warn, request_id(), "origin %s: %s (%s %s)",
                      rt_.distribution().origin(behavior_->origin_index).origin_id.c_str(),
                      error->context.c_str(), req_->method_text.c_str(), path_.c_str());
    if (refreshed_)
        return serve_object(std::exchange(refreshed_, nullptr), CacheResult::refresh_hit);
    if (pending_page_) {
        policy::ErrorResponse page = *std::exchange(pending_page_, std::nullopt);
        return serve_error_page(page, origin_status_);
    }
    if (phase_ == Phase::viewer_response && body_ == Body::origin) {
        if (!origin_end_) origin_end_ = how;
        return emit(); // the rest, then the end (or the abort)
    }
    if (phase_ == Phase::origin_response && how == FeedEnd::failed && error)
        return respond_origin_failure(*error);
    maybe_finish();
}

// --- 304 and stale-on-error ------------------------------------------------------------------

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
    cache::StorageDecision dec = cache::decide_storage(
        origin_req_, merged_head, behavior_->ttl, request_time_, response_time_,
        policy::error_caching_ttl(rt_.distribution().config().distribution, stale_->status),
        set_cookie_rule());
    cache::CommitInfo info{
        stale_->status, cache::stored_times(dec, response_time_),
        std::string(merged_head.headers.get("etag").value_or(stale_->etag())),
        std::string(merged_head.headers.get("last-modified").value_or(stale_->last_modified())),
        std::string(stale_->vary())};
    Ref<cache::CachedObject> fresh =
        cache::CachedObject::refreshed(*stale_, Buffer::copy_of(merged), std::move(info));
    if (dec.store) rt_.store().refresh(stale_, fresh);
    stale_.reset();
    // Served once this fetch has completed (a 304 has no body): serving may start another
    // fetch (a custom error page), and a transaction has one fetch at a time.
    refreshed_ = std::move(fresh);
    start_feed(head, origin::ResponseInfo{0, true}, Storing{}, false);
}

bool Transaction::serve_stale_on_error(uint16_t status) {
    if (!stale_ || stale_->status >= 500 || !cache::usable_on_error(stale_->times(), now_))
        return false;
    if (status != 0 && (status < 500 || status > 599)) return false; // CloudFront: any 5xx
    if (fetch_) std::exchange(fetch_, nullptr)->cancel();
    // CloudFront: the stale copy stands in for the error caching TTL (within stale-if-error).
    cache::StoredTimes t = stale_->times();
    int64_t age = cache::current_age_ms(t, now_);
    int64_t keep_ms =
        policy::error_caching_ttl(rt_.distribution().config().distribution, status ? status : 502)
            .value_or(cache::default_error_caching_min_ttl) *
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

} // namespace perch::edge

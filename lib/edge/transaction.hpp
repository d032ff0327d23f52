// One viewer request through the edge, in CloudFront's phases: viewer_request (normalise,
// request id), viewer_policy (methods, protocol), cache_key, cache_lookup (Hit / stale /
// Miss / Bypass), origin_request, origin_response (cacheability, TTL, tee into the store as
// bytes stream), viewer_response (Age, Via, X-Cache, custom error responses) and log.
//
// A ViewerConnection owns one Transaction and reuses it for each request (reset() keeps the
// buffers' capacity, so a warm connection allocates nothing on a cache hit). Call order:
// start(), then on_request_body*() / on_request_body_end() as the body arrives; the
// transaction calls sink.transaction_finished() exactly once, or the owner calls cancel().
#pragma once

#include "cache/coordinator.hpp"
#include "cache/store.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/http_message.hpp"
#include "edge/fill_wake.hpp"
#include "edge/range_response.hpp"
#include "edge/viewer_sink.hpp"
#include "origin/connector.hpp"

#include <memory>
#include <optional>
#include <string>

namespace perch::edge {

class Runtime;

// Whether a request has fields the edge must evaluate before serving a 200 (If-*, Range).
bool has_conditional_or_range(const core::HeaderMap &h) noexcept;

enum class CacheResult : uint8_t { none, hit, refresh_hit, miss, error };

class Transaction final : private origin::FetchHandler, private FillListener {
public:
    // A background transaction (a refresh for stale-while-revalidate) has no viewer: it never
    // serves stale, never waits on another fetch, and is not counted as a request.
    Transaction(Runtime &rt, ViewerSink &sink, bool background = false);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    // Begins a request. `req` stays valid and unchanged until the transaction finishes.
    void start(const core::RequestHead &req, bool has_body, std::optional<uint64_t> body_length);
    void on_request_body(const core::BufferSlice &chunk);
    void on_request_body_end();
    void on_viewer_drained();
    // The viewer went away: stop everything, no more sink calls.
    void cancel();
    // The fill this transaction follows changed, or (leading one) its waiters caught up: on
    // the runtime's loop, through its mailbox.
    void on_fill_changed() override;
    // Clears per-request state after the transaction finished or was cancelled.
    void reset() noexcept;

    bool active() const noexcept { return active_; }
    std::string_view request_id() const noexcept { return {id_, id_len_}; }
    // Whether the request body is still wanted (a body sent to an answered request is not).
    bool wants_body() const noexcept { return fetch_ != nullptr && forwarding_body_; }

private:
    // Origin response bytes waiting for the viewer above which the origin is paused.
    static constexpr size_t viewer_high_water = 1 << 20;

    // Phases.
    void viewer_request();
    bool viewer_policy();
    void lookup_and_route();
    // Follows the fill in flight for key_, or leads one and fetches (or just fetches).
    void join_or_fetch();
    // Fetches from the origin; a stale_ object with validators is revalidated.
    void fetch_from_origin();
    // Builds origin_req_ for the request being served (also what Vary is evaluated on).
    void build_origin_request_head();
    // The response varies on `vary` (a vary_field_list): key_ becomes its variant's key, and
    // the plain key gets a marker listing the fields.
    void store_as_variant(std::string_view vary);
    void serve_object(const core::Ref<cache::CachedObject> &obj, CacheResult result);
    void serve_error_page(const config::CustomErrorResponse &cer, uint16_t original_status);
    void respond_generated(uint16_t status, std::string_view message,
                           std::string_view location = {});
    void respond_origin_failure(const core::Error &e);
    void maybe_finish();
    // Hands fetch_ (its body arriving) to a DetachedFill that finishes it for the store and
    // the fill's waiters.
    void detach_fetch();

    // origin::FetchHandler
    void on_origin_head(core::ResponseHead &head, const origin::ResponseInfo &info) override;
    void on_origin_body(const core::BufferSlice &chunk) override;
    void on_origin_complete() override;
    void on_origin_error(const core::Error &error) override;
    void on_origin_body_drained() override;

    void handle_not_modified(core::ResponseHead &head);
    // The origin failed (`status` 5xx, or 0: unreachable): serves stale_ instead when its
    // directives allow, keeping it for the error caching TTL. False: nothing was done.
    bool serve_stale_on_error(uint16_t status);

    // Request collapsing (transaction_fill.cpp). A leader publishes its response to fill_;
    // a follower streams it from there.
    void follow_fill(core::Ref<cache::Fill> fill);
    void start_fill_stream(const cache::Fill::Head &head);
    // A follower of a fill whose response varies: whether the variant is this request's; if
    // not, key_ becomes this request's variant key.
    bool wants_variant(const cache::Fill::Head &head);
    void pump_fill();
    // Leader: the origin is paused while the viewer or the fill's slowest waiter lags; resumes
    // it when neither does (asking the fill to say when its waiters catch up).
    void pause_origin_for_fill();
    void maybe_resume_origin();
    FillWake &wake();
    // Leader: ends the fill (`how`); follower: stops waiting on it.
    void leave_fill(cache::FillState how) noexcept;

    // Preconditions and ranges (transaction_ranges.cpp), for a 200 with head `stored_head`.
    // True: answered with 304 or 412.
    bool answer_preconditions(std::string_view stored_head, core::UnixMillis received_at);
    // True: a 206 or 416 head was written; the body (if any) then goes through
    // write_range_bytes() (ranged_).
    bool start_range(std::string_view stored_head, std::optional<uint64_t> length);
    // The representation's bytes from `offset`: sends the selected ones; the viewer's
    // response is complete (viewer_done_) once the last selected byte is sent.
    void write_range_bytes(uint64_t offset, const core::BufferSlice *pieces, size_t count);
    void serve_stored_range(const cache::CachedObject &obj);
    // How long an error response with this status is kept (custom_error_response, or
    // CloudFront's default 10 s for the codes it always caches).
    std::optional<int64_t> error_caching_ttl(uint16_t status) const noexcept;
    void write_viewer_head(const core::BufferSlice &head, std::optional<uint64_t> length,
                           bool length_in_head, bool no_body, bool last);
    void append_request_fields(CacheResult result, std::optional<int64_t> age_s);
    std::string_view host() const noexcept;
    void log_completion();

    Runtime &rt_;
    ViewerSink &sink_;
    const core::RequestHead *viewer_req_ = nullptr; // as the viewer sent it
    const core::RequestHead *req_ = nullptr;        // being served (the error page's request)
    const config::CacheBehavior *behavior_ = nullptr;
    char id_[24];
    size_t id_len_ = 0;
    std::string path_; // after default root object rewriting
    cache::CacheKey key_;
    size_t base_key_len_ = 0; // key_ without a variant suffix
    core::Ref<cache::CachedObject> stale_;
    core::Ref<cache::CachedObject> refreshed_; // a 304 refreshed it; served when the fetch ends
    core::Ref<cache::Fill> fill_;              // led or followed
    core::Ref<FillWake> wake_;                 // this transaction's waiter, reused across requests
    size_t fill_index_ = 0;                    // follower: next body piece to send
    uint64_t fill_offset_ = 0;                 // follower: body bytes read from the fill
    RangeResponse range_;
    std::vector<core::BufferSlice> range_pieces_;
    core::RequestHead origin_req_;
    core::RequestHead page_req_; // the request for a custom error page
    origin::Fetch *fetch_ = nullptr;
    std::unique_ptr<cache::CacheWriter> writer_;
    std::string head_text_;   // a response head being built
    std::string fields_text_; // per-response fields (Age, X-Cache, request id)
    core::Ref<core::Buffer> head_buf_;
    core::Ref<core::Buffer> viewer_tail_; // small origin pieces copied together (compact_slice)
    std::string etag_, last_modified_;    // validators of the response being stored
    std::string vary_;                    // its Vary field list ("" when it does not vary)
    std::optional<uint64_t> body_length_; // viewer request body length
    core::UnixMillis now_ = 0;            // the request's clock reading, refreshed on origin events
    core::UnixMillis request_time_ = 0, response_time_ = 0;
    cache::StoredTimes times_;
    std::optional<uint64_t> origin_length_;
    uint64_t origin_received_ = 0;
    uint16_t status_ = 0;          // status sent to the viewer
    uint16_t origin_status_ = 0;   // status the origin answered
    uint16_t override_status_ = 0; // custom error response code for the page being served
    const config::CustomErrorResponse *pending_page_ =
        nullptr; // error page to serve after draining
    CacheResult result_ = CacheResult::none;
    const char *not_cached_reason_ = nullptr;
    bool active_ = false;
    bool cacheable_ = false;
    bool revalidating_ = false;
    bool head_sent_ = false;
    bool viewer_body_ = false; // origin body bytes go to the viewer
    bool head_only_ = false;   // the viewer asked HEAD
    bool paused_ = false;
    bool forwarding_body_ = false;
    bool body_done_ = false;
    bool viewer_done_ = false;
    bool fill_leader_ = false;
    bool fill_streaming_ = false; // leader: head published; follower: head sent
    bool no_collapse_ = false;    // a fill let this request down: fetch alone
    bool conditional_ = false;    // the request has If-* or Range fields
    bool ranged_ = false;         // the viewer gets a 206 of the body's bytes
    bool origin_body_ = false;    // the origin's response head is in, its body is coming
    const bool background_;
};

} // namespace perch::edge

// One viewer request through the edge, in CloudFront's phases (STYLE.md §6). Each phase group
// has its own file; the state is one Phase, and the request's facts are fixed at start():
//
//   viewer_request   transaction_request.cpp   normalise target and path, pick the behavior
//   viewer_policy    transaction_request.cpp   allowed methods, viewer protocol (lib/policy)
//   cache_key        transaction_lookup.cpp    the behavior's cache policy builds the key
//   cache_lookup     transaction_lookup.cpp    Hit | stale | Miss | Bypass; collapse or lead
//   awaiting_fill    transaction_follow.cpp    collapsed onto another request's fetch
//   origin_request   transaction_origin.cpp    the request the origin gets; the request body
//   origin_response  transaction_origin_response.cpp  stale-on-error, 304s, storage, the feed
//   viewer_response  transaction_response.cpp  head, body (pull), custom error pages;
//                    transaction_ranges.cpp    preconditions and ranges answered by the edge
//   log              transaction.cpp           one line, then the owner is told (done)
//
// The viewer side is pull-model (response_sink.hpp): the transaction sends the head once, then
// a body chunk each time the sink calls proceed(). A transaction without a sink is a background
// one (a stale-while-revalidate refresh): it never serves stale, never waits on another fetch,
// and is not counted as a request.
//
// The functions of a cache hit are marked hot: the compiler places them together, so that the
// hit path stays in few instruction-cache lines although it spans several files.
//
// A ViewerConnection owns one Transaction and reuses it for each request (reset() keeps the
// buffers' capacity, so a warm connection allocates nothing on a cache hit). Call order:
// start(), then on_request_body*() / on_request_body_end() as the body arrives and proceed()
// whenever the sink can take more; the transaction calls done.transaction_done() exactly once,
// unless the owner calls cancel() first.
#pragma once

#include "cache/coordinator.hpp"
#include "cache/store.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/http_message.hpp"
#include "edge/fill_feed.hpp"
#include "edge/fill_wake.hpp"
#include "edge/range_response.hpp"
#include "edge/response_sink.hpp"
#include "origin/connector.hpp"
#include "policy/decision.hpp"
#include "policy/error_response.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace perch::edge {

class Runtime;

// Whether a request has fields the edge must evaluate before serving a 200 (If-*, Range).
bool has_conditional_or_range(const core::HeaderMap &h) noexcept;

enum class CacheResult : uint8_t { none, hit, refresh_hit, miss, error };

// The X-Cache value of a result ("Hit from perch"); "" for none.
std::string_view x_cache_field(CacheResult r) noexcept;

class Transaction final : private origin::FetchHandler,
                          private FillFeed::Reader,
                          private FillListener {
public:
    enum class Phase : uint8_t {
        idle, // no request (before start, after reset)
        viewer_request,
        viewer_policy,
        cache_key,
        cache_lookup,
        awaiting_fill, // a follower waiting for the fill's head
        origin_request,
        origin_response, // the head is in (a custom error page may be pending)
        viewer_response, // the head is out; body chunks go out on proceed()
        viewer_done,     // the viewer has its whole answer; origin work may still finish
        finished,        // logged and reported (or cancelled)
    };

    Transaction(Runtime &rt, ResponseSink *sink, TransactionDone &done);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    // Begins a request; everything `req` points to stays valid until the transaction finishes.
    [[gnu::hot]] void start(const ViewerRequest &req);
    void on_request_body(const core::BufferSlice &chunk);
    void on_request_body_end();
    // The sink can take the next body chunk.
    [[gnu::hot]] void proceed();
    // The viewer went away: stop everything; no more sink calls, no completion.
    void cancel();
    // Clears per-request state after the transaction finished or was cancelled.
    [[gnu::hot]] void reset() noexcept;

    Phase phase() const noexcept { return phase_; }
    bool active() const noexcept { return phase_ != Phase::idle && phase_ != Phase::finished; }
    std::string_view request_id() const noexcept { return {id_, id_len_}; }
    // Whether the request body is still wanted (a body sent to an answered request is not).
    bool wants_body() const noexcept {
        return upload_ == Upload::forwarding && (fetch_ || (feed_ && feed_->fetch()));
    }

private:
    // Where the viewer's body comes from.
    enum class Body : uint8_t { none, object, origin, fill };
    enum class FillRole : uint8_t { none, leader, follower };
    // The request body on its way to the origin.
    enum class Upload : uint8_t { none, forwarding, complete, discarded };

    // viewer_request, viewer_policy (transaction_request.cpp)
    [[gnu::hot]] void viewer_request();
    [[gnu::hot]] bool viewer_policy();
    // Answers as `d` says; true when it lets the request go on.
    bool act_on(const policy::Decision &d);
    [[gnu::hot]] std::string_view host() const noexcept;

    // cache_key, cache_lookup (transaction_lookup.cpp)
    [[gnu::hot]] void lookup_and_route();
    [[gnu::hot]] core::Ref<cache::CachedObject> lookup_variant(core::Ref<cache::CachedObject> obj);
    // Follows the fill in flight for key_, or leads one and fetches (or just fetches).
    void join_or_fetch();

    // awaiting_fill and the follower's body (transaction_follow.cpp)
    void follow_fill(core::Ref<cache::Fill> fill);
    void on_fill_changed() override;
    void on_fill_head(const cache::Fill::Head &h);
    bool wants_variant(const cache::Fill::Head &head);
    void start_fill_stream(const cache::Fill::Head &head);
    bool send_fill_chunk();
    FillWake &wake();
    // Leader: ends the fill (`how`); follower: stops waiting on it.
    void leave_fill(cache::FillState how) noexcept;

    // origin_request (transaction_origin.cpp)
    void fetch_from_origin();
    void build_origin_request_head();
    void on_origin_error(const core::Error &e) override;
    void on_origin_body_drained() override;
    void on_feed_request_body_drained() override;
    origin::Fetch *live_fetch() const noexcept;

    // origin_response (transaction_origin_response.cpp)
    void on_origin_head(core::ResponseHead &head, const origin::ResponseInfo &info) override;
    void on_origin_interim(const core::ResponseHead &head) override;
    void on_origin_body(const core::BufferSlice &) override {} // the feed gets the body
    void on_origin_complete() override {}                      // (always created at the head)
    void invalidate_for_unsafe_method(const core::ResponseHead &head);
    bool revalidating() const noexcept;
    cache::SetCookieRule set_cookie_rule() const noexcept;
    void handle_not_modified(core::ResponseHead &head);
    bool serve_stale_on_error(uint16_t status);
    // How the response is stored (no writer: it is not).
    struct Storing {
        std::unique_ptr<cache::CacheWriter> writer;
        cache::StoredTimes times;
        std::string vary; // its Vary field list ("" when it does not vary)
    };
    Storing begin_storing(const core::ResponseHead &head, const origin::ResponseInfo &info,
                          std::optional<int64_t> &age);
    void store_as_variant(std::string_view vary, const cache::StoredTimes &times);
    void start_feed(const core::ResponseHead &head, const origin::ResponseInfo &info,
                    Storing storing, bool publish);
    void respond_from_origin(const core::ResponseHead &head, const origin::ResponseInfo &info,
                             std::optional<int64_t> age);
    void on_feed_body(uint64_t offset, const core::BufferSlice &chunk) override;
    void on_feed_end(FeedEnd how, const core::Error *error) override;
    void on_feed_reader_cut() override;

    // viewer_response (transaction_response.cpp)
    [[gnu::hot]] void serve_object(const core::Ref<cache::CachedObject> &obj, CacheResult result);
    void serve_error_page(const policy::ErrorResponse &page, uint16_t error_status);
    void respond_generated(uint16_t status, std::string_view message,
                           std::string_view location = {});
    // respond_generated() for a request that cannot be trusted (no single valid Host, a bad
    // target): counted as rejected, and the connection closes after the answer.
    void refuse(uint16_t status, std::string_view message);
    void respond_origin_failure(const core::Error &e);
    void send_head(const core::BufferSlice &head, std::optional<uint64_t> length,
                   bool length_in_head, bool no_body);
    void send(const ResponseHeadOut *head, const core::BufferSlice *body, size_t count, bool last);
    [[gnu::hot]] void emit();
    bool send_object_chunk();
    bool send_origin_chunk();
    void viewer_done();
    [[gnu::hot]] void append_request_fields(CacheResult result, std::optional<int64_t> age_s);

    // Preconditions and ranges (transaction_ranges.cpp), for a 200 with head `stored_head`.
    bool answer_preconditions(std::string_view stored_head, core::UnixMillis received_at);
    bool start_range(std::string_view stored_head, std::optional<uint64_t> length);
    void send_range_bytes(uint64_t offset, const core::BufferSlice *pieces, size_t count);
    void select_stored_range(const cache::CachedObject &obj);

    // log (transaction.cpp)
    [[gnu::hot]] void maybe_finish();
    [[gnu::hot]] void log_completion(bool viewer_gone = false);

    Runtime &rt_;
    ResponseSink *const sink_; // null: a background transaction
    TransactionDone &done_;
    Phase phase_ = Phase::idle;
    Body body_ = Body::none;
    FillRole fill_role_ = FillRole::none;
    Upload upload_ = Upload::none;

    // The request.
    ViewerRequest viewer_;
    const core::RequestHead *req_ = nullptr; // being served (the viewer's, or an error page's)
    const config::CacheBehavior *behavior_ = nullptr;
    char id_[64];
    size_t id_len_ = 0;
    std::string path_;      // after default root object rewriting
    std::string authority_; // normalised (http/authority.hpp); "" for HTTP/1.0 without Host
    cache::CacheKey key_;
    size_t base_key_len_ = 0;  // key_ without a variant suffix
    core::UnixMillis now_ = 0; // the request's clock reading, refreshed on origin events
    bool head_only_ = false;   // the viewer asked HEAD
    bool conditional_ = false; // the request has If-* or Range fields
    bool cacheable_ = false;   // the behavior caches this method
    bool no_collapse_ = false; // a fill let this request down: fetch alone
    bool refused_ = false;     // refuse(): the connection closes after the answer

    // Cache and origin.
    core::Ref<cache::CachedObject> stale_;
    core::Ref<cache::CachedObject> refreshed_; // a 304 refreshed it; served when the fetch ends
    core::Ref<cache::Fill> fill_;              // led (until the head) or followed
    core::Ref<FillWake> wake_;                 // this transaction's waiter, reused
    size_t fill_index_ = 0;                    // follower: next body piece to read
    uint64_t fill_offset_ = 0;                 // follower: body bytes read from the fill
    core::RequestHead origin_req_;
    core::RequestHead page_req_;     // the request for a custom error page
    origin::Fetch *fetch_ = nullptr; // until its head arrives
    std::unique_ptr<FillFeed> feed_; // the response body, after the head
    core::UnixMillis request_time_ = 0, response_time_ = 0;
    uint64_t started_ns_ = 0; // uv_hrtime() at start (the access line's duration)
    uint64_t bytes_sent_ = 0; // head and body bytes handed to the sink
    uint16_t origin_status_ = 0;
    uint16_t override_status_ = 0; // a custom error response's code for what is being served
    std::optional<policy::ErrorResponse> pending_page_; // to serve once the error body is in

    // The response.
    uint16_t status_ = 0;
    CacheResult result_ = CacheResult::none;
    const char *not_cached_reason_ = nullptr;
    core::Ref<cache::CachedObject> obj_;     // Body::object
    size_t obj_next_ = 0;                    // next body piece (or range piece) of obj_
    std::vector<core::BufferSlice> pending_; // Body::origin: arrived, not yet asked for
    std::optional<FeedEnd> origin_end_;      // Body::origin: how the body ended, once it has
    bool ranged_ = false;                    // the body is a 206 of the representation's bytes
    bool wanted_ = false;                    // the sink asked for a chunk not yet sent
    bool emitting_ = false;                  // inside a sink call: proceed() only records the wish
    RangeResponse range_;
    std::vector<core::BufferSlice> range_pieces_;
    std::string head_text_;   // a response head being built
    std::string fields_text_; // per-response fields (Age, X-Cache, request id)
    core::Ref<core::Buffer> head_buf_;
    core::Ref<core::Buffer> viewer_tail_; // small origin pieces copied together (compact_slice)
};

} // namespace perch::edge

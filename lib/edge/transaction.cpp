// The transaction's state machine: start, reset, cancel, and the log phase that ends it.
#include "edge/transaction.hpp"

#include "edge/runtime.hpp"

#include <algorithm>
#include <cstring>

#include <uv.h>

namespace perch::edge {

std::string_view x_cache_field(CacheResult r) noexcept {
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

Transaction::Transaction(Runtime &rt, ResponseSink *sink, TransactionDone &done)
    : rt_(rt), sink_(sink), done_(done) {}

Transaction::~Transaction() {
    cancel();
    if (wake_) wake_->listener = nullptr;
}

void Transaction::reset() noexcept {
    leave_fill(cache::FillState::failed);
    if (fetch_) std::exchange(fetch_, nullptr)->cancel();
    feed_.reset();
    phase_ = Phase::idle;
    body_ = Body::none;
    upload_ = Upload::none;
    req_ = nullptr;
    viewer_.head = nullptr;
    behavior_ = nullptr;
    id_len_ = 0;
    path_.clear();
    no_collapse_ = false;
    refused_ = false;
    stale_.reset();
    refreshed_.reset();
    obj_.reset();
    head_buf_.reset();
    viewer_tail_.reset();
    pending_.clear();
    origin_end_.reset();
    pending_page_.reset();
    status_ = origin_status_ = override_status_ = 0;
    result_ = CacheResult::none;
    not_cached_reason_ = nullptr;
    ranged_ = wanted_ = emitting_ = false;
    fill_offset_ = 0;
}

void Transaction::start(const ViewerRequest &req) {
    if (phase_ != Phase::idle) reset(); // the owner usually has (keeping capacities warm)
    viewer_ = req;
    req_ = req.head;
    id_len_ = std::min(req.request_id.size(), sizeof id_);
    std::memcpy(id_, req.request_id.data(), id_len_);
    now_ = rt_.now(); // one clock read serves lookup and Age on a hit
    // Only the access line needs the duration: no clock read when it is off.
    started_ns_ = sink_ && rt_.log().enabled(core::LogLevel::info) ? uv_hrtime() : 0;
    bytes_sent_ = 0;
    if (sink_) rt_.stats().requests.fetch_add(1, std::memory_order_relaxed);
    head_only_ = req_->method == core::Method::head;
    conditional_ = has_conditional_or_range(req_->headers);
    upload_ = req.has_body ? Upload::forwarding : Upload::none;
    viewer_request();
}

void Transaction::cancel() {
    if (!active()) return;
    // Waiters still wait for a head that will not come: they elect a new leader.
    if (fetch_ && fill_role_ == FillRole::leader) leave_fill(cache::FillState::abandoned);
    if (fetch_) std::exchange(fetch_, nullptr)->cancel();
    // Waiters streaming this response get the rest of it.
    if (feed_) FillFeed::leave(std::move(feed_), FillFeed::Leave::viewer_gone);
    leave_fill(cache::FillState::failed);
    phase_ = Phase::finished;
    log_completion(true);
}

// --- log --------------------------------------------------------------------------------------

void Transaction::maybe_finish() {
    if (phase_ != Phase::viewer_done) return;
    if (fetch_) { // answered before the origin's head: nobody needs it
        if (fill_role_ == FillRole::leader) leave_fill(cache::FillState::abandoned);
        std::exchange(fetch_, nullptr)->cancel();
    }
    if (feed_ && !feed_->ended()) {
        // The viewer has its answer (a 304, a range, a HEAD) while the body still arrives for
        // the store or waiters: let that finish without holding the viewer's connection; but
        // a response without a body, a pending error page or an upload in progress is awaited.
        if (!feed_->expects_body() || pending_page_ || upload_ == Upload::forwarding) return;
        FillFeed::leave(std::move(feed_), FillFeed::Leave::finished);
    }
    feed_.reset();
    phase_ = Phase::finished;
    log_completion();
    done_.transaction_done(); // may reset or destroy this transaction: nothing after it
}

namespace {

// CloudFront's x-edge-result-type names: X-Cache's first word, else Redirect or "-".
std::string_view result_type(CacheResult r, uint16_t status) noexcept {
    std::string_view x = x_cache_field(r);
    if (!x.empty()) return x.substr(0, x.find(' '));
    return status >= 300 && status < 400 ? "Redirect" : "-";
}

} // namespace

// The access line, one per viewer request at info: client, method, target, status, result
// type, bytes handed to the viewer (head and body), duration, the not-cached reason.
void Transaction::log_completion(bool viewer_gone) {
    const core::Logger &log = rt_.log();
    if (!sink_ || !viewer_.head || !log.enabled(core::LogLevel::info)) return;
    double ms = double(uv_hrtime() - started_ns_) / 1e6;
    std::string_view client = viewer_.client_address.empty() ? "-" : viewer_.client_address;
    std::string_view result = viewer_gone ? "ViewerGone" : result_type(result_, status_);
    log.log(core::LogLevel::info, request_id(), "access %.*s \"%s %s\" %u %.*s %llu %.3f ms%s%s",
            int(client.size()), client.data(), viewer_.head->method_text.c_str(),
            viewer_.head->target.c_str(), status_, int(result.size()), result.data(),
            static_cast<unsigned long long>(bytes_sent_), ms,
            not_cached_reason_ ? " not cached: " : "",
            not_cached_reason_ ? not_cached_reason_ : "");
}

} // namespace perch::edge

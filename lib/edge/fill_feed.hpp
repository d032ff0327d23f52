// The body of one origin response on its way in: teed into the store (a CacheWriter) and into
// the fill of the requests collapsed onto it (their waiters read it at their own pace), handed
// to the reader (the leader's transaction) as it arrives, and completed once: committed to the
// store when every announced byte came, never when it was cut short.
//
// Flow control: a body being stored runs at the origin's pace (the reader and every waiter
// take it at their own: it is held in memory for the store anyway). A body that is not stored
// is paced: the origin is paused while the reader holds it (its viewer cannot take more) or
// while the fill's slowest waiter lags too far behind (fill_wake.hpp). A viewer that keeps it
// paused for longer than perch.limits.collapsed_lag_timeout while others wait is cut loose:
// its response ends cut short and the others carry on.
//
// Ownership: the transaction that received the response head creates the feed and owns it.
// When its viewer leaves or has all it asked for (a 304, a range, a HEAD), the transaction
// lets go of it (leave()): a feed that still stores or feeds waiters carries on by itself as
// the runtime's background work and frees itself when the body has ended; any other is
// cancelled. Runtime::close() cancels the ones still running.
#pragma once

#include "cache/coordinator.hpp"
#include "cache/store.hpp"
#include "core/status.hpp"
#include "edge/background_work.hpp"
#include "edge/fill_wake.hpp"
#include "io/deadline_list.hpp"
#include "origin/connector.hpp"

#include <memory>
#include <optional>
#include <string>

namespace perch::edge {

class Runtime;

enum class FeedEnd : uint8_t {
    complete,  // every announced byte arrived (and was stored, if it was being stored)
    truncated, // the origin ended early: nothing stored, the viewer's copy is cut short
    failed,    // the origin failed mid-body (`error` says why)
};

class FillFeed final : public BackgroundWork, private origin::FetchHandler, private FillListener {
public:
    class Reader {
    public:
        // Body bytes from `offset` of the representation, in order.
        virtual void on_feed_body(uint64_t offset, const core::BufferSlice &chunk) = 0;
        // The body has ended; the feed is finished (the reader may destroy it from here).
        virtual void on_feed_end(FeedEnd how, const core::Error *error) = 0;
        // The origin took the queued request body (flow control towards the viewer).
        virtual void on_feed_request_body_drained() = 0;
        // The reader's viewer held a body that is not stored, and the waiters with it, for
        // too long: it must leave() the feed (which carries on for them) and end its viewer's
        // response cut short.
        virtual void on_feed_reader_cut() = 0;

    protected:
        ~Reader() = default;
    };

    // What the transaction decided when the origin's head came.
    struct Setup {
        origin::Fetch *fetch = nullptr;             // live, its head received
        std::unique_ptr<cache::CacheWriter> writer; // null: not being stored
        core::Ref<cache::Fill> fill;                // led by this response's transaction, or null
        bool fill_streaming = false;                // the fill's head was published: feed it
        std::string head_text; // the stored head, without Content-Length (only with a writer)
        uint16_t status = 0;
        cache::StoredTimes times;
        std::string etag, last_modified; // only with a writer
        std::optional<uint64_t> length; // announced body length
    };

    // Takes over s.fetch: its events now come here.
    FillFeed(Runtime &rt, Setup s, Reader *reader);
    ~FillFeed();
    FillFeed(const FillFeed &) = delete;
    FillFeed &operator=(const FillFeed &) = delete;

    // The fetch, for the rest of the request body (null once the response has ended).
    origin::Fetch *fetch() const noexcept { return fetch_; }
    bool storing() const noexcept { return writer_ != nullptr; }
    // The store refused the body part way (too large): it is streamed, not stored.
    bool store_refused() const noexcept { return store_refused_; }
    bool ended() const noexcept { return fetch_ == nullptr; }
    // Whether body bytes are to come (no: HEAD, 204, 304, or an empty body).
    bool expects_body() const noexcept { return !length_ || *length_ > received_; }

    // The reader cannot take more now (true) / can again (false).
    void hold(bool held);

    enum class Leave : uint8_t {
        finished,    // the viewer has its answer: finish storing and feeding waiters
        viewer_gone, // the viewer went away: finish only for waiters already streaming
    };
    // The reader lets go: the feed carries on by itself if it still has work (and frees itself),
    // or is cancelled. Either way the caller must not touch it again.
    static void leave(std::unique_ptr<FillFeed> feed, Leave why) noexcept;

    // BackgroundWork: the runtime is closing.
    void cancel() noexcept override;

private:
    // origin::FetchHandler
    void on_origin_head(core::ResponseHead &, const origin::ResponseInfo &) override {}
    void on_origin_body(const core::BufferSlice &chunk) override;
    void on_origin_complete() override;
    void on_origin_error(const core::Error &error) override;
    void on_origin_body_drained() override;
    // FillListener: the fill's waiters caught up.
    void on_fill_changed() override;

    void pace();
    static void on_lag_timeout(void *self);
    void end(FeedEnd how, const core::Error *error);
    void drop_fill(cache::FillState how) noexcept;

    Runtime &rt_;
    Reader *reader_; // null once the feed carries on by itself
    origin::Fetch *fetch_;
    std::unique_ptr<cache::CacheWriter> writer_;
    core::Ref<cache::Fill> fill_;
    core::Ref<FillWake> wake_;
    std::string head_text_;
    std::string etag_, last_modified_;
    cache::StoredTimes times_;
    std::optional<uint64_t> length_;
    io::Deadline lag_deadline_; // armed while a viewer keeps a paced body paused
    uint64_t received_ = 0;
    uint16_t status_;
    bool fill_streaming_;
    bool held_ = false;
    bool paused_ = false;
    bool store_refused_ = false;
};

} // namespace perch::edge

// Finishes a fetch whose viewer no longer needs it, for the store and the waiters of its fill
// (its leader's viewer went away, or got all it asked for: a 304, a range, a HEAD): the rest
// of the body goes to the store and the fill; then it frees itself. The runtime cancels the
// ones still running when it closes. Its origin is paused while the fill's slowest waiter
// lags behind (as a leader's is).
#pragma once

#include "cache/coordinator.hpp"
#include "cache/store.hpp"
#include "edge/background_work.hpp"
#include "edge/fill_wake.hpp"
#include "origin/connector.hpp"

#include <memory>
#include <optional>
#include <string>

namespace perch::edge {

class Runtime;

class DetachedFill final : public BackgroundWork,
                           private origin::FetchHandler,
                           private FillListener {
public:
    // What the leader had when it left.
    struct State {
        origin::Fetch *fetch = nullptr;
        std::unique_ptr<cache::CacheWriter> writer; // null: not being stored
        core::Ref<cache::Fill> fill;                // null: no waiters to feed
        std::string head_text;                      // the stored head, without Content-Length
        uint16_t status = 0;
        cache::StoredTimes times;
        std::string etag, last_modified;
        std::optional<uint64_t> length; // announced body length
        uint64_t received = 0;          // body bytes so far
    };
    // Takes over `s.fetch` (which must be live, with its head received).
    static void start(Runtime &rt, State s);
    // The runtime is closing: stop, fail the fill, free this.
    void cancel() noexcept override;

private:
    DetachedFill(Runtime &rt, State s) : rt_(rt), s_(std::move(s)) {}
    void on_origin_head(core::ResponseHead &, const origin::ResponseInfo &) override {}
    void on_origin_body(const core::BufferSlice &chunk) override;
    void on_origin_complete() override;
    void on_origin_error(const core::Error &error) override;
    void finish(cache::FillState how) noexcept;
    // Flow control: the origin waits while the fill's slowest waiter lags (fill_wake.hpp).
    void on_fill_changed() override;
    void pace();

    Runtime &rt_;
    State s_;
    core::Ref<FillWake> wake_;
    bool paused_ = false;
};

} // namespace perch::edge

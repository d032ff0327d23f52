// Request collapsing: concurrent misses for one cache key make one origin request. The first
// request for a key becomes the leader of a Fill; the others join it as waiters and are fed
// from the same in-flight response as its bytes arrive. The leader ends the fill:
// - complete: every byte was published (and the object committed, if it could be): waiters
//   that never saw a head look the key up again;
// - released: the response cannot be shared (not storable): waiters fetch for themselves,
//   all at once, not one by one;
// - failed: the fetch died; waiters that never saw a head fetch for themselves, those
//   already streaming end their responses cut short;
// - abandoned: the leader went away before the head arrived (its viewer left): the waiters
//   elect a new leader among themselves by joining again.
// A response that varies (Vary) is published with its field list and the leader's variant
// key, and the fill is also registered under that key: each waiter checks that the variant is
// its own, and later requests for that variant join the same fill.
// Knows nothing of HTTP or loops: waiters are woken through FillWaiter on the leader's thread
// and hand over to their own. Thread-safe: one coordinator serves every runtime sharing a store.
#pragma once

#include "cache/cached_object.hpp"
#include "core/buffer.hpp"
#include "core/ref.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace perch::cache {

class Coordinator;

enum class FillState : uint8_t { pending, streaming, complete, released, failed, abandoned };

class FillWaiter : public core::RefCounted<FillWaiter> {
public:
    virtual ~FillWaiter() = default;
    // The fill changed. Called on the leader's thread with no lock held: must be quick and
    // thread-safe (hand over to the waiter's own thread).
    virtual void fill_changed() noexcept = 0;
};

class Fill final : public core::RefCounted<Fill> {
public:
    ~Fill();

    // --- leader (one thread) ---
    // The head to share: the stored head text (no Content-Length: see `length`), the status,
    // the body length if announced, and the stored times (for Age).
    void publish_head(core::Ref<core::Buffer> head, uint16_t status, std::optional<uint64_t> length,
                      const StoredTimes &times);
    // The same for a response stored as a variant: `vary` is its field list, `variant_key`
    // the key it is stored under. Also registers the fill under `variant_key`.
    void publish_variant_head(core::Ref<core::Buffer> head, uint16_t status,
                              std::optional<uint64_t> length, const StoredTimes &times,
                              std::string_view vary, const CacheKey &variant_key);
    // Body bytes, in order. Small pieces are copied together; larger ones are shared.
    void publish_body(const core::BufferSlice &bytes);
    // Ends the fill (complete, released or failed) and leaves the coordinator: later requests
    // for the key look up the store or lead a fill of their own.
    void end(FillState how);
    // The response will not be stored after all (too large): later requests do not join, and
    // the pieces every waiter has read are let go.
    void stop_joining();
    // Flow control: body bytes published that the slowest waiter has not read yet (0 without
    // waiters). A leader that pauses its origin on it asks to be woken once every waiter has
    // read all but `bytes` (at once if that is so already); a newer request replaces the last.
    uint64_t unread_bytes() const noexcept;
    void wake_when_read(core::Ref<FillWaiter> w, uint64_t bytes);
    // Cuts loose every waiter that has more than `bytes` unread: it no longer counts for flow
    // control, its pieces are let go, and its next read() ends (failed). Returns how many.
    size_t cut_lagging(uint64_t bytes);
    // Whether `w` was cut loose (then it ends its response cut short).
    bool cut(const FillWaiter *w) const noexcept;

    // --- waiters (any thread) ---
    // False when the fill cannot serve a new waiter from the start (it stopped joining and
    // let pieces go): the caller fetches for itself.
    bool add_waiter(core::Ref<FillWaiter> w);
    void remove_waiter(const FillWaiter *w) noexcept;
    bool has_waiters() const noexcept;

    struct Head {
        FillState state = FillState::pending;
        core::Ref<core::Buffer> head;
        uint16_t status = 0;
        std::optional<uint64_t> length;
        StoredTimes times;
        std::string vary;        // a variant's field list ("" when the response does not vary)
        std::string variant_key; // the key the variant is stored under
    };
    Head head() const;
    // Copies up to `max` body pieces starting at piece `index` into `out`; returns how many.
    // `state` receives the fill's state and `pieces` the number of pieces published so far.
    // `reader` (a waiter, or null) records how far it has read, for flow control. A reader
    // cut loose (cut_lagging) gets nothing more: state failed, and `pieces` == its index.
    size_t read(const FillWaiter *reader, size_t index, core::BufferSlice *out, size_t max,
                FillState &state, size_t &pieces);

private:
    friend class Coordinator;
    Fill(Coordinator *owner, const CacheKey &key);
    void wake();

    // Where the coordinator holds this fill: under its key, and under a variant's key
    // (used by the leader's thread only).
    struct Registration {
        uint64_t slot = 0;
        size_t shard = 0;
        bool registered = false;
    };
    static Registration registration_for(const CacheKey &key);

    core::Ref<Coordinator> owner_; // null when not registered (hash collision)
    Registration main_, variant_;
    struct Waiter {
        core::Ref<FillWaiter> w;
        size_t next = 0;         // the next piece it will read
        uint64_t read_bytes = 0; // body bytes it has read
        bool cut = false;        // cut loose: ignored by flow control, reads end
    };
    uint64_t unread_locked() const noexcept;
    // Lets go of the pieces every waiter has read (once nobody can join any more), and takes
    // the drain waiter when its condition holds (the caller wakes it, unlocked).
    core::Ref<FillWaiter> after_progress_locked();

    mutable std::mutex mu_;
    Head head_;
    std::deque<core::BufferSlice> pieces_;
    size_t first_piece_ = 0; // index of pieces_.front() (earlier ones were let go)
    uint64_t published_bytes_ = 0;
    bool joinable_ = true;
    core::Ref<core::Buffer> tail_; // where small pieces are copied together
    std::vector<Waiter> waiters_;
    core::Ref<FillWaiter> drain_waiter_; // woken when unread_bytes() <= drain_below_
    uint64_t drain_below_ = 0;
};

class Coordinator final : public core::RefCounted<Coordinator> {
public:
    struct Joined {
        core::Ref<Fill> fill;
        bool leader = false;
    };
    // The fill in flight for `key`, joined as a waiter (call add_waiter), or a new fill that
    // the caller leads.
    Joined join(const CacheKey &key);
    size_t in_flight() const noexcept;
    // Whether a fill is in flight for `key` (without joining it).
    bool busy(const CacheKey &key) const noexcept;

private:
    friend class Fill;
    // Registers `f` under `r` too, unless another fill holds its slot.
    bool add_registration(Fill *f, Fill::Registration &r, const std::string &key);
    void forget(Fill *f) noexcept;
    void forget(Fill *f, Fill::Registration &r) noexcept;

    static constexpr size_t shard_count = 16;
    struct Entry {
        core::Ref<Fill> fill; // a reference until the leader ends it
        std::string key;      // the key it is registered under (compared in full)
    };
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<uint64_t, Entry> fills; // XXH128 low64 -> the fill in flight
    };
    std::array<Shard, shard_count> shards_;
};

} // namespace perch::cache

// One stored response. Immutable once committed and shared by reference between the store
// and every reader (viewer writes reference its buffers directly, so a hit copies no bytes).
// A refresh (304) makes a new object that shares the body buffers.
//
// Memory layout: each object is one block, [CachedObject][text][tail], with
//   text  the key, then the path unless the key contains it, then vary, etag and last_modified
//         unless the stored head contains their bytes (they are then views into the head);
//   tail  of a compact object (made by create_compact: the common small object): a core::Buffer
//         holding the body, with the head in its spare capacity (capacity = body + head). The
//         object and its text are that buffer's prefix (Buffer::create_with_prefix), so the
//         whole object is one allocation;
//   tail  of any other object: a BufferList, the head's buffer and the body's, each holding
//         a reference, with the body's size and what its buffers take (see buffer_bytes()).
//
// Lifetime of a compact object: the object holds one reference to its own buffer, and the
// slices that viewer writes hold (head_slice, body_slice) hold others. When the object's count
// reaches 0 (it was evicted, replaced or invalidated and no reader holds it), destroy() runs its
// destructor, then drops that reference: the block is freed then, or when the last slice goes
// if a write is still in flight. The object's part of the block is not read after that.
#pragma once

#include "cache/eviction.hpp"
#include "cache/policy.hpp"
#include "core/buffer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <xxhash.h>

namespace perch::cache {

struct CacheKey {
    std::string text;         // the whole key (compared on lookup: no false hits on collision)
    XXH128_hash_t hash{0, 0}; // XXH3-128 of text
    std::string path;         // the URL path, for invalidation
    uint64_t path_hash = 0;   // XXH3-64 of path (chooses the store's shard)

    void finalize() noexcept {
        hash = XXH3_128bits(text.data(), text.size());
        path_hash = hash_path(path);
    }
    static uint64_t hash_path(std::string_view p) noexcept {
        return XXH3_64bits(p.data(), p.size());
    }
};

// What a writer knows about the response when it commits it.
struct CommitInfo {
    uint16_t status = 200;
    StoredTimes times;
    std::string etag; // validators, for revalidation ("" when absent)
    std::string last_modified;
    // The response's Vary: lower-case field names, comma-separated, without spaces ("" if none).
    std::string vary;
};

// Buffers in order, while a body is being stored: one inline, more on the heap.
class BodyChunks {
public:
    BodyChunks() noexcept : one_() {}
    BodyChunks(const BodyChunks &o);
    BodyChunks(BodyChunks &&o) noexcept;
    BodyChunks &operator=(BodyChunks o) noexcept;
    ~BodyChunks();

    size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    const core::Ref<core::Buffer> *begin() const noexcept { return cap_ ? heap_ : &one_; }
    const core::Ref<core::Buffer> *end() const noexcept { return begin() + size_; }
    const core::Ref<core::Buffer> &operator[](size_t i) const noexcept { return begin()[i]; }
    const core::Ref<core::Buffer> &back() const noexcept { return begin()[size_ - 1]; }
    void push_back(core::Ref<core::Buffer> b);
    void swap(BodyChunks &o) noexcept;

private:
    union {
        core::Ref<core::Buffer> one_; // cap_ == 0
        core::Ref<core::Buffer> *heap_;
    };
    uint32_t size_ = 0;
    uint32_t cap_ = 0;
};

// Bases in this order, small members first: they fill the bases' tail padding.
class CachedObject final : public EvictionHook, public core::RefCounted<CachedObject> {
public:
    // A compact object for `key_text`: its strings, the `body_size` bytes of `body` and `head`
    // are copied into one block (see the layout above). Strings longer than 64 KiB (validators,
    // vary) are not kept. Throws std::bad_alloc.
    static core::Ref<CachedObject> create_compact(std::string_view key_text, uint64_t key_hash,
                                                  std::string_view path, const CommitInfo &info,
                                                  const BodyChunks &body, uint64_t body_size,
                                                  std::string_view head);
    // An object for `key_text` that keeps the buffers of `head` (all of its size() bytes) and
    // `body` (each one's size() bytes, in order); its strings are copied. Throws std::bad_alloc.
    static core::Ref<CachedObject> create(std::string_view key_text, uint64_t key_hash,
                                          std::string_view path, const CommitInfo &info,
                                          core::Ref<core::Buffer> head, BodyChunks body);
    // A copy of `prev` with a new head, status, times and validators that shares its body, as
    // a revalidation (304) makes it.
    static core::Ref<CachedObject> refreshed(const CachedObject &prev, core::Ref<core::Buffer> head,
                                             const CommitInfo &info);
    static void destroy(const CachedObject *o) noexcept;

    std::string_view key() const noexcept { return {at(sizeof(CachedObject)), key_len_}; }
    std::string_view path() const noexcept { return {at(path_off_), path_len_}; }
    std::string_view vary() const noexcept { return {at(vary_off_), vary_len_}; }
    std::string_view etag() const noexcept { return {at(etag_off_), etag_len_}; }
    std::string_view last_modified() const noexcept { return {at(lm_off_), lm_len_}; }
    StoredTimes times() const noexcept {
        auto ms = [](int32_t s) { return s < 0 ? int64_t(-1) : int64_t(s) * 1000; };
        return {response_time_, initial_age_ms_, ttl_ms_,
                ms(swr_s_),     ms(sie_s_),      revalidate_when_stale_};
    }

    // Status line and fields including Content-Length, each line ending in CRLF, without the
    // blank line: per-request fields (Age, X-Cache, request id) are written after it.
    std::string_view head_view() const noexcept {
        const core::Buffer &b = head_buffer();
        if (!compact_) return b.view();
        return {reinterpret_cast<const char *>(b.data()) + b.size(), b.capacity() - b.size()};
    }
    core::BufferSlice head_slice() const {
        core::Buffer &b = head_buffer();
        const uint8_t *p = b.data();
        size_t n = b.size();
        if (compact_) { // the head follows the body
            p += n;
            n = b.capacity() - n;
        }
        return core::BufferSlice(core::Ref<core::Buffer>::share(&b), p, n);
    }

    uint64_t body_size() const noexcept {
        return compact_ ? own_buffer().size() : list().body_size;
    }
    // The body's buffers: body_count() of them, each holding its size() bytes, in order.
    // Immutable (shared with every reader).
    size_t body_count() const noexcept {
        return compact_ ? (own_buffer().size() ? 1 : 0) : list().count;
    }
    core::Buffer &body_buffer(size_t i) const noexcept {
        return compact_ ? own_buffer() : *list().body()[i];
    }
    core::BufferSlice body_slice(size_t i) const {
        core::Buffer &b = body_buffer(i);
        return core::BufferSlice(core::Ref<core::Buffer>::share(&b), b.data(), b.size());
    }

    // What the object takes, for the store's charge: heap bytes of its own block as asked of the
    // allocator (a compact object's buffer included), and of the other buffers it holds
    // (buffer_count(), 0 when compact) with their pool blocks. Buffers shared with another
    // object (a refreshed body) are counted in full by each.
    bool compact() const noexcept { return compact_; }
    uint64_t allocation_bytes() const noexcept;
    uint64_t buffer_bytes() const noexcept { return compact_ ? 0 : list().buffer_bytes; }
    size_t buffer_count() const noexcept { return compact_ ? 0 : list().count + 1; }

    uint16_t status = 200;

private:
    // The tail of an object that is not compact, followed by `count` body buffers.
    struct BufferList {
        uint64_t body_size;
        uint64_t buffer_bytes; // allocation_bytes() and pool_bytes() of head and body buffers
        core::Ref<core::Buffer> head;
        size_t count;
        core::Ref<core::Buffer> *body() const noexcept {
            return reinterpret_cast<core::Ref<core::Buffer> *>(const_cast<BufferList *>(this + 1));
        }
    };

    // Offsets from `this`: the path, vary and validators may be in the text or in the head.
    uint16_t vary_len_ = 0, etag_len_ = 0, lm_len_ = 0;
    uint32_t key_len_ = 0, path_off_ = 0, path_len_ = 0;
    uint32_t vary_off_ = 0, etag_off_ = 0, lm_off_ = 0;
    uint32_t tail_off_ = 0;
    // StoredTimes, packed: the stale windows in whole seconds (what Cache-Control gives; a
    // fraction is dropped, which only shortens them; -1: absent), the rest exact.
    int32_t swr_s_ = 0, sie_s_ = -1;
    bool compact_ = false;
    bool revalidate_when_stale_ = false;
    core::UnixMillis response_time_ = 0;
    int64_t initial_age_ms_ = 0, ttl_ms_ = 0;

public:
    uint64_t key_hash = 0; // low half of CacheKey::hash (the key text is compared in full)
    // Store bookkeeping (guarded by the owning shard's lock): the next object of the same path.
    CachedObject *path_next = nullptr;

private:
    CachedObject() = default;
    ~CachedObject() = default;
    friend class core::RefCounted<CachedObject>;

    struct TextPlan;
    // Writes the text after the object; parts found in the head are at head_off from it.
    void place_text(const TextPlan &plan, size_t head_off) noexcept;
    const char *at(uint32_t off) const noexcept {
        return reinterpret_cast<const char *>(this) + off;
    }
    core::Buffer &own_buffer() const noexcept {
        return *reinterpret_cast<core::Buffer *>(const_cast<char *>(at(tail_off_)));
    }
    const BufferList &list() const noexcept {
        return *reinterpret_cast<const BufferList *>(at(tail_off_));
    }
    core::Buffer &head_buffer() const noexcept { return compact_ ? own_buffer() : *list().head; }
    void set_times(const StoredTimes &t) noexcept;
};

} // namespace perch::cache

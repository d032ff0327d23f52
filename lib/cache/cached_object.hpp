// One stored response. Immutable once committed and shared by reference between the store
// and every reader (viewer writes reference its buffers directly, so a hit copies no bytes).
// A refresh (304) makes a new object that shares the body buffers.
//
// Kept small (see MemoryStore::object_overhead): the key, path and validators live in the
// object's own allocation (the path as a view into the key when the key contains it), and a
// small body shares one buffer with the head.
#pragma once

#include "cache/eviction.hpp"
#include "cache/policy.hpp"
#include "core/buffer.hpp"

#include <cstdint>
#include <string>
#include <string_view>
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

// The body's buffers in order: one inline, more on the heap.
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
    // A new object for `key_text`, its strings copied into its own allocation. Strings longer
    // than 64 KiB (validators, vary) are not kept.
    static core::Ref<CachedObject> create(std::string_view key_text, uint64_t key_hash,
                                          std::string_view path, const CommitInfo &info);
    // A copy of `prev` with a new head, status, times and validators that shares its body, as
    // a revalidation (304) makes it. The store sets its charge (CacheStore::refresh).
    static core::Ref<CachedObject> refreshed(const CachedObject &prev, core::Ref<core::Buffer> head,
                                             const CommitInfo &info);
    static void destroy(const CachedObject *o) noexcept;

    std::string_view key() const noexcept { return {text(), key_len_}; }
    std::string_view path() const noexcept { return {text() + path_off_, path_len_}; }
    std::string_view etag() const noexcept { return {text() + etag_off(), etag_len_}; }
    std::string_view last_modified() const noexcept {
        return {text() + etag_off() + etag_len_, lm_len_};
    }
    std::string_view vary() const noexcept {
        return {text() + etag_off() + etag_len_ + lm_len_, vary_len_};
    }
    // Status line and fields including Content-Length, each line ending in CRLF, without the
    // blank line: per-request fields (Age, X-Cache, request id) are written after it.
    std::string_view head_view() const noexcept {
        return {reinterpret_cast<const char *>(head_->data()) + head_off_, head_len_};
    }
    core::BufferSlice head_slice() const {
        return core::BufferSlice(head_, head_->data() + head_off_, head_len_);
    }
    const core::Ref<core::Buffer> &head_buffer() const noexcept { return head_; }
    // Sets the head: `len` bytes at `off` in `b` (the body's buffer may hold it after the body).
    void set_head(core::Ref<core::Buffer> b, uint32_t off, uint32_t len) noexcept {
        head_ = std::move(b);
        head_off_ = off;
        head_len_ = len;
    }
    // Bytes of the object's own allocation beyond sizeof(CachedObject).
    size_t text_bytes() const noexcept { return etag_off() + etag_len_ + lm_len_ + vary_len_; }

    uint16_t status = 200;

private:
    uint16_t etag_len_ = 0, lm_len_ = 0, vary_len_ = 0;
    uint32_t head_off_ = 0, head_len_ = 0;
    uint32_t key_len_ = 0, path_off_ = 0, path_len_ = 0;

public:
    uint64_t key_hash = 0; // low half of CacheKey::hash (the key text is compared in full)
    StoredTimes times;
    BodyChunks body; // each chunk's size() bytes, in order
    uint64_t body_size = 0;
    // Store bookkeeping (guarded by the owning shard's lock): the next object of the same path.
    CachedObject *path_next = nullptr;

private:
    CachedObject() = default;
    const char *text() const noexcept { return reinterpret_cast<const char *>(this + 1); }
    size_t etag_off() const noexcept { return key_len_ + (path_off_ == key_len_ ? path_len_ : 0); }

    core::Ref<core::Buffer> head_;
};

} // namespace perch::cache

#include "cache/memory_store.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace perch::cache {

using core::Buffer;
using core::Ref;

namespace {
constexpr size_t min_chunk = 16 * 1024;
constexpr size_t max_chunk = 1024 * 1024;
constexpr uint64_t max_chunk_bytes = 1ull << 30;
} // namespace

class MemoryStore::Writer final : public CacheWriter {
public:
    Writer(MemoryStore &store, const CacheKey &key, std::optional<uint64_t> expected)
        : store_(store), home_(key.hash.high64 % shard_count), expected_(expected) {
        obj_ = Ref<CachedObject>::adopt(new CachedObject);
        obj_->key = key.text;
        obj_->hash = key.hash;
        obj_->path = key.path;
    }
    ~Writer() override {
        if (reserved_) store_.unreserve(reserved_);
    }

    bool init() {
        return charge(MemoryStore::object_overhead + obj_->key.size() + obj_->path.size());
    }

    bool append(const uint8_t *data, size_t len) override {
        if (failed_) return false;
        while (len > 0) {
            if (obj_->body.empty() || obj_->body.back()->room() == 0) {
                if (!add_chunk(len)) return fail();
            }
            Buffer &b = *obj_->body.back();
            size_t n = b.append(data, len);
            data += n;
            len -= n;
            obj_->body_size += n;
        }
        return true;
    }

    Ref<CachedObject> commit(Ref<Buffer> head, uint16_t status, const StoredTimes &times,
                             std::string etag, std::string last_modified) override {
        if (failed_ || !charge(head->capacity() + etag.size() + last_modified.size()))
            return nullptr;
        obj_->head = std::move(head);
        obj_->status = status;
        obj_->times = times;
        obj_->etag = std::move(etag);
        obj_->last_modified = std::move(last_modified);
        obj_->charge = reserved_;
        reserved_ = 0; // the charge moves to the published object
        return store_.publish(std::move(obj_));
    }

private:
    bool charge(uint64_t bytes) {
        if (reserved_ + bytes > store_.max_object_ + MemoryStore::object_overhead * 2) return false;
        if (!store_.reserve(bytes, home_)) return false;
        reserved_ += bytes;
        return true;
    }
    bool add_chunk(size_t wanted) {
        size_t cap;
        if (expected_ && obj_->body.empty() && *expected_ > 0) {
            // One allocation when the length is announced, up to 1 GiB a chunk (lengths in
            // iovecs and TLS writes stay well inside 32 bits).
            cap = size_t(std::min<uint64_t>(*expected_, max_chunk_bytes));
            if (cap >= file_backed_min) {
                if (!charge(core::MemfdArena::round_to_pages(cap) + sizeof(Buffer))) return false;
                Ref<Buffer> b = store_.file_backed_buffer(cap);
                obj_->body.push_back(b ? std::move(b) : Buffer::create(cap));
                return true;
            }
        } else {
            size_t last = obj_->body.empty() ? 0 : obj_->body.back()->capacity();
            cap = std::clamp(std::max(wanted, last * 2), min_chunk, max_chunk);
            // Never reserve beyond what the object may still grow by.
            if (obj_->body_size >= store_.max_object_) return false;
            cap = size_t(std::min<uint64_t>(cap, store_.max_object_ - obj_->body_size));
        }
        if (!charge(cap + sizeof(Buffer))) return false;
        obj_->body.push_back(Buffer::create(cap));
        return true;
    }
    bool fail() {
        failed_ = true;
        return false;
    }

    MemoryStore &store_;
    size_t home_;
    std::optional<uint64_t> expected_;
    Ref<CachedObject> obj_;
    uint64_t reserved_ = 0;
    bool failed_ = false;
};

MemoryStore::MemoryStore(const MemoryStoreOptions &opts)
    : budget_(opts.budget_bytes),
      max_object_(opts.max_object_bytes ? opts.max_object_bytes : opts.budget_bytes / 8) {}

MemoryStore::~MemoryStore() {
    for (Shard &s : shards_) {
        for (auto &[h, o] : s.map)
            o->release();
        s.map.clear();
    }
}

Ref<Buffer> MemoryStore::file_backed_buffer(size_t capacity) {
    // Address space only: pages exist while bodies use them. A full arena is replaced; the
    // old one lives on until its last body is freed.
    constexpr uint64_t arena_size = 16ull << 30;
    std::lock_guard lock(arena_mu_);
    if (arena_unavailable_) return nullptr;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!arena_) {
            arena_ = core::MemfdArena::create(std::max<uint64_t>(arena_size, capacity));
            if (!arena_) {
                arena_unavailable_ = true;
                return nullptr;
            }
        }
        if (Ref<Buffer> b = Buffer::create_in(*arena_, capacity)) return b;
        arena_.reset();
    }
    return nullptr;
}

Ref<CachedObject> MemoryStore::lookup(const CacheKey &key) {
    Shard &s = shard_for(key.hash);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key.hash.low64);
    if (it == s.map.end()) return nullptr;
    CachedObject *o = it->second;
    if (o->hash.high64 != key.hash.high64 || o->key != key.text) return nullptr;
    if (s.lru_head != o) {
        lru_unlink(s, o);
        lru_push_front(s, o);
    }
    return Ref<CachedObject>::share(o);
}

std::unique_ptr<CacheWriter> MemoryStore::begin_insert(const CacheKey &key,
                                                       std::optional<uint64_t> expected_size) {
    if (expected_size && *expected_size > max_object_) return nullptr;
    auto w = std::make_unique<Writer>(*this, key, expected_size);
    if (!w->init()) return nullptr;
    return w;
}

bool MemoryStore::reserve(uint64_t bytes, size_t home_shard) {
    uint64_t now = used_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    while (now > budget_) {
        if (!evict_one(home_shard)) {
            unreserve(bytes);
            return false;
        }
        now = used_.load(std::memory_order_relaxed);
    }
    return true;
}

bool MemoryStore::evict_one(size_t start) {
    // The inserting shard first (its LRU tail is the best local victim), then round-robin.
    size_t cursor = evict_cursor_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i <= shard_count; ++i) {
        size_t idx = i == 0 ? start : (cursor + i) % shard_count;
        Shard &s = shards_[idx];
        Ref<CachedObject> victim;
        {
            std::lock_guard lock(s.mu);
            if (!s.lru_tail) continue;
            victim = detach_locked(s, s.lru_tail);
        }
        evictions_.fetch_add(1, std::memory_order_relaxed);
        return true; // victim's memory is released here, outside the lock
    }
    return false;
}

Ref<CachedObject> MemoryStore::detach_locked(Shard &s, CachedObject *o) noexcept {
    s.map.erase(o->hash.low64);
    lru_unlink(s, o);
    used_.fetch_sub(o->charge, std::memory_order_relaxed);
    entries_.fetch_sub(1, std::memory_order_relaxed);
    return Ref<CachedObject>::adopt(o); // the map's reference
}

Ref<CachedObject> MemoryStore::publish(Ref<CachedObject> obj) {
    Shard &s = shard_for(obj->hash);
    Ref<CachedObject> replaced;
    {
        std::lock_guard lock(s.mu);
        auto it = s.map.find(obj->hash.low64);
        if (it != s.map.end()) replaced = detach_locked(s, it->second);
        CachedObject *raw = obj.get();
        raw->add_ref(); // the map's reference
        s.map.emplace(raw->hash.low64, raw);
        lru_push_front(s, raw);
        entries_.fetch_add(1, std::memory_order_relaxed);
    }
    inserts_.fetch_add(1, std::memory_order_relaxed);
    return obj;
}

void MemoryStore::refresh(const Ref<CachedObject> &previous, Ref<CachedObject> refreshed) {
    // The refreshed object shares the body; charge it like the previous one.
    if (!reserve(refreshed->charge, previous->hash.high64 % shard_count)) return;
    Shard &s = shard_for(previous->hash);
    Ref<CachedObject> replaced;
    {
        std::lock_guard lock(s.mu);
        auto it = s.map.find(previous->hash.low64);
        if (it == s.map.end() || it->second != previous.get()) {
            unreserve(refreshed->charge); // replaced or removed meanwhile: keep the newer state
            return;
        }
        replaced = detach_locked(s, it->second);
        CachedObject *raw = refreshed.detach();
        s.map.emplace(raw->hash.low64, raw);
        lru_push_front(s, raw);
        entries_.fetch_add(1, std::memory_order_relaxed);
    }
}

uint64_t MemoryStore::invalidate(std::string_view path, bool prefix) {
    uint64_t removed = 0;
    std::vector<Ref<CachedObject>> dropped;
    for (Shard &s : shards_) {
        {
            std::lock_guard lock(s.mu);
            for (auto it = s.map.begin(); it != s.map.end();) {
                CachedObject *o = it->second;
                ++it; // detach_locked erases o's node
                std::string_view p = o->path;
                if (prefix ? p.substr(0, path.size()) == path : p == path)
                    dropped.push_back(detach_locked(s, o));
            }
        }
        removed += dropped.size();
        dropped.clear(); // free outside the lock
    }
    invalidations_.fetch_add(removed, std::memory_order_relaxed);
    return removed;
}

StoreStats MemoryStore::stats() const {
    StoreStats st;
    st.entries = entries_.load(std::memory_order_relaxed);
    st.bytes_used = used_.load(std::memory_order_relaxed);
    st.bytes_budget = budget_;
    st.evictions = evictions_.load(std::memory_order_relaxed);
    st.inserts = inserts_.load(std::memory_order_relaxed);
    st.invalidations = invalidations_.load(std::memory_order_relaxed);
    return st;
}

void MemoryStore::lru_unlink(Shard &s, CachedObject *o) noexcept {
    if (!o->linked) return;
    if (o->lru_prev)
        o->lru_prev->lru_next = o->lru_next;
    else
        s.lru_head = o->lru_next;
    if (o->lru_next)
        o->lru_next->lru_prev = o->lru_prev;
    else
        s.lru_tail = o->lru_prev;
    o->lru_prev = o->lru_next = nullptr;
    o->linked = false;
}

void MemoryStore::lru_push_front(Shard &s, CachedObject *o) noexcept {
    o->lru_prev = nullptr;
    o->lru_next = s.lru_head;
    if (s.lru_head) s.lru_head->lru_prev = o;
    s.lru_head = o;
    if (!s.lru_tail) s.lru_tail = o;
    o->linked = true;
}

} // namespace perch::cache

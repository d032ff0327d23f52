#include "cache/cached_object.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace perch::cache {

using core::Buffer;
using core::Ref;

BodyChunks::BodyChunks(const BodyChunks &o) : BodyChunks() {
    for (const Ref<Buffer> &b : o)
        push_back(b);
}

BodyChunks::BodyChunks(BodyChunks &&o) noexcept : BodyChunks() {
    swap(o);
}

BodyChunks &BodyChunks::operator=(BodyChunks o) noexcept {
    swap(o);
    return *this;
}

BodyChunks::~BodyChunks() {
    if (cap_) {
        delete[] heap_;
    } else {
        one_.~Ref();
    }
}

void BodyChunks::swap(BodyChunks &o) noexcept {
    if (cap_ == 0 && o.cap_ == 0) {
        one_.swap(o.one_);
    } else if (cap_ && o.cap_) {
        std::swap(heap_, o.heap_);
    } else {
        BodyChunks &inl = cap_ ? o : *this, &out = cap_ ? *this : o;
        Ref<Buffer> *h = out.heap_;
        new (&out.one_) Ref<Buffer>(std::move(inl.one_));
        inl.one_.~Ref();
        inl.heap_ = h;
    }
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
}

void BodyChunks::push_back(Ref<Buffer> b) {
    if (cap_ == 0 && size_ == 0) {
        one_ = std::move(b);
        size_ = 1;
        return;
    }
    if (size_ == cap_ || cap_ == 0) {
        uint32_t cap = cap_ ? cap_ * 2 : 4;
        auto *h = new Ref<Buffer>[cap];
        Ref<Buffer> *old = cap_ ? heap_ : &one_;
        for (uint32_t i = 0; i < size_; ++i)
            h[i] = std::move(old[i]);
        if (cap_)
            delete[] heap_;
        else
            one_.~Ref();
        heap_ = h;
        cap_ = cap;
    }
    heap_[size_++] = std::move(b);
}

// MemoryStore charges it per object (see the layout in cached_object.hpp).
static_assert(sizeof(CachedObject) <= 112, "a member that does not fit the padding");

namespace {

constexpr std::align_val_t block_align{alignof(Buffer)};

size_t round_up(size_t n, size_t to) noexcept {
    return (n + to - 1) / to * to;
}

// Strings longer than 64 KiB are not kept.
std::string_view fit(std::string_view s) noexcept {
    return s.size() <= 0xffff ? s : std::string_view();
}

int32_t window_s(int64_t ms) noexcept {
    return ms < 0 ? -1 : int32_t(std::min<int64_t>(ms / 1000, INT32_MAX));
}

} // namespace

// The object's text: the key, the path unless the key holds it, then vary, etag and
// last_modified, each unless the head holds its bytes (at `in_head` in the head).
struct CachedObject::TextPlan {
    static constexpr size_t none = std::string_view::npos;
    struct Part {
        std::string_view s;
        size_t in_head = none;
    };
    std::string_view key, path;
    size_t path_in_key;
    Part parts[3]; // vary, etag, last_modified

    TextPlan(std::string_view k, std::string_view p, const CommitInfo &info)
        : key(k), path(p),
          path_in_key(p.empty() ? none : k.find(p)), parts{{fit(info.vary)},
                                                           {fit(info.etag)},
                                                           {fit(info.last_modified)}} {}
    // Marks the parts whose bytes `head` holds.
    void find_in(std::string_view head) noexcept {
        for (Part &part : parts)
            if (!part.s.empty()) part.in_head = head.find(part.s);
    }
    size_t bytes() const noexcept {
        size_t n = key.size() + (path_in_key == none ? path.size() : 0);
        for (const Part &part : parts)
            n += part.in_head == none ? part.s.size() : 0;
        return n;
    }
};

void CachedObject::place_text(const TextPlan &plan, size_t head_off) noexcept {
    char *base = reinterpret_cast<char *>(this);
    size_t off = sizeof(CachedObject);
    auto put = [&](std::string_view s) {
        if (!s.empty()) std::memcpy(base + off, s.data(), s.size());
        off += s.size();
        return uint32_t(off - s.size());
    };
    key_len_ = uint32_t(plan.key.size());
    put(plan.key);
    path_len_ = uint32_t(plan.path.size());
    path_off_ = plan.path_in_key == TextPlan::none
                    ? put(plan.path)
                    : uint32_t(sizeof(CachedObject) + plan.path_in_key);
    uint32_t *offs[3] = {&vary_off_, &etag_off_, &lm_off_};
    uint16_t *lens[3] = {&vary_len_, &etag_len_, &lm_len_};
    for (size_t i = 0; i < 3; ++i) {
        const TextPlan::Part &part = plan.parts[i];
        *lens[i] = uint16_t(part.s.size());
        *offs[i] = part.in_head == TextPlan::none ? put(part.s) : uint32_t(head_off + part.in_head);
    }
}

void CachedObject::set_times(const StoredTimes &t) noexcept {
    response_time_ = t.response_time;
    initial_age_ms_ = t.initial_age_ms;
    ttl_ms_ = t.ttl_ms;
    swr_s_ = window_s(t.stale_while_revalidate_ms);
    sie_s_ = window_s(t.stale_if_error_ms);
    revalidate_when_stale_ = t.revalidate_when_stale;
}

Ref<CachedObject> CachedObject::create_compact(std::string_view key_text, uint64_t key_hash,
                                               std::string_view path, const CommitInfo &info,
                                               const BodyChunks &body, uint64_t body_size,
                                               std::string_view head) {
    TextPlan plan(key_text, path, info);
    plan.find_in(head);
    size_t prefix = sizeof(CachedObject) + plan.bytes();
    Ref<Buffer> buf = Buffer::create_with_prefix(prefix, size_t(body_size) + head.size());
    auto *o = new (buf->prefix()) CachedObject;
    o->compact_ = true;
    o->tail_off_ =
        uint32_t(reinterpret_cast<uint8_t *>(buf.get()) - reinterpret_cast<uint8_t *>(o));
    for (const Ref<Buffer> &c : body)
        buf->append(c->data(), c->size());
    std::memcpy(buf->tail(), head.data(), head.size()); // beyond size(): the body's end
    o->place_text(plan, size_t(buf->tail() - reinterpret_cast<uint8_t *>(o)));
    o->key_hash = key_hash;
    o->status = info.status;
    o->set_times(info.times);
    buf.detach(); // the object's reference, dropped by destroy()
    return Ref<CachedObject>::adopt(o);
}

Ref<CachedObject> CachedObject::create(std::string_view key_text, uint64_t key_hash,
                                       std::string_view path, const CommitInfo &info,
                                       Ref<Buffer> head, BodyChunks body) {
    TextPlan plan(key_text, path, info);
    size_t tail_off = round_up(sizeof(CachedObject) + plan.bytes(), alignof(BufferList));
    size_t block = tail_off + sizeof(BufferList) + body.size() * sizeof(Ref<Buffer>);
    void *mem = ::operator new(round_up(block, alignof(Buffer)), block_align);
    auto *o = new (mem) CachedObject;
    o->tail_off_ = uint32_t(tail_off);
    uint64_t body_size = 0, bytes = head->allocation_bytes() + head->pool_bytes();
    for (const Ref<Buffer> &c : body) {
        body_size += c->size();
        bytes += c->allocation_bytes() + c->pool_bytes();
    }
    auto *list = new (static_cast<char *>(mem) + tail_off)
        BufferList{body_size, bytes, std::move(head), body.size()};
    for (size_t i = 0; i < body.size(); ++i)
        new (list->body() + i) Ref<Buffer>(body[i]);
    o->place_text(plan, 0);
    o->key_hash = key_hash;
    o->status = info.status;
    o->set_times(info.times);
    return Ref<CachedObject>::adopt(o);
}

Ref<CachedObject> CachedObject::refreshed(const CachedObject &prev, Ref<Buffer> head,
                                          const CommitInfo &info) {
    BodyChunks body;
    for (size_t i = 0; i < prev.body_count(); ++i)
        body.push_back(Ref<Buffer>::share(&prev.body_buffer(i)));
    return create(prev.key(), prev.key_hash, prev.path(), info, std::move(head), std::move(body));
}

uint64_t CachedObject::allocation_bytes() const noexcept {
    if (compact_) return own_buffer().allocation_bytes();
    return round_up(tail_off_ + sizeof(BufferList) + list().count * sizeof(Ref<Buffer>),
                    alignof(Buffer));
}

void CachedObject::destroy(const CachedObject *o) noexcept {
    auto *self = const_cast<CachedObject *>(o);
    if (self->compact_) {
        Buffer &own = self->own_buffer();
        self->~CachedObject();
        own.release(); // frees the block, unless a slice still holds it
        return;
    }
    auto &list = const_cast<BufferList &>(self->list());
    for (size_t i = 0; i < list.count; ++i)
        list.body()[i].~Ref();
    list.~BufferList();
    self->~CachedObject();
    ::operator delete(self, block_align);
}

} // namespace perch::cache

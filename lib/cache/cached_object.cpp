#include "cache/cached_object.hpp"

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

Ref<CachedObject> CachedObject::create(std::string_view key_text, uint64_t key_hash,
                                       std::string_view path, const CommitInfo &info) {
    auto fit = [](std::string_view s) { return s.size() <= 0xffff ? s : std::string_view(); };
    std::string_view etag = fit(info.etag), lm = fit(info.last_modified), vary = fit(info.vary);
    size_t path_off = key_text.find(path);
    bool path_in_key = path_off != std::string_view::npos && !path.empty();
    size_t text =
        key_text.size() + (path_in_key ? 0 : path.size()) + etag.size() + lm.size() + vary.size();
    void *mem = ::operator new(sizeof(CachedObject) + text);
    auto *o = new (mem) CachedObject;
    char *p = reinterpret_cast<char *>(o + 1);
    o->key_len_ = uint32_t(key_text.size());
    o->path_len_ = uint32_t(path.size());
    o->path_off_ = uint32_t(path_in_key ? path_off : key_text.size());
    o->etag_len_ = uint16_t(etag.size());
    o->lm_len_ = uint16_t(lm.size());
    o->vary_len_ = uint16_t(vary.size());
    for (std::string_view s : {key_text, path_in_key ? std::string_view() : path, etag, lm, vary}) {
        if (!s.empty()) std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
    o->key_hash = key_hash;
    o->status = info.status;
    o->times = info.times;
    return Ref<CachedObject>::adopt(o);
}

Ref<CachedObject> CachedObject::refreshed(const CachedObject &prev, Ref<Buffer> head,
                                          const CommitInfo &info) {
    Ref<CachedObject> o = create(prev.key(), prev.key_hash, prev.path(), info);
    o->body = prev.body;
    o->body_size = prev.body_size;
    uint32_t len = uint32_t(head->size());
    o->set_head(std::move(head), 0, len);
    return o;
}

void CachedObject::destroy(const CachedObject *o) noexcept {
    o->~CachedObject();
    ::operator delete(const_cast<CachedObject *>(o));
}

} // namespace perch::cache

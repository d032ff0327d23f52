// Intrusive reference counting. A type T provides add_ref() and release() (release deletes
// the object when the count reaches zero); Ref<T> is the owning smart pointer. Intrusive
// counts keep shared objects (buffers, cache entries, configs) one allocation each, and let a
// raw pointer cross the C ABI and become a Ref again.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace perch::core {

// Base for thread-safe refcounted objects. Derived classes must be final or have a virtual
// destructor if deleted through a base pointer; Deleter customises freeing.
template <class Derived> class RefCounted {
public:
    void add_ref() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() const noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
            Derived::destroy(static_cast<const Derived *>(this));
    }
    uint32_t ref_count() const noexcept { return refs_.load(std::memory_order_relaxed); }

    static void destroy(const Derived *p) noexcept { delete p; }

protected:
    RefCounted() = default;
    ~RefCounted() = default;
    RefCounted(const RefCounted &) = delete;
    RefCounted &operator=(const RefCounted &) = delete;

private:
    mutable std::atomic<uint32_t> refs_{1};
};

template <class T> class Ref {
public:
    Ref() = default;
    Ref(std::nullptr_t) {}
    // Takes over one reference the caller already holds (e.g. a fresh object, count 1).
    static Ref adopt(T *p) noexcept {
        Ref r;
        r.p_ = p;
        return r;
    }
    // Adds a reference.
    static Ref share(T *p) noexcept {
        if (p) p->add_ref();
        return adopt(p);
    }
    Ref(const Ref &o) noexcept : p_(o.p_) {
        if (p_) p_->add_ref();
    }
    Ref(Ref &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    template <class U> Ref(Ref<U> &&o) noexcept : p_(o.detach()) {}
    Ref &operator=(Ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~Ref() {
        if (p_) p_->release();
    }

    T *get() const noexcept { return p_; }
    T *operator->() const noexcept { return p_; }
    T &operator*() const noexcept { return *p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    T *detach() noexcept { return std::exchange(p_, nullptr); }
    void reset() noexcept { Ref().swap(*this); }
    void swap(Ref &o) noexcept { std::swap(p_, o.p_); }
    bool operator==(const Ref &o) const noexcept { return p_ == o.p_; }

private:
    T *p_ = nullptr;
};

} // namespace perch::core

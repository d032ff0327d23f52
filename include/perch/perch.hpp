/*
 * perch.hpp — a header-only C++20 wrapper over perch.h: owners for the handles, statuses as
 * values. It is inline code over the C ABI only: no C++ ABI is promised, and a program built
 * with it links against libperch.so like a C program does.
 *
 * - perch::config, perch::cache and perch::runtime own one handle each. They are move-only; a
 *   moved-from owner holds nothing, and calls on it fail with PERCH_E_INVALID_HANDLE. config and
 *   cache are shared handles: share() gives another owner of the same handle (a new reference).
 * - Fallible calls return perch::result<T>: a T, or a perch::error (the status and a message,
 *   the handle's last_error where the C call sets one, else perch_strerror()). perch::result is
 *   a small std::expected (which GCC 12 lacks): has_value(), operator bool, *, ->, value(),
 *   error(), value_or(). Reading the side a result does not hold is undefined, as with
 *   std::expected's operator*: check first.
 * - No exception is thrown by this header itself; it works with -fno-exceptions. Calls that
 *   may build an error message allocate (std::string) and are not noexcept for that reason.
 * - Threads, ownership and errors are those of the C functions each method names.
 */
#ifndef PERCH_PERCH_HPP
#define PERCH_PERCH_HPP

#include <perch/perch.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace perch {

// ---- statuses -------------------------------------------------------------------------------

// A failed call: its status (a PERCH_E_* value) and a message saying why.
struct error {
    perch_status status = PERCH_E_INTERNAL;
    std::string message;

    // "PERCH_E_IO". Static string.
    const char *name() const noexcept { return perch_status_name(status); }
};

// Why perch_cache_invalidate refused a list: the error, and for a refused path its index and
// the library's reason (a static string), which the message repeats as "paths[2]: ...".
struct invalidation_error : error {
    std::size_t refused_index = 0;
    const char *refused_reason = nullptr; // NULL unless a path was refused

    bool path_refused() const noexcept { return refused_reason != nullptr; }
};

// A T or an E, like std::expected<T, E>.
template <class T, class E = error> class [[nodiscard]] result {
public:
    result(const T &v) noexcept(std::is_nothrow_copy_constructible_v<T>)
        : v_(std::in_place_index<0>, v) {}
    result(T &&v) noexcept(std::is_nothrow_move_constructible_v<T>)
        : v_(std::in_place_index<0>, std::move(v)) {}
    result(E e) noexcept(std::is_nothrow_move_constructible_v<E>)
        : v_(std::in_place_index<1>, std::move(e)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // Preconditions: has_value() for the value, !has_value() for error().
    // clang-format off (clang-format 14 glues "&" to "noexcept")
    T &value() &noexcept { return *std::get_if<0>(&v_); }
    const T &value() const &noexcept { return *std::get_if<0>(&v_); }
    T &&value() &&noexcept { return std::move(*std::get_if<0>(&v_)); }
    T &operator*() &noexcept { return value(); }
    const T &operator*() const &noexcept { return value(); }
    T &&operator*() &&noexcept { return std::move(*this).value(); }
    T *operator->() noexcept { return std::get_if<0>(&v_); }
    const T *operator->() const noexcept { return std::get_if<0>(&v_); }
    E &error() &noexcept { return *std::get_if<1>(&v_); }
    const E &error() const &noexcept { return *std::get_if<1>(&v_); }
    E &&error() &&noexcept { return std::move(*std::get_if<1>(&v_)); }
    // clang-format on

    template <class U> T value_or(U &&fallback) const & {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U> T value_or(U &&fallback) && {
        return has_value() ? std::move(value()) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, E> v_;
};

// Nothing, or an E.
template <class E> class [[nodiscard]] result<void, E> {
public:
    result() noexcept = default;
    result(E e) noexcept(std::is_nothrow_move_constructible_v<E>) : e_(std::move(e)) {}

    bool has_value() const noexcept { return !e_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    // clang-format off
    E &error() & noexcept { return *e_; }
    const E &error() const & noexcept { return *e_; }
    E &&error() && noexcept { return std::move(*e_); }
    // clang-format on

private:
    std::optional<E> e_;
};

namespace detail {

inline error make_error(perch_status s, const char *detail = nullptr) {
    return error{s, detail && *detail ? detail : perch_strerror(s)};
}

// The C calls that set a handle's last_error do so for every failure except these (which
// happen before, or instead of, the call's own work).
inline bool sets_last_error(perch_status s) noexcept {
    return s != PERCH_E_INVALID_HANDLE && s != PERCH_E_NOMEM && s != PERCH_E_INTERNAL;
}

inline perch_slice slice_of(std::string_view s) noexcept {
    return perch_slice{reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

} // namespace detail

// ---- config ---------------------------------------------------------------------------------

// A perch_config reference (perch_config_*).
class config {
public:
    config() noexcept = default;
    // Takes over a reference the caller holds.
    explicit config(perch_config *adopt) noexcept : h_(adopt) {}
    config(const config &) = delete;
    config &operator=(const config &) = delete;
    config(config &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    config &operator=(config &&o) noexcept {
        if (this != &o) {
            perch_config_unref(h_);
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    ~config() { perch_config_unref(h_); }

    // perch_config_create + perch_config_load_json. base_dir: NUL-terminated or NULL.
    static result<config> load_json(std::string_view json, const char *base_dir = nullptr) {
        perch_config *h = nullptr;
        if (perch_status s = perch_config_create(&h); s != PERCH_OK) return detail::make_error(s);
        config c(h);
        if (perch_status s =
                perch_config_load_json(h, json.data() ? json.data() : "", json.size(), base_dir);
            s != PERCH_OK)
            return detail::make_error(s, detail::sets_last_error(s) ? perch_config_last_error(h)
                                                                    : nullptr);
        return c;
    }

    // perch_config_create + perch_config_load_file.
    static result<config> load_file(const char *path) {
        perch_config *h = nullptr;
        if (perch_status s = perch_config_create(&h); s != PERCH_OK) return detail::make_error(s);
        config c(h);
        if (perch_status s = perch_config_load_file(h, path); s != PERCH_OK)
            return detail::make_error(s, detail::sets_last_error(s) ? perch_config_last_error(h)
                                                                    : nullptr);
        return c;
    }
    static result<config> load_file(const std::string &path) { return load_file(path.c_str()); }

    // Another owner of the same configuration (perch_config_ref).
    config share() const noexcept {
        perch_config_ref(h_);
        return config(h_);
    }

    uint32_t workers() const noexcept { return perch_config_workers(h_); }
    uint32_t shutdown_timeout_ms() const noexcept { return perch_config_shutdown_timeout_ms(h_); }
    // Owned by the handle, valid while it lives.
    const char *describe() const noexcept { return perch_config_describe(h_); }
    // NULL past the last address.
    const char *listen_url(uint32_t index) const noexcept {
        return perch_config_listen_url(h_, index);
    }

    perch_config *get() const noexcept { return h_; }
    // Gives up the reference without dropping it: the caller unrefs it.
    perch_config *release() noexcept { return std::exchange(h_, nullptr); }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    perch_config *h_ = nullptr;
};

// ---- cache ----------------------------------------------------------------------------------

struct cache_options {
    uint64_t memory_bytes = 0;     // 0: the config's perch.cache.memory, or 256 MiB
    uint64_t max_object_bytes = 0; // 0: memory_bytes / 8
};

// What cache::invalidate removed.
struct invalidation {
    uint64_t removed = 0;
};

// A perch_cache reference (perch_cache_*). May be used from any thread.
class cache {
public:
    cache() noexcept = default;
    explicit cache(perch_cache *adopt) noexcept : h_(adopt) {}
    cache(const cache &) = delete;
    cache &operator=(const cache &) = delete;
    cache(cache &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    cache &operator=(cache &&o) noexcept {
        if (this != &o) {
            perch_cache_unref(h_);
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    ~cache() { perch_cache_unref(h_); }

    // perch_cache_create without a config.
    static result<cache> create(const cache_options &o = {}) { return create_with(nullptr, o); }
    // perch_cache_create with the config's defaults.
    static result<cache> create(const config &cfg, const cache_options &o = {}) {
        if (!cfg) return detail::make_error(PERCH_E_INVALID_HANDLE);
        return create_with(cfg.get(), o);
    }

    // perch_cache_invalidate. On a refused path the error carries its index and reason.
    result<invalidation, invalidation_error> invalidate(std::span<const perch_slice> paths) {
        perch_cache_invalidate_result r{};
        r.struct_size = sizeof r;
        perch_status s = perch_cache_invalidate(h_, paths.data(), paths.size(), &r);
        if (s == PERCH_OK) return invalidation{r.removed};
        invalidation_error e;
        e.status = s;
        if (r.refused_reason) {
            e.refused_index = static_cast<std::size_t>(r.refused_index);
            e.refused_reason = r.refused_reason;
            e.message = "paths[" + std::to_string(r.refused_index) + "]: " + r.refused_reason;
        } else {
            e.message = perch_strerror(s);
        }
        return e;
    }
    // The same for paths as strings (anything that converts to std::string_view).
    // clang-format off
    template <std::ranges::input_range R>
        requires std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>
    result<invalidation, invalidation_error> invalidate(const R &paths) {
        // clang-format on
        std::vector<perch_slice> slices;
        if constexpr (std::ranges::sized_range<R>) slices.reserve(std::ranges::size(paths));
        for (auto &&p : paths)
            slices.push_back(detail::slice_of(std::string_view(p)));
        return invalidate(std::span<const perch_slice>(slices));
    }
    result<invalidation, invalidation_error>
    invalidate(std::initializer_list<std::string_view> paths) {
        return invalidate<std::initializer_list<std::string_view>>(paths);
    }

    // perch_cache_get_stats.
    result<perch_cache_stats> stats() const {
        perch_cache_stats st{};
        st.struct_size = sizeof st;
        if (perch_status s = perch_cache_get_stats(h_, &st); s != PERCH_OK)
            return detail::make_error(s);
        return st;
    }

    // Another owner of the same cache (perch_cache_ref).
    cache share() const noexcept {
        perch_cache_ref(h_);
        return cache(h_);
    }

    perch_cache *get() const noexcept { return h_; }
    perch_cache *release() noexcept { return std::exchange(h_, nullptr); }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    static result<cache> create_with(const perch_config *cfg, const cache_options &o) {
        perch_cache_options co;
        perch_cache_options_init(&co, sizeof co);
        co.memory_bytes = o.memory_bytes;
        co.max_object_bytes = o.max_object_bytes;
        perch_cache *h = nullptr;
        if (perch_status s = perch_cache_create(cfg, &co, &h); s != PERCH_OK)
            return detail::make_error(s);
        return cache(h);
    }

    perch_cache *h_ = nullptr;
};

// ---- runtime --------------------------------------------------------------------------------

// perch_runtime_options, with the same defaults (zero: default).
struct runtime_options {
    uint32_t loop_mode = PERCH_LOOP_EXTERNAL; // or PERCH_LOOP_OWN
    void *uv_loop = nullptr;                  // uv_loop_t * for PERCH_LOOP_EXTERNAL
    const cache *shared_cache = nullptr;      // NULL: a cache of the runtime's own
    perch_log_cb log = nullptr;               // NULL: stderr
    void *log_user = nullptr;
    int32_t log_level = 0; // PERCH_LOG_*; 0: PERCH_LOG_WARN
};

// An owned perch_runtime (perch_runtime_*): destroyed with its owner. To destroy it from inside
// one of its callbacks, release() it first and call perch_runtime_destroy() there.
class runtime {
public:
    runtime() noexcept = default;
    explicit runtime(perch_runtime *adopt) noexcept : h_(adopt) {}
    runtime(const runtime &) = delete;
    runtime &operator=(const runtime &) = delete;
    runtime(runtime &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    runtime &operator=(runtime &&o) noexcept {
        if (this != &o) {
            perch_runtime_destroy(h_);
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    ~runtime() { perch_runtime_destroy(h_); }

    // perch_runtime_create. Thread: the one that will drive the loop.
    static result<runtime> create(const config &cfg, const runtime_options &o = {}) {
        perch_runtime_options ro;
        perch_runtime_options_init(&ro, sizeof ro);
        ro.loop_mode = o.loop_mode;
        ro.uv_loop = o.uv_loop;
        ro.cache = o.shared_cache ? o.shared_cache->get() : nullptr;
        ro.log = o.log;
        ro.log_user = o.log_user;
        ro.log_level = o.log_level;
        perch_runtime *h = nullptr;
        if (perch_status s = perch_runtime_create(cfg.get(), &ro, &h); s != PERCH_OK)
            return detail::make_error(s);
        return runtime(h);
    }

    // perch_runtime_listen: the bound port.
    result<uint16_t> listen(std::string_view url) {
        uint16_t port = 0;
        perch_status s = perch_runtime_listen(h_, url.data() ? url.data() : "", url.size(), &port);
        if (s != PERCH_OK) return runtime_error(s);
        return port;
    }
    // perch_runtime_listen_configured.
    result<void> listen_configured() {
        if (perch_status s = perch_runtime_listen_configured(h_); s != PERCH_OK)
            return runtime_error(s);
        return {};
    }
    // perch_runtime_listen_admin: the bound port.
    result<uint16_t> listen_admin() {
        uint16_t port = 0;
        if (perch_status s = perch_runtime_listen_admin(h_, &port); s != PERCH_OK)
            return runtime_error(s);
        return port;
    }

    // perch_runtime_shutdown. cb (user first) may be a captureless lambda.
    result<void> shutdown(uint32_t grace_ms, perch_runtime_shutdown_cb cb = nullptr,
                          void *user = nullptr) {
        if (perch_status s = perch_runtime_shutdown(h_, grace_ms, cb, user); s != PERCH_OK)
            return detail::make_error(s);
        return {};
    }

    // PERCH_LOOP_OWN: perch_runtime_run, perch_runtime_step, perch_runtime_backend_fd,
    // perch_runtime_timeout_ms.
    result<void> run() {
        if (perch_status s = perch_runtime_run(h_); s != PERCH_OK) return detail::make_error(s);
        return {};
    }
    result<void> step() {
        if (perch_status s = perch_runtime_step(h_); s != PERCH_OK) return detail::make_error(s);
        return {};
    }
    int backend_fd() const noexcept { return perch_runtime_backend_fd(h_); }
    int32_t timeout_ms() const noexcept { return perch_runtime_timeout_ms(h_); }

    // perch_runtime_get_stats. Thread: any.
    result<perch_runtime_stats> stats() const {
        perch_runtime_stats st{};
        st.struct_size = sizeof st;
        if (perch_status s = perch_runtime_get_stats(h_, &st); s != PERCH_OK)
            return detail::make_error(s);
        return st;
    }

    // The runtime's cache, as an owner of its own (a new reference): an empty owner for an
    // empty runtime.
    cache shared_cache() const noexcept {
        perch_cache *c = perch_runtime_cache(h_);
        perch_cache_ref(c);
        return cache(c);
    }

    perch_runtime *get() const noexcept { return h_; }
    perch_runtime *release() noexcept { return std::exchange(h_, nullptr); }
    explicit operator bool() const noexcept { return h_ != nullptr; }

private:
    error runtime_error(perch_status s) const {
        return detail::make_error(s, detail::sets_last_error(s) ? perch_runtime_last_error(h_)
                                                                : nullptr);
    }

    perch_runtime *h_ = nullptr;
};

} // namespace perch

#endif /* PERCH_PERCH_HPP */

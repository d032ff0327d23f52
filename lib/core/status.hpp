// Errors inside the library: a code that maps 1:1 to a public perch_status, where the error
// came from, whether retrying may help, and a human-readable context.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace perch::core {

// Values equal the public PERCH_E_* statuses (include/perch/perch.h); append only.
enum class Code : int32_t {
    ok = 0,
    invalid_argument = -1,
    nomem = -2,
    internal = -3,
    invalid_handle = -4,
    reentrant = -5,
    config = -6,
    io = -7,
    state = -8,
    origin_connect = -9,
    origin_timeout = -10,
    origin_protocol = -11,
    viewer_protocol = -12,
    unsupported = -13,
    not_found = -14,
    cancelled = -15,
    tls = -16,
    too_large = -17,
};

enum class Source : uint8_t { viewer, origin, cache, config, internal };

struct Error {
    Code code = Code::internal;
    Source source = Source::internal;
    bool retryable = false;
    // What went wrong, for people. May hold several lines, one problem each (a config with
    // several mistakes: "<json path>: <reason>" per line), without a final line break.
    std::string context;

    static Error make(Code c, Source s, std::string ctx, bool retry = false) {
        return Error{c, s, retry, std::move(ctx)};
    }
};

// An expected-like result: either a T or an Error.
template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error e) : v_(std::move(e)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T &value() & { return std::get<0>(v_); }
    T &&value() && { return std::get<0>(std::move(v_)); }
    const T &value() const & { return std::get<0>(v_); }
    T *operator->() { return &std::get<0>(v_); }
    const T *operator->() const { return &std::get<0>(v_); }
    T &operator*() { return std::get<0>(v_); }
    const Error &error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error e) : err_(std::move(e)), failed_(true) {}
    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return err_; }

private:
    Error err_;
    bool failed_ = false;
};

const char *code_name(Code c);    // "PERCH_E_IO"
const char *code_message(Code c); // "I/O error"

} // namespace perch::core

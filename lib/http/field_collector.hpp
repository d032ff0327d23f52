// Collects the header fields llhttp delivers in fragments into a HeaderMap, for both the
// request and the response parser: every byte of the head counts against a limit, a field name
// must be a non-empty token (RFC 9112 §5.1: no whitespace before the colon), and fields arriving
// after the head was delivered (chunked trailers) are counted but never merged into it (RFC 9110
// §6.5.1).
#pragma once

#include "core/ascii.hpp"
#include "core/header_map.hpp"

#include <cstddef>
#include <string_view>

namespace perch::http {

class FieldCollector {
public:
    enum class Outcome { ok, too_large, bad_name };

    // Starts a new head whose fields go to `fields`, with at most `limit` bytes.
    void start(core::HeaderMap &fields, size_t limit) noexcept {
        fields_ = &fields;
        limit_ = limit;
        bytes_ = 0;
        in_name_ = false;
        in_value_ = false;
        storing_ = true;
    }
    // The head was delivered: later fields are trailers.
    void stop_storing() noexcept { storing_ = false; }

    // Counts head bytes that are not fields (method, target, reason phrase).
    Outcome count(size_t n) noexcept {
        bytes_ += n;
        return bytes_ > limit_ ? Outcome::too_large : Outcome::ok;
    }
    Outcome name(std::string_view part) {
        if (count(part.size()) != Outcome::ok) return Outcome::too_large;
        if (!core::is_token(part)) return Outcome::bad_name;
        if (!in_name_) {
            if (storing_) fields_->begin_field();
            in_name_ = true;
            name_bytes_ = 0;
        }
        name_bytes_ += part.size();
        if (storing_) fields_->append_name(part);
        return Outcome::ok;
    }
    Outcome value(std::string_view part) {
        if (count(part.size()) != Outcome::ok) return Outcome::too_large;
        if (!named()) return Outcome::bad_name; // ": x" has no name (llhttp lets it pass)
        in_name_ = false;
        in_value_ = true;
        if (storing_) fields_->append_value(part);
        return Outcome::ok;
    }
    Outcome value_done() noexcept {
        if (!named()) return Outcome::bad_name;
        in_name_ = false;
        in_value_ = false;
        if (storing_) fields_->trim_last_value();
        return Outcome::ok;
    }

private:
    // A value belongs to a field whose name has at least one byte.
    bool named() const noexcept { return in_value_ || (in_name_ && name_bytes_ > 0); }

    core::HeaderMap *fields_ = nullptr;
    size_t limit_ = 0;
    size_t bytes_ = 0;
    size_t name_bytes_ = 0;
    bool in_name_ = false;
    bool in_value_ = false;
    bool storing_ = true;
};

} // namespace perch::http

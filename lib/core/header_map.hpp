// An ordered list of HTTP fields kept in one growable byte buffer. clear() keeps the capacity,
// so a connection that reuses its HeaderMap allocates nothing per request once warmed up.
// Names compare case-insensitively; values are stored as received (not NUL-terminated).
#pragma once

#include "core/ascii.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perch::core {

class HeaderMap {
public:
    void clear() noexcept {
        buf_.clear();
        fields_.clear();
    }
    size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    // Bytes of names and values stored (what a size limit counts).
    size_t bytes() const noexcept { return buf_.size(); }

    std::string_view name(size_t i) const noexcept {
        return {buf_.data() + fields_[i].name_off, fields_[i].name_len};
    }
    std::string_view value(size_t i) const noexcept {
        return {buf_.data() + fields_[i].value_off, fields_[i].value_len};
    }

    void add(std::string_view name, std::string_view value);
    // Replaces every field named `name` by one field with `value` (appended at the end).
    void set(std::string_view name, std::string_view value);
    // Removes every field named `name`; returns how many were removed.
    size_t remove(std::string_view name) noexcept;

    // The first value of `name`, if present.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
    size_t count(std::string_view name) const noexcept;
    // All values of `name` joined with ", " (RFC 9110 §5.3); empty if absent.
    std::string joined(std::string_view name) const;

    template <class Fn> void for_each(std::string_view name, Fn &&fn) const {
        for (size_t i = 0; i < fields_.size(); ++i)
            if (iequals(this->name(i), name)) fn(value(i));
    }

    // Incremental building, for parsers that receive a field in fragments:
    // begin_field(), then append_name()* , then append_value()*.
    void begin_field();
    void append_name(std::string_view part);
    void append_value(std::string_view part);
    // Drops trailing spaces and tabs from the last field's value (RFC 9110 §5.5 OWS).
    void trim_last_value() noexcept;

private:
    struct Field {
        uint32_t name_off, name_len, value_off, value_len;
    };
    std::string buf_;
    std::vector<Field> fields_;
};

} // namespace perch::core

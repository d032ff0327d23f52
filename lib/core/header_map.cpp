#include "core/header_map.hpp"

#include <algorithm>

namespace perch::core {

void HeaderMap::add(std::string_view name, std::string_view value) {
    begin_field();
    append_name(name);
    append_value(value);
}

void HeaderMap::set(std::string_view name, std::string_view value) {
    remove(name);
    add(name, value);
}

size_t HeaderMap::remove(std::string_view name) noexcept {
    size_t before = fields_.size();
    std::erase_if(fields_, [&](const Field &f) {
        return iequals(std::string_view(buf_.data() + f.name_off, f.name_len), name);
    });
    return before - fields_.size();
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const noexcept {
    for (size_t i = 0; i < fields_.size(); ++i)
        if (iequals(this->name(i), name)) return value(i);
    return std::nullopt;
}

size_t HeaderMap::count(std::string_view name) const noexcept {
    size_t n = 0;
    for (size_t i = 0; i < fields_.size(); ++i)
        n += iequals(this->name(i), name);
    return n;
}

std::string HeaderMap::joined(std::string_view name) const {
    std::string out;
    for_each(name, [&](std::string_view v) {
        if (!out.empty()) out += ", ";
        out += v;
    });
    return out;
}

void HeaderMap::begin_field() {
    auto off = static_cast<uint32_t>(buf_.size());
    fields_.push_back(Field{off, 0, off, 0});
}

void HeaderMap::append_name(std::string_view part) {
    buf_.append(part);
    Field &f = fields_.back();
    f.name_len += static_cast<uint32_t>(part.size());
    f.value_off = static_cast<uint32_t>(buf_.size());
}

void HeaderMap::append_value(std::string_view part) {
    buf_.append(part);
    fields_.back().value_len += static_cast<uint32_t>(part.size());
}

void HeaderMap::trim_last_value() noexcept {
    Field &f = fields_.back();
    while (f.value_len > 0) {
        char c = buf_[f.value_off + f.value_len - 1];
        if (c != ' ' && c != '\t') break;
        --f.value_len;
    }
}

} // namespace perch::core

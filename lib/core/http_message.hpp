// Request and response heads as the library passes them between phases.
#pragma once

#include "core/header_map.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace perch::core {

// Values match llhttp's method numbering where one exists; `other` is any method we do not
// name (it is still forwarded, as an unsafe method).
enum class Method : uint8_t { get, head, post, put, del, options, patch, connect, trace, other };

std::string_view method_name(Method m) noexcept;
Method method_from_name(std::string_view name) noexcept;
// GET, HEAD, OPTIONS and TRACE (RFC 9110 §9.2.1).
bool method_is_safe(Method m) noexcept;

struct RequestHead {
    Method method = Method::get;
    std::string method_text; // as received (matters for `other`)
    std::string target;      // request-target as received: path?query
    uint8_t version_major = 1, version_minor = 1;
    HeaderMap headers;

    void clear() noexcept {
        method = Method::get;
        method_text.clear();
        target.clear();
        version_major = version_minor = 1;
        headers.clear();
    }
    std::string_view path() const noexcept {
        std::string_view t = target;
        return t.substr(0, t.find('?'));
    }
    // Without the '?'; empty when there is none.
    std::string_view query() const noexcept {
        std::string_view t = target;
        auto q = t.find('?');
        return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
    }
    bool has_query() const noexcept { return target.find('?') != std::string::npos; }
};

struct ResponseHead {
    uint16_t status = 200;
    std::string reason;
    uint8_t version_major = 1, version_minor = 1;
    HeaderMap headers;

    void clear() noexcept {
        status = 200;
        reason.clear();
        version_major = version_minor = 1;
        headers.clear();
    }
};

// The standard reason phrase for a status ("Not Found"), or "" for unknown codes.
std::string_view reason_phrase(uint16_t status) noexcept;

} // namespace perch::core

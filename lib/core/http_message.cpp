#include "core/http_message.hpp"

#include "core/ascii.hpp"

#include <algorithm>
#include <iterator>

namespace perch::core {

std::string_view method_name(Method m) noexcept {
    switch (m) {
    case Method::get:
        return "GET";
    case Method::head:
        return "HEAD";
    case Method::post:
        return "POST";
    case Method::put:
        return "PUT";
    case Method::del:
        return "DELETE";
    case Method::options:
        return "OPTIONS";
    case Method::patch:
        return "PATCH";
    case Method::connect:
        return "CONNECT";
    case Method::trace:
        return "TRACE";
    case Method::other:
        break;
    }
    return "";
}

Method method_from_name(std::string_view name) noexcept {
    // Methods are case-sensitive (RFC 9110 §9.1).
    static constexpr Method all[] = {Method::get,   Method::head,    Method::post,
                                     Method::put,   Method::del,     Method::options,
                                     Method::patch, Method::connect, Method::trace};
    for (Method m : all)
        if (method_name(m) == name) return m;
    return Method::other;
}

bool method_is_safe(Method m) noexcept {
    return m == Method::get || m == Method::head || m == Method::options || m == Method::trace;
}

std::string_view reason_phrase(uint16_t status) noexcept {
    // RFC 9110 section 15, with 102 (RFC 2518), 103 (RFC 8297), 429, 431 and 511 (RFC 6585)
    // and 451 (RFC 7725): every status an origin or the edge may send has its phrase.
    struct Phrase {
        uint16_t status;
        std::string_view text;
    };
    static constexpr Phrase phrases[] = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {102, "Processing"},
        {103, "Early Hints"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {203, "Non-Authoritative Information"},
        {204, "No Content"},
        {205, "Reset Content"},
        {206, "Partial Content"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {305, "Use Proxy"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {421, "Misdirected Request"},
        {422, "Unprocessable Content"},
        {425, "Too Early"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {511, "Network Authentication Required"},
    };
    const Phrase *end = std::end(phrases);
    const Phrase *p = std::lower_bound(std::begin(phrases), end, status,
                                       [](const Phrase &x, uint16_t s) { return x.status < s; });
    return p != end && p->status == status ? p->text : std::string_view{};
}

} // namespace perch::core

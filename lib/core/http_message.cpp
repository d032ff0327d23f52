#include "core/http_message.hpp"

#include "core/ascii.hpp"

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
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

} // namespace perch::core

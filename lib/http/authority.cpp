#include "http/authority.hpp"

#include "core/ascii.hpp"

#include <arpa/inet.h>

namespace perch::http {

namespace {

bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char to_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
char to_upper(char c) noexcept { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; }

// unreserved / sub-delims of RFC 3986 (pct-encoded is checked apart).
bool is_reg_name_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '-': case '.': case '_': case '~':                                  // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': // sub-delims
    case '+': case ',': case ';': case '=':
        return true;
    default:
        return false;
    }
}

// Appends the reg-name `name`, normalised; false when it is not one.
bool append_reg_name(std::string_view name, std::string &out) {
    for (size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (c == '%') {
            if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2]))
                return false;
            out += '%';
            out += to_upper(name[i + 1]);
            out += to_upper(name[i + 2]);
            i += 2;
            continue;
        }
        if (!is_reg_name_char(c)) return false;
        out += to_lower(c);
    }
    return true;
}

// Appends "[v6]" for the IP-literal `literal` (brackets included); false when it is not an
// IPv6 address (IPvFuture is not served).
bool append_ip_literal(std::string_view literal, std::string &out) {
    std::string_view inner = literal.substr(1, literal.size() - 2);
    char text[INET6_ADDRSTRLEN];
    if (inner.empty() || inner.size() >= sizeof text) return false;
    inner.copy(text, inner.size());
    text[inner.size()] = '\0';
    unsigned char addr[16];
    if (inet_pton(AF_INET6, text, addr) != 1) return false;
    out += '[';
    for (char c : inner) out += to_lower(c);
    out += ']';
    return true;
}

} // namespace

bool normalize_authority_into(std::string_view text, uint16_t default_port, std::string &out) {
    out.clear();
    std::string_view host = text, port;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos) return false;
        host = text.substr(0, close + 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return false;
            has_port = true;
            port = rest.substr(1);
        }
        if (!append_ip_literal(host, out)) return false;
    } else {
        size_t colon = text.find(':');
        if (colon != std::string_view::npos) {
            host = text.substr(0, colon);
            port = text.substr(colon + 1);
            has_port = true;
        }
        if (!host.empty() && host.back() == '.') host.remove_suffix(1); // "a.example." is a.example
        if (host.empty() || !append_reg_name(host, out)) return false;
    }
    if (!has_port || port.empty()) return true;
    uint32_t value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + uint32_t(c - '0');
        if (value > 65535) return false;
    }
    if (value == default_port) return true;
    out += ':';
    out += std::to_string(value);
    return true;
}

std::string_view authority_host(std::string_view authority) noexcept {
    size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) return authority;
    size_t bracket = authority.rfind(']');
    if (bracket != std::string_view::npos && bracket > colon) return authority; // "[::1]"
    return authority.substr(0, colon);
}

ResolvedTarget resolve_target(const core::RequestHead &head, bool https, std::string &authority) {
    ResolvedTarget r;
    std::string_view target = head.target;
    std::string_view absolute_authority;
    uint16_t default_port = https ? 443 : 80;
    bool absolute = target.empty() || target.front() != '/';
    if (absolute) {
        size_t scheme_end = target.find("://");
        if (scheme_end == std::string_view::npos || scheme_end == 0) {
            r.problem = TargetProblem::bad_target;
            return r;
        }
        std::string_view scheme = target.substr(0, scheme_end);
        if (core::iequals(scheme, "http"))
            default_port = 80;
        else if (core::iequals(scheme, "https"))
            default_port = 443;
        else {
            r.problem = TargetProblem::bad_scheme;
            return r;
        }
        std::string_view rest = target.substr(scheme_end + 3);
        size_t end = rest.find_first_of("/?");
        absolute_authority = rest.substr(0, end);
        r.path_and_query = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    } else {
        r.path_and_query = target;
    }
    size_t hosts = head.headers.count("host");
    if (hosts > 1 || (hosts == 0 && head.version_minor >= 1)) {
        r.problem = TargetProblem::host_count;
        return r;
    }
    if (hosts == 1 && !normalize_authority_into(*head.headers.get("host"), default_port, authority)) {
        r.problem = TargetProblem::bad_host;
        return r;
    }
    if (absolute) { // its authority wins over Host
        if (!normalize_authority_into(absolute_authority, default_port, authority)) {
            r.problem = TargetProblem::bad_host;
            return r;
        }
    } else if (hosts == 0) {
        authority.clear();
    }
    return r;
}

std::string_view target_problem_message(TargetProblem p) noexcept {
    switch (p) {
    case TargetProblem::none:
        return {};
    case TargetProblem::bad_target:
        return "The request target is not valid.";
    case TargetProblem::bad_scheme:
        return "The request target's scheme is not http or https.";
    case TargetProblem::host_count:
        return "The request needs exactly one Host header field.";
    case TargetProblem::bad_host:
        return "The request's Host is not a valid host and port.";
    }
    return {};
}

} // namespace perch::http

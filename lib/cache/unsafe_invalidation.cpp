#include "cache/unsafe_invalidation.hpp"

#include "core/ascii.hpp"
#include "http/url_path.hpp"

namespace perch::cache {

namespace {

// The host part of an authority ("example.com:8080" -> "example.com", "[::1]:80" -> "[::1]").
std::string_view host_part(std::string_view authority) {
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
    }
    return authority.substr(0, authority.find(':'));
}

// Whether `s` is a URI scheme (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
bool is_scheme(std::string_view s) {
    if (s.empty() || !core::is_alpha(s[0])) return false;
    for (char c : s)
        if (!core::is_alpha(c) && !core::is_digit(c) && c != '+' && c != '-' && c != '.')
            return false;
    return true;
}

// The path of a URI reference, resolved against `base_path` (RFC 3986 §5.2), when it stays on
// the request's host: RFC 9111 §4.4 compares the host part only. Empty otherwise.
std::string same_host_path(std::string_view uri, std::string_view base_path,
                           std::string_view host) {
    uri = core::trim_ows(uri);
    size_t end = uri.find_first_of("?#");
    if (end != std::string_view::npos) uri = uri.substr(0, end);
    if (uri.empty()) return {}; // the request's own URI (already listed)
    std::string path;
    if (size_t colon = uri.find_first_of(":/");
        colon != std::string_view::npos && uri[colon] == ':' && is_scheme(uri.substr(0, colon))) {
        std::string_view scheme = uri.substr(0, colon);
        if (!core::iequals(scheme, "http") && !core::iequals(scheme, "https")) return {};
        std::string_view rest = uri.substr(colon + 1);
        if (!rest.starts_with("//")) return {};
        rest.remove_prefix(2);
        size_t slash = rest.find('/');
        std::string_view authority = rest.substr(0, slash);
        if (authority.find('@') != std::string_view::npos ||
            !core::iequals(host_part(authority), host_part(host)))
            return {};
        path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    } else if (uri.starts_with("//")) {
        return {}; // network-path reference: another authority, never compared
    } else if (uri[0] == '/') {
        path = uri;
    } else { // relative-path reference: merged with the base path's directory
        path.assign(base_path.substr(0, base_path.rfind('/') + 1));
        path += uri;
    }
    auto normalized = http::normalize_path(path);
    return normalized ? std::move(*normalized) : std::string();
}

} // namespace

bool invalidates_stored(core::Method method, uint16_t status) noexcept {
    return !core::method_is_safe(method) && status >= 200 && status < 400;
}

std::vector<std::string> invalidated_paths(std::string_view path, std::string_view host,
                                           const core::HeaderMap &response_fields) {
    std::vector<std::string> out{std::string(path)};
    for (std::string_view name : {"location", "content-location"}) {
        auto v = response_fields.get(name);
        if (!v) continue;
        std::string p = same_host_path(*v, path, host);
        if (!p.empty() && p != path) out.push_back(std::move(p));
    }
    return out;
}

} // namespace perch::cache

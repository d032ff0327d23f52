#include "edge/unsafe_invalidation.hpp"

#include "core/ascii.hpp"
#include "edge/request_shaping.hpp"

namespace perch::edge {

namespace {

// The path of a URI reference when it stays on `host`; empty otherwise.
std::string same_host_path(std::string_view uri, std::string_view host) {
    uri = core::trim_ows(uri);
    size_t end = uri.find_first_of("?#");
    if (end != std::string_view::npos) uri = uri.substr(0, end);
    if (uri.empty()) return {};
    if (uri.size() >= 2 && uri[0] == '/' && uri[1] == '/') return {}; // network-path: other host
    if (uri[0] != '/') {
        size_t scheme = uri.find("://");
        if (scheme == std::string_view::npos) return {}; // relative to the request: skipped
        std::string_view scheme_name = uri.substr(0, scheme);
        if (!core::iequals(scheme_name, "http") && !core::iequals(scheme_name, "https")) return {};
        std::string_view rest = uri.substr(scheme + 3);
        size_t slash = rest.find('/');
        std::string_view authority = rest.substr(0, slash);
        if (authority.find('@') != std::string_view::npos || !core::iequals(authority, host))
            return {};
        uri = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
    auto normalized = normalize_path(uri);
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
        std::string p = same_host_path(*v, host);
        if (!p.empty() && p != path) out.push_back(std::move(p));
    }
    return out;
}

} // namespace perch::edge

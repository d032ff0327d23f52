#include "policy/viewer_protocol.hpp"

#include <string>

namespace perch::policy {

Decision refuse_method() noexcept {
    return Decision::respond(403, "This distribution is not configured to allow the HTTP request "
                                  "method that was used for this request.");
}

Decision refuse_body() noexcept {
    return Decision::respond(403, "A GET or HEAD request must not carry a body.");
}

namespace {

// A Host value without its port: "a.example:8092" -> "a.example", "[::1]:8092" -> "[::1]".
std::string_view without_port(std::string_view host) noexcept {
    size_t colon = host.rfind(':');
    if (colon == std::string_view::npos) return host;
    size_t bracket = host.rfind(']');
    if (bracket != std::string_view::npos && bracket > colon) return host; // "[::1]"
    if (host.front() != '[' && host.find(':') != colon) return host;       // a bare IPv6 address
    return host.substr(0, colon);
}

} // namespace

Decision enforce_https(config::ViewerProtocolPolicy policy, const ViewerFacts &req) {
    if (req.https) return Decision::proceed();
    switch (policy) {
    case config::ViewerProtocolPolicy::allow_all:
        break;
    case config::ViewerProtocolPolicy::redirect_to_https: {
        std::string_view target = req.head->target;
        std::string_view host = without_port(req.head->headers.get("host").value_or(""));
        if (host.empty()) // an HTTP/1.0 request without Host: nowhere to send it
            return Decision::respond(400, "A redirect to HTTPS needs the Host header field.");
        std::string location = "https://";
        bool bare_ipv6 = host.front() != '[' && host.find(':') != std::string_view::npos;
        if (bare_ipv6) location += '[';
        location += host;
        if (bare_ipv6) location += ']';
        if (req.https_port != 443) location += ":" + std::to_string(req.https_port);
        location += !target.empty() && target[0] == '/' ? target : req.path;
        // 301 as CloudFront answers; 307 keeps the method of unsafe requests.
        return Decision::redirect(core::method_is_safe(req.head->method) ? 301 : 307,
                                  std::move(location));
    }
    case config::ViewerProtocolPolicy::https_only:
        return Decision::respond(403, "This distribution only accepts HTTPS requests.");
    }
    return Decision::proceed();
}

} // namespace perch::policy

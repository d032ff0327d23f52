#include "policy/viewer_protocol.hpp"

#include "http/authority.hpp"

#include <string>

namespace perch::policy {

Decision refuse_method() noexcept {
    return Decision::respond(403, "This distribution is not configured to allow the HTTP request "
                                  "method that was used for this request.");
}

Decision refuse_body() noexcept {
    return Decision::respond(403, "A GET or HEAD request must not carry a body.");
}

Decision enforce_https(config::ViewerProtocolPolicy policy, const ViewerFacts &req) {
    if (req.https) return Decision::proceed();
    switch (policy) {
    case config::ViewerProtocolPolicy::allow_all:
        break;
    case config::ViewerProtocolPolicy::redirect_to_https: {
        std::string_view target = req.head->target;
        std::string_view host = http::authority_host(req.authority);
        if (host.empty()) // an HTTP/1.0 request without Host: nowhere to send it
            return Decision::respond(400, "A redirect to HTTPS needs the Host header field.");
        std::string location = "https://";
        location += host;
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

// CloudFront's viewer protocol policy and allowed methods (a cache behavior's
// viewer_protocol_policy and allowed_methods), and its refusal of GET and HEAD bodies, decided
// from the request alone.
#pragma once

#include "config/config.hpp"
#include "core/http_message.hpp"
#include "policy/decision.hpp"

#include <string_view>

namespace perch::policy {

// What these policies read of a viewer request.
struct ViewerFacts {
    const core::RequestHead *head = nullptr; // as sent (the target, the method)
    std::string_view authority; // normalised (http/authority.hpp): "" for HTTP/1.0 without Host
    bool https = false;
    std::string_view path; // the normalised path (absolute-form targets redirect to it)
    uint16_t https_port = 443; // where HTTPS is served (left out of a redirect when 443)
};

// allowed_methods: 403 for a method the behavior does not allow.
Decision refuse_method() noexcept;
inline Decision allowed_method(const config::MethodSet &allowed, core::Method method) noexcept {
    return allowed.contains(method) ? Decision::proceed() : refuse_method();
}

// A GET or HEAD that carries a body: 403, as CloudFront answers. Such a body changes nothing a
// cache key holds, so passing it on would let one viewer's body shape an answer stored for all.
Decision refuse_body() noexcept;
inline Decision body_allowed(core::Method method, bool has_body) noexcept {
    bool bodiless = method == core::Method::get || method == core::Method::head;
    return bodiless && has_body ? refuse_body() : Decision::proceed();
}

// viewer_protocol_policy for a plain-HTTP request: allow-all goes on; https-only answers 403;
// redirect-to-https answers 301 to the same URL with https:// and the HTTPS port in place of
// the one the viewer used (none for 443), 307 for unsafe methods so that the method and body
// are kept. HTTPS requests always go on. (Inline: every request asks.)
Decision enforce_https(config::ViewerProtocolPolicy policy, const ViewerFacts &req);
inline Decision viewer_protocol(config::ViewerProtocolPolicy policy, const ViewerFacts &req) {
    if (req.https || policy == config::ViewerProtocolPolicy::allow_all) return Decision::proceed();
    return enforce_https(policy, req);
}

} // namespace perch::policy

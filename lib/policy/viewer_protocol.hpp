// CloudFront's viewer protocol policy and allowed methods (a cache behavior's
// viewer_protocol_policy and allowed_methods), decided from the request alone.
#pragma once

#include "config/config.hpp"
#include "core/http_message.hpp"
#include "policy/decision.hpp"

#include <string_view>

namespace perch::policy {

// What these policies read of a viewer request.
struct ViewerFacts {
    core::Method method = core::Method::get;
    bool https = false;
    std::string_view host;   // the Host field
    std::string_view target; // the request-target as sent (origin-form or absolute-form)
    std::string_view path;   // the normalised path (absolute-form targets redirect to it)
};

// allowed_methods: 403 for a method the behavior does not allow.
Decision allowed_method(const config::MethodSet &allowed, core::Method method) noexcept;

// viewer_protocol_policy for a plain-HTTP request: allow-all goes on; https-only answers 403;
// redirect-to-https answers 301 to the same URL with https:// (307 for unsafe methods, so that
// the method and body are kept). HTTPS requests always go on.
Decision viewer_protocol(config::ViewerProtocolPolicy policy, const ViewerFacts &req);

} // namespace perch::policy

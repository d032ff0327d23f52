// viewer_request and viewer_policy: the request is checked and normalised, its behavior chosen,
// and the behavior's viewer policies decide whether it goes on (lib/policy). Geo restriction and
// WAF rules join here as further policies of the same shape.
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"
#include "http/authority.hpp"
#include "http/url_path.hpp"
#include "policy/viewer_protocol.hpp"

namespace perch::edge {

std::string_view Transaction::host() const noexcept {
    return authority_;
}

void Transaction::viewer_request() {
    phase_ = Phase::viewer_request;
    const Deployment &d = rt_.distribution();
    // One authority for the behavior match, the key and the origin request; a target or Host
    // that cannot be trusted is refused and the connection closed (the framing may be off too).
    http::ResolvedTarget resolved = http::resolve_target(*req_, viewer_.https, authority_);
    if (resolved.problem != http::TargetProblem::none)
        return refuse(400, http::target_problem_message(resolved.problem));
    std::string_view target = resolved.path_and_query;
    if (!d.config().distribution.enabled)
        return respond_generated(403, "This distribution is disabled.");
    std::string_view raw_path = target.substr(0, target.find('?'));
    if (!http::normalize_path_into(raw_path.empty() ? "/" : raw_path, path_))
        return respond_generated(400, "The request path is not valid.");
    const std::string &root_object = d.config().distribution.default_root_object;
    if (path_ == "/" && !root_object.empty()) path_ += root_object;
    behavior_ = &d.behavior_for(path_);
    if (!viewer_policy()) return;
    lookup_and_route();
}

bool Transaction::viewer_policy() {
    phase_ = Phase::viewer_policy;
    if (policy::Decision d = policy::allowed_method(behavior_->allowed_methods, req_->method);
        !d.proceeds())
        return act_on(d);
    if (policy::Decision d = policy::body_allowed(req_->method, viewer_.has_body); !d.proceeds())
        return act_on(d);
    policy::ViewerFacts facts{req_, authority_, viewer_.https, path_,
                              rt_.distribution().https_port()};
    if (policy::Decision d = policy::viewer_protocol(behavior_->viewer_protocol_policy, facts);
        !d.proceeds())
        return act_on(d);
    return true;
}

bool Transaction::act_on(const policy::Decision &d) {
    switch (d.action) {
    case policy::Decision::Action::proceed:
        return true;
    case policy::Decision::Action::respond:
        respond_generated(d.status, d.message);
        break;
    case policy::Decision::Action::redirect:
        respond_generated(d.status, "", d.location);
        break;
    }
    return false;
}

} // namespace perch::edge

// A cache behavior's allowed_methods and viewer_protocol_policy as CloudFront documents them
// (AllowedMethods and ViewerProtocolPolicy in the CloudFront API reference; "Requiring HTTPS
// for communication between viewers and CloudFront" in the developer guide). One row per rule;
// a failing row is named in the failure message.
#include "policy/viewer_protocol.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

using perch::config::MethodSet;
using perch::config::ViewerProtocolPolicy;
using perch::core::Method;
using perch::policy::allowed_method;
using perch::policy::body_allowed;
using perch::policy::Decision;
using perch::policy::viewer_protocol;
using perch::policy::ViewerFacts;

namespace {

constexpr std::string_view method_refused = "This distribution is not configured to allow the "
                                            "HTTP request method that was used for this request.";
constexpr std::string_view https_required = "This distribution only accepts HTTPS requests.";

MethodSet methods(std::initializer_list<Method> list) {
    MethodSet set;
    for (Method m : list)
        set.add(m);
    return set;
}

// CloudFront's three allowed_methods sets; no other can be configured.
const MethodSet get_head = methods({Method::get, Method::head});
const MethodSet get_head_options = methods({Method::get, Method::head, Method::options});
const MethodSet all_methods = methods({Method::get, Method::head, Method::options, Method::put,
                                       Method::post, Method::patch, Method::del});

struct MethodRow {
    const char *what;
    MethodSet allowed;
    Method method;
};

void check_proceeds(const Decision &d) {
    CHECK(d.proceeds());
    CHECK(d.status == 0);
    CHECK(d.message.empty());
    CHECK(d.location.empty());
}

void check_responds(const Decision &d, uint16_t status, std::string_view message) {
    CHECK(d.action == Decision::Action::respond);
    CHECK(d.status == status);
    CHECK(std::string(d.message) == std::string(message));
    CHECK(d.location.empty());
}

void check_redirects(const Decision &d, uint16_t status, const std::string &location) {
    CHECK(d.action == Decision::Action::redirect);
    CHECK(d.status == status);
    CHECK(d.message.empty());
    CHECK(d.location == location);
}

struct ProtocolRow {
    const char *what;
    ViewerProtocolPolicy policy;
    bool https = false;
    Method method = Method::get;
    std::string_view host = "d111111abcdef8.cloudfront.net"; // the normalised authority
    std::string_view target = "/index.html"; // as sent
    std::string_view path = "/index.html";   // as the transaction normalised it
    uint16_t https_port = 443;               // the deployment's HTTPS port
    // Expected: proceed when status is 0; else 403 with `message`, or a redirect to `location`.
    uint16_t status = 0;
    std::string_view message = {};
    std::string location = {};
};

void run(const std::vector<ProtocolRow> &rows) {
    for (const ProtocolRow &r : rows) {
        INFO(std::string(r.what));
        perch::core::RequestHead head;
        head.method = r.method;
        head.target = std::string(r.target);
        const Decision d =
            viewer_protocol(r.policy, ViewerFacts{&head, r.host, r.https, r.path, r.https_port});
        if (r.status == 0)
            check_proceeds(d);
        else if (!r.message.empty())
            check_responds(d, r.status, r.message);
        else
            check_redirects(d, r.status, r.location);
    }
}

constexpr auto allow_all = ViewerProtocolPolicy::allow_all;
constexpr auto https_only = ViewerProtocolPolicy::https_only;
constexpr auto redirect = ViewerProtocolPolicy::redirect_to_https;

} // namespace

TEST_CASE("policy/viewer_protocol: allowed_methods proceeds for every method of the behavior's "
          "set") {
    const std::vector<MethodRow> rows = {
        {"GET,HEAD allows GET", get_head, Method::get},
        {"GET,HEAD allows HEAD", get_head, Method::head},
        {"GET,HEAD,OPTIONS allows GET", get_head_options, Method::get},
        {"GET,HEAD,OPTIONS allows HEAD", get_head_options, Method::head},
        {"GET,HEAD,OPTIONS allows OPTIONS", get_head_options, Method::options},
        {"all seven allow GET", all_methods, Method::get},
        {"all seven allow HEAD", all_methods, Method::head},
        {"all seven allow OPTIONS", all_methods, Method::options},
        {"all seven allow PUT", all_methods, Method::put},
        {"all seven allow POST", all_methods, Method::post},
        {"all seven allow PATCH", all_methods, Method::patch},
        {"all seven allow DELETE", all_methods, Method::del},
    };
    for (const MethodRow &r : rows) {
        INFO(std::string(r.what));
        check_proceeds(allowed_method(r.allowed, r.method));
    }
}

TEST_CASE("policy/viewer_protocol: allowed_methods answers 403 with CloudFront's message for a "
          "method outside the set") {
    const std::vector<MethodRow> rows = {
        {"GET,HEAD refuses POST", get_head, Method::post},
        {"GET,HEAD refuses PUT", get_head, Method::put},
        {"GET,HEAD refuses DELETE", get_head, Method::del},
        {"GET,HEAD refuses OPTIONS", get_head, Method::options},
        {"GET,HEAD refuses PATCH", get_head, Method::patch},
        {"GET,HEAD refuses CONNECT", get_head, Method::connect},
        {"GET,HEAD refuses TRACE", get_head, Method::trace},
        {"GET,HEAD refuses a method perch does not know", get_head, Method::other},
        {"GET,HEAD,OPTIONS refuses POST", get_head_options, Method::post},
        {"GET,HEAD,OPTIONS refuses PUT", get_head_options, Method::put},
        {"GET,HEAD,OPTIONS refuses DELETE", get_head_options, Method::del},
        {"GET,HEAD,OPTIONS refuses PATCH", get_head_options, Method::patch},
        {"GET,HEAD,OPTIONS refuses CONNECT", get_head_options, Method::connect},
        {"GET,HEAD,OPTIONS refuses TRACE", get_head_options, Method::trace},
        {"GET,HEAD,OPTIONS refuses a method perch does not know", get_head_options, Method::other},
        {"all seven refuse CONNECT", all_methods, Method::connect},
        {"all seven refuse TRACE", all_methods, Method::trace},
        {"all seven refuse a method perch does not know", all_methods, Method::other},
    };
    for (const MethodRow &r : rows) {
        INFO(std::string(r.what));
        check_responds(allowed_method(r.allowed, r.method), 403, method_refused);
    }
}

TEST_CASE("policy/viewer_protocol: allow-all proceeds for http and https") {
    run({
        {.what = "http GET", .policy = allow_all},
        {.what = "http POST", .policy = allow_all, .method = Method::post},
        {.what = "https GET", .policy = allow_all, .https = true},
        {.what = "https POST", .policy = allow_all, .https = true, .method = Method::post},
    });
}

TEST_CASE("policy/viewer_protocol: https-only answers http with 403 and its message and lets "
          "https proceed") {
    run({
        {.what = "http GET is refused",
         .policy = https_only,
         .status = 403,
         .message = https_required},
        {.what = "http HEAD is refused",
         .policy = https_only,
         .method = Method::head,
         .status = 403,
         .message = https_required},
        {.what = "http POST is refused, not redirected",
         .policy = https_only,
         .method = Method::post,
         .status = 403,
         .message = https_required},
        {.what = "https GET proceeds", .policy = https_only, .https = true},
        {.what = "https POST proceeds",
         .policy = https_only,
         .https = true,
         .method = Method::post},
    });
}

TEST_CASE("policy/viewer_protocol: redirect-to-https answers 301 with the https URL for a GET") {
    // CloudFront documents 301 for GET and HEAD, and 307 for OPTIONS among the unsafe methods;
    // perch answers OPTIONS (a safe method, RFC 9110 §9.2.1) with 301, as this row records.
    run({
        {.what = "http GET",
         .policy = redirect,
         .status = 301,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
        {.what = "http HEAD",
         .policy = redirect,
         .method = Method::head,
         .status = 301,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
        {.what = "http OPTIONS",
         .policy = redirect,
         .method = Method::options,
         .status = 301,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
    });
}

TEST_CASE("policy/viewer_protocol: redirect-to-https sends the viewer to the HTTPS port") {
    run({
        {.what = "the HTTP port in Host is replaced by the HTTPS listener's",
         .policy = redirect,
         .host = "127.0.0.1:8092",
         .https_port = 8443,
         .status = 301,
         .location = "https://127.0.0.1:8443/index.html"},
        {.what = "the default HTTPS port is left out",
         .policy = redirect,
         .host = "example.com:8080",
         .status = 301,
         .location = "https://example.com/index.html"},
        {.what = "an IPv6 Host keeps its brackets and loses its port",
         .policy = redirect,
         .host = "[::1]:8092",
         .https_port = 8443,
         .status = 301,
         .location = "https://[::1]:8443/index.html"},
        {.what = "no Host: 400, not a URL without a host",
         .policy = redirect,
         .host = "",
         .status = 400,
         .message = "A redirect to HTTPS needs the Host header field."},
        {.what = "an IPv6 Host without a port",
         .policy = redirect,
         .host = "[::1]",
         .status = 301,
         .location = "https://[::1]/index.html"},
    });
}

TEST_CASE("policy/viewer_protocol: redirect-to-https answers 307 for an unsafe method so that "
          "the method and body are kept") {
    run({
        {.what = "http POST",
         .policy = redirect,
         .method = Method::post,
         .status = 307,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
        {.what = "http PUT",
         .policy = redirect,
         .method = Method::put,
         .status = 307,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
        {.what = "http PATCH",
         .policy = redirect,
         .method = Method::patch,
         .status = 307,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
        {.what = "http DELETE",
         .policy = redirect,
         .method = Method::del,
         .status = 307,
         .location = "https://d111111abcdef8.cloudfront.net/index.html"},
    });
}

TEST_CASE("policy/viewer_protocol: redirect-to-https lets every https request proceed") {
    run({
        {.what = "https GET", .policy = redirect, .https = true},
        {.what = "https HEAD", .policy = redirect, .https = true, .method = Method::head},
        {.what = "https OPTIONS", .policy = redirect, .https = true, .method = Method::options},
        {.what = "https POST", .policy = redirect, .https = true, .method = Method::post},
        {.what = "https PUT", .policy = redirect, .https = true, .method = Method::put},
        {.what = "https PATCH", .policy = redirect, .https = true, .method = Method::patch},
        {.what = "https DELETE", .policy = redirect, .https = true, .method = Method::del},
    });
}

TEST_CASE("policy/viewer_protocol: redirect-to-https sends an origin-form target to https:// + "
          "Host + the target as sent") {
    run({
        {.what = "the root",
         .policy = redirect,
         .host = "www.example.com",
         .target = "/",
         .path = "/",
         .status = 301,
         .location = "https://www.example.com/"},
        {.what = "the query string is kept as sent",
         .policy = redirect,
         .host = "www.example.com",
         .target = "/search?q=a%20b&page=2",
         .path = "/search",
         .status = 301,
         .location = "https://www.example.com/search?q=a%20b&page=2"},
        {.what = "an empty query string is kept",
         .policy = redirect,
         .host = "www.example.com",
         .target = "/a?",
         .path = "/a",
         .status = 301,
         .location = "https://www.example.com/a?"},
        {.what = "dot segments and escapes are not normalised",
         .policy = redirect,
         .host = "www.example.com",
         .target = "/a/../%7Euser/x",
         .path = "/~user/x",
         .status = 301,
         .location = "https://www.example.com/a/../%7Euser/x"},
        {.what = "the HTTP port in Host is not kept: HTTPS is elsewhere (443 here)",
         .policy = redirect,
         .host = "www.example.com:8080",
         .target = "/a",
         .path = "/a",
         .status = 301,
         .location = "https://www.example.com/a"},
        {.what = "an unsafe method keeps the query string too",
         .policy = redirect,
         .method = Method::post,
         .host = "www.example.com",
         .target = "/form?step=2",
         .path = "/form",
         .status = 307,
         .location = "https://www.example.com/form?step=2"},
    });
}

TEST_CASE("policy/viewer_protocol: redirect-to-https sends an absolute-form target to https:// + "
          "Host + the normalised path") {
    // The query string of an absolute-form target is not carried over.
    run({
        {.what = "a path and a query",
         .policy = redirect,
         .host = "example.com",
         .target = "http://example.com/a?b",
         .path = "/a",
         .status = 301,
         .location = "https://example.com/a"},
        {.what = "no path",
         .policy = redirect,
         .host = "example.com",
         .target = "http://example.com",
         .path = "/",
         .status = 301,
         .location = "https://example.com/"},
        {.what = "dot segments are resolved",
         .policy = redirect,
         .method = Method::put,
         .host = "example.com",
         .target = "http://example.com/a/../b",
         .path = "/b",
         .status = 307,
         .location = "https://example.com/b"},
    });
}

TEST_CASE("policy/viewer_protocol: a GET or HEAD with a body is refused with 403 (CloudFront)") {
    for (Method m : {Method::get, Method::head}) {
        Decision d = body_allowed(m, true);
        CHECK(d.action == Decision::Action::respond);
        CHECK(d.status == 403);
        CHECK(body_allowed(m, false).proceeds());
    }
    for (Method m : {Method::post, Method::put, Method::options, Method::del})
        CHECK(body_allowed(m, true).proceeds());
}

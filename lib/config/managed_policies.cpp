// AWS managed cache policies and origin request policies, as the CloudFront Developer Guide
// ("Use managed cache policies", "Use managed origin request policies") and the CloudFront
// API (GetCachePolicy, GetOriginRequestPolicy) give them. Behaviors refer to them by id with
// no cache_policy / origin_request_policy block in the config, as Terraform files do.
#include "config/config.hpp"

namespace perch::config {

namespace {

ValueSelection none() {
    return {};
}
ValueSelection all() {
    return {SelectMode::all, {}, false};
}
ValueSelection listed(std::vector<std::string> names) {
    return {SelectMode::listed, std::move(names), false};
}
ValueSelection all_except(std::vector<std::string> names) {
    return {SelectMode::all_except, std::move(names), false};
}

struct Encodings {
    bool gzip, brotli;
};

CachePolicy cache_policy(std::string id, std::string name, std::string comment, TtlSettings ttl,
                         ValueSelection query_strings, ValueSelection headers,
                         ValueSelection cookies, Encodings enc) {
    CachePolicy p;
    p.id = std::move(id);
    p.name = std::move(name);
    p.comment = std::move(comment);
    p.ttl = ttl;
    p.key.query_strings = std::move(query_strings);
    p.key.headers = std::move(headers);
    p.key.cookies = std::move(cookies);
    p.key.accept_encoding_gzip = enc.gzip;
    p.key.accept_encoding_brotli = enc.brotli;
    return p;
}

OriginRequestPolicy origin_request_policy(std::string id, std::string name, std::string comment,
                                          ValueSelection query_strings, ValueSelection headers,
                                          ValueSelection cookies) {
    OriginRequestPolicy p;
    p.id = std::move(id);
    p.name = std::move(name);
    p.comment = std::move(comment);
    p.forward.query_strings = std::move(query_strings);
    p.forward.headers = std::move(headers);
    p.forward.cookies = std::move(cookies);
    return p;
}

// The headers UseOriginCacheControlHeaders* key on.
std::vector<std::string> origin_cache_control_headers() {
    return {"Host", "Origin", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"};
}

std::vector<CachePolicy> make_cache_policies() {
    const Encodings both{true, true}, neither{false, false}, gzip_only{true, false};
    return {
        cache_policy("658327ea-f89d-4fab-a63d-7e88639e58f6", "Managed-CachingOptimized",
                     "Policy with caching enabled. Supports Gzip and Brotli compression.",
                     {1, 86400, 31536000}, none(), none(), none(), both),
        cache_policy("4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "Managed-CachingDisabled",
                     "Policy with caching disabled", {0, 0, 0}, none(), none(), none(), neither),
        cache_policy("b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
                     "Managed-CachingOptimizedForUncompressedObjects",
                     "Default policy when compression is disabled", {1, 86400, 31536000}, none(),
                     none(), none(), neither),
        cache_policy("08627262-05a9-4f76-9ded-b50ca2e3a84f", "Managed-Elemental-MediaPackage",
                     "Policy for Elemental MediaPackage Origin", {0, 86400, 31536000},
                     listed({"aws.manifestfilter", "end", "m", "start"}), listed({"origin"}),
                     none(), gzip_only),
        cache_policy("2e54312d-136d-493c-8eb9-b001f22f67d2", "Managed-Amplify",
                     "Policy for Amplify Origin", {2, 2, 600}, all(),
                     listed({"Authorization", "CloudFront-Viewer-Country", "Host"}), all(), both),
        cache_policy("83da9c7e-98b4-4e11-a168-04f0df8e2c65", "Managed-UseOriginCacheControlHeaders",
                     "Policy for origins that return Cache-Control headers. Query strings are "
                     "not included in the cache key.",
                     {0, 0, 31536000}, none(), listed(origin_cache_control_headers()), all(), both),
        cache_policy("4cc15a8a-d715-48a4-82b8-cc0b614638fe",
                     "Managed-UseOriginCacheControlHeaders-QueryStrings",
                     "Policy for origins that return Cache-Control headers and serve different "
                     "content based on values present in the query string.",
                     {0, 0, 31536000}, all(), listed(origin_cache_control_headers()), all(), both),
    };
}

std::vector<OriginRequestPolicy> make_origin_request_policies() {
    // allViewerAndWhitelistCloudFront: every viewer header, plus CloudFront headers perch does
    // not generate yet (see docs/config.md), so it selects what allViewer selects.
    return {
        origin_request_policy("216adef6-5c7f-47e4-b989-5492eafa07d3", "Managed-AllViewer",
                              "Policy to forward all parameters in viewer requests", all(), all(),
                              all()),
        origin_request_policy("b689b0a8-53d0-40ab-baf2-68738e2966ac",
                              "Managed-AllViewerExceptHostHeader",
                              "Policy to forward all parameters in viewer requests except for "
                              "the Host header",
                              all(), all_except({"Host"}), all()),
        origin_request_policy("33f36d7e-f396-46d9-90e0-52428a34d9dc",
                              "Managed-AllViewerAndCloudFrontHeaders-2022-06",
                              "Policy to forward all parameters in viewer requests and all "
                              "CloudFront headers that were released through June 2022",
                              all(), all(), all()),
        origin_request_policy("59781a5b-3903-41f3-afcb-af62929ccde1", "Managed-CORS-CustomOrigin",
                              "Policy for a custom origin with CORS", none(), listed({"Origin"}),
                              none()),
        origin_request_policy(
            "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", "Managed-CORS-S3Origin",
            "Policy for an S3 origin with CORS", none(),
            listed({"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"}),
            none()),
        origin_request_policy("acba4595-bd28-49b8-b9fe-13317c0390fa",
                              "Managed-UserAgentRefererHeaders",
                              "Policy to forward User-Agent and Referer headers", none(),
                              listed({"User-Agent", "Referer"}), none()),
        origin_request_policy(
            "775133bc-15f2-49f9-abea-afb2e0bf67d2",
            "Managed-Elemental-MediaTailor-PersonalizedManifests",
            "Policy for Elemental MediaTailor personalized manifests", all(),
            listed({"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method",
                    "User-Agent", "X-Forwarded-For"}),
            none()),
        origin_request_policy("bf0718e1-ba1e-49d1-88b1-f726733018ae", "Managed-HostHeaderOnly",
                              "Policy to forward only the Host header", none(), listed({"Host"}),
                              none()),
    };
}

} // namespace

const std::vector<CachePolicy> &managed_cache_policies() {
    static const std::vector<CachePolicy> policies = make_cache_policies();
    return policies;
}

const std::vector<OriginRequestPolicy> &managed_origin_request_policies() {
    static const std::vector<OriginRequestPolicy> policies = make_origin_request_policies();
    return policies;
}

} // namespace perch::config

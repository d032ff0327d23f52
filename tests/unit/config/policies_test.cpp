// Cache policies, origin request policies, the AWS managed ones, and how behaviors refer to
// them (lib/edge/policy_config.cpp, lib/edge/managed_policies.cpp).
#include "config/config.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using perch::core::Code;
using namespace perch::config;
using Json = nlohmann::json;

namespace {

const Json base_config = Json::parse(R"({
  "distribution": {
    "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                "custom_origin_config": {"http_port": 18000, "origin_protocol_policy": "http-only"}}],
    "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                               "cached_methods": ["GET", "HEAD"],
                               "viewer_protocol_policy": "allow-all",
                               "cache_policy_id": "cp"}},
  "cache_policy": [{
    "id": "cp", "name": "Site", "comment": "site pages",
    "min_ttl": 5, "default_ttl": 60, "max_ttl": 600,
    "parameters_in_cache_key_and_forwarded_to_origin": {
      "cookies_config": {"cookie_behavior": "whitelist", "cookies": {"items": ["session"]}},
      "headers_config": {"header_behavior": "whitelist", "headers": {"items": ["X-Device"]}},
      "query_strings_config": {"query_string_behavior": "allExcept",
                               "query_strings": {"items": ["utm_source"]}},
      "enable_accept_encoding_gzip": true, "enable_accept_encoding_brotli": true}}],
  "origin_request_policy": [{
    "id": "orp", "name": "Forward",
    "cookies_config": {"cookie_behavior": "none"},
    "headers_config": {"header_behavior": "whitelist", "headers": {"items": ["X-Trace"]}},
    "query_strings_config": {"query_string_behavior": "all"}}]
})");

// The config with the value at each JSON pointer set (nullptr: the key removed).
std::string with(std::vector<std::pair<const char *, const char *>> patches) {
    Json doc = base_config;
    for (const auto &[pointer, value] : patches) {
        Json::json_pointer p(pointer);
        if (value)
            doc[p] = Json::parse(value);
        else
            doc[p.parent_pointer()].erase(p.back());
    }
    return doc.dump();
}

Config parsed(const std::string &text) {
    auto result = parse_config(text, ".");
    if (!result) FAIL(result.error().context);
    return std::move(result.value());
}

std::string error_of(const std::string &text) {
    auto result = parse_config(text, ".");
    if (result) return "ok";
    CHECK(result.error().code == Code::config);
    return result.error().context;
}

const CachePolicy &managed_cache(std::string_view name) {
    for (const CachePolicy &p : managed_cache_policies())
        if (p.name == name) return p;
    FAIL("no managed cache policy " << name);
    throw 0;
}

const OriginRequestPolicy &managed_origin(std::string_view name) {
    for (const OriginRequestPolicy &p : managed_origin_request_policies())
        if (p.name == name) return p;
    FAIL("no managed origin request policy " << name);
    throw 0;
}

using Names = std::vector<std::string>;

} // namespace

TEST_CASE("config/policies: a cache policy gives a behavior its TTLs and cache key") {
    Config c = parsed(with({}));
    REQUIRE(c.cache_policies.size() == 1);
    const CachePolicy &p = c.cache_policies[0];
    CHECK(p.id == "cp");
    CHECK(p.name == "Site");
    CHECK(p.comment == "site pages");

    const CacheBehavior &b = c.distribution.default_cache_behavior;
    CHECK(b.cache_policy_id == "cp");
    CHECK(b.origin_request_policy_id.empty());
    CHECK(b.ttl.min_ttl == 5);
    CHECK(b.ttl.default_ttl == 60);
    CHECK(b.ttl.max_ttl == 600);
    const CacheKeySpec &k = b.shape.key;
    CHECK(k.cookies.mode == SelectMode::listed);
    CHECK(k.cookies.names == Names{"session"});
    CHECK_FALSE(k.cookies.wildcards);
    CHECK(k.headers.mode == SelectMode::listed);
    CHECK(k.headers.names == Names{"X-Device"});
    CHECK(k.query_strings.mode == SelectMode::all_except);
    CHECK(k.query_strings.names == Names{"utm_source"});
    CHECK(k.accept_encoding_gzip);
    CHECK(k.accept_encoding_brotli);
    CHECK_FALSE(k.legacy_accept_encoding);
    // Without an origin request policy only what is keyed travels.
    CHECK(b.shape.forward.headers.mode == SelectMode::none);
    CHECK_FALSE(b.shape.forward.other_headers);
}

TEST_CASE("config/policies: an origin request policy adds what is forwarded but not keyed") {
    Config c = parsed(
        with({{"/distribution/default_cache_behavior/origin_request_policy_id", "\"orp\""}}));
    const CacheBehavior &b = c.distribution.default_cache_behavior;
    CHECK(b.origin_request_policy_id == "orp");
    CHECK(b.shape.forward.headers.mode == SelectMode::listed);
    CHECK(b.shape.forward.headers.names == Names{"X-Trace"});
    CHECK(b.shape.forward.query_strings.mode == SelectMode::all);
    CHECK(b.shape.forward.cookies.mode == SelectMode::none);
    CHECK(b.shape.key.headers.names == Names{"X-Device"}); // the key is the cache policy's
}

TEST_CASE("config/policies: a cache policy's TTLs default as CloudFront's do") {
    Config c = parsed(with({{"/cache_policy/0/default_ttl", nullptr},
                            {"/cache_policy/0/max_ttl", nullptr},
                            {"/cache_policy/0/min_ttl", nullptr}}));
    const CachePolicy &p = c.cache_policies[0];
    CHECK(p.ttl.min_ttl == 0);
    CHECK(p.ttl.default_ttl == 86400);
    CHECK(p.ttl.max_ttl == 31536000);
    c = parsed(with({{"/cache_policy/0/min_ttl", "100000"},
                     {"/cache_policy/0/default_ttl", nullptr},
                     {"/cache_policy/0/max_ttl", nullptr}}));
    CHECK(c.cache_policies[0].ttl.default_ttl == 100000);
    CHECK(c.cache_policies[0].ttl.max_ttl == 31536000);
}

TEST_CASE("config/policies: AWS managed policies are referred to by id without a definition") {
    Config c = parsed(with({{"/cache_policy", nullptr},
                            {"/origin_request_policy", nullptr},
                            {"/distribution/default_cache_behavior/cache_policy_id",
                             "\"658327ea-f89d-4fab-a63d-7e88639e58f6\""},
                            {"/distribution/default_cache_behavior/origin_request_policy_id",
                             "\"b689b0a8-53d0-40ab-baf2-68738e2966ac\""}}));
    CHECK(c.cache_policies.empty());
    const CacheBehavior &b = c.distribution.default_cache_behavior;
    CHECK(b.ttl.min_ttl == 1);
    CHECK(b.ttl.default_ttl == 86400);
    CHECK(b.ttl.max_ttl == 31536000);
    CHECK(b.shape.key.accept_encoding_gzip);
    CHECK(b.shape.forward.headers.mode == SelectMode::all_except);
    CHECK(b.shape.forward.headers.names == Names{"Host"});
}

TEST_CASE("config/policies: the managed cache policies have AWS's ids and settings") {
    struct Row {
        std::string name, id;
        int64_t min, dflt, max;
        bool gzip, brotli;
        SelectMode query, headers, cookies;
        Names query_names, header_names;
    };
    using M = SelectMode;
    const Names cc_headers{"Host", "Origin", "X-HTTP-Method-Override", "X-HTTP-Method",
                           "X-Method-Override"};
    const Row rows[] = {
        {"Managed-CachingOptimized",
         "658327ea-f89d-4fab-a63d-7e88639e58f6",
         1,
         86400,
         31536000,
         true,
         true,
         M::none,
         M::none,
         M::none,
         {},
         {}},
        {"Managed-CachingDisabled",
         "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
         0,
         0,
         0,
         false,
         false,
         M::none,
         M::none,
         M::none,
         {},
         {}},
        {"Managed-CachingOptimizedForUncompressedObjects",
         "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",
         1,
         86400,
         31536000,
         false,
         false,
         M::none,
         M::none,
         M::none,
         {},
         {}},
        {"Managed-Elemental-MediaPackage",
         "08627262-05a9-4f76-9ded-b50ca2e3a84f",
         0,
         86400,
         31536000,
         true,
         false,
         M::listed,
         M::listed,
         M::none,
         {"aws.manifestfilter", "end", "m", "start"},
         {"origin"}},
        {"Managed-Amplify",
         "2e54312d-136d-493c-8eb9-b001f22f67d2",
         2,
         2,
         600,
         true,
         true,
         M::all,
         M::listed,
         M::all,
         {},
         {"Authorization", "CloudFront-Viewer-Country", "Host"}},
        {"Managed-UseOriginCacheControlHeaders",
         "83da9c7e-98b4-4e11-a168-04f0df8e2c65",
         0,
         0,
         31536000,
         true,
         true,
         M::none,
         M::listed,
         M::all,
         {},
         cc_headers},
        {"Managed-UseOriginCacheControlHeaders-QueryStrings",
         "4cc15a8a-d715-48a4-82b8-cc0b614638fe",
         0,
         0,
         31536000,
         true,
         true,
         M::all,
         M::listed,
         M::all,
         {},
         cc_headers},
    };
    CHECK(managed_cache_policies().size() == std::size(rows));
    for (const Row &row : rows) {
        CAPTURE(row.name);
        const CachePolicy &p = managed_cache(row.name);
        CHECK(p.id == row.id);
        CHECK(p.ttl.min_ttl == row.min);
        CHECK(p.ttl.default_ttl == row.dflt);
        CHECK(p.ttl.max_ttl == row.max);
        CHECK(p.key.accept_encoding_gzip == row.gzip);
        CHECK(p.key.accept_encoding_brotli == row.brotli);
        CHECK(p.key.query_strings.mode == row.query);
        CHECK(p.key.query_strings.names == row.query_names);
        CHECK(p.key.headers.mode == row.headers);
        CHECK(p.key.headers.names == row.header_names);
        CHECK(p.key.cookies.mode == row.cookies);
        CHECK(p.key.cookies.names.empty());
    }
}

TEST_CASE("config/policies: the managed origin request policies have AWS's ids and settings") {
    struct Row {
        std::string name, id;
        SelectMode query, headers, cookies;
        Names header_names;
    };
    using M = SelectMode;
    const Row rows[] = {
        {"Managed-AllViewer", "216adef6-5c7f-47e4-b989-5492eafa07d3", M::all, M::all, M::all, {}},
        {"Managed-AllViewerExceptHostHeader",
         "b689b0a8-53d0-40ab-baf2-68738e2966ac",
         M::all,
         M::all_except,
         M::all,
         {"Host"}},
        {"Managed-AllViewerAndCloudFrontHeaders-2022-06",
         "33f36d7e-f396-46d9-90e0-52428a34d9dc",
         M::all,
         M::all,
         M::all,
         {}},
        {"Managed-CORS-CustomOrigin",
         "59781a5b-3903-41f3-afcb-af62929ccde1",
         M::none,
         M::listed,
         M::none,
         {"Origin"}},
        {"Managed-CORS-S3Origin",
         "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
         M::none,
         M::listed,
         M::none,
         {"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method"}},
        {"Managed-UserAgentRefererHeaders",
         "acba4595-bd28-49b8-b9fe-13317c0390fa",
         M::none,
         M::listed,
         M::none,
         {"User-Agent", "Referer"}},
        {"Managed-Elemental-MediaTailor-PersonalizedManifests",
         "775133bc-15f2-49f9-abea-afb2e0bf67d2",
         M::all,
         M::listed,
         M::none,
         {"Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method", "User-Agent",
          "X-Forwarded-For"}},
        {"Managed-HostHeaderOnly",
         "bf0718e1-ba1e-49d1-88b1-f726733018ae",
         M::none,
         M::listed,
         M::none,
         {"Host"}},
    };
    CHECK(managed_origin_request_policies().size() == std::size(rows));
    for (const Row &row : rows) {
        CAPTURE(row.name);
        const OriginRequestPolicy &p = managed_origin(row.name);
        CHECK(p.id == row.id);
        CHECK(p.forward.query_strings.mode == row.query);
        CHECK(p.forward.headers.mode == row.headers);
        CHECK(p.forward.headers.names == row.header_names);
        CHECK(p.forward.cookies.mode == row.cookies);
        CHECK_FALSE(p.forward.other_headers);
    }
}

TEST_CASE("config/policies: Authorization may be keyed by a cache policy and excluded by an "
          "origin request policy") {
    Config keyed = parsed(with({{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/"
                                 "headers_config/headers/items",
                                 R"(["X-Device", "Authorization"])"}}));
    CHECK(keyed.cache_policies[0].key.headers.selects("authorization", true));
    Config excluded = parsed(with({{"/origin_request_policy/0/headers_config",
                                    R"({"header_behavior": "allExcept",
                                        "headers": {"items": ["Authorization"]}})"}}));
    CHECK_FALSE(excluded.origin_request_policies[0].forward.headers.selects("authorization", true));
}

TEST_CASE("config/policies: policy mistakes are errors naming the JSON path") {
    struct Case {
        std::vector<std::pair<const char *, const char *>> patches;
        const char *expected;
    };
    const Case cases[] = {
        // Authorization is keyed (cache policy) or not forwarded, as CloudFront requires.
        {{{"/origin_request_policy/0/headers_config/headers/items",
           R"(["X-Trace", "authorization"])"}},
         "origin_request_policy[0].headers_config.headers.items[1]: Authorization cannot be "
         "forwarded by an origin request policy (as in CloudFront): list it in the cache "
         "policy's headers_config, which keys and forwards it"},
        // Behaviors.
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "cookies": {"forward": "none"}})"}},
         "distribution.default_cache_behavior.forwarded_values: not allowed with "
         "cache_policy_id"},
        {{{"/distribution/default_cache_behavior/min_ttl", "0"}},
         "distribution.default_cache_behavior.min_ttl: not allowed with cache_policy_id"},
        {{{"/distribution/default_cache_behavior/max_ttl", "10"}},
         "distribution.default_cache_behavior.max_ttl: not allowed with cache_policy_id"},
        {{{"/distribution/default_cache_behavior/cache_policy_id", "\"nope\""}},
         "distribution.default_cache_behavior.cache_policy_id: no cache_policy or AWS managed "
         "cache policy has id \"nope\""},
        {{{"/distribution/default_cache_behavior/cache_policy_id", "7"}},
         "distribution.default_cache_behavior.cache_policy_id: expected a string"},
        {{{"/distribution/default_cache_behavior/origin_request_policy_id", "\"cp\""}},
         "distribution.default_cache_behavior.origin_request_policy_id: no "
         "origin_request_policy or AWS managed origin request policy has id \"cp\""},
        {{{"/distribution/default_cache_behavior/cache_policy_id", nullptr},
          {"/distribution/default_cache_behavior/origin_request_policy_id", "\"orp\""}},
         "distribution.default_cache_behavior.origin_request_policy_id: requires "
         "cache_policy_id"},
        {{{"/distribution/ordered_cache_behavior",
           R"([{"path_pattern": "/a/*", "target_origin_id": "o",
                "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
                "viewer_protocol_policy": "allow-all", "cache_policy_id": "missing"}])"}},
         "distribution.ordered_cache_behavior[0].cache_policy_id: no cache_policy or AWS "
         "managed cache policy has id \"missing\""},
        // Cache policies.
        {{{"/cache_policy/0/bogus", "1"}}, "cache_policy[0].bogus: unknown key"},
        {{{"/cache_policy/0/id", nullptr}}, "cache_policy[0].id: missing"},
        {{{"/cache_policy/0/id", "\"\""}}, "cache_policy[0].id: must not be empty"},
        {{{"/cache_policy/0/name", nullptr}}, "cache_policy[0].name: missing"},
        {{{"/cache_policy/0/name", "\"has space\""}},
         "cache_policy[0].name: must be 1 to 128 letters, digits, '-' or '_'"},
        {{{"/cache_policy/0/name", "\"Managed-CachingOptimized\""}},
         "cache_policy[0].name: duplicate name \"Managed-CachingOptimized\""},
        {{{"/cache_policy/0/id", "\"658327ea-f89d-4fab-a63d-7e88639e58f6\""}},
         "cache_policy[0].id: is the id of the AWS managed cache policy "
         "\"Managed-CachingOptimized\" (refer to it without defining it)"},
        {{{"/cache_policy/1",
           R"({"id": "cp", "name": "Other", "parameters_in_cache_key_and_forwarded_to_origin": {
                 "cookies_config": {"cookie_behavior": "none"},
                 "headers_config": {"header_behavior": "none"},
                 "query_strings_config": {"query_string_behavior": "none"}}})"}},
         "cache_policy[1].id: duplicate id \"cp\""},
        {{{"/cache_policy/0/default_ttl", "1"}},
         "cache_policy[0].default_ttl: must not be less than min_ttl (5)"},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin", nullptr}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin: missing"},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/headers_config",
           nullptr}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.headers_config: "
         "missing"},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/headers_config/"
           "header_behavior",
           "\"allViewer\""}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.headers_config."
         "header_behavior: must be one of \"none\", \"whitelist\""},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/cookies_config/"
           "cookies",
           nullptr}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.cookies_config."
         "cookies: required when cookie_behavior is \"whitelist\""},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/cookies_config/"
           "cookies/items",
           "[]"}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.cookies_config."
         "cookies: items must not be empty when cookie_behavior is \"whitelist\""},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/cookies_config/"
           "cookie_behavior",
           "\"all\""}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.cookies_config."
         "cookies: not allowed when cookie_behavior is \"all\""},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/headers_config/"
           "headers/items",
           R"(["X-A", "x-a"])"}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.headers_config."
         "headers.items[1]: duplicate header \"x-a\""},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/headers_config/"
           "headers/items",
           R"(["Bad Name"])"}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.headers_config."
         "headers.items[0]: must be a valid header name"},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/"
           "enable_accept_encoding_gzip",
           "\"yes\""}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin."
         "enable_accept_encoding_gzip: expected a boolean"},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/headers_config/"
           "headers/item",
           "[]"}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.headers_config."
         "headers.item: unknown key"},
        {{{"/cache_policy/0/parameters_in_cache_key_and_forwarded_to_origin/headers_config/"
           "headers/items",
           R"(["X-Device", "accept-encoding"])"}},
         "cache_policy[0].parameters_in_cache_key_and_forwarded_to_origin.headers_config: must "
         "not list Accept-Encoding while enable_accept_encoding_gzip or "
         "enable_accept_encoding_brotli is true (those key it, normalised)"},
        // Origin request policies.
        {{{"/origin_request_policy/0/headers_config/header_behavior", "\"all\""}},
         "origin_request_policy[0].headers_config.header_behavior: must be one of \"none\", "
         "\"whitelist\", \"allViewer\", \"allViewerAndWhitelistCloudFront\", \"allExcept\""},
        {{{"/origin_request_policy/0/headers_config/header_behavior",
           "\"allViewerAndWhitelistCloudFront\""}},
         "origin_request_policy[0].headers_config.headers.items[0]: must be a CloudFront header "
         "(CloudFront-...) with allViewerAndWhitelistCloudFront"},
        {{{"/origin_request_policy/0/cookies_config", nullptr}},
         "origin_request_policy[0].cookies_config: missing"},
        {{{"/origin_request_policy/0/id", "\"cp\""}, {"/origin_request_policy/0/name", "\"Site\""}},
         "ok"}, // cache and origin request policies have separate ids and names
        {{{"/origin_request_policy/0/query_strings_config/query_string_behavior", "\"allExcept\""}},
         "origin_request_policy[0].query_strings_config.query_strings: required when "
         "query_string_behavior is \"allExcept\""},
    };
    for (const Case &c : cases) {
        std::string text = with(c.patches);
        CAPTURE(text);
        CHECK(error_of(text) == c.expected);
    }
}

TEST_CASE("config/policies: legacy behaviors keep forwarded_values and TTLs") {
    Config c = parsed(with({{"/distribution/default_cache_behavior/cache_policy_id", nullptr},
                            {"/distribution/default_cache_behavior/min_ttl", "3"},
                            {"/distribution/default_cache_behavior/forwarded_values",
                             R"({"query_string": true, "headers": ["X-A"],
                                 "cookies": {"forward": "whitelist",
                                             "whitelisted_names": ["s*"]}})"}}));
    const CacheBehavior &b = c.distribution.default_cache_behavior;
    CHECK(b.cache_policy_id.empty());
    CHECK(b.ttl.min_ttl == 3);
    CHECK(b.shape.key.query_strings.mode == SelectMode::all);
    CHECK(b.shape.key.headers.names == Names{"X-A"});
    CHECK(b.shape.key.cookies.selects("sid", false));
    CHECK_FALSE(b.shape.key.cookies.selects("Sid", false));
    CHECK(b.shape.forward.other_headers);
}

TEST_CASE("config/policies: selections compare header names without case, others with") {
    ValueSelection listed{SelectMode::listed, {"X-A", "b"}, false};
    CHECK(listed.selects("x-a", true));
    CHECK_FALSE(listed.selects("x-a", false));
    CHECK(listed.selects("b", false));
    ValueSelection except{SelectMode::all_except, {"Host"}, false};
    CHECK_FALSE(except.selects("host", true));
    CHECK(except.selects("Accept", true));
    CHECK(ValueSelection{SelectMode::all, {}, false}.selects("anything", false));
    CHECK_FALSE(ValueSelection{}.selects("anything", false));
    ValueSelection wild{SelectMode::listed, {"se?s*"}, true};
    CHECK(wild.selects("session", false));
    CHECK_FALSE(wild.selects("Session", false));
    CHECK_FALSE(wild.selects("sxs", false));
}

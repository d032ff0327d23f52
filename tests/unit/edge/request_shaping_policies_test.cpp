// Cache keys and origin requests under cache policies and origin request policies (the legacy
// forwarded_values cases are in request_shaping_test.cpp; both go through the same code).
#include "edge/request_shaping.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

using perch::cache::CacheKey;
using perch::core::RequestHead;
using namespace perch::edge;
namespace config = perch::config;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using Names = std::vector<std::string>;

RequestHead request(std::string_view method, std::string_view target, const Fields &fields = {}) {
    RequestHead r;
    r.method_text = method;
    r.method = perch::core::method_from_name(method);
    r.target = target;
    r.version_minor = 1;
    for (const auto &[name, value] : fields)
        r.headers.add(name, value);
    return r;
}

config::ValueSelection sel(config::SelectMode mode, Names names = {}) {
    return {mode, std::move(names), false};
}

// A behavior under a cache policy keying `key`, with `forward` from an origin request policy.
config::CacheBehavior policy_behavior(config::CacheKeySpec key,
                                      config::OriginForwardSpec forward = {}) {
    config::CacheBehavior b;
    b.cache_policy_id = "cp";
    b.shape.key = std::move(key);
    b.shape.forward = std::move(forward);
    return b;
}

config::CacheBehavior managed(std::string_view cache_id, std::string_view origin_id = {}) {
    config::CacheBehavior b;
    for (const config::CachePolicy &p : config::managed_cache_policies())
        if (p.id == cache_id) b.shape.key = p.key;
    b.shape.forward = {};
    for (const config::OriginRequestPolicy &p : config::managed_origin_request_policies())
        if (p.id == origin_id) b.shape.forward = p.forward;
    return b;
}

CacheKey key_for(const RequestHead &req, const config::CacheBehavior &b) {
    CacheKey k;
    build_cache_key(req, "a.test", req.path(), b, k);
    return k;
}

bool same_key(const RequestHead &a, const RequestHead &b, const config::CacheBehavior &behavior) {
    return key_for(a, behavior).text == key_for(b, behavior).text;
}

RequestHead origin_request(const RequestHead &viewer, const config::CacheBehavior &b,
                           bool for_cache = true) {
    static const config::Origin o = [] {
        config::Origin origin;
        origin.origin_id = "web";
        origin.domain_name = "origin.example";
        return origin;
    }();
    OriginRequestInput in;
    in.viewer = &viewer;
    in.path = viewer.path();
    in.authority = viewer.headers.get("host").value_or(""); // already normal here
    in.behavior = &b;
    in.origin = &o;
    in.for_cache = for_cache;
    RequestHead out;
    build_origin_request(in, out);
    return out;
}

std::optional<std::string> field(const RequestHead &r, std::string_view name) {
    auto v = r.headers.get(name);
    if (!v) return std::nullopt;
    return std::string(*v);
}

} // namespace

TEST_CASE("edge/request_shaping: cache policy query string behaviors key and forward alike") {
    struct Row {
        std::string name;
        config::ValueSelection key;
        std::string keyed;
    };
    const Row rows[] = {
        {"none", sel(config::SelectMode::none), ""},
        {"whitelist", sel(config::SelectMode::listed, {"a", "c"}), "c=3&a=1"},
        {"allExcept", sel(config::SelectMode::all_except, {"b"}), "c=3&a=1&A=4"},
        {"all", sel(config::SelectMode::all), "c=3&b=2&a=1&A=4"},
        {"names are case-sensitive", sel(config::SelectMode::listed, {"A"}), "A=4"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        config::CacheKeySpec k;
        k.query_strings = row.key;
        config::CacheBehavior b = policy_behavior(k);
        std::string out;
        append_keyed_query(b.shape.key, "c=3&b=2&a=1&A=4", out);
        CHECK(out == row.keyed);
        // What is keyed is what travels (no origin request policy).
        RequestHead o = origin_request(request("GET", "/p?c=3&b=2&a=1&A=4"), b);
        CHECK(o.target == (row.keyed.empty() ? "/p" : "/p?" + row.keyed));
    }
}

TEST_CASE("edge/request_shaping: an origin request policy forwards query strings unkeyed") {
    config::CacheKeySpec k;
    k.query_strings = sel(config::SelectMode::listed, {"v"});
    config::OriginForwardSpec f;
    f.query_strings = sel(config::SelectMode::listed, {"trace"});
    config::CacheBehavior b = policy_behavior(k, f);
    CHECK(origin_request(request("GET", "/p?x=0&trace=1&v=2"), b).target == "/p?trace=1&v=2");
    CHECK(same_key(request("GET", "/p?v=2&trace=1"), request("GET", "/p?v=2&trace=9"), b));
    CHECK_FALSE(same_key(request("GET", "/p?v=2"), request("GET", "/p?v=3"), b));
}

TEST_CASE("edge/request_shaping: headers in the key split entries and reach the origin") {
    config::CacheKeySpec k;
    k.headers = sel(config::SelectMode::listed, {"X-Device"});
    config::CacheBehavior b = policy_behavior(k);
    auto with = [](std::string_view name, std::string_view v) {
        return request("GET", "/p", {{std::string(name), std::string(v)}});
    };
    CHECK_FALSE(same_key(with("X-Device", "tv"), with("X-Device", "phone"), b));
    CHECK(same_key(with("x-device", "tv"), with("X-DEVICE", "tv"), b)); // names without case
    CHECK(same_key(with("X-Other", "1"), with("X-Other", "2"), b));
    CHECK(field(origin_request(with("x-device", "tv"), b), "X-Device") == "tv");
    // With a policy, a header that is neither keyed nor forwarded stays at the edge.
    CHECK_FALSE(field(origin_request(with("X-Other", "1"), b), "X-Other"));
    CHECK_FALSE(field(origin_request(with("User-Agent", "curl"), b), "User-Agent"));
}

TEST_CASE("edge/request_shaping: headers an origin request policy adds travel but are not keyed") {
    config::OriginForwardSpec f;
    f.headers = sel(config::SelectMode::listed, {"X-Trace"});
    config::CacheBehavior b = policy_behavior({}, f);
    RequestHead a = request("GET", "/p", {{"X-Trace", "1"}, {"X-Other", "x"}});
    RequestHead c = request("GET", "/p", {{"X-Trace", "2"}});
    CHECK(same_key(a, c, b));
    RequestHead o = origin_request(a, b);
    CHECK(field(o, "X-Trace") == "1");
    CHECK_FALSE(field(o, "X-Other"));
}

TEST_CASE("edge/request_shaping: body and conditional fields travel whatever the policies say") {
    config::CacheBehavior b = policy_behavior({});
    RequestHead post = request("POST", "/p",
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer x"},
                                {"If-None-Match", "\"e\""}});
    RequestHead o = origin_request(post, b, false);
    CHECK(field(o, "Content-Type") == "application/json");
    CHECK(field(o, "Authorization") == "Bearer x"); // not a safe method
    CHECK(field(o, "If-None-Match") == "\"e\"");
}

TEST_CASE("edge/request_shaping: Authorization on a GET travels only when the key holds it") {
    RequestHead get = request("GET", "/p", {{"Authorization", "Bearer x"}});
    config::OriginForwardSpec all_viewer;
    all_viewer.headers = sel(config::SelectMode::all);
    CHECK_FALSE(field(origin_request(get, policy_behavior({}, all_viewer)), "Authorization"));
    config::CacheKeySpec k;
    k.headers = sel(config::SelectMode::listed, {"Authorization"});
    CHECK(field(origin_request(get, policy_behavior(k)), "Authorization") == "Bearer x");
}

TEST_CASE("edge/request_shaping: cookies follow the cache and origin request policies") {
    config::CacheKeySpec k;
    k.cookies = sel(config::SelectMode::all_except, {"tracking"});
    config::OriginForwardSpec f;
    f.cookies = sel(config::SelectMode::listed, {"tracking"});
    config::CacheBehavior b = policy_behavior(k, f);
    auto with = [](std::string_view c) {
        return request("GET", "/p", {{"Cookie", std::string(c)}});
    };
    CHECK(same_key(with("s=1; tracking=a"), with("s=1; tracking=b"), b));
    CHECK_FALSE(same_key(with("s=1"), with("s=2"), b));
    CHECK_FALSE(same_key(with("s=1"), with("S=1"), b)); // names are case-sensitive
    CHECK(field(origin_request(with("s=1; tracking=a; x=2"), b), "Cookie") ==
          "s=1; tracking=a; x=2");
    CHECK(b.shape.forwards_cookies());
    CHECK_FALSE(policy_behavior({}).shape.forwards_cookies());
    config::CacheBehavior keyless = policy_behavior({}, f);
    CHECK(field(origin_request(with("s=1; tracking=a"), keyless), "Cookie") == "tracking=a");
}

TEST_CASE("edge/request_shaping: Accept-Encoding normalises to the enabled codings") {
    struct Row {
        std::string accept;
        bool gzip, brotli;
        std::string expected;
    };
    const Row rows[] = {
        {"gzip, deflate, br", true, true, "br,gzip"},
        {"br;q=1, gzip", true, true, "br,gzip"},
        {"gzip", true, true, "gzip"},
        {"br", true, true, "br"},
        {"br, gzip", true, false, "gzip"},
        {"br, gzip", false, true, "br"},
        {"br;q=0, gzip", true, true, "gzip"},
        {"deflate", true, true, ""},
        {"gzip, br", false, false, ""},
    };
    for (const Row &row : rows) {
        CAPTURE(row.accept);
        CAPTURE(row.gzip);
        CAPTURE(row.brotli);
        perch::core::HeaderMap h;
        h.add("Accept-Encoding", row.accept);
        CHECK(normalized_accept_encoding(h, row.gzip, row.brotli) == row.expected);
    }
}

TEST_CASE("edge/request_shaping: cached compressed objects key and forward the normalised "
          "Accept-Encoding") {
    config::CacheBehavior b = managed("658327ea-f89d-4fab-a63d-7e88639e58f6"); // CachingOptimized
    auto with = [](std::string_view ae) {
        return request("GET", "/p", {{"Accept-Encoding", std::string(ae)}});
    };
    CHECK(same_key(with("gzip, deflate, br"), with("br,gzip"), b));
    CHECK_FALSE(same_key(with("gzip"), with("br, gzip"), b));
    CHECK(same_key(with("deflate"), request("GET", "/p"), b));
    CHECK(field(origin_request(with("gzip, deflate, br"), b), "Accept-Encoding") == "br,gzip");
    CHECK(field(origin_request(with("deflate"), b), "Accept-Encoding") == "identity");
    CHECK(field(origin_request(request("GET", "/p"), b), "Accept-Encoding") == "identity");
}

TEST_CASE("edge/request_shaping: without compressed objects Accept-Encoding is an ordinary "
          "header") {
    config::CacheBehavior off = managed("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"); // CachingDisabled
    RequestHead v = request("GET", "/p", {{"Accept-Encoding", "gzip"}});
    CHECK(same_key(v, request("GET", "/p"), off));
    CHECK_FALSE(field(origin_request(v, off), "Accept-Encoding"));
    config::CacheBehavior all_viewer =
        managed("4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                "216adef6-5c7f-47e4-b989-5492eafa07d3"); // + AllViewer
    CHECK(field(origin_request(v, all_viewer), "Accept-Encoding") == "gzip");
}

TEST_CASE("edge/request_shaping: AllViewer sends the viewer's Host, AllViewerExceptHostHeader "
          "the origin's") {
    RequestHead v = request("GET", "/p?q=1", {{"Host", "www.example"}, {"X-A", "1"}});
    const char *disabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    RequestHead all = origin_request(v, managed(disabled, "216adef6-5c7f-47e4-b989-5492eafa07d3"));
    CHECK(field(all, "Host") == "www.example");
    CHECK(field(all, "X-A") == "1");
    CHECK(all.target == "/p?q=1");
    RequestHead except =
        origin_request(v, managed(disabled, "b689b0a8-53d0-40ab-baf2-68738e2966ac"));
    CHECK(field(except, "Host") == "origin.example");
    CHECK(field(except, "X-A") == "1");
}

TEST_CASE("edge/request_shaping: a Host header in the cache policy keys on and forwards it") {
    config::CacheBehavior b =
        managed("83da9c7e-98b4-4e11-a168-04f0df8e2c65"); // UseOriginCacheControl
    RequestHead v = request("GET", "/p?q=1", {{"Host", "www.example"}, {"Cookie", "a=1"}});
    RequestHead o = origin_request(v, b);
    CHECK(field(o, "Host") == "www.example");
    CHECK(field(o, "Cookie") == "a=1");
    CHECK(o.target == "/p"); // query strings are not in this policy
    CHECK_FALSE(same_key(v, request("GET", "/p", {{"Host", "www.example"}, {"Cookie", "a=2"}}), b));
}

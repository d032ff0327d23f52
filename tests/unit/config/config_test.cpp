#include "config/config.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using perch::core::Code;
using perch::core::Method;
using perch::core::Source;
using namespace perch::config;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr const char *minimal_config = R"({"distribution": {
    "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                "custom_origin_config": {"http_port": 18000, "origin_protocol_policy": "http-only"}}],
    "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                               "cached_methods": ["GET", "HEAD"],
                               "viewer_protocol_policy": "allow-all"}}})";

// A directory under the system temp dir, removed with everything in it at scope exit.
// Holds "site/" (a directory), "tls/chain.pem" and "tls/key.pem".
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() / ("perch-config-test-" + std::to_string(::getpid()) +
                                             "-" + std::to_string(counter++));
        fs::create_directories(path_ / "site");
        fs::create_directories(path_ / "tls");
        std::ofstream(path_ / "tls" / "chain.pem") << "chain\n";
        std::ofstream(path_ / "tls" / "key.pem") << "key\n";
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const fs::path &path() const { return path_; }
    std::string operator/(const char *relative) const { return (path_ / relative).string(); }

private:
    fs::path path_;
};

bool has(MethodSet set, std::initializer_list<Method> methods) {
    MethodSet expected;
    for (Method m : methods)
        expected.add(m);
    return set.bits == expected.bits;
}

// The error context of parsing `text`, or "ok".
std::string error_of(const std::string &text, const std::string &base_dir = ".") {
    auto result = parse_config(text, base_dir);
    if (result) return "ok";
    CHECK(result.error().code == Code::config);
    CHECK(result.error().source == Source::config);
    return result.error().context;
}

// One change to the minimal config: set the value at a JSON pointer, or remove the key when
// `value` is nullptr.
struct Patch {
    const char *pointer;
    const char *value;
};

std::string patched(const std::vector<Patch> &patches) {
    Json doc = Json::parse(minimal_config);
    for (const Patch &p : patches) {
        Json::json_pointer pointer(p.pointer);
        if (p.value)
            doc[pointer] = Json::parse(p.value);
        else
            doc[pointer.parent_pointer()].erase(pointer.back());
    }
    return doc.dump();
}

} // namespace

TEST_CASE("config/config: the minimal distribution parses with CloudFront's defaults") {
    auto result = parse_config(minimal_config, ".");
    REQUIRE(result);
    const Distribution &d = result->distribution;
    CHECK(d.enabled);
    CHECK(d.aliases.empty());
    CHECK(d.comment.empty());
    CHECK(d.default_root_object.empty());
    CHECK(d.minimum_tls_version == 0x0301);
    CHECK(d.ordered_cache_behaviors.empty());
    CHECK(d.custom_error_responses.empty());

    REQUIRE(d.origins.size() == 1);
    const Origin &o = d.origins[0];
    CHECK(o.origin_id == "o");
    CHECK(o.domain_name == "127.0.0.1");
    CHECK(o.origin_path.empty());
    CHECK(o.connection_attempts == 3);
    CHECK(o.connection_timeout_s == 10);
    CHECK(o.custom_headers.empty());
    CHECK(o.directory.empty());
    CHECK(o.tls_ca_file.empty());
    REQUIRE(o.custom_origin_config);
    CHECK(o.custom_origin_config->http_port == 18000);
    CHECK(o.custom_origin_config->https_port == 443);
    CHECK(o.custom_origin_config->origin_protocol_policy == OriginProtocolPolicy::http_only);
    CHECK(o.custom_origin_config->origin_ssl_protocols == std::vector<std::string>{"TLSv1.2"});
    CHECK(o.custom_origin_config->origin_read_timeout_s == 30);
    CHECK(o.custom_origin_config->origin_keepalive_timeout_s == 5);

    const CacheBehavior &b = d.default_cache_behavior;
    CHECK(b.path_pattern.empty());
    CHECK(b.target_origin_id == "o");
    CHECK(b.origin_index == 0);
    CHECK(has(b.allowed_methods, {Method::get, Method::head}));
    CHECK(has(b.cached_methods, {Method::get, Method::head}));
    CHECK(b.viewer_protocol_policy == ViewerProtocolPolicy::allow_all);
    CHECK(b.ttl.min_ttl == 0);
    CHECK(b.ttl.default_ttl == 86400);
    CHECK(b.ttl.max_ttl == 31536000);
    CHECK_FALSE(b.compress);
    CHECK(b.cache_policy_id.empty());
    CHECK(b.origin_request_policy_id.empty());
    CHECK(b.shape.key.query_strings.mode == SelectMode::none);
    CHECK(b.shape.key.headers.mode == SelectMode::none);
    CHECK(b.shape.key.cookies.mode == SelectMode::none);
    CHECK(b.shape.key.legacy_accept_encoding);
    CHECK(b.shape.forward.query_strings.mode == SelectMode::none);
    CHECK(b.shape.forward.other_headers);

    const ProcessSettings &p = result->perch;
    REQUIRE(p.listen.size() == 1);
    CHECK_FALSE(p.listen[0].tls);
    CHECK(p.listen[0].host == "127.0.0.1");
    CHECK(p.listen[0].port == 8080);
    CHECK(p.listen[0].text == "http://127.0.0.1:8080");
    CHECK(p.cache_memory_bytes == 256ull << 20);
    CHECK(p.cache_max_object_bytes == 0);
    CHECK(p.workers == 0);
    CHECK(p.limits.max_uri_bytes == 8192);
    CHECK(p.limits.max_header_bytes == 20480);
    CHECK(p.limits.max_body_bytes == 1ull << 30);
    CHECK(p.limits.header_timeout_ms == 10000);
    CHECK(p.limits.idle_timeout_ms == 60000);
    CHECK(p.shutdown_timeout_ms == 10000);
    CHECK_FALSE(p.tls);
}

TEST_CASE("config/config: a config using every key sets every field") {
    TempDir tmp;
    Json doc = Json::parse(R"({
  "distribution": {
    "enabled": false,
    "aliases": ["www.example.com", "*.example.org"],
    "comment": "perch test",
    "default_root_object": "index.html",
    "is_ipv6_enabled": true,
    "http_version": "http2and3",
    "price_class": "PriceClass_100",
    "tags": {"team": "edge"},
    "retain_on_delete": false,
    "wait_for_deployment": true,
    "origin": [
      {"origin_id": "api", "domain_name": "api.internal", "origin_path": "/v1",
       "connection_attempts": 2, "connection_timeout": 5,
       "perch": {"tls_ca_file": "tls/chain.pem"},
       "custom_header": [{"name": "X-Origin-Secret", "value": "s3cr3t"},
                         {"name": "X-Env", "value": "test"}],
       "custom_origin_config": {"http_port": 8080, "https_port": 8443,
                                "origin_protocol_policy": "match-viewer",
                                "origin_ssl_protocols": ["TLSv1.2", "TLSv1.1"],
                                "origin_read_timeout": 60, "origin_keepalive_timeout": 30}},
      {"origin_id": "site", "perch": {"directory": "site"}}
    ],
    "default_cache_behavior": {
      "target_origin_id": "site",
      "allowed_methods": ["HEAD", "GET", "OPTIONS"],
      "cached_methods": ["OPTIONS", "GET", "HEAD"],
      "viewer_protocol_policy": "redirect-to-https",
      "min_ttl": 1, "default_ttl": 60, "max_ttl": 3600, "compress": true,
      "forwarded_values": {"query_string": true, "query_string_cache_keys": ["v", "lang"],
                           "headers": ["Accept-Language"],
                           "cookies": {"forward": "whitelist", "whitelisted_names": ["session"]}}
    },
    "ordered_cache_behavior": [
      {"path_pattern": "/api/*", "target_origin_id": "api",
       "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
       "cached_methods": ["GET", "HEAD"], "viewer_protocol_policy": "https-only",
       "min_ttl": 0, "default_ttl": 0, "max_ttl": 0,
       "forwarded_values": {"query_string": false, "headers": ["*"],
                            "cookies": {"forward": "all"}}},
      {"path_pattern": "*.jpg", "target_origin_id": "site",
       "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
       "viewer_protocol_policy": "allow-all"}
    ],
    "custom_error_response": [
      {"error_code": 404, "response_code": 200, "response_page_path": "/index.html",
       "error_caching_min_ttl": 0},
      {"error_code": 503, "error_caching_min_ttl": 5}
    ],
    "restrictions": {"geo_restriction": {"restriction_type": "none", "locations": []}},
    "viewer_certificate": {"cloudfront_default_certificate": false,
                           "minimum_protocol_version": "TLSv1.2_2021",
                           "ssl_support_method": "sni-only"}
  },
  "perch": {
    "listen": ["http://0.0.0.0:8080", "https://[::1]:8443", "http://localhost:9000"],
    "cache": {"memory": "1.5 GiB", "max_object": "64MiB"},
    "workers": 4,
    "limits": {"max_uri_bytes": 4096, "max_header_bytes": 16384, "max_body": "10MB",
               "header_timeout": 5, "idle_timeout": 30},
    "shutdown_timeout": 0,
    "tls": {"certificate_chain_file": "tls/chain.pem"}
  }
})");
    doc["perch"]["tls"]["private_key_file"] = tmp / "tls/key.pem"; // an absolute path
    auto result = parse_config(doc.dump(), tmp.path().string());
    REQUIRE_MESSAGE(result, result.error().context);
    const Distribution &d = result->distribution;
    CHECK_FALSE(d.enabled);
    CHECK(d.aliases == std::vector<std::string>{"www.example.com", "*.example.org"});
    CHECK(d.comment == "perch test");
    CHECK(d.default_root_object == "index.html");
    CHECK(d.minimum_tls_version == 0x0303);

    REQUIRE(d.origins.size() == 2);
    const Origin &api = d.origins[0];
    CHECK(api.origin_id == "api");
    CHECK(api.domain_name == "api.internal");
    CHECK(api.origin_path == "/v1");
    CHECK(api.connection_attempts == 2);
    CHECK(api.connection_timeout_s == 5);
    REQUIRE(api.custom_headers.size() == 2);
    CHECK(api.custom_headers[0].name == "X-Origin-Secret");
    CHECK(api.custom_headers[0].value == "s3cr3t");
    CHECK(api.custom_headers[1].name == "X-Env");
    REQUIRE(api.custom_origin_config);
    CHECK(api.custom_origin_config->http_port == 8080);
    CHECK(api.custom_origin_config->https_port == 8443);
    CHECK(api.custom_origin_config->origin_protocol_policy == OriginProtocolPolicy::match_viewer);
    CHECK(api.custom_origin_config->origin_ssl_protocols ==
          std::vector<std::string>{"TLSv1.2", "TLSv1.1"});
    CHECK(api.custom_origin_config->origin_read_timeout_s == 60);
    CHECK(api.custom_origin_config->origin_keepalive_timeout_s == 30);
    CHECK(api.directory.empty());
    CHECK(api.tls_ca_file == tmp / "tls/chain.pem");
    const Origin &site = d.origins[1];
    CHECK(site.domain_name.empty());
    CHECK_FALSE(site.custom_origin_config);
    CHECK(site.directory == tmp / "site");

    const CacheBehavior &def = d.default_cache_behavior;
    CHECK(def.target_origin_id == "site");
    CHECK(def.origin_index == 1);
    CHECK(has(def.allowed_methods, {Method::get, Method::head, Method::options}));
    CHECK(has(def.cached_methods, {Method::get, Method::head, Method::options}));
    CHECK(def.viewer_protocol_policy == ViewerProtocolPolicy::redirect_to_https);
    CHECK(def.ttl.min_ttl == 1);
    CHECK(def.ttl.default_ttl == 60);
    CHECK(def.ttl.max_ttl == 3600);
    CHECK(def.compress);
    // forwarded_values become a cache key spec plus what is forwarded without being keyed.
    const RequestShape &ds = def.shape;
    CHECK(ds.key.query_strings.mode == SelectMode::listed);
    CHECK(ds.key.query_strings.names == std::vector<std::string>{"v", "lang"});
    CHECK(ds.forward.query_strings.mode == SelectMode::all);
    CHECK(ds.key.headers.mode == SelectMode::listed);
    CHECK(ds.key.headers.names == std::vector<std::string>{"Accept-Language"});
    CHECK(ds.key.cookies.mode == SelectMode::listed);
    CHECK(ds.key.cookies.names == std::vector<std::string>{"session"});
    CHECK(ds.key.cookies.wildcards);
    CHECK(ds.forwards_cookies());

    REQUIRE(d.ordered_cache_behaviors.size() == 2);
    const CacheBehavior &api_b = d.ordered_cache_behaviors[0];
    CHECK(api_b.path_pattern == "/api/*");
    CHECK(api_b.origin_index == 0);
    CHECK(has(api_b.allowed_methods, {Method::get, Method::head, Method::options, Method::put,
                                      Method::post, Method::patch, Method::del}));
    CHECK(has(api_b.cached_methods, {Method::get, Method::head}));
    CHECK(api_b.viewer_protocol_policy == ViewerProtocolPolicy::https_only);
    CHECK(api_b.ttl.max_ttl == 0);
    CHECK(api_b.shape.key.headers.mode == SelectMode::all);
    CHECK(api_b.shape.key.cookies.mode == SelectMode::all);
    CHECK(d.ordered_cache_behaviors[1].path_pattern == "*.jpg");
    CHECK(d.ordered_cache_behaviors[1].origin_index == 1);

    REQUIRE(d.custom_error_responses.size() == 2);
    CHECK(d.custom_error_responses[0].error_code == 404);
    CHECK(d.custom_error_responses[0].response_code == 200);
    CHECK(d.custom_error_responses[0].response_page_path == "/index.html");
    CHECK(d.custom_error_responses[0].error_caching_min_ttl == 0);
    CHECK(d.custom_error_responses[1].error_code == 503);
    CHECK(d.custom_error_responses[1].response_code == 0);
    CHECK(d.custom_error_responses[1].response_page_path.empty());
    CHECK(d.custom_error_responses[1].error_caching_min_ttl == 5);

    const ProcessSettings &p = result->perch;
    REQUIRE(p.listen.size() == 3);
    CHECK_FALSE(p.listen[0].tls);
    CHECK(p.listen[0].host == "0.0.0.0");
    CHECK(p.listen[0].port == 8080);
    CHECK(p.listen[1].tls);
    CHECK(p.listen[1].host == "::1");
    CHECK(p.listen[1].port == 8443);
    CHECK(p.listen[1].text == "https://[::1]:8443");
    CHECK(p.listen[2].host == "localhost");
    CHECK(p.cache_memory_bytes == 1610612736);
    CHECK(p.cache_max_object_bytes == 64ull << 20);
    CHECK(p.workers == 4);
    CHECK(p.limits.max_uri_bytes == 4096);
    CHECK(p.limits.max_header_bytes == 16384);
    CHECK(p.limits.max_body_bytes == 10000000);
    CHECK(p.limits.header_timeout_ms == 5000);
    CHECK(p.limits.idle_timeout_ms == 30000);
    CHECK(p.shutdown_timeout_ms == 0);
    REQUIRE(p.tls);
    CHECK(p.tls->certificate_chain_file == tmp / "tls/chain.pem");
    CHECK(p.tls->private_key_file == tmp / "tls/key.pem");
}

TEST_CASE("config/config: each invalid config is rejected with its path and reason") {
    struct Case {
        std::vector<Patch> patches;
        const char *expected;
    };
    const std::string long_comment(129, 'c');
    const std::string comment_value = "\"" + long_comment + "\"";
    const Case cases[] = {
        // Root.
        {{{"/bogus", "1"}}, "bogus: unknown key"},
        {{{"/cache_policy", "{}"}}, "cache_policy: expected an array"},
        {{{"/origin_request_policy", "{}"}}, "origin_request_policy: expected an array"},
        {{{"/origin_access_control", "{}"}}, "origin_access_control: not supported yet"},
        {{{"/distribution", nullptr}}, "distribution: missing"},
        {{{"/distribution", "[]"}}, "distribution: expected an object"},
        // Distribution.
        {{{"/distribution/enabled", "\"yes\""}}, "distribution.enabled: expected a boolean"},
        {{{"/distribution/aliases", "\"a.example.com\""}},
         "distribution.aliases: expected an array"},
        {{{"/distribution/aliases", "[1]"}}, "distribution.aliases[0]: expected a string"},
        {{{"/distribution/aliases", R"(["a.example.com", "A.example.com"])"}},
         "distribution.aliases[1]: duplicate alias \"A.example.com\""},
        {{{"/distribution/aliases", R"(["a b"])"}},
         "distribution.aliases[0]: must be a domain name"},
        {{{"/distribution/aliases", R"([""])"}}, "distribution.aliases[0]: must not be empty"},
        {{{"/distribution/comment", comment_value.c_str()}},
         "distribution.comment: must be at most 128 characters"},
        {{{"/distribution/default_root_object", "\"/index.html\""}},
         "distribution.default_root_object: must be an object name such as \"index.html\", "
         "without a leading '/'"},
        {{{"/distribution/default_root_object", "\"index?.html\""}},
         "distribution.default_root_object: may contain only letters, digits and "
         "_-.*$/~\"'&"},
        {{{"/distribution/web_acl_id", "\"arn\""}}, "distribution.web_acl_id: not supported yet"},
        {{{"/distribution/logging_config", "{}"}},
         "distribution.logging_config: not supported yet"},
        {{{"/distribution/origin_group", "[]"}}, "distribution.origin_group: not supported yet"},
        {{{"/distribution/staging", "false"}}, "distribution.staging: not supported yet"},
        {{{"/distribution/continuous_deployment_policy_id", "\"x\""}},
         "distribution.continuous_deployment_policy_id: not supported yet"},
        {{{"/distribution/anycast_ip_list_id", "\"x\""}},
         "distribution.anycast_ip_list_id: not supported yet"},
        {{{"/distribution/is_ipv6_enabled", "\"true\""}},
         "distribution.is_ipv6_enabled: expected a boolean"},
        {{{"/distribution/http_version", "\"http4\""}},
         "distribution.http_version: must be one of \"http1.1\", \"http2\", \"http2and3\", "
         "\"http3\""},
        {{{"/distribution/price_class", "\"PriceClass_1\""}},
         "distribution.price_class: must be one of \"PriceClass_All\", \"PriceClass_200\", "
         "\"PriceClass_100\""},
        {{{"/distribution/tags", R"({"team": 1})"}}, "distribution.tags.team: expected a string"},
        {{{"/distribution/retain_on_delete", "0"}},
         "distribution.retain_on_delete: expected a boolean"},
        {{{"/distribution/wait_for_deployment", "null"}},
         "distribution.wait_for_deployment: expected a boolean"},
        {{{"/distribution/origin", nullptr}}, "distribution.origin: missing"},
        {{{"/distribution/origin", "[]"}}, "distribution.origin: must have at least one origin"},
        {{{"/distribution/origin", "[5]"}}, "distribution.origin[0]: expected an object"},
        {{{"/distribution/default_cache_behavior", nullptr}},
         "distribution.default_cache_behavior: missing"},
        // Origins.
        {{{"/distribution/origin/0/custom_origin_config/htp_port", "80"}},
         "distribution.origin[0].custom_origin_config.htp_port: unknown key"},
        {{{"/distribution/origin/0/origin_id", nullptr}},
         "distribution.origin[0].origin_id: missing"},
        {{{"/distribution/origin/0/origin_id", "\"\""}},
         "distribution.origin[0].origin_id: must not be empty"},
        {{{"/distribution/origin/1", R"({"origin_id": "o", "domain_name": "b",
             "custom_origin_config": {"origin_protocol_policy": "https-only"}})"}},
         "distribution.origin[1].origin_id: duplicate origin_id \"o\""},
        // Two omissions, two errors: the origin's kind and its domain_name.
        {{{"/distribution/origin/1", R"({"origin_id": "p"})"}},
         "distribution.origin[1]: needs custom_origin_config or perch.directory (S3 origins are "
         "not supported yet)\n"
         "distribution.origin[1].domain_name: missing"},
        {{{"/distribution/origin/0/domain_name", nullptr}},
         "distribution.origin[0].domain_name: missing"},
        {{{"/distribution/origin/0/domain_name", "\"http://example.com\""}},
         "distribution.origin[0].domain_name: must be a host name, without scheme or path"},
        {{{"/distribution/origin/0/domain_name", "\"example.com:8080\""}},
         "distribution.origin[0].domain_name: must not include a port (use "
         "custom_origin_config.http_port or https_port)"},
        {{{"/distribution/origin/0/origin_path", "\"static\""}},
         "distribution.origin[0].origin_path: must start with '/'"},
        {{{"/distribution/origin/0/origin_path", "\"/static/\""}},
         "distribution.origin[0].origin_path: must not end with '/'"},
        {{{"/distribution/origin/0/connection_attempts", "4"}},
         "distribution.origin[0].connection_attempts: must be between 1 and 3"},
        {{{"/distribution/origin/0/connection_attempts", "2.5"}},
         "distribution.origin[0].connection_attempts: expected an integer"},
        {{{"/distribution/origin/0/connection_attempts", "18446744073709551615"}},
         "distribution.origin[0].connection_attempts: must be between 1 and 3"},
        {{{"/distribution/origin/0/connection_timeout", "0"}},
         "distribution.origin[0].connection_timeout: must be between 1 and 10"},
        {{{"/distribution/origin/0/origin_access_control_id", "\"E1\""}},
         "distribution.origin[0].origin_access_control_id: not supported yet"},
        {{{"/distribution/origin/0/s3_origin_config", "{}"}},
         "distribution.origin[0].s3_origin_config: not supported yet"},
        {{{"/distribution/origin/0/origin_shield", "{}"}},
         "distribution.origin[0].origin_shield: not supported yet"},
        {{{"/distribution/origin/0/vpc_origin_config", "{}"}},
         "distribution.origin[0].vpc_origin_config: not supported yet"},
        {{{"/distribution/origin/0/response_completion_timeout", "60"}},
         "distribution.origin[0].response_completion_timeout: not supported yet"},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "Host", "value": "x"}])"}},
         "distribution.origin[0].custom_header[0].name: CloudFront does not allow \"Host\" as a "
         "custom header"},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "x-amz-date", "value": "x"}])"}},
         "distribution.origin[0].custom_header[0].name: CloudFront does not allow "
         "\"x-amz-date\" as a custom header"},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "X-Edge-Id", "value": "x"}])"}},
         "distribution.origin[0].custom_header[0].name: CloudFront does not allow \"X-Edge-Id\" "
         "as a custom header"},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "X A", "value": "x"}])"}},
         "distribution.origin[0].custom_header[0].name: must be a valid header name"},
        {{{"/distribution/origin/0/custom_header",
           R"([{"name": "X-A", "value": "1"}, {"name": "x-a", "value": "2"}])"}},
         "distribution.origin[0].custom_header[1].name: duplicate header \"x-a\""},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "X-A"}])"}},
         "distribution.origin[0].custom_header[0].value: missing"},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "X-A", "value": "a\nb"}])"}},
         "distribution.origin[0].custom_header[0].value: must not contain control characters"},
        {{{"/distribution/origin/0/custom_header", R"([{"name": "X-A", "value": "", "x": 1}])"}},
         "distribution.origin[0].custom_header[0].x: unknown key"},
        {{{"/distribution/origin/0/custom_origin_config", nullptr}},
         "distribution.origin[0]: needs custom_origin_config or perch.directory (S3 origins are "
         "not supported yet)"},
        {{{"/distribution/origin/0/custom_origin_config/origin_protocol_policy", nullptr}},
         "distribution.origin[0].custom_origin_config.origin_protocol_policy: missing"},
        {{{"/distribution/origin/0/custom_origin_config/origin_protocol_policy", "\"ftp\""}},
         "distribution.origin[0].custom_origin_config.origin_protocol_policy: must be one of "
         "\"http-only\", \"https-only\", \"match-viewer\""},
        {{{"/distribution/origin/0/custom_origin_config/http_port", "81"}},
         "distribution.origin[0].custom_origin_config.http_port: must be 80, 443 or between 1024 "
         "and 65535"},
        {{{"/distribution/origin/0/custom_origin_config/https_port", "65536"}},
         "distribution.origin[0].custom_origin_config.https_port: must be 80, 443 or between "
         "1024 and 65535"},
        {{{"/distribution/origin/0/custom_origin_config/https_port", "18446744073709551615"}},
         "distribution.origin[0].custom_origin_config.https_port: is too large"},
        {{{"/distribution/origin/0/custom_origin_config/http_port", "\"80\""}},
         "distribution.origin[0].custom_origin_config.http_port: expected an integer"},
        {{{"/distribution/origin/0/custom_origin_config/origin_ssl_protocols", "[]"}},
         "distribution.origin[0].custom_origin_config.origin_ssl_protocols: must not be empty"},
        {{{"/distribution/origin/0/custom_origin_config/origin_ssl_protocols", R"(["TLSv1.3"])"}},
         "distribution.origin[0].custom_origin_config.origin_ssl_protocols[0]: must be one of "
         "\"SSLv3\", \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\""},
        {{{"/distribution/origin/0/custom_origin_config/origin_ssl_protocols",
           R"(["TLSv1.2", "TLSv1.2"])"}},
         "distribution.origin[0].custom_origin_config.origin_ssl_protocols[1]: duplicate "
         "protocol \"TLSv1.2\""},
        {{{"/distribution/origin/0/custom_origin_config/origin_read_timeout", "181"}},
         "distribution.origin[0].custom_origin_config.origin_read_timeout: must be between 1 and "
         "180"},
        {{{"/distribution/origin/0/custom_origin_config/origin_keepalive_timeout", "0"}},
         "distribution.origin[0].custom_origin_config.origin_keepalive_timeout: must be between "
         "1 and 180"},
        {{{"/distribution/origin/0/custom_origin_config/ip_address_type", "\"ipv4\""}},
         "distribution.origin[0].custom_origin_config.ip_address_type: not supported yet"},
        {{{"/distribution/origin/0/perch", R"({"directory": ""})"}},
         "distribution.origin[0].perch.directory: must not be empty"},
        {{{"/distribution/origin/0/perch", R"({"tls_ca_file": "tls/chain.pem"})"}},
         "distribution.origin[0].perch.tls_ca_file: not used with origin_protocol_policy "
         "\"http-only\""},
        {{{"/distribution/origin/0",
           R"({"origin_id": "o", "perch": {"directory": "site", "tls_ca_file": "tls/chain.pem"}})"}},
         "distribution.origin[0].perch.tls_ca_file: not allowed with perch.directory"},
        {{{"/distribution/origin/0/perch", R"({"dir": "site"})"}},
         "distribution.origin[0].perch.dir: unknown key"},
        {{{"/distribution/origin/0/perch", R"({"directory": "site"})"}},
         "distribution.origin[0].custom_origin_config: not allowed with perch.directory"},
        // Cache behaviors.
        {{{"/distribution/default_cache_behavior/path_pattern", "\"*\""}},
         "distribution.default_cache_behavior.path_pattern: not allowed in "
         "default_cache_behavior"},
        {{{"/distribution/default_cache_behavior/target_origin_id", nullptr}},
         "distribution.default_cache_behavior.target_origin_id: missing"},
        {{{"/distribution/default_cache_behavior/target_origin_id", "\"nope\""}},
         "distribution.default_cache_behavior.target_origin_id: no origin has origin_id "
         "\"nope\""},
        {{{"/distribution/default_cache_behavior/allowed_methods", nullptr}},
         "distribution.default_cache_behavior.allowed_methods: missing"},
        {{{"/distribution/default_cache_behavior/allowed_methods", R"(["GET"])"}},
         "distribution.default_cache_behavior.allowed_methods: must be [\"GET\", \"HEAD\"], "
         "[\"GET\", \"HEAD\", \"OPTIONS\"] or [\"GET\", \"HEAD\", \"OPTIONS\", \"PUT\", "
         "\"POST\", \"PATCH\", \"DELETE\"] (in any order)"},
        {{{"/distribution/default_cache_behavior/allowed_methods", R"(["GET", "TRACE"])"}},
         "distribution.default_cache_behavior.allowed_methods[1]: must be one of GET, HEAD, "
         "OPTIONS, PUT, POST, PATCH, DELETE"},
        {{{"/distribution/default_cache_behavior/allowed_methods", R"(["get", "head"])"}},
         "distribution.default_cache_behavior.allowed_methods[0]: must be one of GET, HEAD, "
         "OPTIONS, PUT, POST, PATCH, DELETE"},
        {{{"/distribution/default_cache_behavior/allowed_methods", R"(["GET", "HEAD", "GET"])"}},
         "distribution.default_cache_behavior.allowed_methods[2]: duplicate method \"GET\""},
        {{{"/distribution/default_cache_behavior/cached_methods", nullptr}},
         "distribution.default_cache_behavior.cached_methods: missing"},
        {{{"/distribution/default_cache_behavior/cached_methods", R"(["GET", "HEAD", "OPTIONS"])"}},
         "distribution.default_cache_behavior.cached_methods: must be a subset of "
         "allowed_methods"},
        {{{"/distribution/default_cache_behavior/cached_methods",
           R"(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])"}},
         "distribution.default_cache_behavior.cached_methods: must be [\"GET\", \"HEAD\"] or "
         "[\"GET\", \"HEAD\", \"OPTIONS\"] (in any order)"},
        {{{"/distribution/default_cache_behavior/viewer_protocol_policy", nullptr}},
         "distribution.default_cache_behavior.viewer_protocol_policy: missing"},
        {{{"/distribution/default_cache_behavior/viewer_protocol_policy", "\"http-only\""}},
         "distribution.default_cache_behavior.viewer_protocol_policy: must be one of "
         "\"allow-all\", \"redirect-to-https\", \"https-only\""},
        {{{"/distribution/default_cache_behavior/compress", "1"}},
         "distribution.default_cache_behavior.compress: expected a boolean"},
        {{{"/distribution/default_cache_behavior/min_ttl", "-1"}},
         "distribution.default_cache_behavior.min_ttl: must be between 0 and 3153600000"},
        {{{"/distribution/default_cache_behavior/max_ttl", "3153600001"}},
         "distribution.default_cache_behavior.max_ttl: must be between 0 and 3153600000"},
        {{{"/distribution/default_cache_behavior/min_ttl", "100"},
          {"/distribution/default_cache_behavior/default_ttl", "10"}},
         "distribution.default_cache_behavior.default_ttl: must not be less than min_ttl (100)"},
        {{{"/distribution/default_cache_behavior/default_ttl", "600"},
          {"/distribution/default_cache_behavior/max_ttl", "60"}},
         "distribution.default_cache_behavior.max_ttl: must not be less than default_ttl (600)"},
        {{{"/distribution/default_cache_behavior/max_ttl", "60"}},
         "distribution.default_cache_behavior.max_ttl: must not be less than default_ttl "
         "(86400)"},
        {{{"/distribution/default_cache_behavior/min_ttl", "5"},
          {"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "headers": ["*"], "cookies": {"forward": "none"}})"}},
         "distribution.default_cache_behavior.min_ttl: must be 0 when forwarded_values.headers "
         "is [\"*\"]"},
        {{{"/distribution/default_cache_behavior/forwarded_values", "{}"}},
         "distribution.default_cache_behavior.forwarded_values.query_string: missing\n"
         "distribution.default_cache_behavior.forwarded_values.cookies: missing"},
        {{{"/distribution/default_cache_behavior/forwarded_values", R"({"query_string": true})"}},
         "distribution.default_cache_behavior.forwarded_values.cookies: missing"},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "cookies": {}})"}},
         "distribution.default_cache_behavior.forwarded_values.cookies.forward: missing"},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "cookies": {"forward": "some"}})"}},
         "distribution.default_cache_behavior.forwarded_values.cookies.forward: must be one of "
         "\"none\", \"all\", \"whitelist\""},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "cookies": {"forward": "whitelist"}})"}},
         "distribution.default_cache_behavior.forwarded_values.cookies.whitelisted_names: "
         "missing"},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "cookies": {"forward": "whitelist", "whitelisted_names": []}})"}},
         "distribution.default_cache_behavior.forwarded_values.cookies.whitelisted_names: must "
         "not be empty when forward is \"whitelist\""},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "cookies": {"forward": "all", "whitelisted_names": ["a"]}})"}},
         "distribution.default_cache_behavior.forwarded_values.cookies.whitelisted_names: only "
         "allowed when forward is \"whitelist\""},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "query_string_cache_keys": ["v"],
               "cookies": {"forward": "none"}})"}},
         "distribution.default_cache_behavior.forwarded_values.query_string_cache_keys: only "
         "allowed when query_string is true"},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "headers": ["*", "Host"], "cookies": {"forward": "none"}})"}},
         "distribution.default_cache_behavior.forwarded_values.headers: \"*\" must be the only "
         "entry"},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "headers": ["Host", "host"], "cookies": {"forward": "none"}})"}},
         "distribution.default_cache_behavior.forwarded_values.headers[1]: duplicate header "
         "\"host\""},
        {{{"/distribution/default_cache_behavior/forwarded_values",
           R"({"query_string": false, "headers": ["Bad Name"], "cookies": {"forward": "none"}})"}},
         "distribution.default_cache_behavior.forwarded_values.headers[0]: must be a valid "
         "header name"},
        // Each missing key is one error.
        {{{"/distribution/ordered_cache_behavior", R"([{"target_origin_id": "o"}])"}},
         "distribution.ordered_cache_behavior[0].path_pattern: missing\n"
         "distribution.ordered_cache_behavior[0].allowed_methods: missing\n"
         "distribution.ordered_cache_behavior[0].cached_methods: missing\n"
         "distribution.ordered_cache_behavior[0].viewer_protocol_policy: missing"},
        {{{"/distribution/ordered_cache_behavior", R"([{"path_pattern": ""}])"},
          {"/distribution/ordered_cache_behavior/0/target_origin_id", "\"o\""},
          {"/distribution/ordered_cache_behavior/0/allowed_methods", R"(["GET", "HEAD"])"},
          {"/distribution/ordered_cache_behavior/0/cached_methods", R"(["GET", "HEAD"])"},
          {"/distribution/ordered_cache_behavior/0/viewer_protocol_policy", "\"allow-all\""}},
         "distribution.ordered_cache_behavior[0].path_pattern: must not be empty"},
        {{{"/distribution/ordered_cache_behavior", R"([{"path_pattern": "/a b"}])"},
          {"/distribution/ordered_cache_behavior/0/target_origin_id", "\"o\""},
          {"/distribution/ordered_cache_behavior/0/allowed_methods", R"(["GET", "HEAD"])"},
          {"/distribution/ordered_cache_behavior/0/cached_methods", R"(["GET", "HEAD"])"},
          {"/distribution/ordered_cache_behavior/0/viewer_protocol_policy", "\"allow-all\""}},
         "distribution.ordered_cache_behavior[0].path_pattern: may contain only letters, digits "
         "and _-.*?$/~\"'@:+&"},
        {{{"/distribution/ordered_cache_behavior", R"({"path_pattern": "*"})"}},
         "distribution.ordered_cache_behavior: expected an array"},
        // Custom error responses.
        {{{"/distribution/custom_error_response", R"([{"error_code": 418}])"}},
         "distribution.custom_error_response[0].error_code: must be one of 400, 403, 404, 405, "
         "414, 416, 500, 501, 502, 503, 504"},
        {{{"/distribution/custom_error_response", R"([{"error_caching_min_ttl": 1}])"}},
         "distribution.custom_error_response[0].error_code: missing"},
        {{{"/distribution/custom_error_response",
           R"([{"error_code": 404, "response_code": 301, "response_page_path": "/a"}])"}},
         "distribution.custom_error_response[0].response_code: must be one of 200, 400, 403, "
         "404, 405, 414, 416, 500, 501, 502, 503, 504"},
        {{{"/distribution/custom_error_response",
           R"([{"error_code": 404, "response_code": 200}])"}},
         "distribution.custom_error_response[0].response_page_path: required when response_code "
         "is set"},
        {{{"/distribution/custom_error_response",
           R"([{"error_code": 404, "response_page_path": "/404.html"}])"}},
         "distribution.custom_error_response[0].response_code: required when response_page_path "
         "is set"},
        {{{"/distribution/custom_error_response",
           R"([{"error_code": 404, "response_code": 404, "response_page_path": "404.html"}])"}},
         "distribution.custom_error_response[0].response_page_path: must start with '/'"},
        {{{"/distribution/custom_error_response",
           R"([{"error_code": 404, "error_caching_min_ttl": -1}])"}},
         "distribution.custom_error_response[0].error_caching_min_ttl: must be between 0 and "
         "3153600000"},
        {{{"/distribution/custom_error_response", R"([{"error_code": 404}, {"error_code": 404}])"}},
         "distribution.custom_error_response[1].error_code: duplicate error_code 404"},
        // Restrictions.
        {{{"/distribution/restrictions",
           R"({"geo_restriction": {"restriction_type": "whitelist", "locations": ["US"]}})"}},
         "distribution.restrictions.geo_restriction.restriction_type: geo restriction is not "
         "supported yet"},
        {{{"/distribution/restrictions",
           R"({"geo_restriction": {"restriction_type": "blacklist", "locations": ["US"]}})"}},
         "distribution.restrictions.geo_restriction.restriction_type: geo restriction is not "
         "supported yet"},
        {{{"/distribution/restrictions", R"({"geo_restriction": {"restriction_type": "all"}})"}},
         "distribution.restrictions.geo_restriction.restriction_type: must be one of \"none\", "
         "\"whitelist\", \"blacklist\""},
        {{{"/distribution/restrictions",
           R"({"geo_restriction": {"restriction_type": "none", "locations": ["US"]}})"}},
         "distribution.restrictions.geo_restriction.locations: must be empty when "
         "restriction_type is \"none\""},
        {{{"/distribution/restrictions", "{}"}},
         "distribution.restrictions.geo_restriction: missing"},
        // Viewer certificate.
        {{{"/distribution/viewer_certificate", R"({"acm_certificate_arn": "arn:aws:acm:x"})"}},
         "distribution.viewer_certificate.acm_certificate_arn: use perch.tls for certificate "
         "files"},
        {{{"/distribution/viewer_certificate", R"({"iam_certificate_id": "ASCA"})"}},
         "distribution.viewer_certificate.iam_certificate_id: use perch.tls for certificate files"},
        {{{"/distribution/viewer_certificate", R"({"minimum_protocol_version": "SSLv3"})"}},
         "distribution.viewer_certificate.minimum_protocol_version: SSLv3 is not supported (use "
         "TLSv1 or later)"},
        {{{"/distribution/viewer_certificate", R"({"minimum_protocol_version": "TLSv1.2"})"}},
         "distribution.viewer_certificate.minimum_protocol_version: must be one of \"TLSv1\", "
         "\"TLSv1_2016\", \"TLSv1.1_2016\", \"TLSv1.2_2018\", \"TLSv1.2_2019\", "
         "\"TLSv1.2_2021\", \"TLSv1.2_2025\", \"TLSv1.3_2025\""},
        {{{"/distribution/viewer_certificate", R"({"ssl_support_method": "sni"})"}},
         "distribution.viewer_certificate.ssl_support_method: must be one of \"sni-only\", "
         "\"vip\", \"static-ip\""},
        {{{"/distribution/viewer_certificate", R"({"cloudfront_default_certificate": "true"})"}},
         "distribution.viewer_certificate.cloudfront_default_certificate: expected a boolean"},
        // Root "perch".
        {{{"/perch", R"({"bogus": 1})"}}, "perch.bogus: unknown key"},
        {{{"/perch", "[]"}}, "perch: expected an object"},
        {{{"/perch/listen", "[]"}}, "perch.listen: must not be empty (omit it for the default)"},
        {{{"/perch/listen", R"(["127.0.0.1:80"])"}},
         "perch.listen[0]: expected \"http://HOST:PORT\" or \"https://HOST:PORT\""},
        {{{"/perch/listen", R"(["http://127.0.0.1"])"}},
         "perch.listen[0]: expected \"http://HOST:PORT\" or \"https://HOST:PORT\""},
        {{{"/perch/listen", R"(["http://example.com:80"])"}},
         "perch.listen[0]: HOST must be an IPv4 address, a bracketed IPv6 address or "
         "\"localhost\""},
        {{{"/perch/listen", R"(["http://::1:80"])"}},
         "perch.listen[0]: HOST must be an IPv4 address, a bracketed IPv6 address or "
         "\"localhost\""},
        {{{"/perch/listen", R"(["http://[127.0.0.1]:80"])"}},
         "perch.listen[0]: HOST in brackets must be an IPv6 address"},
        {{{"/perch/listen", R"(["http://[::1]:0"])"}},
         "perch.listen[0]: PORT must be between 1 and 65535"},
        {{{"/perch/listen", R"(["http://127.0.0.1:65536"])"}},
         "perch.listen[0]: PORT must be between 1 and 65535"},
        {{{"/perch/listen", R"(["http://127.0.0.1:80/"])"}},
         "perch.listen[0]: PORT must be between 1 and 65535"},
        {{{"/perch/listen", R"(["http://127.0.0.1:80", "http://127.0.0.1:80"])"}},
         "perch.listen[1]: duplicate address \"http://127.0.0.1:80\""},
        {{{"/perch/listen", R"(["http://127.0.0.1:80", "https://127.0.0.1:443"])"}},
         "perch.listen[1]: https:// needs perch.tls"},
        {{{"/perch/cache", R"({"memory": "512KiB"})"}},
         "perch.cache.memory: must be at least 1MiB"},
        {{{"/perch/cache", R"({"memory": "lots"})"}},
         "perch.cache.memory: expected a byte size such as \"256MiB\" or an integer"},
        {{{"/perch/cache", R"({"max_object": "0"})"}},
         "perch.cache.max_object: must be at least 1"},
        {{{"/perch/cache", R"({"memory": -1})"}},
         "perch.cache.memory: expected a byte size such as \"256MiB\" or an integer"},
        {{{"/perch/cache", R"({"size": "1GiB"})"}}, "perch.cache.size: unknown key"},
        {{{"/perch/workers", "1025"}}, "perch.workers: must be between 0 and 1024"},
        {{{"/perch/workers", "\"4\""}}, "perch.workers: expected an integer"},
        {{{"/perch/limits", R"({"max_uri_bytes": 255})"}},
         "perch.limits.max_uri_bytes: must be between 256 and 65536"},
        {{{"/perch/limits", R"({"max_header_bytes": 1048577})"}},
         "perch.limits.max_header_bytes: must be between 1024 and 1048576"},
        {{{"/perch/limits", R"({"max_body": "1 PB"})"}},
         "perch.limits.max_body: expected a byte size such as \"256MiB\" or an integer"},
        {{{"/perch/limits", R"({"header_timeout": 0})"}},
         "perch.limits.header_timeout: must be between 1 and 3600"},
        {{{"/perch/limits", R"({"idle_timeout": 3601})"}},
         "perch.limits.idle_timeout: must be between 1 and 3600"},
        {{{"/perch/limits", R"({"body_timeout": 1})"}}, "perch.limits.body_timeout: unknown key"},
        {{{"/perch/shutdown_timeout", "3601"}},
         "perch.shutdown_timeout: must be between 0 and 3600"},
        {{{"/perch/tls", R"({"certificate_chain_file": "tls/chain.pem"})"}},
         "perch.tls.private_key_file: missing"},
        {{{"/perch/tls", R"({"private_key_file": "tls/key.pem"})"}},
         "perch.tls.certificate_chain_file: missing"},
        {{{"/perch/tls", R"({"certificate_chain_file": "", "private_key_file": "tls/key.pem"})"}},
         "perch.tls.certificate_chain_file: must not be empty"},
    };
    TempDir tmp;
    for (const Case &c : cases) {
        std::string text = patched(c.patches);
        CAPTURE(text);
        CHECK(error_of(text, tmp.path().string()) == c.expected);
    }
}

TEST_CASE("config/config: every Terraform behavior argument perch does not implement is rejected") {
    for (const char *key :
         {"response_headers_policy_id", "realtime_log_config_arn", "field_level_encryption_id",
          "function_association", "lambda_function_association", "trusted_signers",
          "trusted_key_groups", "smooth_streaming", "grpc_config"}) {
        std::string pointer = std::string("/distribution/default_cache_behavior/") + key;
        CHECK(error_of(patched({{pointer.c_str(), "[]"}})) ==
              std::string("distribution.default_cache_behavior.") + key + ": not supported yet");
    }
}

TEST_CASE("config/config: paths to missing files and directories name the resolved path") {
    TempDir tmp;
    const std::string base = tmp.path().string();
    CHECK(error_of(patched({{"/distribution/origin/1",
                             R"({"origin_id": "s", "perch": {"directory": "nope"}})"}}),
                   base) ==
          "distribution.origin[1].perch.directory: \"" + tmp / "nope" + "\" does not exist");
    CHECK(error_of(patched({{"/distribution/origin/1",
                             R"({"origin_id": "s", "perch": {"directory": "tls/key.pem"}})"}}),
                   base) == "distribution.origin[1].perch.directory: \"" + tmp / "tls/key.pem" +
                                "\" is not a directory");
    CHECK(
        error_of(patched({{"/distribution/origin/0/perch", R"({"tls_ca_file": "site"})"}}), base) ==
        "distribution.origin[0].perch.tls_ca_file: \"" + tmp / "site" + "\" is not a regular file");
    CHECK(error_of(patched({{"/perch/tls", R"({"certificate_chain_file": "tls/missing.pem",
                                               "private_key_file": "tls/key.pem"})"}}),
                   base) ==
          "perch.tls.certificate_chain_file: \"" + tmp / "tls/missing.pem" + "\" does not exist");
    CHECK(error_of(patched({{"/perch/tls", R"({"certificate_chain_file": "tls/chain.pem",
                                               "private_key_file": "site"})"}}),
                   base) ==
          "perch.tls.private_key_file: \"" + tmp / "site" + "\" is not a regular file");
    if (::geteuid() != 0) { // root reads everything
        fs::permissions(tmp.path() / "tls/key.pem", fs::perms::none);
        CHECK(error_of(patched({{"/perch/tls", R"({"certificate_chain_file": "tls/chain.pem",
                                                   "private_key_file": "tls/key.pem"})"}}),
                       base) ==
              "perch.tls.private_key_file: \"" + tmp / "tls/key.pem" + "\" is not readable");
    }
}

TEST_CASE("config/config: relative paths resolve against base_dir and come out absolute") {
    TempDir tmp;
    std::string text =
        patched({{"/distribution/origin/0/custom_origin_config", nullptr},
                 {"/distribution/origin/0/perch", R"({"directory": "./site/"})"},
                 {"/perch/tls", R"({"certificate_chain_file": "site/../tls/chain.pem",
                                                   "private_key_file": "tls/key.pem"})"},
                 {"/perch/listen", R"(["https://127.0.0.1:8443"])"}});
    auto result = parse_config(text, tmp.path().string());
    REQUIRE_MESSAGE(result, result.error().context);
    CHECK(fs::path(result->distribution.origins[0].directory).is_absolute());
    CHECK(fs::equivalent(result->distribution.origins[0].directory, tmp.path() / "site"));
    CHECK(result->perch.tls->certificate_chain_file == tmp / "tls/chain.pem");
    CHECK(result->perch.listen[0].tls);
}

TEST_CASE("config/config: a directory origin needs no domain_name and no custom_origin_config") {
    TempDir tmp;
    std::string text = patched(
        {{"/distribution/origin/0", R"({"origin_id": "o", "perch": {"directory": "site"}})"}});
    auto result = parse_config(text, tmp.path().string());
    REQUIRE_MESSAGE(result, result.error().context);
    CHECK(result->distribution.origins[0].directory == tmp / "site");
    CHECK_FALSE(result->distribution.origins[0].custom_origin_config);
}

TEST_CASE("config/config: TTL defaults follow min_ttl and default_ttl as CloudFront's do") {
    auto ttl_of = [](std::vector<Patch> patches) {
        auto result = parse_config(patched(patches), ".");
        REQUIRE_MESSAGE(result, result.error().context);
        return result->distribution.default_cache_behavior.ttl;
    };
    auto t = ttl_of({{"/distribution/default_cache_behavior/min_ttl", "100000"}});
    CHECK(t.default_ttl == 100000);
    CHECK(t.max_ttl == 31536000);
    t = ttl_of({{"/distribution/default_cache_behavior/min_ttl", "40000000"}});
    CHECK(t.default_ttl == 40000000);
    CHECK(t.max_ttl == 40000000);
    t = ttl_of({{"/distribution/default_cache_behavior/default_ttl", "50000000"}});
    CHECK(t.min_ttl == 0);
    CHECK(t.max_ttl == 50000000);
}

TEST_CASE("config/config: the viewer security policy sets the minimum TLS version") {
    const std::pair<const char *, uint16_t> cases[] = {
        {"TLSv1", 0x0301},        {"TLSv1_2016", 0x0301},   {"TLSv1.1_2016", 0x0302},
        {"TLSv1.2_2018", 0x0303}, {"TLSv1.2_2019", 0x0303}, {"TLSv1.2_2021", 0x0303},
        {"TLSv1.2_2025", 0x0303}, {"TLSv1.3_2025", 0x0304}};
    for (const auto &[name, version] : cases) {
        std::string value = std::string(R"({"minimum_protocol_version": ")") + name + "\"}";
        auto result =
            parse_config(patched({{"/distribution/viewer_certificate", value.c_str()}}), ".");
        REQUIRE(result);
        CHECK(result->distribution.minimum_tls_version == version);
    }
}

TEST_CASE("config/config: JSON syntax errors name the line and column") {
    std::string error = error_of("{\n  \"distribution\": {\n    \"enabled\" true\n  }\n}");
    // nlohmann reports the column where the offending token ends.
    CHECK(error.starts_with("document: line 3, column 18: syntax error"));
    CHECK(error.ends_with("expected ':'"));
    CHECK(error_of("").starts_with("document: line 1, column 1: syntax error"));
    CHECK(error_of("{} x").starts_with("document: line 1, column 4: syntax error"));
    CHECK(error_of("[]") == "document: expected an object");
}

TEST_CASE("config/config: a key given twice in one object is an error naming its path") {
    CHECK(error_of(R"({"distribution": {"enabled": true, "enabled": false}})") ==
          "distribution.enabled: duplicate key");
    CHECK(error_of(R"({"perch": {}, "distribution": {"origin": [{"origin_id": "a"},
                      {"custom_header": [{}, {"name": "a", "name": "b"}]}]}})") ==
          "distribution.origin[1].custom_header[1].name: duplicate key");
    // The same key in different objects is fine (the errors are the config's others).
    CHECK(error_of(R"({"distribution": {"origin": [{"origin_id": "a", "domain_name": "a"},
                                                 {"origin_id": "b", "domain_name": "b"}]}})") ==
          "distribution.origin[0]: needs custom_origin_config or perch.directory (S3 origins are "
          "not supported yet)\n"
          "distribution.origin[1]: needs custom_origin_config or perch.directory (S3 origins are "
          "not supported yet)\n"
          "distribution.default_cache_behavior: missing");
}

TEST_CASE("config/config: parse_byte_size reads integers, SI and binary units") {
    const std::pair<const char *, uint64_t> good[] = {
        {"0", 0},
        {"1048576", 1048576},
        {"18446744073709551615", 18446744073709551615ull},
        {"7B", 7},
        {"1KB", 1000},
        {"10MB", 10000000},
        {"2 GB", 2000000000},
        {"3TB", 3000000000000},
        {"1KiB", 1024},
        {"256MiB", 256ull << 20},
        {"1.5 GiB", 1610612736},
        {"0.5KiB", 512},
        {"2TiB", 2ull << 40},
        {"16777215TiB", 16777215ull << 40},
        {"1.000001 TB", 1000001000000},
    };
    for (const auto &[text, bytes] : good) {
        CAPTURE(std::string(text));
        CHECK(parse_byte_size(text) == bytes);
    }
    const char *bad[] = {
        "",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1.",
        ".5",
        "1.5",
        "1.1 KiB",
        "10 XB",
        "256mib",
        "1e3",
        "1 000",
        "0x10",
        "18446744073709551616",
        "16777216TiB",
        "1.0000001 GiB",
        "MiB",
    };
    for (const char *text : bad) {
        CAPTURE(std::string(text));
        CHECK_FALSE(parse_byte_size(text));
    }
}

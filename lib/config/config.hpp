// The distribution configuration: a JSON document shaped like Terraform's
// aws_cloudfront_distribution (root key "distribution"), with perch-only settings in objects
// named "perch" (root: process settings; inside an origin: that origin). Parsing validates
// everything and either returns a complete Config or an error that lists every problem found,
// each as the JSON path and the reason ("distribution.origin[1].domain_name: missing");
// nothing is half-applied.
#pragma once

#include "config/caching_rules.hpp"
#include "core/http_message.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perch::config {

// A set of HTTP methods (bit i = core::Method value i).
struct MethodSet {
    uint16_t bits = 0;
    bool contains(core::Method m) const noexcept { return bits & (1u << unsigned(m)); }
    void add(core::Method m) noexcept { bits = uint16_t(bits | (1u << unsigned(m))); }
};

struct ListenAddress {
    bool tls = false; // https://
    std::string host; // "127.0.0.1", "::1", "0.0.0.0"
    uint16_t port = 0;
    std::string text; // as written, for messages
};

// Viewer-side limits and timeouts (root perch.limits).
struct ViewerLimits {
    uint32_t max_uri_bytes = 8192;        // longer request-target: 414
    uint32_t max_header_bytes = 20480;    // request line + fields above this: 431
    uint64_t max_body_bytes = 1ull << 30; // larger body: 413
    uint32_t header_timeout_ms = 10000;   // first byte of a request to end of its head
    uint32_t idle_timeout_ms = 60000;     // keep-alive idle, and silence while reading a body
    // How long a collapsed waiter of a response that is not stored may lag the pacing window
    // (holding the origin, and so every other viewer of it) before it is cut loose.
    uint32_t collapsed_lag_timeout_ms = 5000;
};

// TLS material for https:// listeners (root perch.tls); paths resolved against base_dir.
struct TlsFiles {
    std::string certificate_chain_file;
    std::string private_key_file;
};

// Root perch.admin: the admin endpoint (invalidations), off unless configured.
struct AdminSettings {
    ListenAddress listen; // http:// only
    std::string token;    // the Bearer token every admin request must carry
};

// Root "perch": process settings.
struct ProcessSettings {
    std::vector<ListenAddress> listen;          // default: http://127.0.0.1:8080
    uint64_t cache_memory_bytes = 256ull << 20; // perch.cache.memory ("256MiB")
    // perch.cache.max_object: larger responses are streamed, never stored (0: memory / 8).
    uint64_t cache_max_object_bytes = 0;
    uint32_t workers = 0; // 0: one per core
    ViewerLimits limits;
    uint32_t shutdown_timeout_ms = 10000; // perch.shutdown_timeout (seconds in JSON)
    std::optional<TlsFiles> tls;
    std::optional<AdminSettings> admin; // perch.admin
};

enum class OriginProtocolPolicy { http_only, https_only, match_viewer };

struct CustomOriginConfig {
    uint16_t http_port = 80;
    uint16_t https_port = 443;
    OriginProtocolPolicy origin_protocol_policy = OriginProtocolPolicy::https_only;
    std::vector<std::string> origin_ssl_protocols{"TLSv1.2"};
    uint32_t origin_read_timeout_s = 30;
    uint32_t origin_keepalive_timeout_s = 5;
};

struct OriginCustomHeader {
    std::string name, value;
};

struct Origin {
    std::string origin_id;
    std::string domain_name;
    std::string origin_path; // "" or "/prefix" (no trailing '/')
    uint32_t connection_attempts = 3;
    uint32_t connection_timeout_s = 10;
    std::optional<CustomOriginConfig> custom_origin_config;
    std::vector<OriginCustomHeader> custom_headers; // Terraform custom_header blocks
    // origin.perch.directory: serve files from this local directory (absolute after parsing).
    std::string directory;
    // origin.perch.tls_ca_file: PEM CAs trusted for this HTTPS origin instead of the system
    // bundle (a private CA); absolute after parsing.
    std::string tls_ca_file;
};

enum class ViewerProtocolPolicy { allow_all, redirect_to_https, https_only };
enum class CookieForward { none, all, whitelist };

// Legacy forwarded_values as written in the config. Parsing turns it into a RequestShape
// (legacy_request_shape); nothing downstream reads it.
struct ForwardedValues {
    bool query_string = false;
    std::vector<std::string> query_string_cache_keys; // empty: every parameter (if query_string)
    std::vector<std::string> headers;                 // ["*"]: all viewer headers
    CookieForward cookies = CookieForward::none;
    std::vector<std::string> cookie_names; // whitelisted_names
};

// Which query string parameters, headers or cookies of a viewer request a policy selects.
// Header names compare without case; cookie and query string names with case.
enum class SelectMode {
    none,       // nothing
    listed,     // the names listed (CloudFront "whitelist")
    all_except, // everything but the names listed (CloudFront "allExcept")
    all,        // everything ("all", "allViewer", "allViewerAndWhitelistCloudFront")
};

struct ValueSelection {
    SelectMode mode = SelectMode::none;
    std::vector<std::string> names;
    bool wildcards = false; // names may use '*' and '?' (legacy cookie whitelisted_names)

    // Whether `name` is selected; `ignore_case` for header names.
    bool selects(std::string_view name, bool ignore_case) const noexcept;
};

// What a cache policy puts in the cache key. Everything in the key is also forwarded.
struct CacheKeySpec {
    ValueSelection query_strings;
    ValueSelection headers;
    ValueSelection cookies;
    // Normalised Accept-Encoding (enable_accept_encoding_gzip / _brotli). When either is set,
    // the key holds "br,gzip", "gzip" or "br" (what the viewer accepts of the enabled ones)
    // and the origin gets the same value, or "identity" when the viewer accepts neither.
    bool accept_encoding_gzip = false;
    bool accept_encoding_brotli = false;
    // forwarded_values: "gzip" is keyed and forwarded when the viewer accepts it, and
    // Accept-Encoding is otherwise removed (no "identity").
    bool legacy_accept_encoding = false;
};

// What reaches the origin in addition to the cache key (an origin request policy, or what
// forwarded_values forwards without keying). Never part of the key.
struct OriginForwardSpec {
    ValueSelection query_strings;
    ValueSelection headers;
    ValueSelection cookies;
    // Viewer headers outside both selections still travel (forwarded_values: perch forwards
    // other headers as it always did). With policies only selected headers travel.
    bool other_headers = false;
};

// A behavior's cache key and origin request, resolved from its cache policy and origin request
// policy, or from its legacy forwarded_values: build_cache_key and build_origin_request read
// only this.
struct RequestShape {
    CacheKeySpec key;
    OriginForwardSpec forward;
    // Whether cookies reach the origin at all (else Set-Cookie is dropped from responses).
    bool forwards_cookies() const noexcept {
        return key.cookies.mode != SelectMode::none || forward.cookies.mode != SelectMode::none;
    }
};

// The RequestShape of legacy forwarded_values: query_string keys all parameters (or only
// query_string_cache_keys, all still forwarded); headers are keyed (["*"]: all of them);
// cookies keyed as `forward` says; other headers are forwarded unkeyed.
RequestShape legacy_request_shape(const ForwardedValues &fv);

// aws_cloudfront_cache_policy: TTLs and what goes into the cache key.
struct CachePolicy {
    std::string id;
    std::string name;
    std::string comment;
    TtlSettings ttl;
    CacheKeySpec key;
    bool store_set_cookie = false; // perch.store_set_cookie (see CacheBehavior)
};

// aws_cloudfront_origin_request_policy: what is forwarded to the origin but not keyed.
struct OriginRequestPolicy {
    std::string id;
    std::string name;
    std::string comment;
    OriginForwardSpec forward;
};

// AWS managed policies (managed_policies.cpp), under their published ids; names as the API
// gives them ("Managed-CachingOptimized").
const std::vector<CachePolicy> &managed_cache_policies();
const std::vector<OriginRequestPolicy> &managed_origin_request_policies();

struct CacheBehavior {
    std::string path_pattern; // "" for default_cache_behavior
    std::string target_origin_id;
    size_t origin_index = 0; // index into Distribution::origins
    MethodSet allowed_methods;
    MethodSet cached_methods;
    ViewerProtocolPolicy viewer_protocol_policy = ViewerProtocolPolicy::allow_all;
    TtlSettings ttl;                      // the cache policy's, or the behavior's legacy TTLs
    std::string cache_policy_id;          // "" : legacy forwarded_values and TTLs
    std::string origin_request_policy_id; // "" : none
    RequestShape shape = legacy_request_shape({}); // no forwarded_values: nothing forwarded
    bool compress = false;
    // perch.store_set_cookie (of the behavior or its cache policy): when cookies reach the
    // origin, a response with Set-Cookie is stored and replayed to every viewer of its key, as
    // CloudFront does. Off (perch's default): stored only when public or s-maxage says it may
    // be shared.
    bool store_set_cookie = false;
};

struct CustomErrorResponse {
    uint16_t error_code = 0;
    uint16_t response_code = 0;     // 0: keep the origin's status
    std::string response_page_path; // "" : no replacement page
    int64_t error_caching_min_ttl = 10;
};

struct Distribution {
    bool enabled = true;
    std::vector<std::string> aliases;
    std::string comment;
    std::string default_root_object;
    std::vector<Origin> origins;
    CacheBehavior default_cache_behavior;
    std::vector<CacheBehavior> ordered_cache_behaviors;
    std::vector<CustomErrorResponse> custom_error_responses;
    // viewer_certificate.minimum_protocol_version as a TLS version (0x0301 .. 0x0304).
    uint16_t minimum_tls_version = 0x0301;
};

struct Config {
    Distribution distribution;
    // Root cache_policy and origin_request_policy (the managed ones are not listed here).
    std::vector<CachePolicy> cache_policies;
    std::vector<OriginRequestPolicy> origin_request_policies;
    ProcessSettings perch;
};

// Parses and validates a config document. Relative file paths in it (perch.tls files,
// origin perch.directory) are resolved against base_dir. Errors have code Code::config and a
// context of one line "<json path>: <reason>" per problem, in document order (at most
// ConfigErrors::max_messages of them, then "... and N more errors").
core::Result<Config> parse_config(std::string_view json_text, std::string_view base_dir);

// Parses a listen address "http://HOST:PORT" or "https://HOST:PORT" (HOST: an IPv4 address,
// a bracketed IPv6 address, or "localhost"; out.host loses the brackets). Port 0 (any free
// port) only with allow_port_zero. Returns the reason it is invalid, or nullptr.
const char *parse_listen_address(std::string_view text, ListenAddress &out,
                                 bool allow_port_zero = false);

// Parses a byte size: a JSON-style integer ("1048576") or a number with a unit: B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); "256MiB", "1.5 GiB".
std::optional<uint64_t> parse_byte_size(std::string_view text);

} // namespace perch::config

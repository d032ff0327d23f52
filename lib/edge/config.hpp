// The distribution configuration: a JSON document shaped like Terraform's
// aws_cloudfront_distribution (root key "distribution"), with perch-only settings in objects
// named "perch" (root: process settings; inside an origin: that origin). Parsing validates
// everything and either returns a complete Config or an error naming the JSON path and the
// reason ("distribution.origin[1].domain_name: missing"); nothing is half-applied.
#pragma once

#include "cache/policy.hpp"
#include "core/http_message.hpp"
#include "core/status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perch::edge {

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
    uint32_t workers = 0;                       // 0: one per core
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

// Legacy forwarded_values: what is forwarded to the origin and put in the cache key.
struct ForwardedValues {
    bool query_string = false;
    std::vector<std::string> query_string_cache_keys; // empty: every parameter (if query_string)
    std::vector<std::string> headers;                 // ["*"]: all viewer headers
    CookieForward cookies = CookieForward::none;
    std::vector<std::string> cookie_names; // whitelisted_names
};

struct CacheBehavior {
    std::string path_pattern; // "" for default_cache_behavior
    std::string target_origin_id;
    size_t origin_index = 0; // index into Distribution::origins
    MethodSet allowed_methods;
    MethodSet cached_methods;
    ViewerProtocolPolicy viewer_protocol_policy = ViewerProtocolPolicy::allow_all;
    cache::TtlSettings ttl;
    ForwardedValues forwarded_values;
    bool compress = false;
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
    ProcessSettings perch;
};

// Parses and validates a config document. Relative file paths in it (perch.tls files,
// origin perch.directory) are resolved against base_dir. Errors have code Code::config and a
// context "<json path>: <reason>".
core::Result<Config> parse_config(std::string_view json_text, std::string_view base_dir);

// Parses a listen address "http://HOST:PORT" or "https://HOST:PORT" (HOST: an IPv4 address,
// a bracketed IPv6 address, or "localhost"; out.host loses the brackets). Port 0 (any free
// port) only with allow_port_zero. Returns the reason it is invalid, or nullptr.
const char *parse_listen_address(std::string_view text, ListenAddress &out,
                                 bool allow_port_zero = false);

// Parses a byte size: a JSON-style integer ("1048576") or a number with a unit: B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); "256MiB", "1.5 GiB".
std::optional<uint64_t> parse_byte_size(std::string_view text);

} // namespace perch::edge

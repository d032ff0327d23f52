// One parser per block of the config document. Each reads its object through an ObjectReader
// (json_reader.hpp), which records every error and lets the parser carry on; a check that
// depends on other values runs only when they were read, so that one mistake is one error.
// Limits marked "AWS" are CloudFront's; the others are perch's.
#include "config/config.hpp"

#include "config/json_reader.hpp"
#include "config/policies.hpp"
#include "core/ascii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>
#include <limits>

namespace perch::config {

namespace {

bool has_control_characters(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

bool only_chars(std::string_view s, std::string_view extra) {
    return std::all_of(s.begin(), s.end(), [&](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               extra.find(c) != std::string_view::npos;
    });
}

// ---- origins -------------------------------------------------------------------------------

// AWS "Custom headers that CloudFront can't add to origin requests".
bool is_reserved_origin_header(std::string_view name) {
    constexpr std::string_view reserved[] = {"Cache-Control",
                                             "Connection",
                                             "Content-Length",
                                             "Cookie",
                                             "Host",
                                             "If-Match",
                                             "If-Modified-Since",
                                             "If-None-Match",
                                             "If-Range",
                                             "If-Unmodified-Since",
                                             "Max-Forwards",
                                             "Pragma",
                                             "Proxy-Authenticate",
                                             "Proxy-Authorization",
                                             "Proxy-Connection",
                                             "Range",
                                             "Request-Range",
                                             "TE",
                                             "Trailer",
                                             "Transfer-Encoding",
                                             "Upgrade",
                                             "Via",
                                             "X-Real-Ip"};
    for (std::string_view r : reserved)
        if (core::iequals(name, r)) return true;
    return core::istarts_with(name, "X-Amz-") || core::istarts_with(name, "X-Edge-");
}

void check_custom_header_name(ObjectReader &h, const std::string &name,
                              const std::vector<OriginCustomHeader> &earlier) {
    if (!core::is_token(name)) return h.fail("name", "must be a valid header name");
    if (name.size() > 256) return h.fail("name", "must be at most 256 characters"); // AWS
    if (is_reserved_origin_header(name))
        return h.fail("name",
                      "CloudFront does not allow " + in_quotes(name) + " as a custom header");
    for (const auto &e : earlier)
        if (core::iequals(e.name, name))
            return h.fail("name", "duplicate header " + in_quotes(name));
}

void read_custom_headers(ObjectReader &o, std::vector<OriginCustomHeader> &headers) {
    o.for_each_object("custom_header", Need::optional, [&](ObjectReader &h, size_t) {
        h.check_keys({"name", "value"});
        OriginCustomHeader header;
        if (h.read_string("name", header.name, Need::required))
            check_custom_header_name(h, header.name, headers);
        if (h.read_string("value", header.value, Need::required)) {
            if (header.value.size() > 1783)
                h.fail("value", "must be at most 1783 characters");
            else if (has_control_characters(header.value))
                h.fail("value", "must not contain control characters");
        }
        headers.push_back(std::move(header));
    });
}

// AWS: 80, 443, or 1024 to 65535.
void read_origin_port(ObjectReader &c, std::string_view key, uint16_t &out) {
    int64_t port = 0;
    if (!c.read_integer(key, port)) return;
    if (port != 80 && port != 443 && (port < 1024 || port > 65535))
        return c.fail(key, "must be 80, 443 or between 1024 and 65535");
    out = static_cast<uint16_t>(port);
}

void read_origin_ssl_protocols(ObjectReader &c, std::vector<std::string> &out) {
    constexpr std::string_view known[] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"};
    std::vector<std::string> protocols;
    if (!c.read_distinct_strings("origin_ssl_protocols", protocols, "protocol", Case::sensitive))
        return;
    if (protocols.empty()) return c.fail("origin_ssl_protocols", "must not be empty");
    for (size_t i = 0; i < protocols.size(); ++i) {
        if (std::find(std::begin(known), std::end(known), protocols[i]) == std::end(known)) {
            c.errors().fail(json_index_path(c.path("origin_ssl_protocols"), i),
                            "must be one of \"SSLv3\", \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\"");
            return;
        }
    }
    out = std::move(protocols);
}

void parse_custom_origin_config(ObjectReader &c, CustomOriginConfig &config) {
    static constexpr Named<OriginProtocolPolicy> policies[] = {
        {"http-only", OriginProtocolPolicy::http_only},
        {"https-only", OriginProtocolPolicy::https_only},
        {"match-viewer", OriginProtocolPolicy::match_viewer}};
    c.check_keys({"http_port", "https_port", "origin_protocol_policy", "origin_ssl_protocols",
                  "origin_read_timeout", "origin_keepalive_timeout"},
                 {"ip_address_type"});
    read_origin_port(c, "http_port", config.http_port);
    read_origin_port(c, "https_port", config.https_port);
    c.read_named("origin_protocol_policy", policies, config.origin_protocol_policy, Need::required);
    read_origin_ssl_protocols(c, config.origin_ssl_protocols);
    c.read_int("origin_read_timeout", config.origin_read_timeout_s, 1, 180);
    c.read_int("origin_keepalive_timeout", config.origin_keepalive_timeout_s, 1, 180);
}

void check_domain_name(ObjectReader &o, std::string_view name) {
    if (name.empty()) return o.fail("domain_name", "must not be empty");
    bool bad = std::any_of(name.begin(), name.end(), [](char c) {
        return c == '/' || c == ' ' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f;
    });
    if (bad) return o.fail("domain_name", "must be a host name, without scheme or path");
    if (std::count(name.begin(), name.end(), ':') == 1)
        o.fail("domain_name", "must not include a port (use custom_origin_config.http_port "
                              "or https_port)");
}

void check_origin_path(ObjectReader &o, std::string_view path) {
    if (path.empty()) return;
    if (path.front() != '/') return o.fail("origin_path", "must start with '/'");
    if (path.back() == '/') o.fail("origin_path", "must not end with '/'");
}

// origin.perch: settings only perch has.
void parse_origin_perch(ObjectReader &p, std::string_view base_dir, Origin &origin) {
    p.check_keys({"directory", "tls_ca_file"});
    if (p.has("directory"))
        p.read_existing_path("directory", base_dir, PathKind::directory, origin.directory);
    if (p.has("tls_ca_file"))
        p.read_existing_path("tls_ca_file", base_dir, PathKind::readable_file, origin.tls_ca_file);
}

// Whether the origin is meant to be a directory: origin.perch.directory is given (read or not,
// so that a directory that does not exist is one error, not also "domain_name: missing").
bool names_a_directory(const ObjectReader &o) {
    const Json *perch = o.find("perch");
    return perch && perch->is_object() && perch->contains("directory");
}

// perch.tls_ca_file matters only for an origin perch may reach over HTTPS.
void check_tls_ca_file_is_used(ObjectReader &o, const Origin &origin) {
    if (origin.tls_ca_file.empty()) return;
    std::string path = json_key_path(o.path("perch"), "tls_ca_file");
    if (!origin.directory.empty()) return o.errors().fail(path, "not allowed with perch.directory");
    if (origin.custom_origin_config &&
        origin.custom_origin_config->origin_protocol_policy == OriginProtocolPolicy::http_only)
        o.errors().fail(path, "not used with origin_protocol_policy \"http-only\"");
}

void parse_origin(ObjectReader &o, std::string_view base_dir, Origin &origin) {
    o.check_keys({"origin_id", "domain_name", "origin_path", "connection_attempts",
                  "connection_timeout", "custom_header", "custom_origin_config", "perch"},
                 {"origin_access_control_id", "s3_origin_config", "origin_shield",
                  "vpc_origin_config", "response_completion_timeout"});
    if (o.read_string("origin_id", origin.origin_id, Need::required) && origin.origin_id.empty())
        o.fail("origin_id", "must not be empty");
    if (auto p = o.object("perch")) parse_origin_perch(*p, base_dir, origin);
    bool directory = names_a_directory(o);
    if (o.read_string("domain_name", origin.domain_name,
                      directory ? Need::optional : Need::required))
        check_domain_name(o, origin.domain_name);
    if (o.read_string("origin_path", origin.origin_path)) check_origin_path(o, origin.origin_path);
    o.read_int("connection_attempts", origin.connection_attempts, 1, 3);
    o.read_int("connection_timeout", origin.connection_timeout_s, 1, 10);
    read_custom_headers(o, origin.custom_headers);
    if (!origin.directory.empty() && o.has("custom_origin_config")) {
        o.fail("custom_origin_config", "not allowed with perch.directory");
    } else if (auto c = o.object("custom_origin_config")) {
        CustomOriginConfig config;
        parse_custom_origin_config(*c, config);
        origin.custom_origin_config = std::move(config);
    } else if (!directory && !o.has("custom_origin_config") && !o.has("s3_origin_config") &&
               !o.has("vpc_origin_config")) {
        o.fail_here("needs custom_origin_config or perch.directory "
                    "(S3 origins are not supported yet)");
    }
    check_tls_ca_file_is_used(o, origin);
}

std::optional<size_t> find_origin(const std::vector<Origin> &origins, std::string_view id) {
    for (size_t i = 0; i < origins.size(); ++i)
        if (origins[i].origin_id == id) return i;
    return std::nullopt;
}

// Returns whether every origin's origin_id was read and valid: only then is a target_origin_id
// that names none of them a mistake of its own (else it may name the origin whose id failed).
bool read_origins(ObjectReader &d, std::string_view base_dir, std::vector<Origin> &origins) {
    bool ids_read = true;
    bool read = d.for_each_object("origin", Need::required, [&](ObjectReader &o, size_t) {
        Origin origin;
        parse_origin(o, base_dir, origin);
        if (origin.origin_id.empty()) {
            ids_read = false;
        } else if (find_origin(origins, origin.origin_id)) {
            o.fail("origin_id", "duplicate origin_id " + in_quotes(origin.origin_id));
            ids_read = false;
        }
        origins.push_back(std::move(origin));
    });
    if (read && origins.empty()) d.fail("origin", "must have at least one origin");
    return read && ids_read && !origins.empty();
}

// ---- cache behaviors ---------------------------------------------------------------------

MethodSet method_set(std::initializer_list<core::Method> methods) {
    MethodSet set;
    for (core::Method m : methods)
        set.add(m);
    return set;
}

using core::Method;
const MethodSet get_head = method_set({Method::get, Method::head});
const MethodSet get_head_options = method_set({Method::get, Method::head, Method::options});
const MethodSet all_methods = method_set({Method::get, Method::head, Method::options, Method::put,
                                          Method::post, Method::patch, Method::del});

// Reads an array of method names that must form one of `sets` (in any order); returns
// whether it did.
bool read_method_set(ObjectReader &b, std::string_view key, std::initializer_list<MethodSet> sets,
                     std::string_view sets_text, MethodSet &out) {
    std::vector<std::string> names;
    if (!b.require(key, Need::required) ||
        !b.read_distinct_strings(key, names, "method", Case::sensitive))
        return false;
    MethodSet set;
    for (size_t i = 0; i < names.size(); ++i) {
        Method m = core::method_from_name(names[i]); // case-sensitive, as CloudFront's
        if (!all_methods.contains(m)) {
            b.errors().fail(json_index_path(b.path(key), i),
                            "must be one of GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE");
            return false;
        }
        set.add(m);
    }
    for (MethodSet allowed : sets) {
        if (allowed.bits == set.bits) {
            out = set;
            return true;
        }
    }
    b.fail(key, "must be " + std::string(sets_text) + " (in any order)");
    return false;
}

void check_path_pattern(ObjectReader &b, std::string_view pattern) {
    if (pattern.empty()) return b.fail("path_pattern", "must not be empty");
    if (pattern.size() > 255) return b.fail("path_pattern", "must be at most 255 characters");
    if (!only_chars(pattern, "_-.*?$/~\"'@:+&"))
        b.fail("path_pattern", "may contain only letters, digits and _-.*?$/~\"'@:+&"); // AWS
}

void parse_cache_behavior(ObjectReader &b, const Config &config, const KnownIds &known,
                          bool is_default, CacheBehavior &cb) {
    static constexpr Named<ViewerProtocolPolicy> policies[] = {
        {"allow-all", ViewerProtocolPolicy::allow_all},
        {"redirect-to-https", ViewerProtocolPolicy::redirect_to_https},
        {"https-only", ViewerProtocolPolicy::https_only}};
    b.check_keys({"path_pattern", "target_origin_id", "allowed_methods", "cached_methods",
                  "viewer_protocol_policy", "min_ttl", "default_ttl", "max_ttl", "compress",
                  "forwarded_values", "cache_policy_id", "origin_request_policy_id", "perch"},
                 {"response_headers_policy_id", "realtime_log_config_arn",
                  "field_level_encryption_id", "function_association",
                  "lambda_function_association", "trusted_signers", "trusted_key_groups",
                  "smooth_streaming", "grpc_config"});
    if (is_default) {
        if (b.has("path_pattern")) b.fail("path_pattern", "not allowed in default_cache_behavior");
    } else if (b.read_string("path_pattern", cb.path_pattern, Need::required)) {
        check_path_pattern(b, cb.path_pattern);
    }
    if (b.read_string("target_origin_id", cb.target_origin_id, Need::required)) {
        auto index = find_origin(config.distribution.origins, cb.target_origin_id);
        if (index)
            cb.origin_index = *index;
        else if (known.origins)
            b.fail("target_origin_id", "no origin has origin_id " + in_quotes(cb.target_origin_id));
    }
    bool allowed =
        read_method_set(b, "allowed_methods", {get_head, get_head_options, all_methods},
                        "[\"GET\", \"HEAD\"], [\"GET\", \"HEAD\", \"OPTIONS\"] or [\"GET\", "
                        "\"HEAD\", \"OPTIONS\", \"PUT\", \"POST\", \"PATCH\", \"DELETE\"]",
                        cb.allowed_methods);
    bool cached = read_method_set(b, "cached_methods", {get_head, get_head_options},
                                  "[\"GET\", \"HEAD\"] or [\"GET\", \"HEAD\", \"OPTIONS\"]",
                                  cb.cached_methods);
    if (allowed && cached && (cb.cached_methods.bits & ~cb.allowed_methods.bits))
        b.fail("cached_methods", "must be a subset of allowed_methods");
    b.read_named("viewer_protocol_policy", policies, cb.viewer_protocol_policy, Need::required);
    b.read_bool("compress", cb.compress);
    read_store_set_cookie(b, cb.store_set_cookie);
    read_behavior_request_shape(b, config, known, cb);
}

// ---- distribution-level blocks -----------------------------------------------------------

bool read_status_code(ObjectReader &e, std::string_view key, std::initializer_list<int> codes,
                      std::string_view codes_text, uint16_t &out, Need need) {
    int64_t code = 0;
    if (!e.read_integer(key, code, need)) return false;
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) {
        e.fail(key, "must be one of " + std::string(codes_text));
        return false;
    }
    out = static_cast<uint16_t>(code);
    return true;
}

// AWS: the codes CloudFront can customize, and the codes it can answer with.
void parse_custom_error_response(ObjectReader &e, const std::vector<CustomErrorResponse> &earlier,
                                 CustomErrorResponse &cer) {
    e.check_keys({"error_code", "response_code", "response_page_path", "error_caching_min_ttl"});
    if (read_status_code(e, "error_code", {400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504},
                         "400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504", cer.error_code,
                         Need::required)) {
        auto same = [&](const CustomErrorResponse &x) { return x.error_code == cer.error_code; };
        if (std::any_of(earlier.begin(), earlier.end(), same))
            e.fail("error_code", "duplicate error_code " + std::to_string(cer.error_code));
    }
    read_status_code(e, "response_code",
                     {200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504},
                     "200, 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504",
                     cer.response_code, Need::optional);
    if (e.read_string("response_page_path", cer.response_page_path) &&
        (cer.response_page_path.empty() || cer.response_page_path.front() != '/'))
        e.fail("response_page_path", "must start with '/'");
    e.read_int64("error_caching_min_ttl", cer.error_caching_min_ttl, 0, max_ttl_seconds);
    // Whether each key is there, valid or not: a bad one is its own error.
    bool has_code = e.has("response_code"), has_page = e.has("response_page_path");
    if (has_code && !has_page)
        e.fail("response_page_path", "required when response_code is set");
    else if (has_page && !has_code)
        e.fail("response_code", "required when response_page_path is set");
}

void parse_restrictions(ObjectReader &r) {
    r.check_keys({"geo_restriction"});
    auto g = r.object("geo_restriction", Need::required);
    if (!g) return;
    g->check_keys({"restriction_type", "locations"});
    std::string type;
    if (g->read_string("restriction_type", type, Need::required)) {
        if (type == "whitelist" || type == "blacklist")
            return g->fail("restriction_type", "geo restriction is not supported yet");
        if (type != "none")
            g->fail("restriction_type", "must be one of \"none\", \"whitelist\", "
                                        "\"blacklist\"");
    }
    std::vector<std::string> locations;
    if (g->read_strings("locations", locations) && !locations.empty() && type == "none")
        g->fail("locations", "must be empty when restriction_type is \"none\"");
}

void parse_viewer_certificate(ObjectReader &v, Distribution &d) {
    // minimum_protocol_version security policies (AWS) and the TLS version each requires.
    static constexpr Named<uint16_t> policies[] = {
        {"TLSv1", 0x0301},        {"TLSv1_2016", 0x0301},   {"TLSv1.1_2016", 0x0302},
        {"TLSv1.2_2018", 0x0303}, {"TLSv1.2_2019", 0x0303}, {"TLSv1.2_2021", 0x0303},
        {"TLSv1.2_2025", 0x0303}, {"TLSv1.3_2025", 0x0304}};
    static constexpr Named<int> methods[] = {{"sni-only", 0}, {"vip", 0}, {"static-ip", 0}};
    v.check_keys({"cloudfront_default_certificate", "minimum_protocol_version",
                  "ssl_support_method", "acm_certificate_arn", "iam_certificate_id"});
    for (std::string_view key : {"acm_certificate_arn", "iam_certificate_id"})
        if (v.has(key)) v.fail(key, "use perch.tls for certificate files");
    bool default_certificate = false;
    v.read_bool("cloudfront_default_certificate", default_certificate);
    const Json *version = v.find("minimum_protocol_version");
    if (version && version->is_string() && version->get_ref<const std::string &>() == "SSLv3")
        v.fail("minimum_protocol_version", "SSLv3 is not supported (use TLSv1 or later)");
    else
        v.read_named("minimum_protocol_version", policies, d.minimum_tls_version);
    int method = 0;
    v.read_named("ssl_support_method", methods, method);
}

// Terraform arguments that do not change what perch does: type-checked, then ignored.
void read_informational_keys(ObjectReader &d) {
    static constexpr Named<int> http_versions[] = {
        {"http1.1", 0}, {"http2", 0}, {"http2and3", 0}, {"http3", 0}};
    static constexpr Named<int> price_classes[] = {
        {"PriceClass_All", 0}, {"PriceClass_200", 0}, {"PriceClass_100", 0}};
    bool flag = false;
    int ignored = 0;
    d.read_bool("is_ipv6_enabled", flag);
    d.read_named("http_version", http_versions, ignored);
    d.read_named("price_class", price_classes, ignored);
    if (auto tags = d.object("tags")) {
        tags->for_each_member([&](const std::string &key, const Json &value) {
            if (!value.is_string()) tags->fail(key, "expected a string");
        });
    }
    d.read_bool("retain_on_delete", flag);
    d.read_bool("wait_for_deployment", flag);
}

void read_aliases(ObjectReader &d, std::vector<std::string> &aliases) {
    if (!d.read_distinct_strings("aliases", aliases, "alias", Case::insensitive)) return;
    for (size_t i = 0; i < aliases.size(); ++i) {
        if (aliases[i].size() > 253 || !only_chars(aliases[i], "-.*"))
            return d.errors().fail(json_index_path(d.path("aliases"), i), "must be a domain name");
    }
}

void read_default_root_object(ObjectReader &d, std::string &out) {
    if (!d.read_string("default_root_object", out) || out.empty()) return;
    if (out.front() == '/')
        return d.fail("default_root_object", "must be an object name such as \"index.html\", "
                                             "without a leading '/'");
    if (out.size() > 255) return d.fail("default_root_object", "must be at most 255 characters");
    if (!only_chars(out, "_-.*$/~\"'&")) // AWS
        d.fail("default_root_object", "may contain only letters, digits and _-.*$/~\"'&");
}

// The distribution; its behaviors refer to config's cache and origin request policies.
void parse_distribution(ObjectReader &d, std::string_view base_dir, Config &config,
                        KnownIds known) {
    Distribution &dist = config.distribution;
    d.check_keys({"enabled", "aliases", "comment", "default_root_object", "origin",
                  "default_cache_behavior", "ordered_cache_behavior", "custom_error_response",
                  "restrictions", "viewer_certificate", "is_ipv6_enabled", "http_version",
                  "price_class", "tags", "retain_on_delete", "wait_for_deployment"},
                 {"web_acl_id", "logging_config", "origin_group", "staging",
                  "continuous_deployment_policy_id", "anycast_ip_list_id"});
    d.read_bool("enabled", dist.enabled);
    read_aliases(d, dist.aliases);
    if (d.read_string("comment", dist.comment) && dist.comment.size() > 128) // AWS
        d.fail("comment", "must be at most 128 characters");
    read_default_root_object(d, dist.default_root_object);
    known.origins = read_origins(d, base_dir, dist.origins);
    if (auto b = d.object("default_cache_behavior", Need::required))
        parse_cache_behavior(*b, config, known, true, dist.default_cache_behavior);
    d.for_each_object("ordered_cache_behavior", Need::optional, [&](ObjectReader &b, size_t) {
        CacheBehavior cb;
        parse_cache_behavior(b, config, known, false, cb);
        dist.ordered_cache_behaviors.push_back(std::move(cb));
    });
    d.for_each_object("custom_error_response", Need::optional, [&](ObjectReader &e, size_t) {
        CustomErrorResponse cer;
        parse_custom_error_response(e, dist.custom_error_responses, cer);
        dist.custom_error_responses.push_back(std::move(cer));
    });
    if (auto r = d.object("restrictions")) parse_restrictions(*r);
    if (auto v = d.object("viewer_certificate")) parse_viewer_certificate(*v, dist);
    read_informational_keys(d);
}

// ---- root "perch" ------------------------------------------------------------------------

bool is_ipv4_literal(const std::string &host) {
    in_addr addr{};
    return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6_literal(const std::string &host) {
    in6_addr addr{};
    return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

} // namespace

const char *parse_listen_address(std::string_view text, ListenAddress &out, bool allow_port_zero) {
    constexpr const char *shape = "expected \"http://HOST:PORT\" or \"https://HOST:PORT\"";
    std::string_view rest;
    if (text.starts_with("http://"))
        rest = text.substr(7);
    else if (text.starts_with("https://"))
        rest = text.substr(8);
    else
        return shape;
    out.tls = text.starts_with("https://");
    out.text = std::string(text);
    size_t colon = 0;
    if (rest.starts_with("[")) {
        size_t close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            return shape;
        out.host = std::string(rest.substr(1, close - 1));
        if (!is_ipv6_literal(out.host)) return "HOST in brackets must be an IPv6 address";
        colon = close + 1;
    } else {
        colon = rest.find(':');
        if (colon == std::string_view::npos) return shape;
        out.host = std::string(rest.substr(0, colon));
        if (out.host != "localhost" && !is_ipv4_literal(out.host))
            return "HOST must be an IPv4 address, a bracketed IPv6 address or \"localhost\"";
    }
    auto port = core::parse_decimal(rest.substr(colon + 1));
    if (allow_port_zero && port && *port == 0) {
        out.port = 0;
        return nullptr;
    }
    if (!port || *port < 1 || *port > 65535) return "PORT must be between 1 and 65535";
    out.port = static_cast<uint16_t>(*port);
    return nullptr;
}

namespace {

ListenAddress default_listen_address() {
    return ListenAddress{false, "127.0.0.1", 8080, "http://127.0.0.1:8080"};
}

void read_listen(ObjectReader &p, std::vector<ListenAddress> &listen) {
    std::vector<std::string> texts;
    if (!p.read_distinct_strings("listen", texts, "address", Case::sensitive)) return;
    if (texts.empty()) return p.fail("listen", "must not be empty (omit it for the default)");
    std::vector<ListenAddress> addresses(texts.size());
    for (size_t i = 0; i < texts.size(); ++i)
        if (const char *reason = parse_listen_address(texts[i], addresses[i]))
            return p.errors().fail(json_index_path(p.path("listen"), i), reason);
    listen = std::move(addresses); // whole, so that listen[i] is texts[i]
}

// A byte size: a string for parse_byte_size or a non-negative integer; at least `min`.
void read_byte_size(ObjectReader &r, std::string_view key, uint64_t min, std::string_view min_text,
                    uint64_t &out) {
    const Json *value = r.find(key);
    if (!value) return;
    std::optional<uint64_t> bytes;
    if (value->is_number_unsigned())
        bytes = value->get<uint64_t>();
    else if (value->is_string())
        bytes = parse_byte_size(value->get_ref<const std::string &>());
    if (!bytes) return r.fail(key, "expected a byte size such as \"256MiB\" or an integer");
    if (*bytes < min) return r.fail(key, "must be at least " + std::string(min_text));
    out = *bytes;
}

template <class T>
void read_seconds_as_ms(ObjectReader &r, std::string_view key, int64_t min, int64_t max,
                        T &out_ms) {
    int64_t seconds = 0;
    if (r.read_int64(key, seconds, min, max)) out_ms = static_cast<T>(seconds * 1000);
}

void parse_limits(ObjectReader &l, ViewerLimits &limits) {
    l.check_keys({"max_uri_bytes", "max_header_bytes", "max_body", "header_timeout", "idle_timeout",
                  "collapsed_lag_timeout"});
    l.read_int("max_uri_bytes", limits.max_uri_bytes, 256, 65536);
    l.read_int("max_header_bytes", limits.max_header_bytes, 1024, 1048576);
    read_byte_size(l, "max_body", 0, "0", limits.max_body_bytes);
    read_seconds_as_ms(l, "header_timeout", 1, 3600, limits.header_timeout_ms);
    read_seconds_as_ms(l, "idle_timeout", 1, 3600, limits.idle_timeout_ms);
    read_seconds_as_ms(l, "collapsed_lag_timeout", 1, 600, limits.collapsed_lag_timeout_ms);
}

void parse_tls(ObjectReader &t, std::string_view base_dir, std::optional<TlsFiles> &tls) {
    t.check_keys({"certificate_chain_file", "private_key_file"});
    TlsFiles files;
    t.read_existing_path("certificate_chain_file", base_dir, PathKind::readable_file,
                         files.certificate_chain_file);
    t.read_existing_path("private_key_file", base_dir, PathKind::readable_file,
                         files.private_key_file);
    if (!t.failed()) tls = std::move(files);
}

// A file of at most 64 KiB, whole; nullopt when it cannot be read or is larger.
std::optional<std::string> read_small_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::string text(64 * 1024 + 1, '\0');
    in.read(text.data(), std::streamsize(text.size()));
    if (in.bad() || size_t(in.gcount()) > 64 * 1024) return std::nullopt;
    text.resize(size_t(in.gcount()));
    return text;
}

// perch.admin.token_file's contents without a final line break; false after an error.
bool read_token_file(ObjectReader &a, std::string_view base_dir, std::string &token) {
    std::string file;
    if (!a.read_existing_path("token_file", base_dir, PathKind::readable_file, file)) return false;
    auto text = read_small_file(file);
    if (!text) {
        a.fail("token_file", "cannot be read, or is over 64 KiB");
        return false;
    }
    token = std::move(*text);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
        token.pop_back();
    return true;
}

// perch.admin: {"listen": "http://HOST:PORT", "token": "..."} (or "token_file").
void parse_admin(ObjectReader &a, std::string_view base_dir, std::optional<AdminSettings> &admin) {
    a.check_keys({"listen", "token", "token_file"});
    AdminSettings s;
    std::string listen;
    if (a.read_string("listen", listen, Need::required)) {
        if (const char *reason = parse_listen_address(listen, s.listen))
            a.fail("listen", reason);
        else if (s.listen.tls)
            a.fail("listen", "https:// is not supported for perch.admin yet");
    }
    if (a.has("token") == a.has("token_file"))
        return a.fail_here("needs exactly one of token and token_file");
    std::string_view key = a.has("token") ? "token" : "token_file";
    bool read =
        key == "token" ? a.read_string("token", s.token) : read_token_file(a, base_dir, s.token);
    if (!read) return;
    if (s.token.size() < 16) return a.fail(key, "the token must be at least 16 characters");
    if (!std::all_of(s.token.begin(), s.token.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
        return a.fail(key, "the token must be printable ASCII without spaces");
    if (!a.failed()) admin = std::move(s);
}

void parse_process_settings(ObjectReader &p, std::string_view base_dir, ProcessSettings &s) {
    p.check_keys({"listen", "cache", "workers", "limits", "shutdown_timeout", "tls", "admin"});
    read_listen(p, s.listen);
    if (auto c = p.object("cache")) {
        c->check_keys({"memory", "max_object"});
        read_byte_size(*c, "memory", 1u << 20, "1MiB", s.cache_memory_bytes);
        read_byte_size(*c, "max_object", 1, "1", s.cache_max_object_bytes);
    }
    p.read_int("workers", s.workers, 0, 1024);
    if (auto l = p.object("limits")) parse_limits(*l, s.limits);
    read_seconds_as_ms(p, "shutdown_timeout", 0, 3600, s.shutdown_timeout_ms);
    if (auto t = p.object("tls")) parse_tls(*t, base_dir, s.tls);
    // perch.tls that is there but failed has its own errors.
    for (size_t i = 0; i < s.listen.size() && !p.has("tls"); ++i)
        if (s.listen[i].tls)
            p.errors().fail(json_index_path(p.path("listen"), i), "https:// needs perch.tls");
    if (auto a = p.object("admin")) parse_admin(*a, base_dir, s.admin);
    for (const ListenAddress &v : s.listen)
        if (s.admin && v.port == s.admin->listen.port)
            p.errors().fail(json_key_path(p.path("admin"), "listen"),
                            "must not use the port of a perch.listen address");
}

struct Decimal {
    uint64_t value;
    size_t digits;
};

// Consumes the decimal digits at the start of `text`; nullopt when there are none or the
// value does not fit in 64 bits.
std::optional<Decimal> leading_decimal(std::string_view &text) {
    Decimal d{0, 0};
    while (d.digits < text.size() && text[d.digits] >= '0' && text[d.digits] <= '9') {
        uint64_t digit = uint64_t(text[d.digits] - '0');
        if (d.value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
        d.value = d.value * 10 + digit;
        ++d.digits;
    }
    if (d.digits == 0) return std::nullopt;
    text.remove_prefix(d.digits);
    return d;
}

std::optional<uint64_t> unit_multiplier(std::string_view unit) {
    static constexpr Named<uint64_t> units[] = {{"", 1},
                                                {"B", 1},
                                                {"KB", 1000},
                                                {"MB", 1000000},
                                                {"GB", 1000000000},
                                                {"TB", 1000000000000},
                                                {"KiB", 1ull << 10},
                                                {"MiB", 1ull << 20},
                                                {"GiB", 1ull << 30},
                                                {"TiB", 1ull << 40}};
    for (const auto &u : units)
        if (u.name == unit) return u.value;
    return std::nullopt;
}

} // namespace

std::optional<uint64_t> parse_byte_size(std::string_view text) {
    constexpr uint64_t max = std::numeric_limits<uint64_t>::max();
    auto whole = leading_decimal(text);
    if (!whole) return std::nullopt;
    // "1.5": up to 6 fraction digits, which keeps fraction * multiplier below 2^64.
    std::optional<Decimal> fraction;
    if (text.starts_with('.')) {
        text.remove_prefix(1);
        fraction = leading_decimal(text);
        if (!fraction || fraction->digits > 6) return std::nullopt;
    }
    size_t spaces = std::min(text.find_first_not_of(' '), text.size());
    text.remove_prefix(spaces);
    if ((spaces > 0 || fraction) && text.empty()) return std::nullopt; // "1 ", "1.5"
    auto multiplier = unit_multiplier(text);
    if (!multiplier || whole->value > max / *multiplier) return std::nullopt;
    uint64_t bytes = whole->value * *multiplier;
    if (fraction) {
        uint64_t scale = 1;
        for (size_t d = 0; d < fraction->digits; ++d)
            scale *= 10;
        uint64_t scaled = fraction->value * *multiplier;
        if (scaled % scale != 0) return std::nullopt; // not a whole number of bytes
        if (bytes > max - scaled / scale) return std::nullopt;
        bytes += scaled / scale;
    }
    return bytes;
}

core::Result<Config> parse_config(std::string_view json_text, std::string_view base_dir) {
    auto doc = parse_json_document(json_text);
    if (!doc) return doc.error();
    ConfigErrors errors(&doc->order);
    if (!doc->root.is_object()) {
        errors.fail("document", "expected an object");
        return errors.take();
    }
    ObjectReader root(errors, doc->root, "");
    root.check_keys({"distribution", "cache_policy", "origin_request_policy", "perch"},
                    {"origin_access_control"});
    Config config;
    KnownIds known;
    known.cache_policies = read_cache_policies(root, config.cache_policies);
    known.origin_request_policies =
        read_origin_request_policies(root, config.origin_request_policies);
    if (auto d = root.object("distribution", Need::required))
        parse_distribution(*d, base_dir, config, known);
    if (auto p = root.object("perch")) parse_process_settings(*p, base_dir, config.perch);
    if (errors.failed()) return errors.take();
    if (config.perch.listen.empty()) config.perch.listen.push_back(default_listen_address());
    return config;
}

} // namespace perch::config

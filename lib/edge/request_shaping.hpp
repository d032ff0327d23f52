// How a viewer request becomes a cache key and an origin request, and how an origin response
// becomes the head a viewer (and the cache) gets. Pure functions of their inputs.
#pragma once

#include "cache/cached_object.hpp"
#include "config/config.hpp"
#include "core/http_message.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace perch::edge {

// The query string under a behavior's RequestShape, parameters in the viewer's order
// (CloudFront keys on it): forwarded_query keeps what the key or the forwarding selects;
// append_keyed_query appends what the key selects. Parameter names are case-sensitive.
std::string forwarded_query(const config::RequestShape &shape, std::string_view query);
void append_keyed_query(const config::CacheKeySpec &key, std::string_view query, std::string &out);

// CloudFront's Accept-Encoding normalisation: of the enabled codings the viewer accepts
// ("gzip;q=0" refuses), "br,gzip", "gzip", "br", or "" for none.
std::string_view normalized_accept_encoding(const core::HeaderMap &headers, bool gzip = true,
                                            bool brotli = false) noexcept;

// Appends what every cache key for `host` + `path` starts with, whatever the behavior
// (CacheStore::invalidate_keys removes one host's objects of a path by it).
void append_cache_key_prefix(std::string_view host, std::string_view path, std::string &out);

// Fills `key` (text, hash, path) for a request to `host` + `path` (after default root
// object rewriting) under behavior `b`: host (without case) and path, then what b.shape.key
// selects: query string, normalised Accept-Encoding, headers, cookies. OPTIONS requests get
// keys of their own.
void build_cache_key(const core::RequestHead &req, std::string_view host, std::string_view path,
                     const config::CacheBehavior &b, cache::CacheKey &key);

struct OriginRequestInput {
    const core::RequestHead *viewer = nullptr;
    std::string_view path;      // viewer path after default root object rewriting
    std::string_view authority; // the viewer's, normalised (forwarded when Host is selected)
    std::string_view client_ip; // appended to X-Forwarded-For
    const config::CacheBehavior *behavior = nullptr;
    const config::Origin *origin = nullptr;
    uint16_t origin_port = 0; // for the Host field when not the scheme's default
    bool origin_https = false;
    bool for_cache = false; // the response may be stored: fetch the whole object as GET
};

// Builds the request sent to the origin into `out` (method, target with origin_path, fields).
// What b.shape keys or forwards travels: query parameters, cookies, headers (with policies,
// other viewer headers do not, except body and conditional fields that always do; with
// forwarded_values they all do). Removes hop-by-hop fields, Expect, and what the cache must
// control when for_cache (Range, conditionals); Authorization on GET, HEAD and OPTIONS only
// when keyed. Host names the origin unless a selection includes Host; appends X-Forwarded-For
// and Via, adds the origin's custom headers.
void build_origin_request(const OriginRequestInput &in, core::RequestHead &out);

// Appends to `out` the status line and the end-to-end fields of an origin response, each
// line ending in CRLF and without the blank line: hop-by-hop and framing fields removed,
// Via appended, Age left out (it is written per response), Set-Cookie dropped unless
// `keep_set_cookie`. `status` replaces the origin's status (custom error responses).
// A Date field (response_time) is added when the origin sent none (RFC 9110 §6.6.1).
void append_response_head(const core::ResponseHead &origin, uint16_t status, bool keep_set_cookie,
                          core::UnixMillis response_time, std::string &out);

// The Via value perch adds (RFC 9110 §7.6.3).
inline constexpr std::string_view via_value = "1.1 perch";

} // namespace perch::edge

// The authority a request is for (RFC 9110 §7.2, RFC 9112 §3.2): checked once and normalised,
// so that the behavior match, the cache key and the origin request all use the same text.
#pragma once

#include "core/http_message.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace perch::http {

// Normalises `text`, a uri-host [":" port] (RFC 3986 §3.2.2), into `out`: the host lowercased
// (percent-escapes upper-cased), one trailing dot of a name removed, an empty port and
// `default_port` dropped (also when written with leading zeros, ":0080"), any other port without
// leading zeros. False for anything else: spaces, lists ("a, b"), userinfo ("a@b"), a path
// ("a/b"), an empty host, a port over 65535, an IP literal that is not an IPv6 address. `out`
// keeps its capacity (a warm request allocates nothing).
bool normalize_authority_into(std::string_view text, uint16_t default_port, std::string &out);

// A normalised authority without its port: "a.example:8080" -> "a.example", "[::1]" -> "[::1]".
std::string_view authority_host(std::string_view authority) noexcept;

// Why a request's target and Host cannot be served.
enum class TargetProblem : uint8_t {
    none,
    bad_target, // "*", authority-form, or an absolute-form target that is not a URI
    bad_scheme, // absolute-form with a scheme other than http or https
    host_count, // several Host fields, or none in HTTP/1.1
    bad_host,   // a Host (or absolute-form authority) that is not a valid authority
};

// The request's target, resolved: the path and query it asks for ("/a?b"), and its authority,
// normalised. An absolute-form target's authority replaces Host (RFC 9112 §3.2.2; Host must
// still be present, and valid, in HTTP/1.1), and its scheme gives the default port; otherwise
// the viewer's. An HTTP/1.0 request without Host has an empty authority.
struct ResolvedTarget {
    TargetProblem problem = TargetProblem::none;
    std::string_view path_and_query; // inside head.target
};
ResolvedTarget resolve_target(const core::RequestHead &head, bool https, std::string &authority);

// The message a 400 for `p` carries.
std::string_view target_problem_message(TargetProblem p) noexcept;

} // namespace perch::http

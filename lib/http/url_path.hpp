// URL paths as the edge matches, keys and forwards them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace perch::http {

// The URL path as the edge matches, keys and forwards it (RFC 3986 §6.2.2): percent-encoded
// unreserved characters decoded, other escapes upper-cased, "." and ".." segments removed,
// repeated slashes merged (as most origins, nginx by default, do: behaviors and the origin
// then agree on which path was asked). Nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> normalize_path(std::string_view raw);
// normalize_path() into `out`; false for a malformed path. A path that is already normal is
// copied without allocating (the hit path).
bool normalize_path_into(std::string_view raw, std::string &out);

} // namespace perch::http

// CloudFront cache behavior path patterns: case-sensitive, '*' matches zero or more
// characters, '?' exactly one; a pattern without a leading '/' matches as if it had one.
#pragma once

#include <string_view>

namespace perch::config {

bool path_pattern_matches(std::string_view pattern, std::string_view path) noexcept;

} // namespace perch::config

// Path patterns (lib/config/path_pattern): the input is "PATTERN\nPATH" (no newline: the input
// is both). The two-pointer matcher must agree with a plain dynamic-programming glob matcher,
// and a path must match itself as a pattern (its '*' and '?' match themselves).
#include "config/path_pattern.hpp"
#include "fuzz_check.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

// '*' any run of bytes, '?' one byte, a leading '/' implied; the table is O(pattern * path).
bool reference_matches(std::string_view pattern, std::string_view path) {
    if (pattern == "*") return true;
    std::string p = pattern.empty() || pattern.front() != '/' ? "/" : "";
    p += pattern;
    // row[j]: p[0..i) matches path[0..j)
    std::vector<char> row(path.size() + 1, 0), next(path.size() + 1, 0);
    row[0] = 1;
    for (char c : p) {
        next[0] = c == '*' && row[0];
        for (size_t j = 1; j <= path.size(); ++j) {
            if (c == '*')
                next[j] = row[j] || next[j - 1];
            else
                next[j] = row[j - 1] && (c == '?' || c == path[j - 1]);
        }
        row.swap(next);
    }
    return row[path.size()];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view input(reinterpret_cast<const char *>(data), size);
    const size_t nl = input.find('\n');
    const std::string_view pattern = input.substr(0, nl);
    const std::string_view path = nl == std::string_view::npos ? input : input.substr(nl + 1);

    const bool matches = perch::config::path_pattern_matches(pattern, path);
    if ((pattern.size() + 1) * (path.size() + 1) <= (1u << 20))
        PERCH_FUZZ_CHECK(matches == reference_matches(pattern, path));
    if (!path.empty() && path.front() == '/')
        PERCH_FUZZ_CHECK(perch::config::path_pattern_matches(path, path));
    PERCH_FUZZ_CHECK(perch::config::path_pattern_matches("*", path));
    PERCH_FUZZ_CHECK(perch::config::path_pattern_matches("/*", path) ==
                     (!path.empty() && path.front() == '/'));
    return 0;
}

// Wildcard matching with the two-pointer algorithm: on a mismatch after a '*', resume just
// after that '*' and let it swallow one more character. Only the last '*' is ever revisited,
// which is correct because an earlier '*' can absorb anything a later one could; the cost is
// O(pattern * path) at worst, never exponential. Bytes are compared as they are ('?' matches
// one byte, no case folding, no percent-decoding).
#include "config/path_pattern.hpp"

namespace perch::config {

namespace {

// The pattern as if it began with '/': index 0 is the implied '/' when `implied_slash`.
class Pattern {
public:
    explicit Pattern(std::string_view p) noexcept
        : p_(p), implied_slash_(p.empty() || p.front() != '/') {}
    size_t size() const noexcept { return p_.size() + implied_slash_; }
    char operator[](size_t i) const noexcept {
        if (implied_slash_) return i == 0 ? '/' : p_[i - 1];
        return p_[i];
    }

private:
    std::string_view p_;
    bool implied_slash_;
};

} // namespace

bool path_pattern_matches(std::string_view pattern, std::string_view path) noexcept {
    if (pattern == "*") return true; // CloudFront's default behavior matches every request
    const Pattern pat(pattern);
    const size_t m = pat.size(), n = path.size();
    constexpr size_t none = static_cast<size_t>(-1);
    size_t p = 0, s = 0, star = none, star_s = 0;
    while (s < n) {
        if (p < m && pat[p] == '*') {
            star = p++;
            star_s = s;
        } else if (p < m && (pat[p] == '?' || pat[p] == path[s])) {
            ++p;
            ++s;
        } else if (star != none) {
            p = star + 1;
            s = ++star_s;
        } else {
            return false;
        }
    }
    while (p < m && pat[p] == '*')
        ++p;
    return p == m;
}

} // namespace perch::config

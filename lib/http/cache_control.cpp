// Cache-Control parsing (RFC 9111 §5.2). The same grammar serves CDN-Cache-Control (RFC 9213):
// the caller picks which field to parse.
//
// Decisions where the RFC leaves room:
// - Arguments: token or quoted-string (RFC 9111 §5.2: senders SHOULD use the token form for
//   delta-seconds, recipients SHOULD accept both). Whitespace around the name, the '=' and
//   the argument is tolerated ("max-age = 60"), as most caches do.
// - delta-seconds (RFC 9111 §1.2.2): 1*DIGIT; a value above 2^31 is clamped to 2147483648.
//   Anything else (empty, "-1", "1.5", "abc", "+5", a quoted-pair) is invalid, and an invalid
//   freshness argument makes the response stale: the directive is recorded with value 0.
// - Repeated directives (RFC 9111 §4.2.1: "either the first occurrence should be used, or the
//   response should be considered stale"): a repeat with the same value is harmless; a repeat
//   with a different value records 0 (stale, and no stale serving for the stale-* ones), the
//   conservative choice for a shared cache.
// - Boolean directives ignore an argument (no-store="x" is no-store); the qualified forms
//   no-cache="field" and private="field" set the whole flag, as a shared cache that does not
//   strip the named fields must (RFC 9111 §5.2.2.4, §5.2.2.7).
#include "http/cache_control.hpp"

#include "core/ascii.hpp"

namespace perch::http {

namespace {

constexpr int64_t delta_seconds_max = 2147483648; // 2^31 (RFC 9111 §1.2.2)

// Parses a delta-seconds argument (already trimmed); nullopt when invalid.
std::optional<int64_t> parse_delta_seconds(std::string_view arg) noexcept {
    if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"')
        arg = arg.substr(1, arg.size() - 2);
    if (arg.empty()) return std::nullopt;
    int64_t v = 0;
    for (char c : arg) {
        if (c < '0' || c > '9') return std::nullopt;
        if (v < delta_seconds_max) v = v * 10 + (c - '0');
    }
    return v < delta_seconds_max ? v : delta_seconds_max;
}

// Records one occurrence of a delta-seconds directive (see the repeat rule at the top).
void set_delta(std::optional<int64_t> &slot, std::optional<std::string_view> arg) noexcept {
    int64_t v = 0; // missing or invalid argument: stale
    if (arg)
        if (auto parsed = parse_delta_seconds(*arg)) v = *parsed;
    if (slot && *slot != v) v = 0;
    slot = v;
}

void apply_directive(CacheControl &cc, std::string_view name,
                     std::optional<std::string_view> arg) noexcept {
    using core::iequals;
    if (iequals(name, "max-age"))
        set_delta(cc.max_age, arg);
    else if (iequals(name, "s-maxage"))
        set_delta(cc.s_maxage, arg);
    else if (iequals(name, "stale-while-revalidate"))
        set_delta(cc.stale_while_revalidate, arg);
    else if (iequals(name, "stale-if-error"))
        set_delta(cc.stale_if_error, arg);
    else if (iequals(name, "no-store"))
        cc.no_store = true;
    else if (iequals(name, "no-cache"))
        cc.no_cache = true;
    else if (iequals(name, "private"))
        cc.private_ = true;
    else if (iequals(name, "public"))
        cc.public_ = true;
    else if (iequals(name, "must-revalidate"))
        cc.must_revalidate = true;
    else if (iequals(name, "proxy-revalidate"))
        cc.proxy_revalidate = true;
    else if (iequals(name, "no-transform"))
        cc.no_transform = true;
    else if (iequals(name, "immutable"))
        cc.immutable = true;
    else if (iequals(name, "only-if-cached"))
        cc.only_if_cached = true;
    // Unknown directives (extensions) are ignored (RFC 9111 §5.2.3).
}

} // namespace

CacheControl parse_cache_control(std::string_view value) {
    CacheControl cc;
    core::for_each_list_element(value, [&](std::string_view element) {
        cc.any = true;
        std::optional<std::string_view> arg;
        std::string_view name = element;
        if (auto eq = element.find('='); eq != std::string_view::npos) {
            name = core::trim_ows(element.substr(0, eq));
            arg = core::trim_ows(element.substr(eq + 1));
        }
        apply_directive(cc, name, arg);
    });
    return cc;
}

} // namespace perch::http

// Cache-Control parsing (RFC 9111 §5.2). CDN-Cache-Control is an RFC 9651 Dictionary, not
// this grammar: see cdn_cache_control.cpp.
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
//   strip the named fields must (RFC 9111 §5.2.2.4, §5.2.2.7): a qualified private response is
//   not stored, a qualified no-cache one is revalidated on every use. no_cache_qualified /
//   private_qualified say the form was qualified, for a policy that learns to strip fields.
// - max-stale without an argument accepts any staleness (2^31); an invalid max-stale or
//   min-fresh records 0 like the other delta-seconds directives.
// - Several field lines are one list (RFC 9110 §5.3); the HeaderMap overload parses line by
//   line into one CacheControl, so the repeat rule sees every line.
// - Age (RFC 9111 §5.1): the first member of a list is used; an invalid value is ignored.
// - Expires (RFC 9111 §5.3): an invalid date ("0") means already expired.
#include "http/cache_control.hpp"

#include "core/ascii.hpp"
#include "http/http_date.hpp"

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

// no-cache / private: `qualified` stays true only while every occurrence named fields.
void set_qualified(bool &flag, bool &qualified, bool has_argument) noexcept {
    qualified = has_argument && (!flag || qualified);
    flag = true;
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
    else if (iequals(name, "max-stale")) {
        if (arg)
            set_delta(cc.max_stale, arg);
        else
            cc.max_stale = cc.max_stale.value_or(delta_seconds_max) == delta_seconds_max
                               ? delta_seconds_max
                               : 0;
    } else if (iequals(name, "min-fresh"))
        set_delta(cc.min_fresh, arg);
    else if (iequals(name, "no-cache"))
        set_qualified(cc.no_cache, cc.no_cache_qualified, arg.has_value());
    else if (iequals(name, "private"))
        set_qualified(cc.private_, cc.private_qualified, arg.has_value());
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
    else if (iequals(name, "must-understand"))
        cc.must_understand = true;
    else if (iequals(name, "only-if-cached"))
        cc.only_if_cached = true;
    // Unknown directives (extensions) are ignored (RFC 9111 §5.2.3).
}

} // namespace

CacheControl parse_cache_control(std::string_view value) {
    CacheControl cc;
    add_cache_control(cc, value);
    return cc;
}

CacheControl parse_cache_control(const core::HeaderMap &headers, std::string_view field) {
    CacheControl cc;
    headers.for_each(field, [&](std::string_view value) { add_cache_control(cc, value); });
    return cc;
}

std::optional<int64_t> parse_age(std::string_view value) noexcept {
    std::optional<std::string_view> first;
    core::for_each_list_element(value, [&](std::string_view el) {
        if (!first) first = el;
    });
    if (!first || first->front() == '"') return std::nullopt; // no quoted form for Age
    return parse_delta_seconds(*first);
}

std::optional<int64_t> parse_age(const core::HeaderMap &headers) noexcept {
    auto v = headers.get("age");
    return v ? parse_age(*v) : std::nullopt;
}

core::UnixMillis parse_expires(std::string_view value) noexcept {
    return parse_http_date(value).value_or(expires_invalid);
}

std::optional<core::UnixMillis> parse_expires(const core::HeaderMap &headers) noexcept {
    std::optional<core::UnixMillis> expires;
    headers.for_each("expires", [&](std::string_view v) {
        const core::UnixMillis t = parse_expires(v);
        expires = expires && *expires != t ? expires_invalid : t;
    });
    return expires;
}

void add_cache_control(CacheControl &cc, std::string_view value) {
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
}

} // namespace perch::http

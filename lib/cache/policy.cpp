// Storage and freshness decisions, CloudFront's way, with RFC 9111 for what CloudFront leaves
// unsaid.
//
// What CloudFront documents (Amazon CloudFront Developer Guide, "Manage how long content stays
// in the cache (expiration)", Expiration.md, and "How CloudFront processes and caches HTTP 4xx
// and 5xx status codes from your origin", HTTPStatusCodes.md, custom-error-pages-expiration.md,
// http-3xx-status-codes.md; awsdocs/amazon-cloudfront-developer-guide):
// - Minimum TTL = 0: max-age -> min(max-age, Maximum TTL); s-maxage (with max-age) ->
//   min(s-maxage, Maximum TTL); Expires -> until Expires or Maximum TTL, whichever is sooner;
//   no max-age -> Default TTL; no-cache / no-store / private -> "CloudFront respects the
//   headers" (not cached).
// - Minimum TTL > 0: the header value clamped to [Minimum TTL, Maximum TTL]; no header ->
//   the greater of Minimum TTL and Default TTL; no-cache / no-store / private -> cached for
//   Minimum TTL.
// - Both max-age and Expires: only max-age is used. s-maxage beats max-age.
// - Only responses to GET and HEAD are cached (OPTIONS is opt-in; not done here).
// - 4xx/5xx always cached: 404, 414, 500, 501, 502, 503, 504; cached only with max-age or
//   s-maxage: 400, 403, 405, 412, 415 (the lists of the current guide; its 2019 edition had
//   405 in the first). 416 is never cached, even with an Error Caching Minimum TTL. An error
//   response is cached for the greater of the Error Caching Minimum TTL (10 s by default) and
//   its max-age / s-maxage / Expires (the latter capped at Maximum TTL); with other
//   directives or none, for the Error Caching Minimum TTL. no-store, no-cache and private
//   prevent caching a 404, 410, 414 or 501 and are ignored for the other error codes.
// - 307 and 308 are cached only when the origin sends Cache-Control.
//
// What this module decides on top (the order of the checks is the order below):
// 1. Method: only GET, HEAD and OPTIONS ("method"). The edge asks about OPTIONS only when the
//    behavior's cached_methods include it (CloudFront's opt-in), and keys it apart from GET.
// 2. Status never stored here: 1xx, 206 (the range layer handles partial content), 304 (it
//    refreshes a stored response instead), 416 (CloudFront), anything outside 100..599.
// 3. Directives: CDN-Cache-Control (RFC 9213), a Structured Fields Dictionary, is used instead
//    of Cache-Control when it parses and has at least one directive, and Expires is then
//    ignored too (RFC 9213 §2.1); a field that fails to parse or holds a known directive of
//    the wrong type is ignored whole, and Cache-Control applies.
// 3b. A request with Cache-Control: no-store is not stored ("request no-store", RFC 9111
//    §5.2.1.5).
// 4. Vary: * is never stored ("vary *"): no later request can match it.
// 5. Authorization in the request: not stored unless public, s-maxage or must-revalidate
//    (RFC 9111 §3.5), whatever the TTL settings. CloudFront instead forces Authorization into
//    the cache key; perch follows the RFC, the safe choice for a library.
// 6. error_caching_min_ttl (the edge passes it for the statuses of error_caching_of(): the
//    custom_error_response's value, or 10 s): stored as CloudFront documents above. The
//    with_max_age statuses without max-age / s-maxage are "status NNN". Ignored below 400.
// 7. Status: the RFC 9110 §15.1 heuristically cacheable statuses (200, 203, 204, 300, 301,
//    404, 410, 414, 501) are stored by the rules below; 405 is left out, as CloudFront caches
//    it only with max-age. 308 is heuristically cacheable in RFC 9110, but CloudFront
//    documents it (and 307) as cached only with Cache-Control: perch follows CloudFront (any
//    directive, or Expires). Any other status needs explicit freshness: s-maxage, max-age or
//    Expires (as RFC 9111 §3 allows). Otherwise "status NNN". This comes before rule 8 so
//    that min_ttl never makes an otherwise uncacheable status (a bare 500) storable.
// 7b. must-understand (RFC 9111 §5.2.2.3): for a status whose caching rules this module
//    implements (understood_status()), no-store is ignored; any other status is not stored.
// 8. no-store / private / no-cache: with min_ttl == 0 not stored (reason in that order);
//    with min_ttl > 0 stored for min_ttl, except a 404, 410, 414 or 501 (CloudFront).
// 9. TTL: s-maxage, else max-age, else Expires - Date, clamped to [min_ttl, max_ttl] (min_ttl
//    wins if the settings are inverted); none of them: max(min_ttl, default_ttl).
//    An invalid Expires (RFC 9111 §5.3, e.g. "0") or several different Expires values
//    (§4.2.1) count as already expired: 0 before clamping. A missing or invalid Date is taken
//    as response_time (RFC 9110 §6.6.1).
// 5b. Set-Cookie, when cookies reach the origin (the edge strips it otherwise, and may then
//    store the rest): not stored unless public or s-maxage says the response may be shared
//    ("set-cookie"), so that one viewer's session never reaches another with the same key, as
//    nginx and Varnish do by default. perch.store_set_cookie restores CloudFront's way (stored
//    and replayed with the entry). Not an RFC 9111 rule: a shared cache may store Set-Cookie.
#include "cache/policy.hpp"

#include "core/ascii.hpp"
#include "http/cache_control.hpp"
#include "http/cdn_cache_control.hpp"
#include "http/http_date.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <limits>
#include <string_view>

namespace perch::cache {

namespace {

constexpr int64_t int64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t delta_seconds_max = 2147483648; // RFC 9111 §1.2.2

// "status NNN" for every status 100..599, as static strings.
struct StatusReasons {
    static constexpr size_t first = 100, count = 500;
    std::array<std::array<char, 11>, count> text{};

    constexpr StatusReasons() {
        for (size_t i = 0; i < count; ++i) {
            const size_t s = first + i;
            constexpr std::string_view prefix = "status ";
            for (size_t j = 0; j < prefix.size(); ++j)
                text[i][j] = prefix[j];
            text[i][7] = char('0' + s / 100);
            text[i][8] = char('0' + s / 10 % 10);
            text[i][9] = char('0' + s % 10);
            text[i][10] = '\0';
        }
    }
};
constexpr StatusReasons status_reasons;

const char *status_reason(uint16_t status) noexcept {
    if (status < StatusReasons::first || status >= StatusReasons::first + StatusReasons::count)
        return "status not cacheable";
    return status_reasons.text[status - StatusReasons::first].data();
}

bool never_stored_status(uint16_t s) noexcept {
    return s < 200 || s > 599 || s == 206 || s == 304 || s == 416;
}

template <size_t N> bool one_of(const uint16_t (&list)[N], uint16_t s) noexcept {
    return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// RFC 9110 §15.1 minus 206 (never stored here), 308 (CloudFront: only with Cache-Control)
// and 405 (CloudFront: only with max-age or s-maxage).
constexpr uint16_t heuristically_cacheable_statuses[] = {200, 203, 204, 300, 301,
                                                         404, 410, 414, 501};
bool heuristically_cacheable(uint16_t s) noexcept {
    return one_of(heuristically_cacheable_statuses, s);
}

// The errors CloudFront does not cache when they say no-store, no-cache or private.
constexpr uint16_t errors_honouring_no_store[] = {404, 410, 414, 501};

// The statuses whose caching rules this module implements (for must-understand): the
// heuristically cacheable ones, the redirects and CloudFront's cached errors.
constexpr uint16_t understood_statuses[] = {200, 203, 204, 300, 301, 302, 303, 307, 308, 400, 403,
                                            404, 405, 410, 412, 414, 415, 500, 501, 502, 503, 504};

int64_t sat_add(int64_t a, int64_t b) noexcept {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? int64_max : std::numeric_limits<int64_t>::min();
    return r;
}

int64_t sat_sub(int64_t a, int64_t b) noexcept {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? int64_max : std::numeric_limits<int64_t>::min();
    return r;
}

int64_t seconds_to_ms(int64_t s) noexcept {
    if (s <= 0) return 0;
    return s > int64_max / 1000 ? int64_max : s * 1000;
}

bool has_vary_star(const core::HeaderMap &h) {
    bool star = false;
    h.for_each("vary", [&](std::string_view v) {
        core::for_each_list_element(v, [&](std::string_view el) { star = star || el == "*"; });
    });
    return star;
}

// The Date field, or response_time when missing or invalid.
core::UnixMillis date_value(const core::HeaderMap &h, core::UnixMillis response_time) {
    if (auto d = h.get("date"))
        if (auto t = http::parse_http_date(*d)) return *t;
    return response_time;
}

// Expires - Date in whole seconds (>= 0); 0 when Expires is invalid or repeated with
// different values.
int64_t expires_lifetime_s(core::UnixMillis expires, core::UnixMillis date) {
    if (expires == http::expires_invalid) return 0;
    return std::max<int64_t>(0, sat_sub(expires, date) / 1000);
}

// Corrected initial age (RFC 9111 §4.2.3), in milliseconds.
int64_t initial_age_ms(const core::HeaderMap &h, core::UnixMillis date,
                       core::UnixMillis request_time, core::UnixMillis response_time) {
    const int64_t apparent_age = std::max<int64_t>(0, sat_sub(response_time, date));
    const int64_t response_delay = std::max<int64_t>(0, sat_sub(response_time, request_time));
    const int64_t age_value = http::parse_age(h).value_or(0); // invalid: ignored (§5.1)
    const int64_t corrected_age_value = sat_add(seconds_to_ms(age_value), response_delay);
    return std::max(apparent_age, corrected_age_value);
}

// The directives this cache obeys: CDN-Cache-Control when present and not empty (RFC 9213).
struct Directives {
    http::CacheControl cc;
    bool targeted = false; // from CDN-Cache-Control: Expires is ignored
    bool cache_control_present = false;
};

Directives directives_for(const core::HeaderMap &h) {
    Directives d;
    if (std::optional<http::CacheControl> cdn = http::parse_cdn_cache_control(h)) {
        d.cc = *cdn; // invalid, empty or absent: Cache-Control instead (RFC 9213 §2.1)
        d.targeted = true;
    }
    if (!d.targeted) d.cc = http::parse_cache_control(h.joined("cache-control"));
    d.cache_control_present = d.cc.any;
    return d;
}

// The origin's freshness lifetime in seconds (s-maxage, max-age, Expires - Date), if any.
std::optional<int64_t> explicit_lifetime_s(const Directives &d, const core::HeaderMap &h,
                                           core::UnixMillis date) {
    if (d.cc.s_maxage) return *d.cc.s_maxage;
    if (d.cc.max_age) return *d.cc.max_age;
    if (d.targeted) return std::nullopt;
    if (auto expires = http::parse_expires(h)) return expires_lifetime_s(*expires, date);
    return std::nullopt;
}

StorageDecision refuse(const char *reason) noexcept {
    StorageDecision d;
    d.reason = reason;
    return d;
}

StorageDecision store(int64_t ttl_s, int64_t initial_age, const Directives &dir) noexcept {
    StorageDecision d;
    d.store = true;
    d.ttl_ms = seconds_to_ms(ttl_s);
    d.initial_age_ms = initial_age;
    if (dir.cc.stale_while_revalidate)
        d.stale_while_revalidate_ms = seconds_to_ms(*dir.cc.stale_while_revalidate);
    if (dir.cc.stale_if_error) d.stale_if_error_ms = seconds_to_ms(*dir.cc.stale_if_error);
    // s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10), but an explicit stale-* extension
    // directive beside it is the origin's permission (§4.2.4): s-maxage=1, stale-while-
    // revalidate=59 means what it says. Without one, s-maxage turns CloudFront's implicit
    // stale-on-error off.
    d.revalidate_when_stale = dir.cc.must_revalidate || dir.cc.proxy_revalidate;
    if (dir.cc.s_maxage && !dir.cc.stale_if_error) d.stale_if_error_ms = 0;
    return d;
}

} // namespace

StorageDecision decide_storage(const core::RequestHead &request, const core::ResponseHead &response,
                               const TtlSettings &ttl, core::UnixMillis request_time,
                               core::UnixMillis response_time,
                               std::optional<int64_t> error_caching_min_ttl,
                               SetCookieRule set_cookie) {
    if (request.method != core::Method::get && request.method != core::Method::head &&
        request.method != core::Method::options)
        return refuse("method");
    const uint16_t status = response.status;
    if (never_stored_status(status)) return refuse(status_reason(status));

    // RFC 9111 §5.2.1.5: a request with no-store is never stored (the viewer's other request
    // directives are preferences, ignored as CloudFront, nginx and Varnish do).
    if (request.headers.contains("cache-control") &&
        http::parse_cache_control(request.headers.joined("cache-control")).no_store)
        return refuse("request no-store");
    const core::HeaderMap &h = response.headers;
    const Directives d = directives_for(h);
    if (has_vary_star(h)) return refuse("vary *");
    if (request.headers.contains("authorization") && !d.cc.public_ && !d.cc.s_maxage &&
        !d.cc.must_revalidate)
        return refuse("authorization");
    if (set_cookie == SetCookieRule::shared_only && !d.cc.public_ && !d.cc.s_maxage &&
        h.contains("set-cookie"))
        return refuse("set-cookie");

    const core::UnixMillis date = date_value(h, response_time);
    const int64_t age = initial_age_ms(h, date, request_time, response_time);
    const std::optional<int64_t> lifetime = explicit_lifetime_s(d, h, date);
    const int64_t min_ttl = std::max<int64_t>(0, ttl.min_ttl);

    const bool marked_private = d.cc.no_store || d.cc.private_ || d.cc.no_cache;
    const char *private_reason = d.cc.no_store   ? "no-store"
                                 : d.cc.private_ ? "private"
                                                 : "no-cache";
    const bool honours_no_store = one_of(errors_honouring_no_store, status);

    if (error_caching_min_ttl && status >= 400) {
        if (error_caching_of(status) == ErrorCaching::with_max_age && !d.cc.max_age &&
            !d.cc.s_maxage)
            return refuse(status_reason(status));
        if (marked_private && honours_no_store) return refuse(private_reason);
        int64_t ttl_s = std::max<int64_t>(0, *error_caching_min_ttl);
        if (lifetime) ttl_s = std::max(ttl_s, std::min(*lifetime, ttl.max_ttl));
        return store(ttl_s, age, d);
    }

    const bool redirect_with_cc = (status == 307 || status == 308) && d.cache_control_present;
    if (!heuristically_cacheable(status) && !lifetime && !redirect_with_cc)
        return refuse(status_reason(status));

    bool no_store = d.cc.no_store;
    if (d.cc.must_understand) {
        if (!one_of(understood_statuses, status)) return refuse("must-understand");
        no_store = false;
    }
    if (no_store || d.cc.private_ || d.cc.no_cache) {
        if (min_ttl > 0 && !honours_no_store) return store(min_ttl, age, d);
        return refuse(no_store ? "no-store" : d.cc.private_ ? "private" : "no-cache");
    }

    if (!lifetime) return store(std::max(min_ttl, ttl.default_ttl), age, d);
    return store(std::max(min_ttl, std::min(*lifetime, ttl.max_ttl)), age, d);
}

StoredTimes stored_times(const StorageDecision &d, core::UnixMillis response_time) noexcept {
    StoredTimes t;
    t.response_time = response_time;
    t.initial_age_ms = d.initial_age_ms;
    t.ttl_ms = d.ttl_ms;
    t.stale_while_revalidate_ms = d.stale_while_revalidate_ms;
    t.stale_if_error_ms = d.stale_if_error_ms;
    t.revalidate_when_stale = d.revalidate_when_stale;
    return t;
}

bool usable_while_revalidating(const StoredTimes &t, core::UnixMillis now) noexcept {
    if (t.revalidate_when_stale || t.stale_while_revalidate_ms <= 0) return false;
    return current_age_ms(t, now) < sat_add(t.ttl_ms, t.stale_while_revalidate_ms);
}

bool usable_on_error(const StoredTimes &t, core::UnixMillis now) noexcept {
    if (t.revalidate_when_stale || t.stale_if_error_ms == 0) return false;
    if (t.stale_if_error_ms < 0) return true;
    return current_age_ms(t, now) < sat_add(t.ttl_ms, t.stale_if_error_ms);
}

} // namespace perch::cache

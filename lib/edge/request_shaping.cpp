#include "edge/request_shaping.hpp"

#include "core/ascii.hpp"
#include "http/head_writer.hpp"
#include "http/http_date.hpp"

#include <algorithm>
#include <vector>

namespace perch::edge {

using core::iequals;

namespace {

template <class Fn> void for_each_param(std::string_view query, Fn &&fn) {
    size_t start = 0;
    while (start <= query.size()) {
        size_t end = query.find('&', start);
        if (end == std::string_view::npos) end = query.size();
        std::string_view param = query.substr(start, end - start);
        if (!param.empty()) {
            auto eq = param.find('=');
            fn(param.substr(0, eq), param);
        }
        start = end + 1;
    }
}

template <class Fn> void for_each_cookie(std::string_view header, Fn &&fn) {
    size_t start = 0;
    while (start < header.size()) {
        size_t end = header.find(';', start);
        if (end == std::string_view::npos) end = header.size();
        std::string_view c = core::trim_ows(header.substr(start, end - start));
        if (!c.empty()) fn(c.substr(0, c.find('=')), c);
        start = end + 1;
    }
}

// The Cookie field with the cookies `a` or `b` selects (names are case-sensitive).
std::string selected_cookies(const core::RequestHead &req, const config::ValueSelection &a,
                             const config::ValueSelection *b) {
    std::string out;
    if (a.mode == config::SelectMode::none && (!b || b->mode == config::SelectMode::none))
        return out;
    req.headers.for_each("cookie", [&](std::string_view v) {
        for_each_cookie(v, [&](std::string_view name, std::string_view cookie) {
            if (!a.selects(name, false) && !(b && b->selects(name, false))) return;
            if (!out.empty()) out += "; ";
            out += cookie;
        });
    });
    return out;
}

void append_selected_query(std::string_view query, const config::ValueSelection &a,
                           const config::ValueSelection *b, std::string &out) {
    bool first = true;
    for_each_param(query, [&](std::string_view name, std::string_view param) {
        if (!a.selects(name, false) && !(b && b->selects(name, false))) return;
        if (!first) out += '&';
        out += param;
        first = false;
    });
}

void append_lower(std::string_view s, std::string &out) {
    for (char c : s)
        out += core::ascii_lower(c);
}

// Key part for the headers `sel` selects.
void append_keyed_headers(const core::RequestHead &req, const config::ValueSelection &sel,
                          std::string &t) {
    if (sel.mode == config::SelectMode::listed) {
        for (const std::string &name : sel.names) {
            t += '\x1f';
            append_lower(name, t);
            t += ':';
            t += req.headers.joined(name);
        }
        return;
    }
    if (sel.mode == config::SelectMode::none) return;
    // all / all_except: every header varies the object (CloudFront then barely caches).
    for (size_t i = 0; i < req.headers.size(); ++i) {
        if (!sel.selects(req.headers.name(i), true)) continue;
        t += '\x1f';
        append_lower(req.headers.name(i), t);
        t += ':';
        t += req.headers.value(i);
    }
}

// Fields CloudFront passes to the origin whatever the policies select: the request body's
// description and the viewer's own conditionals and ranges (see docs/config.md).
bool always_forwarded(std::string_view name, core::Method method) {
    // (Content-Length and Transfer-Encoding are framing: the origin client writes its own.)
    constexpr std::string_view names[] = {"content-type",
                                          "content-encoding",
                                          "content-language",
                                          "content-md5",
                                          "if-match",
                                          "if-none-match",
                                          "if-modified-since",
                                          "if-range",
                                          "if-unmodified-since",
                                          "range",
                                          "cache-control",
                                          "pragma",
                                          "max-forwards"};
    for (std::string_view n : names)
        if (iequals(name, n)) return true;
    return iequals(name, "authorization") && !core::method_is_safe(method);
}

// The Accept-Encoding value sent to the origin; nullopt: Accept-Encoding is treated as any
// other header (caching compressed objects is off in the cache policy). Viewers without a
// usable coding share one key, and the object stored under it must suit every one of them
// (one that sent "deflate" as much as one that sent nothing): the origin is asked for
// "identity".
std::optional<std::string_view> origin_accept_encoding(const core::HeaderMap &h,
                                                       const config::CacheKeySpec &k) {
    if (!k.legacy_accept_encoding && !k.accept_encoding_gzip && !k.accept_encoding_brotli)
        return std::nullopt;
    std::string_view ae =
        normalized_accept_encoding(h, k.accept_encoding_gzip, k.accept_encoding_brotli);
    return ae.empty() ? std::string_view("identity") : ae;
}

} // namespace

std::string forwarded_query(const config::RequestShape &shape, std::string_view query) {
    const config::ValueSelection &k = shape.key.query_strings, &f = shape.forward.query_strings;
    if (k.mode == config::SelectMode::all || f.mode == config::SelectMode::all)
        return std::string(query);
    std::string out;
    append_selected_query(query, k, &f, out);
    return out;
}

void append_keyed_query(const config::CacheKeySpec &key, std::string_view query, std::string &out) {
    if (key.query_strings.mode == config::SelectMode::all)
        out += query;
    else
        append_selected_query(query, key.query_strings, nullptr, out);
}

std::string_view normalized_accept_encoding(const core::HeaderMap &headers, bool gzip,
                                            bool brotli) noexcept {
    bool has_gzip = false, has_br = false;
    headers.for_each("accept-encoding", [&](std::string_view v) {
        core::for_each_list_element(v, [&](std::string_view coding) {
            size_t semi = coding.find(';');
            std::string_view name = core::trim_ows(coding.substr(0, semi));
            bool is_gzip = iequals(name, "gzip"), is_br = iequals(name, "br");
            if (!is_gzip && !is_br) return;
            // "gzip;q=0" refuses gzip; parameter names are case-insensitive (RFC 9110 §12.4.2).
            while (semi != std::string_view::npos) {
                coding.remove_prefix(semi + 1);
                semi = coding.find(';');
                std::string_view param = core::trim_ows(coding.substr(0, semi));
                if (core::istarts_with(param, "q=")) {
                    std::string_view q = core::trim_ows(param.substr(2));
                    if (!q.empty() && q.find_first_not_of("0.") == std::string_view::npos) return;
                }
            }
            (is_gzip ? has_gzip : has_br) = true;
        });
    });
    has_gzip = has_gzip && gzip;
    has_br = has_br && brotli;
    if (has_gzip && has_br) return "br,gzip";
    if (has_gzip) return "gzip";
    if (has_br) return "br";
    return "";
}

void append_cache_key_prefix(std::string_view host, std::string_view path, std::string &t) {
    append_lower(host, t);
    t += '\x1f';
    t += path;
    t += '\x1f';
}

void build_cache_key(const core::RequestHead &req, std::string_view host, std::string_view path,
                     const config::CacheBehavior &b, cache::CacheKey &key) {
    const config::CacheKeySpec &k = b.shape.key;
    std::string &t = key.text;
    t.clear();
    append_cache_key_prefix(host, path, t);
    append_keyed_query(k, req.query(), t);
    t += '\x1f';
    if (k.legacy_accept_encoding || k.accept_encoding_gzip || k.accept_encoding_brotli)
        t += normalized_accept_encoding(req.headers, k.accept_encoding_gzip,
                                        k.accept_encoding_brotli);
    append_keyed_headers(req, k.headers, t);
    if (k.cookies.mode != config::SelectMode::none) {
        t += "\x1f"
             "cookie:";
        t += selected_cookies(req, k.cookies, nullptr);
    }
    if (req.method == core::Method::options)
        t += "\x1f"
             "OPTIONS";
    key.path.assign(path);
    key.finalize();
}

void build_origin_request(const OriginRequestInput &in, core::RequestHead &out) {
    const core::RequestHead &v = *in.viewer;
    const config::RequestShape &shape = in.behavior->shape;
    const config::Origin &o = *in.origin;
    out.clear();
    out.version_major = 1;
    out.version_minor = 1;
    // A HEAD that may be stored is fetched as GET so that the object can be kept whole.
    bool as_get = in.for_cache && v.method == core::Method::head;
    out.method = as_get ? core::Method::get : v.method;
    out.method_text = as_get ? "GET" : v.method_text;
    out.target = o.origin_path;
    out.target += in.path;
    std::string q = forwarded_query(shape, v.query());
    if (!q.empty()) {
        out.target += '?';
        out.target += q;
    }
    auto selected = [&](std::string_view name) {
        return shape.key.headers.selects(name, true) || shape.forward.headers.selects(name, true);
    };

    // Host names the origin (CloudFront's default), with the port when not the default one.
    if (selected("host") && !in.authority.empty()) {
        out.headers.add("Host", in.authority);
    } else { // HTTP/1.1 to the origin always carries a Host
        std::string host = o.domain_name;
        uint16_t dflt = in.origin_https ? 443 : 80;
        if (in.origin_port && in.origin_port != dflt) {
            host += ':'; // appended piecewise: GCC 12 -O3 misreports '":" + to_string' (PR 105651)
            host += std::to_string(in.origin_port);
        }
        out.headers.add("Host", host);
    }

    auto accept_encoding = origin_accept_encoding(v.headers, shape.key);
    std::string xff;
    const http::HopByHopFields hop_by_hop(v.headers);
    for (size_t i = 0; i < v.headers.size(); ++i) {
        std::string_view name = v.headers.name(i);
        std::string_view value = v.headers.value(i);
        if (hop_by_hop.covers(name)) continue;
        // "X_Forwarded_For" beside "X-Forwarded-For" means two things to different origins
        // (some map '_' to '-'): dropped, as nginx does by default.
        if (name.find('_') != std::string_view::npos) continue;
        // HTTP2-Settings belongs to the viewer's connection (RFC 9113 §3.2.1) even when its
        // Connection field leaves it out; the origin connection is perch's own.
        if (iequals(name, "host") || iequals(name, "expect") || iequals(name, "cookie") ||
            iequals(name, "via") || iequals(name, "http2-settings"))
            continue;
        if (iequals(name, "x-forwarded-for")) {
            if (!xff.empty()) xff += ", ";
            xff += value;
            continue;
        }
        if (accept_encoding && iequals(name, "accept-encoding")) continue; // normalised below
        if (iequals(name, "authorization") && core::method_is_safe(v.method) &&
            !shape.key.headers.selects(name, true))
            continue; // on GET/HEAD/OPTIONS only when keyed: responses differ per user
        if (in.for_cache && (iequals(name, "range") || iequals(name, "if-range") ||
                             iequals(name, "if-none-match") || iequals(name, "if-modified-since") ||
                             iequals(name, "if-match") || iequals(name, "if-unmodified-since")))
            continue; // the cache fetches whole objects and validates them itself
        // On a behavior that caches, an unkeyed header could shape the one answer stored for
        // every viewer (X-Forwarded-Host reflected in a page): forwarded_values' other headers
        // then stay behind, stricter than CloudFront (README, differences).
        bool others = shape.forward.other_headers && !in.for_cache;
        if (!others && !selected(name) && !always_forwarded(name, v.method)) continue;
        out.headers.add(name, value);
    }
    if (accept_encoding) out.headers.add("Accept-Encoding", *accept_encoding);
    std::string cookies = selected_cookies(v, shape.key.cookies, &shape.forward.cookies);
    if (!cookies.empty()) out.headers.add("Cookie", cookies);
    if (!in.client_ip.empty()) {
        if (!xff.empty()) xff += ", ";
        xff += in.client_ip;
    }
    if (!xff.empty()) out.headers.add("X-Forwarded-For", xff);
    std::string via = v.headers.joined("via");
    if (!via.empty()) via += ", ";
    via += via_value;
    out.headers.add("Via", via);
    for (const config::OriginCustomHeader &h : o.custom_headers)
        out.headers.set(h.name, h.value);
}

void append_response_head(const core::ResponseHead &origin, uint16_t status, bool keep_set_cookie,
                          core::UnixMillis response_time, std::string &out) {
    http::HeadWriter w(out);
    w.status_line(status,
                  status == origin.status ? std::string_view(origin.reason) : std::string_view{});
    std::string via;
    const core::HeaderMap &h = origin.headers;
    const http::HopByHopFields hop_by_hop(h);
    for (size_t i = 0; i < h.size(); ++i) {
        std::string_view name = h.name(i);
        if (hop_by_hop.covers(name)) continue;
        if (iequals(name, "age")) continue;
        if (iequals(name, "set-cookie") && !keep_set_cookie) continue;
        if (iequals(name, "via")) {
            if (!via.empty()) via += ", ";
            via += h.value(i);
            continue;
        }
        w.field(name, h.value(i));
    }
    if (!via.empty()) via += ", ";
    via += via_value;
    w.field("Via", via);
    if (!h.contains("date")) {
        char date[http::http_date_length];
        w.field("Date", std::string_view(date, http::format_http_date(response_time, date)));
    }
}

} // namespace perch::edge

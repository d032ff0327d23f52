#include "edge/request_shaping.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using perch::cache::CacheKey;
using perch::core::HeaderMap;
using perch::core::Method;
using perch::core::RequestHead;
using perch::core::ResponseHead;
using namespace perch::edge;
namespace config = perch::config;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

RequestHead request(std::string_view method, std::string_view target, const Fields &fields = {},
                    uint8_t minor = 1) {
    RequestHead r;
    r.method_text = method;
    r.method = perch::core::method_from_name(method);
    r.target = target;
    r.version_minor = minor;
    for (const auto &[name, value] : fields)
        r.headers.add(name, value);
    return r;
}

Fields fields_of(const HeaderMap &h) {
    Fields out;
    for (size_t i = 0; i < h.size(); ++i)
        out.emplace_back(h.name(i), h.value(i));
    return out;
}

config::ForwardedValues header_values(std::vector<std::string> headers) {
    config::ForwardedValues fv;
    fv.headers = std::move(headers);
    return fv;
}

config::ForwardedValues cookie_values(config::CookieForward mode, std::vector<std::string> names) {
    config::ForwardedValues fv;
    fv.cookies = mode;
    fv.cookie_names = std::move(names);
    return fv;
}

config::ForwardedValues query_values(bool query_string, std::vector<std::string> keys = {}) {
    config::ForwardedValues fv;
    fv.query_string = query_string;
    fv.query_string_cache_keys = std::move(keys);
    return fv;
}

CacheKey key_for(const RequestHead &req, const config::CacheBehavior &b,
                 std::string_view host = "a.test", std::string_view path = {}) {
    CacheKey k;
    build_cache_key(req, host, path.empty() ? req.path() : path, b, k);
    return k;
}

bool same_key(const CacheKey &a, const CacheKey &b) {
    return a.text == b.text && a.hash.low64 == b.hash.low64 && a.hash.high64 == b.hash.high64;
}

bool different_key(const CacheKey &a, const CacheKey &b) {
    return a.text != b.text && (a.hash.low64 != b.hash.low64 || a.hash.high64 != b.hash.high64);
}

config::Origin test_origin() {
    config::Origin o;
    o.origin_id = "web";
    o.domain_name = "origin.example";
    o.origin_path = "/prod";
    return o;
}

// Builds an origin request for `viewer` under `b` and `o`, as a plain HTTP origin on port 80.
struct OriginRequest {
    RequestHead out;
    OriginRequest(const RequestHead &viewer, const config::CacheBehavior &b,
                  const config::Origin &o, bool for_cache = false,
                  std::string_view client_ip = "198.51.100.7", uint16_t port = 80,
                  bool https = false) {
        OriginRequestInput in;
        in.viewer = &viewer;
        in.path = viewer.path();
        in.authority = viewer.headers.get("host").value_or(""); // already normal here
        in.client_ip = client_ip;
        in.behavior = &b;
        in.origin = &o;
        in.origin_port = port;
        in.origin_https = https;
        in.for_cache = for_cache;
        build_origin_request(in, out);
    }
};

} // namespace

// ---- query strings ----

TEST_CASE("edge/request_shaping: query strings are forwarded and keyed as the behavior says") {
    struct Row {
        std::string name;
        config::ForwardedValues fv;
        std::string query, forwarded, keyed;
    };
    const Row rows[] = {
        {"query_string false forwards and keys nothing", query_values(false), "a=1&b=2", "", ""},
        {"query_string true without a list keys everything", query_values(true), "b=2&a=1",
         "b=2&a=1", "b=2&a=1"},
        {"an allow-list keys the listed parameters in query order", query_values(true, {"a", "c"}),
         "c=3&b=2&a=1", "c=3&b=2&a=1", "c=3&a=1"},
        {"allow-list names are case-sensitive", query_values(true, {"a"}), "A=1&a=2", "A=1&a=2",
         "a=2"},
        {"a parameter without a value is matched by its name", query_values(true, {"flag"}),
         "flag&x=1", "flag&x=1", "flag"},
        {"repeated parameters are all kept", query_values(true, {"a"}), "a=1&b=0&a=2",
         "a=1&b=0&a=2", "a=1&a=2"},
        {"a longer name with the same start is not listed", query_values(true, {"a"}), "ab=1&a=2",
         "ab=1&a=2", "a=2"},
        {"empty parameters are skipped", query_values(true, {"a"}), "&a=1&&a=2&", "&a=1&&a=2&",
         "a=1&a=2"},
        {"no listed parameter keys nothing", query_values(true, {"z"}), "a=1", "a=1", ""},
        {"an empty query", query_values(true), "", "", ""},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        config::RequestShape shape = config::legacy_request_shape(row.fv);
        CHECK(forwarded_query(shape, row.query) == row.forwarded);
        std::string out = "prefix|";
        append_keyed_query(shape.key, row.query, out);
        CHECK(out == "prefix|" + row.keyed);
    }
}

// ---- Accept-Encoding ----

TEST_CASE("edge/request_shaping: Accept-Encoding normalises to gzip or nothing") {
    struct Row {
        std::vector<std::string> values;
        std::string_view expected;
    };
    const Row rows[] = {
        {{"gzip, br"}, "gzip"},
        {{"br, gzip"}, "gzip"},
        {{"br"}, ""},
        {{"gzip;q=0"}, ""},
        {{"gzip; q=0.000"}, ""},
        {{"gzip;q=0.5"}, "gzip"},
        {{"gzip;q=1.0, br"}, "gzip"},
        {{"GZIP"}, "gzip"},
        {{"gzip ; q=0"}, ""},
        {{"gzip;Q=0"}, ""}, // parameter names are case-insensitive (RFC 9110 §12.4.2)
        {{"identity"}, ""},
        {{"deflate, x-gzip"}, ""},
        {{"br", "gzip"}, "gzip"}, // two fields
        {{""}, ""},
        {{}, ""},
    };
    for (const Row &row : rows) {
        HeaderMap h;
        std::string shown;
        for (const std::string &v : row.values) {
            h.add("Accept-Encoding", v);
            shown += "[" + v + "]";
        }
        CAPTURE(shown);
        CHECK(normalized_accept_encoding(h) == row.expected);
    }
}

// ---- cache keys ----

TEST_CASE("edge/request_shaping: the same request gives the same key and hash") {
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(query_values(true));
    RequestHead r = request("GET", "/a/b.html?x=1", {{"Accept-Encoding", "gzip"}});
    CacheKey k1 = key_for(r, b), k2 = key_for(r, b);
    CHECK(same_key(k1, k2));
    CHECK(!k1.text.empty());
    CacheKey manual;
    manual.text = k1.text;
    manual.finalize();
    CHECK(same_key(manual, k1)); // the hash is the hash of the text
}

TEST_CASE("edge/request_shaping: the key's host ignores case") {
    config::CacheBehavior b;
    RequestHead r = request("GET", "/p");
    CHECK(same_key(key_for(r, b, "Example.COM"), key_for(r, b, "example.com")));
    CHECK(different_key(key_for(r, b, "a.example.com"), key_for(r, b, "b.example.com")));
}

TEST_CASE("edge/request_shaping: the key's path is kept as the invalidation path") {
    config::CacheBehavior b;
    RequestHead r = request("GET", "/?x=1");
    CacheKey k = key_for(r, b, "a.test", "/index.html"); // default root object rewriting
    CHECK(k.path == "/index.html");
    CHECK(different_key(k, key_for(r, b, "a.test", "/")));
    CHECK(key_for(request("GET", "/a/b?c=d"), b).path == "/a/b");
}

TEST_CASE("edge/request_shaping: different paths and keyed queries give different keys") {
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(query_values(true, {"v"}));
    CHECK(different_key(key_for(request("GET", "/a"), b), key_for(request("GET", "/b"), b)));
    CHECK(
        different_key(key_for(request("GET", "/a?v=1"), b), key_for(request("GET", "/a?v=2"), b)));
    CHECK(different_key(key_for(request("GET", "/a?v=1"), b), key_for(request("GET", "/a"), b)));
    // Path case matters (URLs are case-sensitive).
    CHECK(different_key(key_for(request("GET", "/A"), b), key_for(request("GET", "/a"), b)));
}

TEST_CASE("edge/request_shaping: parameters that are not keyed do not change the key") {
    config::CacheBehavior listed;
    listed.shape = config::legacy_request_shape(query_values(true, {"v"}));
    CHECK(same_key(key_for(request("GET", "/a?v=1&utm=x"), listed),
                   key_for(request("GET", "/a?utm=y&v=1"), listed)));

    config::CacheBehavior none; // query_string false: the query is not in the key at all
    CHECK(same_key(key_for(request("GET", "/a?v=1"), none), key_for(request("GET", "/a"), none)));

    config::CacheBehavior all;
    all.shape = config::legacy_request_shape(query_values(true));
    CHECK(different_key(key_for(request("GET", "/a?v=1&utm=x"), all),
                        key_for(request("GET", "/a?v=1&utm=y"), all)));
}

TEST_CASE("edge/request_shaping: the key varies on the normalised Accept-Encoding only") {
    config::CacheBehavior b;
    auto with_ae = [&](std::string_view ae) {
        return key_for(request("GET", "/a", {{"Accept-Encoding", std::string(ae)}}), b);
    };
    CacheKey plain = key_for(request("GET", "/a"), b);
    CHECK(same_key(with_ae("gzip, deflate, br"), with_ae("gzip")));
    CHECK(same_key(with_ae("br"), plain));
    CHECK(same_key(with_ae("gzip;q=0"), plain));
    CHECK(different_key(with_ae("gzip"), plain));
}

TEST_CASE("edge/request_shaping: forwarded header values are part of the key") {
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(header_values({"X-Device"}));
    auto with = [&](const Fields &f) { return key_for(request("GET", "/a", f), b); };
    CHECK(different_key(with({{"X-Device", "mobile"}}), with({{"X-Device", "desktop"}})));
    CHECK(different_key(with({{"X-Device", "mobile"}}), with({})));
    // Names compare case-insensitively; headers that are not forwarded do not matter.
    CHECK(same_key(with({{"x-device", "mobile"}}), with({{"X-DEVICE", "mobile"}})));
    CHECK(same_key(with({{"X-Device", "tv"}, {"User-Agent", "a"}}),
                   with({{"X-Device", "tv"}, {"User-Agent", "b"}})));
}

TEST_CASE("edge/request_shaping: forwarding every header keys on all of them") {
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(header_values({"*"}));
    auto with = [&](const Fields &f) { return key_for(request("GET", "/a", f), b); };
    CHECK(different_key(with({{"User-Agent", "a"}}), with({{"User-Agent", "b"}})));
    CHECK(same_key(with({{"User-Agent", "a"}}), with({{"user-agent", "a"}})));
}

TEST_CASE("edge/request_shaping: cookies are keyed as the behavior forwards them") {
    auto with_cookies = [](config::CookieForward mode, std::vector<std::string> names,
                           const std::string &cookie) {
        config::CacheBehavior b;
        b.shape = config::legacy_request_shape(cookie_values(mode, std::move(names)));
        Fields f;
        if (!cookie.empty()) f.emplace_back("Cookie", cookie);
        return key_for(request("GET", "/a", f), b);
    };
    SUBCASE("none ignores every cookie") {
        CHECK(same_key(with_cookies(config::CookieForward::none, {}, "session=1"),
                       with_cookies(config::CookieForward::none, {}, "")));
    }
    SUBCASE("all keys on every cookie") {
        CHECK(different_key(with_cookies(config::CookieForward::all, {}, "a=1"),
                            with_cookies(config::CookieForward::all, {}, "a=2")));
    }
    SUBCASE("a whitelist keys on the listed cookies only") {
        auto wl = [&](const std::string &c) {
            return with_cookies(config::CookieForward::whitelist, {"session"}, c);
        };
        CHECK(different_key(wl("session=1; theme=dark"), wl("session=2; theme=dark")));
        CHECK(same_key(wl("session=1; theme=dark"), wl("theme=light; session=1")));
        CHECK(same_key(wl("theme=dark"), wl("")));
        CHECK(different_key(wl("Session=1"), wl("session=1"))); // names are case-sensitive
    }
}

// ---- origin requests ----

TEST_CASE("edge/request_shaping: the origin target is origin_path + path, with the query if "
          "forwarded") {
    config::Origin o = test_origin();
    RequestHead v = request("GET", "/a/b.html?x=1&y=2");
    config::CacheBehavior no_query;
    config::CacheBehavior with_query;
    with_query.shape =
        config::legacy_request_shape(query_values(true, {"x"})); // all parameters still travel

    OriginRequest r1(v, no_query, o);
    CHECK(r1.out.method == Method::get);
    CHECK(r1.out.method_text == "GET");
    CHECK(r1.out.target == "/prod/a/b.html");
    OriginRequest r2(v, with_query, o);
    CHECK(r2.out.target == "/prod/a/b.html?x=1&y=2");

    o.origin_path.clear();
    OriginRequest r3(v, no_query, o);
    CHECK(r3.out.target == "/a/b.html");

    OriginRequest r4(request("GET", "/a?"), with_query, o); // an empty query adds no '?'
    CHECK(r4.out.target == "/a");
}

TEST_CASE("edge/request_shaping: the origin request uses the path after default root rewriting") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    RequestHead v = request("GET", "/");
    OriginRequestInput in;
    in.viewer = &v;
    in.path = "/index.html";
    in.behavior = &b;
    in.origin = &o;
    RequestHead out;
    build_origin_request(in, out);
    CHECK(out.target == "/prod/index.html");
}

TEST_CASE("edge/request_shaping: the origin request is HTTP/1.1 and starts from a clean head") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    RequestHead v = request("GET", "/a", {{"X-A", "1"}}, 0);
    OriginRequestInput in;
    in.viewer = &v;
    in.path = v.path();
    in.behavior = &b;
    in.origin = &o;
    RequestHead out = request("POST", "/old", {{"X-Stale", "1"}});
    build_origin_request(in, out);
    CHECK(out.version_major == 1);
    CHECK(out.version_minor == 1);
    CHECK(!out.headers.contains("x-stale"));
    CHECK(out.headers.get("x-a") == "1");
}

TEST_CASE("edge/request_shaping: Host names the origin, with the port when not the default") {
    struct Row {
        std::string name;
        uint16_t port;
        bool https;
        std::string host;
    };
    const Row rows[] = {
        {"http on 80", 80, false, "origin.example"},
        {"http on 8080", 8080, false, "origin.example:8080"},
        {"https on 443", 443, true, "origin.example"},
        {"https on 8443", 8443, true, "origin.example:8443"},
        {"https on 80", 80, true, "origin.example:80"},
        {"no port given", 0, false, "origin.example"},
    };
    config::Origin o = test_origin();
    config::CacheBehavior b;
    RequestHead v = request("GET", "/", {{"Host", "www.viewer.test"}});
    for (const Row &row : rows) {
        CAPTURE(row.name);
        OriginRequest r(v, b, o, false, "", row.port, row.https);
        CHECK(r.out.headers.count("host") == 1);
        CHECK(r.out.headers.get("host") == row.host);
    }
}

TEST_CASE("edge/request_shaping: a behavior that forwards Host sends the viewer's Host") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(header_values({"Host"}));
    OriginRequest r(request("GET", "/", {{"Host", "www.viewer.test"}}), b, o);
    CHECK(r.out.headers.count("host") == 1);
    CHECK(r.out.headers.get("host") == "www.viewer.test");
}

TEST_CASE("edge/request_shaping: a forwarded Host the viewer did not send falls back to the "
          "origin's name") {
    // The origin request is HTTP/1.1, which must carry Host (RFC 9112 §3.2); an HTTP/1.0
    // viewer may have sent none.
    config::Origin o = test_origin();
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(header_values({"Host"}));
    OriginRequest r(request("GET", "/", {}, 0), b, o);
    CHECK(r.out.headers.count("host") == 1);
    CHECK(r.out.headers.get("host") == "origin.example");
}

TEST_CASE("edge/request_shaping: hop-by-hop fields and Expect do not reach the origin") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    RequestHead v = request("POST", "/upload",
                            {{"Connection", "keep-alive, X-Conn-Only"},
                             {"Keep-Alive", "timeout=5"},
                             {"X-Conn-Only", "secret"},
                             {"TE", "trailers"},
                             {"Transfer-Encoding", "chunked"},
                             {"Upgrade", "websocket"},
                             {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                             {"Proxy-Connection", "keep-alive"},
                             {"Trailer", "X-Checksum"},
                             {"Expect", "100-continue"},
                             {"Content-Type", "text/plain"},
                             {"X-Kept", "yes"}});
    OriginRequest r(v, b, o);
    for (const char *gone :
         {"connection", "keep-alive", "x-conn-only", "te", "transfer-encoding", "upgrade",
          "proxy-authorization", "proxy-connection", "trailer", "expect"}) {
        CAPTURE(gone);
        CHECK(!r.out.headers.contains(gone));
    }
    CHECK(r.out.headers.get("content-type") == "text/plain");
    CHECK(r.out.headers.get("x-kept") == "yes");
}

TEST_CASE("edge/request_shaping: Cookie travels to the origin only as the behavior forwards it") {
    config::Origin o = test_origin();
    RequestHead v =
        request("GET", "/", {{"Cookie", "session=abc; theme=dark"}, {"Cookie", "lang=en"}});
    struct Row {
        std::string name;
        config::CookieForward mode;
        std::vector<std::string> names;
        std::optional<std::string> cookie;
    };
    const Row rows[] = {
        {"none", config::CookieForward::none, {}, std::nullopt},
        {"all", config::CookieForward::all, {}, "session=abc; theme=dark; lang=en"},
        {"whitelist",
         config::CookieForward::whitelist,
         {"lang", "session"},
         "session=abc; lang=en"},
        {"whitelist matching nothing", config::CookieForward::whitelist, {"other"}, std::nullopt},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        config::CacheBehavior b;
        b.shape = config::legacy_request_shape(cookie_values(row.mode, row.names));
        OriginRequest r(v, b, o);
        CHECK(r.out.headers.count("cookie") == (row.cookie ? 1u : 0u));
        if (row.cookie) CHECK(r.out.headers.get("cookie") == *row.cookie);
    }
}

TEST_CASE("edge/request_shaping: Authorization is dropped from safe methods unless forwarded") {
    config::Origin o = test_origin();
    struct Row {
        std::string method;
        std::vector<std::string> forwarded_headers;
        bool kept;
    };
    const Row rows[] = {
        {"GET", {}, false},
        {"HEAD", {}, false},
        {"GET", {"Authorization"}, true},
        {"GET", {"authorization"}, true},
        {"GET", {"*"}, true},
        {"POST", {}, true},
        {"PUT", {}, true},
        {"DELETE", {}, true},
    };
    for (const Row &row : rows) {
        CAPTURE(row.method);
        CAPTURE(row.forwarded_headers.size());
        config::CacheBehavior b;
        b.shape = config::legacy_request_shape(header_values(row.forwarded_headers));
        OriginRequest r(request(row.method, "/", {{"Authorization", "Bearer t0k3n"}}), b, o);
        CHECK(r.out.headers.contains("authorization") == row.kept);
        if (row.kept) CHECK(r.out.headers.get("authorization") == "Bearer t0k3n");
    }
}

TEST_CASE("edge/request_shaping: a fetch for the cache drops ranges and conditionals") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    const Fields conditional = {
        {"Range", "bytes=0-99"},     {"If-Range", "\"v1\""},
        {"If-None-Match", "\"v1\""}, {"If-Modified-Since", "Tue, 01 Oct 2024 10:00:00 GMT"},
        {"If-Match", "\"v1\""},      {"If-Unmodified-Since", "Tue, 01 Oct 2024 10:00:00 GMT"},
        {"Accept", "text/html"}};
    RequestHead v = request("GET", "/video.mp4", conditional);
    OriginRequest cached(v, b, o, true);
    for (const auto &[name, value] : conditional) {
        CAPTURE(name);
        CHECK_FALSE(cached.out.headers.contains(name)); // Accept: unkeyed on a cached fetch
    }
    OriginRequest passed(v, b, o, false); // not for the cache: the viewer's request as is
    for (const auto &[name, value] : conditional) {
        CAPTURE(name);
        CHECK(passed.out.headers.get(name) == value);
    }
}

TEST_CASE("edge/request_shaping: a HEAD fetched for the cache becomes a GET") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    RequestHead v = request("HEAD", "/a");
    OriginRequest cached(v, b, o, true);
    CHECK(cached.out.method == Method::get);
    CHECK(cached.out.method_text == "GET");
    OriginRequest passed(v, b, o, false);
    CHECK(passed.out.method == Method::head);
    CHECK(passed.out.method_text == "HEAD");
    // Only HEAD is rewritten.
    OriginRequest post(request("POST", "/a"), b, o, true);
    CHECK(post.out.method == Method::post);
    CHECK(post.out.method_text == "POST");
}

TEST_CASE("edge/request_shaping: X-Forwarded-For gets the client address appended") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    struct Row {
        std::string name;
        Fields viewer;
        std::string client_ip;
        std::optional<std::string> xff;
    };
    const Row rows[] = {
        {"no earlier value", {}, "198.51.100.7", "198.51.100.7"},
        {"one earlier value",
         {{"X-Forwarded-For", "203.0.113.1"}},
         "198.51.100.7",
         "203.0.113.1, 198.51.100.7"},
        {"two earlier fields",
         {{"X-Forwarded-For", "203.0.113.1"}, {"x-forwarded-for", "203.0.113.2"}},
         "198.51.100.7",
         "203.0.113.1, 203.0.113.2, 198.51.100.7"},
        {"no client address", {{"X-Forwarded-For", "203.0.113.1"}}, "", "203.0.113.1"},
        {"nothing at all", {}, "", std::nullopt},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        OriginRequest r(request("GET", "/", row.viewer), b, o, false, row.client_ip);
        CHECK(r.out.headers.count("x-forwarded-for") == (row.xff ? 1u : 0u));
        if (row.xff) CHECK(r.out.headers.get("x-forwarded-for") == *row.xff);
    }
}

TEST_CASE("edge/request_shaping: Via gets perch appended") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    OriginRequest plain(request("GET", "/"), b, o);
    CHECK(plain.out.headers.count("via") == 1);
    CHECK(plain.out.headers.get("via") == "1.1 perch");
    OriginRequest proxied(request("GET", "/", {{"Via", "1.0 fred"}, {"Via", "1.1 p.example.net"}}),
                          b, o);
    CHECK(proxied.out.headers.count("via") == 1);
    CHECK(proxied.out.headers.get("via") == "1.0 fred, 1.1 p.example.net, 1.1 perch");
}

TEST_CASE("edge/request_shaping: Accept-Encoding reaches the origin normalised") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    OriginRequest gz(request("GET", "/", {{"Accept-Encoding", "br, gzip, deflate"}}), b, o);
    CHECK(gz.out.headers.count("accept-encoding") == 1);
    CHECK(gz.out.headers.get("accept-encoding") == "gzip");
    // Without a coding the key keeps, the one object stored for the key is asked as identity.
    OriginRequest br(request("GET", "/", {{"Accept-Encoding", "br"}}), b, o);
    CHECK(br.out.headers.get("accept-encoding") == "identity");
    OriginRequest none(request("GET", "/"), b, o);
    CHECK(none.out.headers.get("accept-encoding") == "identity");
}

TEST_CASE("edge/request_shaping: origin custom headers are set over viewer fields") {
    config::Origin o = test_origin();
    o.custom_headers = {{"X-Origin-Verify", "s3cr3t"}, {"X-Env", "prod"}};
    config::CacheBehavior b;
    OriginRequest r(
        request(
            "GET", "/",
            {{"x-origin-verify", "forged"}, {"X-Other", "1"}, {"X-ORIGIN-VERIFY", "forged again"}}),
        b, o);
    CHECK(r.out.headers.count("x-origin-verify") == 1);
    CHECK(r.out.headers.get("x-origin-verify") == "s3cr3t");
    CHECK(r.out.headers.get("x-env") == "prod");
    CHECK(r.out.headers.get("x-other") == "1");
}

TEST_CASE("edge/request_shaping: end-to-end viewer fields keep their order and values") {
    config::Origin o = test_origin();
    config::CacheBehavior b;
    OriginRequest r(request("GET", "/",
                            {{"Host", "v.test"},
                             {"Accept", "text/html"},
                             {"User-Agent", "curl/8"},
                             {"Accept-Language", "en"}}),
                    b, o, false, "");
    const Fields
        expected = {{"Host", "origin.example"},
                    {"Accept", "text/html"},
                    {"User-Agent", "curl/8"},
                    {"Accept-Language", "en"},
                    {"Accept-Encoding", "identity"}, // the key's one object for "no coding"
                    {"Via", "1.1 perch"}};
    CHECK(fields_of(r.out.headers) == expected);
}

// ---- response heads ----

namespace {

ResponseHead response(uint16_t status, std::string_view reason, const Fields &fields) {
    ResponseHead r;
    r.status = status;
    r.reason = reason;
    for (const auto &[name, value] : fields)
        r.headers.add(name, value);
    return r;
}

// The time the heads below are produced at, and the Date field added for it when the origin
// sent none.
constexpr perch::core::UnixMillis produced_at = 784111777000;
#define DATE_LINE "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

std::string response_head(const ResponseHead &origin, uint16_t status, bool keep_set_cookie) {
    std::string out;
    append_response_head(origin, status, keep_set_cookie, produced_at, out);
    return out;
}

} // namespace

TEST_CASE("edge/request_shaping: the response head keeps end-to-end fields in order") {
    ResponseHead origin = response(
        200, "OK",
        {{"Content-Type", "text/html"}, {"Cache-Control", "max-age=60"}, {"ETag", "\"v1\""}});
    CHECK(response_head(origin, 200, false) == "HTTP/1.1 200 OK\r\n"
                                               "Content-Type: text/html\r\n"
                                               "Cache-Control: max-age=60\r\n"
                                               "ETag: \"v1\"\r\n"
                                               "Via: 1.1 perch\r\n" DATE_LINE);
}

TEST_CASE("edge/request_shaping: the response head is appended to what the string holds") {
    std::string out = "before\r\n";
    append_response_head(response(204, "No Content", {}), 204, false, produced_at, out);
    CHECK(out == "before\r\nHTTP/1.1 204 No Content\r\nVia: 1.1 perch\r\n" DATE_LINE);
}

TEST_CASE("edge/request_shaping: an origin's own Date is kept and no second one is added") {
    std::string head =
        response_head(response(200, "OK", {{"Date", "Mon, 01 Jan 2024 00:00:00 GMT"}}), 200, false);
    CHECK(head == "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nVia: 1.1 perch\r\n");
}

TEST_CASE("edge/request_shaping: the origin's reason phrase is kept for its own status") {
    CHECK(response_head(response(200, "Fine", {}), 200, false) ==
          "HTTP/1.1 200 Fine\r\nVia: 1.1 perch\r\n" DATE_LINE);
    CHECK(response_head(response(404, "", {}), 404, false) ==
          "HTTP/1.1 404 Not Found\r\nVia: 1.1 perch\r\n" DATE_LINE);
}

TEST_CASE("edge/request_shaping: a replaced status gets its standard reason phrase") {
    struct Row {
        uint16_t origin, replaced;
        std::string line;
    };
    const Row rows[] = {
        {500, 503, "HTTP/1.1 503 Service Unavailable\r\n"},
        {404, 200, "HTTP/1.1 200 OK\r\n"},
        {403, 404, "HTTP/1.1 404 Not Found\r\n"},
    };
    for (const Row &row : rows) {
        CAPTURE(row.replaced);
        std::string head =
            response_head(response(row.origin, "Origin Words", {}), row.replaced, false);
        CHECK(head.substr(0, head.find("\r\n") + 2) == row.line);
    }
}

TEST_CASE("edge/request_shaping: hop-by-hop, framing and Age fields leave the response head") {
    ResponseHead origin = response(200, "OK",
                                   {{"Connection", "keep-alive, X-Hop"},
                                    {"Keep-Alive", "timeout=5"},
                                    {"X-Hop", "1"},
                                    {"Transfer-Encoding", "chunked"},
                                    {"Content-Length", "10"},
                                    {"Upgrade", "h2c"},
                                    {"Trailer", "X-Sum"},
                                    {"Proxy-Authenticate", "Basic"},
                                    {"Age", "30"},
                                    {"X-End", "kept"}});
    CHECK(response_head(origin, 200, false) == "HTTP/1.1 200 OK\r\n"
                                               "X-End: kept\r\n"
                                               "Via: 1.1 perch\r\n" DATE_LINE);
}

TEST_CASE("edge/request_shaping: Set-Cookie is dropped unless kept") {
    ResponseHead origin =
        response(200, "OK", {{"Set-Cookie", "a=1; Path=/"}, {"X", "y"}, {"set-cookie", "b=2"}});
    CHECK(response_head(origin, 200, false) ==
          "HTTP/1.1 200 OK\r\nX: y\r\nVia: 1.1 perch\r\n" DATE_LINE);
    CHECK(response_head(origin, 200, true) == "HTTP/1.1 200 OK\r\n"
                                              "Set-Cookie: a=1; Path=/\r\n"
                                              "X: y\r\n"
                                              "set-cookie: b=2\r\n"
                                              "Via: 1.1 perch\r\n" DATE_LINE);
}

TEST_CASE("edge/request_shaping: the origin's Via fields are merged with perch's") {
    ResponseHead one = response(200, "OK", {{"Via", "1.0 x"}});
    CHECK(response_head(one, 200, false) ==
          "HTTP/1.1 200 OK\r\nVia: 1.0 x, 1.1 perch\r\n" DATE_LINE);
    ResponseHead two = response(200, "OK", {{"Via", "1.0 x"}, {"A", "b"}, {"via", "1.1 y"}});
    CHECK(response_head(two, 200, false) ==
          "HTTP/1.1 200 OK\r\nA: b\r\nVia: 1.0 x, 1.1 y, 1.1 perch\r\n" DATE_LINE);
}

TEST_CASE("edge/request_shaping: on a cached fetch, unkeyed viewer headers stay behind") {
    // forwarded_values with headers none (most copied configs): a reflected X-Forwarded-Host
    // must not shape the one answer stored for every viewer.
    config::Origin o = test_origin();
    config::CacheBehavior b;
    b.shape = config::legacy_request_shape(header_values({"X-Device"}));
    const Fields hostile = {{"X-Forwarded-Host", "evil.example"},
                            {"X-Host", "evil.example"},
                            {"X-Original-URL", "/admin"},
                            {"X-Forwarded-Scheme", "http"},
                            {"X-Forwarded-Proto", "http"},
                            {"X-HTTP-Method-Override", "PUT"},
                            {"User-Agent", "probe"},
                            {"X-Device", "tv"}};
    RequestHead v = request("GET", "/", hostile);
    OriginRequest cached(v, b, o, true);
    for (const auto &[name, value] : hostile) {
        CAPTURE(name);
        CHECK(cached.out.headers.contains(name) == (name == "X-Device")); // keyed: forwarded
    }
    // A request whose answer is not stored still carries them (forwarded_values' way).
    OriginRequest passed(request("POST", "/", hostile), b, o, false);
    for (const auto &[name, value] : hostile) {
        CAPTURE(name);
        CHECK(passed.out.headers.get(name) == value);
    }
}

TEST_CASE("edge/request_shaping: field names with an underscore never reach the origin") {
    config::Origin o = test_origin();
    for (bool for_cache : {true, false}) {
        CAPTURE(for_cache);
        config::CacheBehavior b;
        b.shape = config::legacy_request_shape(header_values({"*"})); // every header keyed
        OriginRequest r(
            request(
                "GET", "/",
                {{"X_Forwarded_For", "1.2.3.4"}, {"X-A_B", "1"}, {"X-Forwarded-For", "5.6.7.8"}}),
            b, o, for_cache);
        CHECK_FALSE(r.out.headers.contains("X_Forwarded_For"));
        CHECK_FALSE(r.out.headers.contains("X-A_B"));
        CHECK(r.out.headers.get("X-Forwarded-For") == "5.6.7.8, 198.51.100.7");
    }
}

// Request authorities (RFC 9110 §7.2, RFC 9112 §3.2, RFC 3986 §3.2.2): what is valid, what one
// normalised text every spelling of the same authority becomes, and how a target and its Host
// resolve to one authority.
#include "http/authority.hpp"

#include <doctest/doctest.h>

#include <string>

using perch::core::RequestHead;
using perch::http::authority_host;
using perch::http::normalize_authority_into;
using perch::http::resolve_target;
using perch::http::TargetProblem;

TEST_CASE("http/authority: spellings of one authority normalise to one text") {
    struct Row {
        const char *in;
        uint16_t default_port;
        const char *out;
    };
    const Row rows[] = {
        {"example.com", 80, "example.com"},
        {"Example.COM", 80, "example.com"},
        {"example.com.", 80, "example.com"},
        {"example.com:80", 80, "example.com"},
        {"example.com:0080", 80, "example.com"},
        {"example.com:", 80, "example.com"},
        {"EXAMPLE.com.:80", 80, "example.com"},
        {"example.com:443", 443, "example.com"},
        {"example.com:443", 80, "example.com:443"},
        {"example.com:08080", 80, "example.com:8080"},
        {"example.com:0", 80, "example.com:0"},
        {"127.0.0.1:8081", 80, "127.0.0.1:8081"},
        {"[::1]", 80, "[::1]"},
        {"[::1]:80", 80, "[::1]"},
        {"[2001:DB8::1]:8443", 443, "[2001:db8::1]:8443"},
        {"a%2fb.example", 80, "a%2Fb.example"},
        {"sub_domain.example", 80, "sub_domain.example"},
        {"a,b", 80, "a,b"}, // sub-delims are valid in a reg-name
    };
    for (const Row &r : rows) {
        CAPTURE(r.in);
        std::string out = "stale";
        CHECK(normalize_authority_into(r.in, r.default_port, out));
        CHECK(out == r.out);
    }
}

TEST_CASE("http/authority: what is not a uri-host [\":\" port] is refused") {
    const char *bad[] = {
        "",        "go od",     "a, b",     "a@b",         "a/b",         "a?b",
        "a#b",     ".",         ":80",      "a:b",         "a:80:80",     "a:65536",
        "a:-1",    "a: 80",     "[::1",     "[::1]x",      "[not-v6]",    "[]",
        "::1",     "[v1.fe]",   "a%2",      "a%zz",        "a\tb",        "a\x7f",
        "caf\xc3\xa9",          "a:99999999999999999999",
    };
    for (const char *b : bad) {
        CAPTURE(b);
        std::string out;
        CHECK_FALSE(normalize_authority_into(b, 80, out));
    }
}

TEST_CASE("http/authority: authority_host drops the port, not an IPv6 address's colons") {
    CHECK(authority_host("a.example:8080") == "a.example");
    CHECK(authority_host("a.example") == "a.example");
    CHECK(authority_host("[::1]") == "[::1]");
    CHECK(authority_host("[::1]:8443") == "[::1]");
}

namespace {

RequestHead head(std::string target, std::initializer_list<const char *> hosts, int minor = 1) {
    RequestHead h;
    h.target = std::move(target);
    h.version_minor = minor;
    for (const char *host : hosts)
        h.headers.add("Host", host);
    return h;
}

} // namespace

TEST_CASE("http/authority: resolve_target gives the path and the one authority of a request") {
    std::string a;
    RequestHead h; // path_and_query points into it: it must outlive each result
    auto resolve = [&](RequestHead next, bool https) {
        h = std::move(next);
        return resolve_target(h, https, a);
    };
    auto r = resolve(head("/x?y=1", {"Example.com:80"}), false);
    CHECK(r.problem == TargetProblem::none);
    CHECK(r.path_and_query == "/x?y=1");
    CHECK(a == "example.com");

    // The viewer's scheme gives the default port.
    r = resolve(head("/", {"example.com:443"}), true);
    CHECK(a == "example.com");
    r = resolve(head("/", {"example.com:443"}), false);
    CHECK(a == "example.com:443");

    // absolute-form: its authority replaces Host, its scheme gives the default port.
    r = resolve(head("http://Other.example:80/p?q", {"example.com"}), true);
    CHECK(r.problem == TargetProblem::none);
    CHECK(r.path_and_query == "/p?q");
    CHECK(a == "other.example");
    r = resolve(head("HTTPS://other.example:443", {"example.com"}), false);
    CHECK(r.problem == TargetProblem::none);
    CHECK(r.path_and_query.empty());
    CHECK(a == "other.example");
    r = resolve(head("http://other.example?q", {"x"}), false);
    CHECK(r.path_and_query == "?q");

    // HTTP/1.0 may leave Host out.
    a = "stale";
    r = resolve(head("/", {}, 0), false);
    CHECK(r.problem == TargetProblem::none);
    CHECK(a.empty());
}

TEST_CASE("http/authority: resolve_target refuses what cannot name one authority") {
    struct Row {
        const char *what;
        RequestHead h;
        TargetProblem problem;
    };
    const Row rows[] = {
        {"HTTP/1.1 without Host", head("/", {}), TargetProblem::host_count},
        {"two Host fields", head("/", {"a", "a"}), TargetProblem::host_count},
        {"two Host fields in HTTP/1.0", head("/", {"a", "b"}, 0), TargetProblem::host_count},
        {"an invalid Host", head("/", {"go od"}), TargetProblem::bad_host},
        {"an empty Host", head("/", {""}), TargetProblem::bad_host},
        {"a Host with userinfo", head("/", {"a@b"}), TargetProblem::bad_host},
        {"asterisk-form", head("*", {"a"}), TargetProblem::bad_target},
        {"authority-form", head("a.example:443", {"a"}), TargetProblem::bad_target},
        {"a scheme-less target", head("a/b", {"a"}), TargetProblem::bad_target},
        {"absolute-form ftp", head("ftp://a/b", {"a"}), TargetProblem::bad_scheme},
        {"absolute-form with userinfo", head("http://u:p@a/b", {"a"}), TargetProblem::bad_host},
        {"absolute-form without a host", head("http:///b", {"a"}), TargetProblem::bad_host},
        {"absolute-form still needs Host in HTTP/1.1", head("http://a/b", {}),
         TargetProblem::host_count},
        {"absolute-form with an invalid Host", head("http://a/b", {"a b"}),
         TargetProblem::bad_host},
    };
    for (const Row &r : rows) {
        CAPTURE(r.what);
        std::string a;
        CHECK(resolve_target(r.h, false, a).problem == r.problem);
    }
}

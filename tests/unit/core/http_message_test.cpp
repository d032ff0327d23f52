#include "core/http_message.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace perch::core;

TEST_CASE("core/http_message: method names round-trip, case-sensitively") {
    const Method named[] = {Method::get,   Method::head,    Method::post,
                            Method::put,   Method::del,     Method::options,
                            Method::patch, Method::connect, Method::trace};
    for (Method m : named) {
        CAPTURE(std::string(method_name(m)));
        CHECK(!method_name(m).empty());
        CHECK(method_from_name(method_name(m)) == m);
    }
    CHECK(method_name(Method::del) == "DELETE");
    CHECK(method_name(Method::other).empty());
    CHECK(method_from_name("get") == Method::other); // RFC 9110 §9.1: case-sensitive
    CHECK(method_from_name("PURGE") == Method::other);
    CHECK(method_from_name("") == Method::other);
}

TEST_CASE("core/http_message: GET, HEAD, OPTIONS and TRACE are the safe methods") {
    CHECK(method_is_safe(Method::get));
    CHECK(method_is_safe(Method::head));
    CHECK(method_is_safe(Method::options));
    CHECK(method_is_safe(Method::trace));
    for (Method m :
         {Method::post, Method::put, Method::del, Method::patch, Method::connect, Method::other})
        CHECK_MESSAGE(!method_is_safe(m), std::string(method_name(m)));
}

TEST_CASE("core/http_message: reason phrases for every registered status, none for others") {
    CHECK(reason_phrase(200) == "OK");
    CHECK(reason_phrase(206) == "Partial Content");
    CHECK(reason_phrase(304) == "Not Modified");
    CHECK(reason_phrase(413) == "Content Too Large"); // RFC 9110's name, not the old one
    CHECK(reason_phrase(416) == "Range Not Satisfiable");
    CHECK(reason_phrase(502) == "Bad Gateway");
    CHECK(reason_phrase(504) == "Gateway Timeout");
    CHECK(reason_phrase(409) == "Conflict"); // the admin endpoint's duplicate batch
    CHECK(reason_phrase(103) == "Early Hints");
    CHECK(reason_phrase(451) == "Unavailable For Legal Reasons");
    CHECK(reason_phrase(511) == "Network Authentication Required");
    CHECK(reason_phrase(299).empty());
    CHECK(reason_phrase(0).empty());
    CHECK(reason_phrase(999).empty());
}

TEST_CASE("core/http_message: a request target splits into path and query at the first '?'") {
    RequestHead h;
    h.target = "/a/b.txt?x=1&y=?2";
    CHECK(h.path() == "/a/b.txt");
    CHECK(h.query() == "x=1&y=?2");
    CHECK(h.has_query());
    h.target = "/plain";
    CHECK(h.path() == "/plain");
    CHECK(h.query().empty());
    CHECK(!h.has_query());
    h.target = "/empty?";
    CHECK(h.path() == "/empty");
    CHECK(h.query().empty());
    CHECK(h.has_query()); // an empty query is still a query (it is part of the cache key)
}

TEST_CASE("core/http_message: clear() returns heads to their defaults") {
    RequestHead r;
    r.method = Method::post;
    r.method_text = "POST";
    r.target.append("/x"); // (= "/x" trips GCC 12 -O3 -Wmaybe-uninitialized, a false positive)
    r.version_minor = 0;
    r.headers.add("Host", "a");
    r.clear();
    CHECK(r.method == Method::get);
    CHECK(r.method_text.empty());
    CHECK(r.target.empty());
    CHECK(r.version_major == 1);
    CHECK(r.version_minor == 1);
    CHECK(r.headers.empty());
    ResponseHead s;
    s.status = 404;
    s.reason = "Not Found";
    s.headers.add("Age", "1");
    s.clear();
    CHECK(s.status == 200);
    CHECK(s.reason.empty());
    CHECK(s.headers.empty());
}

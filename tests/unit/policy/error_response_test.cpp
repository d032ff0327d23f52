// CloudFront's custom error responses and error caching ("How CloudFront processes HTTP 4xx and
// 5xx status codes from your origin" in the developer guide). One row per rule; a failing row is
// named in the failure message. The default error caching rows mirror
// config::error_caching_of, the one table of the codes CloudFront caches.
// Rows name only the fields they set (designated initializers; the rest keep their defaults,
// which GCC 12 -Wextra reports as missing).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// GCC 12 at -O3 takes the defaulted strings of such rows for uninitialized (as PR 105651).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "policy/error_response.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

using perch::config::CustomErrorResponse;
using perch::config::Distribution;
using perch::policy::error_caching_ttl;
using perch::policy::error_response;
using perch::policy::ErrorResponse;

namespace {

Distribution with(std::vector<CustomErrorResponse> responses) {
    Distribution d;
    d.custom_error_responses = std::move(responses);
    return d;
}

// A distribution whose custom_error_responses name none of the codes asked about below
// (with the default 10 s error_caching_min_ttl changed, so that a leak would show).
const Distribution none_configured;
const Distribution others_configured =
    with({{.error_code = 418, .response_code = 200, .error_caching_min_ttl = 0},
          {.error_code = 599, .response_page_path = "/5xx.html", .error_caching_min_ttl = 777}});

struct ResponseRow {
    const char *what;
    CustomErrorResponse configured;
    uint16_t status; // the error being answered
    // Expected:
    uint16_t response_code;
    std::string page_path;
    int64_t caching_min_ttl;
    uint16_t viewer_status; // status_for(status)
};

void run(const std::vector<ResponseRow> &rows) {
    for (const ResponseRow &r : rows) {
        INFO(std::string(r.what));
        const Distribution d = with({{.error_code = 400}, r.configured, {.error_code = 504}});
        const std::optional<ErrorResponse> e = error_response(d, r.status);
        REQUIRE(e.has_value());
        CHECK(e->response_code == r.response_code);
        CHECK(std::string(e->page_path) == r.page_path);
        CHECK(e->caching_min_ttl == r.caching_min_ttl);
        CHECK(e->status_for(r.status) == r.viewer_status);
    }
}

struct NoneRow {
    const char *what;
    const Distribution &distribution;
    uint16_t status;
};

struct StatusRow {
    const char *what;
    uint16_t status;
};

struct TtlRow {
    const char *what;
    uint16_t status;
    std::optional<int64_t> ttl;
};

void run_defaults(const std::vector<TtlRow> &rows) {
    for (const TtlRow &r : rows) {
        INFO(std::string(r.what));
        CHECK(error_caching_ttl(none_configured, r.status) == r.ttl);
        CHECK(error_caching_ttl(others_configured, r.status) == r.ttl);
    }
}

} // namespace

TEST_CASE("policy/error_response: a status without a custom_error_response gets none") {
    const Distribution only_404 = with({{.error_code = 404, .response_page_path = "/404.html"}});
    const std::vector<NoneRow> rows = {
        {"no custom_error_response at all: 404", none_configured, 404},
        {"no custom_error_response at all: 500", none_configured, 500},
        {"one for 404 only: 403", only_404, 403},
        {"one for 404 only: 500", only_404, 500},
        {"one for 404 only: 405", only_404, 405},
        {"others configured: 404", others_configured, 404},
    };
    for (const NoneRow &r : rows) {
        INFO(std::string(r.what));
        CHECK_FALSE(error_response(r.distribution, r.status).has_value());
    }
}

TEST_CASE("policy/error_response: a status below 400 gets none even when one is configured") {
    const std::vector<StatusRow> rows = {
        {"200 OK", 200},
        {"204 No Content", 204},
        {"301 Moved Permanently", 301},
        {"304 Not Modified", 304},
        {"307 Temporary Redirect", 307},
        {"399, the last status below 400", 399},
    };
    for (const StatusRow &r : rows) {
        INFO(std::string(r.what));
        const Distribution d = with(
            {{.error_code = r.status, .response_code = 200, .response_page_path = "/page.html"}});
        CHECK_FALSE(error_response(d, r.status).has_value());
    }
}

TEST_CASE("policy/error_response: a configured one gives its page path, response code and error "
          "caching min TTL") {
    run({
        {"a 404 page answered as 404",
         {.error_code = 404,
          .response_code = 404,
          .response_page_path = "/errors/404.html",
          .error_caching_min_ttl = 300},
         404,
         404,
         "/errors/404.html",
         300,
         404},
        {"a single-page app answers 403 with its index as 200",
         {.error_code = 403,
          .response_code = 200,
          .response_page_path = "/index.html",
          .error_caching_min_ttl = 0},
         403,
         200,
         "/index.html",
         0,
         200},
        {"a 503 becomes a maintenance page answered as 503",
         {.error_code = 503,
          .response_code = 503,
          .response_page_path = "/maintenance.html",
          .error_caching_min_ttl = 5},
         503,
         503,
         "/maintenance.html",
         5,
         503},
        {"a 502 answered as 500 with another page",
         {.error_code = 502,
          .response_code = 500,
          .response_page_path = "/5xx.html",
          .error_caching_min_ttl = 60},
         502,
         500,
         "/5xx.html",
         60,
         500},
        {"a 416 answered as 200 with a page",
         {.error_code = 416,
          .response_code = 200,
          .response_page_path = "/range.html",
          .error_caching_min_ttl = 30},
         416,
         200,
         "/range.html",
         30,
         200},
    });
}

TEST_CASE("policy/error_response: response_code 0 keeps the error's own status") {
    run({
        {"404 with a page stays 404",
         {.error_code = 404, .response_code = 0, .response_page_path = "/404.html"},
         404,
         0,
         "/404.html",
         10,
         404},
        {"500 with a page stays 500",
         {.error_code = 500, .response_code = 0, .response_page_path = "/500.html"},
         500,
         0,
         "/500.html",
         10,
         500},
        {"414 with only a TTL stays 414",
         {.error_code = 414, .response_code = 0, .error_caching_min_ttl = 1},
         414,
         0,
         "",
         1,
         414},
    });
}

TEST_CASE("policy/error_response: an empty response_page_path keeps the origin's body") {
    run({
        {"a 404 with a new status only",
         {.error_code = 404, .response_code = 200, .error_caching_min_ttl = 0},
         404,
         200,
         "",
         0,
         200},
        {"a 503 with only an error caching min TTL",
         {.error_code = 503, .error_caching_min_ttl = 120},
         503,
         0,
         "",
         120,
         503},
    });
}

TEST_CASE("policy/error_response: error_caching_min_ttl defaults to CloudFront's 10 s") {
    run({
        {"a 404 page without an error_caching_min_ttl",
         {.error_code = 404, .response_code = 404, .response_page_path = "/404.html"},
         404,
         404,
         "/404.html",
         10,
         404},
    });
}

TEST_CASE("policy/error_response: a custom_error_response's error_caching_min_ttl wins over "
          "CloudFront's defaults") {
    const std::vector<TtlRow> rows = {
        {"404, always cached for 10 s, configured for 300 s", 404, 300},
        {"404 configured for 0 s", 404, 0},
        {"500 configured for 0 s", 500, 0},
        {"503 configured for 1 s", 503, 1},
        {"403, cached with max-age for 10 s, configured for 60 s", 403, 60},
        {"400 configured for 0 s", 400, 0},
        {"416, not cached by default, configured for 30 s", 416, 30},
        {"416 configured for 0 s", 416, 0},
        {"409, not cached by default, configured for 5 s", 409, 5},
    };
    for (const TtlRow &r : rows) {
        INFO(std::string(r.what));
        const Distribution d = with({{.error_code = 599, .error_caching_min_ttl = 86400},
                                     {.error_code = r.status, .error_caching_min_ttl = *r.ttl},
                                     {.error_code = 404, .error_caching_min_ttl = 86400}});
        CHECK(error_caching_ttl(d, r.status) == r.ttl);
    }
}

TEST_CASE("policy/error_response: without one, the codes CloudFront always caches get 10 s") {
    run_defaults({
        {"404 Not Found", 404, 10},
        {"414 URI Too Long", 414, 10},
        {"500 Internal Server Error", 500, 10},
        {"501 Not Implemented", 501, 10},
        {"502 Bad Gateway", 502, 10},
        {"503 Service Unavailable", 503, 10},
        {"504 Gateway Timeout", 504, 10},
    });
}

TEST_CASE("policy/error_response: without one, the codes CloudFront caches with max-age or "
          "s-maxage get 10 s") {
    run_defaults({
        {"400 Bad Request", 400, 10},
        {"403 Forbidden", 403, 10},
        {"405 Method Not Allowed", 405, 10},
        {"412 Precondition Failed", 412, 10},
        {"415 Unsupported Media Type", 415, 10},
    });
}

TEST_CASE("policy/error_response: without one, any other status gets no error caching TTL") {
    run_defaults({
        {"200 OK", 200, std::nullopt},
        {"301 Moved Permanently", 301, std::nullopt},
        {"304 Not Modified", 304, std::nullopt},
        {"401 Unauthorized", 401, std::nullopt},
        {"409 Conflict", 409, std::nullopt},
        {"410 Gone", 410, std::nullopt},
        {"416 Range Not Satisfiable", 416, std::nullopt},
        {"429 Too Many Requests", 429, std::nullopt},
        {"505 HTTP Version Not Supported", 505, std::nullopt},
    });
}

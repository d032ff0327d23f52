// CloudFront's TTL rules as tables. Every row is a sentence; a failing row is named in the
// failure message. Times: the response arrives at T (RFC 9110's example instant) and, unless a
// row says otherwise, the request left at T too and the origin's Date is T.
// Over 800 lines on purpose: one table row per documented case reads better than dense code.
#include "cache/policy.hpp"

#include "http/http_date.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using perch::cache::current_age_ms;
using perch::cache::decide_storage;
using perch::cache::is_fresh;
using perch::cache::StorageDecision;
using perch::cache::StoredTimes;
using perch::cache::TtlSettings;
using perch::core::Method;
using perch::core::RequestHead;
using perch::core::ResponseHead;

namespace {

constexpr int64_t T = 784111777000; // Sun, 06 Nov 1994 08:49:37 GMT

// The HTTP-date `s` seconds after T.
std::string at(int64_t s) {
    char buf[perch::http::http_date_length];
    return std::string(buf, perch::http::format_http_date(T + s * 1000, buf));
}

constexpr TtlSettings cf0{0, 86400, 31536000}; // CloudFront's defaults: min_ttl 0
constexpr TtlSettings cf_min{300, 600, 3600};  // min_ttl > 0
constexpr TtlSettings cf_low_max{0, 86400, 1000};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Row {
    const char *what;
    TtlSettings ttl = cf0;
    uint16_t status = 200;
    Method method = Method::get;
    bool authorization = false;
    bool date = true; // the response carries Date: T
    Headers headers = {};
    int64_t request_delay_ms = 0; // request_time = T - request_delay_ms
    std::optional<int64_t> error_caching_min_ttl = std::nullopt;
    perch::cache::SetCookieRule set_cookie = perch::cache::SetCookieRule::stripped;
    // Expected:
    const char *reason = nullptr; // nullptr: stored
    int64_t ttl_s = 0;
    int64_t age_ms = 0;
};

StorageDecision decide(const Row &r) {
    RequestHead req;
    req.method = r.method;
    req.target = "/index.html";
    if (r.authorization) req.headers.add("Authorization", "Bearer abc");
    ResponseHead resp;
    resp.status = r.status;
    if (r.date) resp.headers.add("Date", at(0));
    for (const auto &[name, value] : r.headers)
        resp.headers.add(name, value);
    return decide_storage(req, resp, r.ttl, T - r.request_delay_ms, T, r.error_caching_min_ttl,
                          r.set_cookie);
}

void run(const std::vector<Row> &rows) {
    for (const Row &r : rows) {
        INFO(std::string(r.what));
        const StorageDecision d = decide(r);
        if (r.reason) {
            CHECK(!d.store);
            REQUIRE(d.reason != nullptr);
            CHECK(std::string(d.reason) == r.reason);
        } else {
            CHECK(d.store);
            CHECK(d.reason == nullptr);
            CHECK(d.ttl_ms == r.ttl_s * 1000);
            CHECK(d.initial_age_ms == r.age_ms);
        }
    }
}

} // namespace

TEST_CASE("cache/policy: min_ttl 0 caches for the origin's freshness capped at max_ttl") {
    run({
        {.what = "max-age below max_ttl is used as is",
         .headers = {{"Cache-Control", "max-age=3600"}},
         .ttl_s = 3600},
        {.what = "max-age above max_ttl is capped",
         .ttl = cf_low_max,
         .headers = {{"Cache-Control", "max-age=3600"}},
         .ttl_s = 1000},
        {.what = "s-maxage beats max-age",
         .headers = {{"Cache-Control", "max-age=3600, s-maxage=600"}},
         .ttl_s = 600},
        {.what = "s-maxage beats a smaller max-age too",
         .headers = {{"Cache-Control", "max-age=60, s-maxage=600"}},
         .ttl_s = 600},
        {.what = "s-maxage above max_ttl is capped",
         .ttl = cf_low_max,
         .headers = {{"Cache-Control", "s-maxage=5000"}},
         .ttl_s = 1000},
        {.what = "s-maxage=0 is stored already stale (revalidated on every hit)",
         .headers = {{"Cache-Control", "s-maxage=0, max-age=600"}},
         .ttl_s = 0},
        {.what = "max-age=0 is stored already stale",
         .headers = {{"Cache-Control", "max-age=0"}},
         .ttl_s = 0},
        {.what = "no freshness header uses default_ttl", .ttl_s = 86400},
        {.what = "public alone is not freshness: default_ttl",
         .headers = {{"Cache-Control", "public"}},
         .ttl_s = 86400},
        {.what = "must-revalidate alone is not freshness: default_ttl",
         .headers = {{"Cache-Control", "must-revalidate"}},
         .ttl_s = 86400},
        {.what = "default_ttl is not capped by max_ttl", .ttl = cf_low_max, .ttl_s = 86400},
        {.what = "Expires - Date is the lifetime",
         .headers = {{"Expires", at(7200)}},
         .ttl_s = 7200},
        {.what = "Expires beyond max_ttl is capped",
         .ttl = cf_low_max,
         .headers = {{"Expires", at(7200)}},
         .ttl_s = 1000},
        {.what = "Expires equal to Date is stored already stale",
         .headers = {{"Expires", at(0)}},
         .ttl_s = 0},
        {.what = "Expires before Date is stored already stale",
         .headers = {{"Expires", at(-60)}},
         .ttl_s = 0},
        {.what = "max-age beats Expires",
         .headers = {{"Cache-Control", "max-age=60"}, {"Expires", at(7200)}},
         .ttl_s = 60},
        {.what = "max-age beats an earlier Expires",
         .headers = {{"Cache-Control", "max-age=600"}, {"Expires", at(-60)}},
         .ttl_s = 600},
        {.what = "s-maxage beats Expires",
         .headers = {{"Cache-Control", "s-maxage=60"}, {"Expires", at(7200)}},
         .ttl_s = 60},
        {.what = "an Expires in RFC 850 form counts",
         .headers = {{"Expires", "Sunday, 06-Nov-94 09:49:37 GMT"}},
         .ttl_s = 3600},
        {.what = "an Expires in asctime form counts",
         .headers = {{"Expires", "Sun Nov  6 09:49:37 1994"}},
         .ttl_s = 3600},
        {.what = "a huge max-age clamps to 2^31 then to max_ttl",
         .headers = {{"Cache-Control", "max-age=99999999999999999999999"}},
         .ttl_s = 31536000},
        {.what = "a huge max-age clamps to 2^31 under a huge max_ttl",
         .ttl = {0, 86400, 9000000000},
         .headers = {{"Cache-Control", "max-age=99999999999999999999999"}},
         .ttl_s = 2147483648},
        {.what = "a quoted max-age is accepted",
         .headers = {{"Cache-Control", "max-age=\"120\""}},
         .ttl_s = 120},
        {.what = "uppercase directive names count",
         .headers = {{"cache-control", "MAX-AGE=120"}},
         .ttl_s = 120},
        {.what = "Cache-Control split over two field lines is one list",
         .headers = {{"Cache-Control", "public"}, {"Cache-Control", "max-age=90"}},
         .ttl_s = 90},
        {.what = "Set-Cookie does not prevent storing here",
         .headers = {{"Set-Cookie", "id=1"}, {"Cache-Control", "max-age=60"}},
         .ttl_s = 60},
        {.what = "a HEAD response is stored like a GET one",
         .method = Method::head,
         .headers = {{"Cache-Control", "max-age=60"}},
         .ttl_s = 60},
        {.what = "a Vary on a real header is stored",
         .headers = {{"Vary", "Accept-Encoding"}, {"Cache-Control", "max-age=60"}},
         .ttl_s = 60},
    });
}

TEST_CASE("cache/policy: min_ttl 0 does not store no-store, no-cache or private responses") {
    run({
        {.what = "no-store", .headers = {{"Cache-Control", "no-store"}}, .reason = "no-store"},
        {.what = "no-cache", .headers = {{"Cache-Control", "no-cache"}}, .reason = "no-cache"},
        {.what = "private", .headers = {{"Cache-Control", "private"}}, .reason = "private"},
        {.what = "qualified no-cache=\"Set-Cookie\" counts as no-cache",
         .headers = {{"Cache-Control", "no-cache=\"Set-Cookie\", max-age=60"}},
         .reason = "no-cache"},
        {.what = "qualified private=\"X-User\" counts as private",
         .headers = {{"Cache-Control", "private=\"X-User\""}},
         .reason = "private"},
        {.what = "private beats max-age",
         .headers = {{"Cache-Control", "private, max-age=60"}},
         .reason = "private"},
        {.what = "no-cache beats s-maxage",
         .headers = {{"Cache-Control", "s-maxage=600, no-cache"}},
         .reason = "no-cache"},
        {.what = "no-store is the reason given first",
         .headers = {{"Cache-Control", "no-cache, private, no-store"}},
         .reason = "no-store"},
        {.what = "private is named before no-cache",
         .headers = {{"Cache-Control", "no-cache, private"}},
         .reason = "private"},
        {.what = "uppercase NO-STORE counts",
         .headers = {{"Cache-Control", "NO-STORE"}},
         .reason = "no-store"},
        {.what = "no-store on a second field line counts",
         .headers = {{"Cache-Control", "max-age=60"}, {"Cache-Control", "no-store"}},
         .reason = "no-store"},
        {.what = "public does not undo no-store",
         .headers = {{"Cache-Control", "public, no-store"}},
         .reason = "no-store"},
        {.what = "no-store inside a quoted argument is not a directive",
         .headers = {{"Cache-Control", "ext=\"no-store, private\", max-age=60"}},
         .ttl_s = 60},
        {.what = "Pragma: no-cache is ignored (RFC 9111 deprecates it)",
         .headers = {{"Pragma", "no-cache"}, {"Cache-Control", "max-age=60"}},
         .ttl_s = 60},
    });
}

TEST_CASE("cache/policy: min_ttl > 0 clamps the origin's freshness to [min_ttl, max_ttl]") {
    run({
        {.what = "max-age below min_ttl is raised",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "max-age=60"}},
         .ttl_s = 300},
        {.what = "max-age between min_ttl and max_ttl is used",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "max-age=1000"}},
         .ttl_s = 1000},
        {.what = "max-age above max_ttl is capped",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "max-age=7200"}},
         .ttl_s = 3600},
        {.what = "max-age=0 is raised to min_ttl",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "max-age=0"}},
         .ttl_s = 300},
        {.what = "s-maxage below min_ttl is raised",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "s-maxage=60, max-age=1000"}},
         .ttl_s = 300},
        {.what = "s-maxage between the bounds is used",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "s-maxage=1000, max-age=60"}},
         .ttl_s = 1000},
        {.what = "s-maxage above max_ttl is capped",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "s-maxage=99999"}},
         .ttl_s = 3600},
        {.what = "Expires below min_ttl is raised",
         .ttl = cf_min,
         .headers = {{"Expires", at(60)}},
         .ttl_s = 300},
        {.what = "Expires between the bounds is used",
         .ttl = cf_min,
         .headers = {{"Expires", at(1000)}},
         .ttl_s = 1000},
        {.what = "Expires above max_ttl is capped",
         .ttl = cf_min,
         .headers = {{"Expires", at(99999)}},
         .ttl_s = 3600},
        {.what = "no header: the greater of min_ttl and default_ttl (default)",
         .ttl = cf_min,
         .ttl_s = 600},
        {.what = "no header: the greater of min_ttl and default_ttl (min)",
         .ttl = {3600, 600, 86400},
         .ttl_s = 3600},
        {.what = "inverted settings: min_ttl wins over max_ttl",
         .ttl = {600, 600, 300},
         .headers = {{"Cache-Control", "max-age=1000"}},
         .ttl_s = 600},
        {.what = "min_ttl equal to max_ttl pins every response",
         .ttl = {500, 500, 500},
         .headers = {{"Cache-Control", "max-age=1"}},
         .ttl_s = 500},
    });
}

TEST_CASE("cache/policy: min_ttl > 0 stores a no-store response for min_ttl") {
    run({
        {.what = "no-store is stored for min_ttl",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "no-store"}},
         .ttl_s = 300},
        {.what = "no-cache is stored for min_ttl",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "no-cache"}},
         .ttl_s = 300},
        {.what = "private is stored for min_ttl",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "private"}},
         .ttl_s = 300},
        {.what = "no-store with a longer max-age is still stored for min_ttl only",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "no-store, max-age=1000"}},
         .ttl_s = 300},
        {.what = "private with s-maxage is stored for min_ttl only",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "private, s-maxage=3000"}},
         .ttl_s = 300},
        {.what = "no-store keeps the origin's Age",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "no-store"}, {"Age", "30"}},
         .ttl_s = 300,
         .age_ms = 30000},
    });
}

TEST_CASE("cache/policy: invalid freshness information means already expired") {
    run({
        {.what = "Expires: 0 is in the past", .headers = {{"Expires", "0"}}, .ttl_s = 0},
        {.what = "Expires: -1 is in the past", .headers = {{"Expires", "-1"}}, .ttl_s = 0},
        {.what = "a garbage Expires is in the past",
         .headers = {{"Expires", "tomorrow"}},
         .ttl_s = 0},
        {.what = "an empty Expires is in the past", .headers = {{"Expires", ""}}, .ttl_s = 0},
        {.what = "an Expires with a bad day name is in the past",
         .headers = {{"Expires", "Sux, 06 Nov 1994 10:49:37 GMT"}},
         .ttl_s = 0},
        {.what = "two different Expires values are treated as stale",
         .headers = {{"Expires", at(600)}, {"Expires", at(900)}},
         .ttl_s = 0},
        {.what = "two equal Expires values are fine",
         .headers = {{"Expires", at(600)}, {"Expires", at(600)}},
         .ttl_s = 600},
        {.what = "an invalid Expires is raised to min_ttl",
         .ttl = cf_min,
         .headers = {{"Expires", "0"}},
         .ttl_s = 300},
        {.what = "an invalid Expires does not matter next to max-age",
         .headers = {{"Expires", "0"}, {"Cache-Control", "max-age=60"}},
         .ttl_s = 60},
        {.what = "max-age=abc is stale", .headers = {{"Cache-Control", "max-age=abc"}}, .ttl_s = 0},
        {.what = "max-age=-1 is stale", .headers = {{"Cache-Control", "max-age=-1"}}, .ttl_s = 0},
        {.what = "max-age=1.5 is stale", .headers = {{"Cache-Control", "max-age=1.5"}}, .ttl_s = 0},
        {.what = "max-age without a value is stale",
         .headers = {{"Cache-Control", "max-age"}},
         .ttl_s = 0},
        {.what = "an invalid max-age still beats Expires",
         .headers = {{"Cache-Control", "max-age=x"}, {"Expires", at(600)}},
         .ttl_s = 0},
        {.what = "conflicting max-age values are stale",
         .headers = {{"Cache-Control", "max-age=60"}, {"Cache-Control", "max-age=600"}},
         .ttl_s = 0},
        {.what = "a stale max-age is raised to min_ttl",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "max-age=abc"}},
         .ttl_s = 300},
    });
}

TEST_CASE("cache/policy: the initial age counts Age, Date skew and the response delay") {
    run({
        {.what = "Age from the origin is the initial age",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "100"}},
         .ttl_s = 600,
         .age_ms = 100000},
        {.what = "an Age beyond max-age is stored already stale",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "700"}},
         .ttl_s = 600,
         .age_ms = 700000},
        {.what = "Age with min_ttl: the TTL is raised but the age is kept",
         .ttl = cf_min,
         .headers = {{"Cache-Control", "max-age=60"}, {"Age", "100"}},
         .ttl_s = 300,
         .age_ms = 100000},
        {.what = "Age applies to a default_ttl response",
         .headers = {{"Age", "5"}},
         .ttl_s = 86400,
         .age_ms = 5000},
        {.what = "an invalid Age is ignored",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "abc"}},
         .ttl_s = 600},
        {.what = "a negative Age is ignored",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "-5"}},
         .ttl_s = 600},
        {.what = "a fractional Age is ignored",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "1.5"}},
         .ttl_s = 600},
        {.what = "a list-valued Age uses its first member",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "100, 200"}},
         .ttl_s = 600,
         .age_ms = 100000},
        {.what = "a huge Age clamps to 2^31 seconds",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "99999999999999999999999"}},
         .ttl_s = 600,
         .age_ms = 2147483648000},
        {.what = "an old Date gives an apparent age",
         .date = false,
         .headers = {{"Date", at(-50)}, {"Cache-Control", "max-age=600"}},
         .ttl_s = 600,
         .age_ms = 50000},
        {.what = "the apparent age wins over a smaller Age",
         .date = false,
         .headers = {{"Date", at(-50)}, {"Age", "20"}, {"Cache-Control", "max-age=600"}},
         .ttl_s = 600,
         .age_ms = 50000},
        {.what = "a larger Age wins over the apparent age",
         .date = false,
         .headers = {{"Date", at(-50)}, {"Age", "80"}, {"Cache-Control", "max-age=600"}},
         .ttl_s = 600,
         .age_ms = 80000},
        {.what = "a Date in the future (origin clock ahead) gives no negative age",
         .date = false,
         .headers = {{"Date", at(3600)}, {"Cache-Control", "max-age=600"}},
         .ttl_s = 600},
        {.what = "the response delay is added to Age",
         .headers = {{"Cache-Control", "max-age=600"}, {"Age", "10"}},
         .request_delay_ms = 2000,
         .ttl_s = 600,
         .age_ms = 12000},
        {.what = "the response delay counts even without Age",
         .headers = {{"Cache-Control", "max-age=600"}},
         .request_delay_ms = 1500,
         .ttl_s = 600,
         .age_ms = 1500},
        {.what = "a request time after the response time gives no negative delay",
         .headers = {{"Cache-Control", "max-age=600"}},
         .request_delay_ms = -5000,
         .ttl_s = 600},
    });
}

TEST_CASE("cache/policy: Expires is measured against the origin's Date, not our clock") {
    run({
        {.what = "an origin clock an hour behind: Expires - Date is still the lifetime",
         .date = false,
         .headers = {{"Date", at(-3600)}, {"Expires", at(-3600 + 7200)}},
         .ttl_s = 7200,
         .age_ms = 3600000},
        {.what = "an origin clock an hour ahead: Expires - Date is still the lifetime",
         .date = false,
         .headers = {{"Date", at(3600)}, {"Expires", at(3600 + 600)}},
         .ttl_s = 600},
        {.what = "a missing Date is taken as the response time",
         .date = false,
         .headers = {{"Expires", at(100)}},
         .ttl_s = 100},
        {.what = "an invalid Date is taken as the response time",
         .date = false,
         .headers = {{"Date", "yesterday"}, {"Expires", at(100)}},
         .ttl_s = 100},
        {.what = "an invalid Date gives no apparent age",
         .date = false,
         .headers = {{"Date", "0"}, {"Cache-Control", "max-age=60"}},
         .ttl_s = 60},
    });
}

TEST_CASE("cache/policy: CDN-Cache-Control is used instead of Cache-Control") {
    run({
        {.what = "CDN-Cache-Control max-age beats Cache-Control max-age",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "max-age=600"}},
         .ttl_s = 600},
        {.what = "CDN-Cache-Control no-store wins over a cacheable Cache-Control",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "no-store"}},
         .reason = "no-store"},
        {.what = "a cacheable CDN-Cache-Control overrides Cache-Control no-store",
         .headers = {{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "max-age=600"}},
         .ttl_s = 600},
        {.what = "a cacheable CDN-Cache-Control overrides Cache-Control private",
         .headers = {{"Cache-Control", "private, max-age=60"},
                     {"CDN-Cache-Control", "s-maxage=900"}},
         .ttl_s = 900},
        {.what = "CDN-Cache-Control without freshness ignores Expires (RFC 9213)",
         .headers = {{"CDN-Cache-Control", "public"}, {"Expires", at(60)}},
         .ttl_s = 86400},
        {.what = "CDN-Cache-Control without freshness ignores Cache-Control max-age",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "public"}},
         .ttl_s = 86400},
        {.what = "an empty CDN-Cache-Control falls back to Cache-Control",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", ""}},
         .ttl_s = 60},
        {.what = "a blank CDN-Cache-Control falls back to Cache-Control and Expires",
         .headers = {{"CDN-Cache-Control", " , "}, {"Expires", at(60)}},
         .ttl_s = 60},
        {.what = "the CDN-Cache-Control name ignores case",
         .headers = {{"Cache-Control", "max-age=60"}, {"cdn-cache-control", "max-age=120"}},
         .ttl_s = 120},
        {.what = "CDN-Cache-Control is clamped like Cache-Control",
         .ttl = cf_min,
         .headers = {{"CDN-Cache-Control", "max-age=10"}},
         .ttl_s = 300},
        {.what = "a quoted CDN-Cache-Control max-age (a String) ignores the whole field",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "max-age=\"600\""}},
         .ttl_s = 60},
        {.what = "a token CDN-Cache-Control max-age ignores the whole field, no-store too",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "no-store, max-age=a"}},
         .ttl_s = 60},
        {.what = "an uppercase CDN-Cache-Control key fails the Dictionary: Cache-Control applies",
         .headers = {{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "Max-Age=600"}},
         .ttl_s = 60},
        {.what = "a CDN-Cache-Control that fails to parse falls back to Cache-Control and Expires",
         .headers = {{"CDN-Cache-Control", "max-age=600,"}, {"Expires", at(60)}},
         .ttl_s = 60},
        {.what = "a Boolean false CDN-Cache-Control directive is not set",
         .headers = {{"CDN-Cache-Control", "no-store=?0, max-age=600"}},
         .ttl_s = 600},
        {.what = "CDN-Cache-Control field lines are one Dictionary",
         .headers = {{"CDN-Cache-Control", "public"}, {"CDN-Cache-Control", "max-age=600"}},
         .ttl_s = 600},
        {.what = "CDN-Cache-Control no-cache is stored for min_ttl when min_ttl > 0",
         .ttl = cf_min,
         .headers = {{"CDN-Cache-Control", "no-cache"}, {"Cache-Control", "max-age=3000"}},
         .ttl_s = 300},
    });
}

TEST_CASE("cache/policy: a request with Authorization is stored only when the response allows") {
    run({
        {.what = "max-age alone does not allow it",
         .authorization = true,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "authorization"},
        {.what = "no header at all does not allow it",
         .authorization = true,
         .reason = "authorization"},
        {.what = "min_ttl > 0 does not override it",
         .ttl = cf_min,
         .authorization = true,
         .reason = "authorization"},
        {.what = "public allows it",
         .authorization = true,
         .headers = {{"Cache-Control", "public, max-age=60"}},
         .ttl_s = 60},
        {.what = "s-maxage allows it",
         .authorization = true,
         .headers = {{"Cache-Control", "s-maxage=60"}},
         .ttl_s = 60},
        {.what = "must-revalidate allows it",
         .authorization = true,
         .headers = {{"Cache-Control", "must-revalidate, max-age=60"}},
         .ttl_s = 60},
        {.what = "public in CDN-Cache-Control allows it",
         .authorization = true,
         .headers = {{"CDN-Cache-Control", "public, max-age=60"}},
         .ttl_s = 60},
        {.what = "public in Cache-Control does not count when CDN-Cache-Control is used",
         .authorization = true,
         .headers = {{"Cache-Control", "public"}, {"CDN-Cache-Control", "max-age=60"}},
         .reason = "authorization"},
        {.what = "an allowed response with no-store is still not stored",
         .authorization = true,
         .headers = {{"Cache-Control", "public, no-store"}},
         .reason = "no-store"},
    });
}

TEST_CASE("cache/policy: only GET, HEAD and (when the behavior caches it) OPTIONS are stored") {
    run({
        {.what = "POST", .method = Method::post, .reason = "method"},
        {.what = "POST even with max-age",
         .method = Method::post,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "method"},
        {.what = "PUT", .method = Method::put, .reason = "method"},
        {.what = "DELETE", .method = Method::del, .reason = "method"},
        {.what = "OPTIONS (cached_methods with OPTIONS)",
         .method = Method::options,
         .ttl_s = 86400},
        {.what = "PATCH", .method = Method::patch, .reason = "method"},
        {.what = "an unknown method", .method = Method::other, .reason = "method"},
        {.what = "POST with min_ttl > 0",
         .ttl = cf_min,
         .method = Method::post,
         .reason = "method"},
        {.what = "POST with an error caching TTL",
         .status = 404,
         .method = Method::post,
         .error_caching_min_ttl = 10,
         .reason = "method"},
    });
}

TEST_CASE("cache/policy: heuristically cacheable statuses are stored without freshness") {
    for (uint16_t status : {200, 203, 204, 300, 301, 404, 410, 414, 501}) {
        INFO("status ", status);
        run({{.what = "default_ttl", .status = status, .ttl_s = 86400},
             {.what = "max-age",
              .status = status,
              .headers = {{"Cache-Control", "max-age=60"}},
              .ttl_s = 60},
             {.what = "min_ttl", .ttl = cf_min, .status = status, .ttl_s = 600}});
    }
}

TEST_CASE("cache/policy: 404, 410, 414 and 501 marked no-store, no-cache or private are never "
          "stored, not even for min_ttl") {
    for (uint16_t status : {404, 410, 414, 501}) {
        INFO("status ", status);
        run({{.what = "no-store with min_ttl > 0",
              .ttl = cf_min,
              .status = status,
              .headers = {{"Cache-Control", "no-store"}},
              .reason = "no-store"},
             {.what = "private with max-age and min_ttl > 0",
              .ttl = cf_min,
              .status = status,
              .headers = {{"Cache-Control", "private, max-age=60"}},
              .reason = "private"},
             {.what = "no-cache",
              .status = status,
              .headers = {{"Cache-Control", "no-cache"}},
              .reason = "no-cache"}});
    }
    run({{.what = "a 200 with no-store is still stored for min_ttl",
          .ttl = cf_min,
          .headers = {{"Cache-Control", "no-store"}},
          .ttl_s = 300}});
}

TEST_CASE("cache/policy: must-understand stores an understood status despite no-store") {
    run({
        {.what = "200 with must-understand, no-store, max-age",
         .headers = {{"Cache-Control", "must-understand, no-store, max-age=60"}},
         .ttl_s = 60},
        {.what = "301 with must-understand, no-store",
         .status = 301,
         .headers = {{"Cache-Control", "no-store, must-understand"}},
         .ttl_s = 86400},
        {.what = "a status whose rules are not implemented is not stored",
         .status = 299,
         .headers = {{"Cache-Control", "must-understand, no-store, max-age=60"}},
         .reason = "must-understand"},
        {.what = "private still prevents storing",
         .headers = {{"Cache-Control", "must-understand, private, max-age=60"}},
         .reason = "private"},
        {.what = "no-store alone is still refused",
         .headers = {{"Cache-Control", "no-store, max-age=60"}},
         .reason = "no-store"},
    });
}

TEST_CASE("cache/policy: other statuses need explicit freshness") {
    for (uint16_t status :
         {201, 202, 302, 303, 400, 401, 403, 405, 409, 412, 415, 429, 500, 502, 503, 504}) {
        INFO("status ", status);
        const std::string reason = "status " + std::to_string(status);
        run({{.what = "no header: not stored", .status = status, .reason = reason.c_str()},
             {.what = "min_ttl > 0 alone does not make it storable",
              .ttl = cf_min,
              .status = status,
              .reason = reason.c_str()},
             {.what = "no-store with min_ttl > 0 does not make it storable",
              .ttl = cf_min,
              .status = status,
              .headers = {{"Cache-Control", "no-store"}},
              .reason = reason.c_str()},
             {.what = "max-age makes it storable",
              .status = status,
              .headers = {{"Cache-Control", "max-age=60"}},
              .ttl_s = 60},
             {.what = "s-maxage makes it storable",
              .status = status,
              .headers = {{"Cache-Control", "s-maxage=70"}},
              .ttl_s = 70},
             {.what = "Expires makes it storable",
              .status = status,
              .headers = {{"Expires", at(80)}},
              .ttl_s = 80},
             {.what = "an invalid Expires makes it storable, stale",
              .status = status,
              .headers = {{"Expires", "0"}},
              .ttl_s = 0},
             {.what = "explicit freshness is clamped by min_ttl",
              .ttl = cf_min,
              .status = status,
              .headers = {{"Cache-Control", "max-age=60"}},
              .ttl_s = 300},
             {.what = "explicit freshness with no-store is stored for min_ttl",
              .ttl = cf_min,
              .status = status,
              .headers = {{"Cache-Control", "no-store, max-age=60"}},
              .ttl_s = 300},
             {.what = "explicit freshness with no-store and min_ttl 0 is not stored",
              .status = status,
              .headers = {{"Cache-Control", "no-store, max-age=60"}},
              .reason = "no-store"}});
    }
}

TEST_CASE("cache/policy: 307 and 308 are stored when the origin sends Cache-Control") {
    for (uint16_t status : {307, 308}) {
        INFO("status ", status);
        const std::string reason = "status " + std::to_string(status);
        run({{.what = "Cache-Control: public gives default_ttl",
              .status = status,
              .headers = {{"Cache-Control", "public"}},
              .ttl_s = 86400},
             {.what = "an unknown directive is still a Cache-Control header",
              .status = status,
              .headers = {{"Cache-Control", "x-ext"}},
              .ttl_s = 86400},
             {.what = "an empty Cache-Control does not count",
              .status = status,
              .headers = {{"Cache-Control", ""}},
              .reason = reason.c_str()},
             {.what = "CDN-Cache-Control counts",
              .status = status,
              .headers = {{"CDN-Cache-Control", "public"}},
              .ttl_s = 86400},
             {.what = "Cache-Control: no-store is stored for min_ttl when min_ttl > 0",
              .ttl = cf_min,
              .status = status,
              .headers = {{"Cache-Control", "no-store"}},
              .ttl_s = 300},
             {.what = "Expires without Cache-Control counts as explicit freshness",
              .status = status,
              .headers = {{"Expires", at(90)}},
              .ttl_s = 90},
             {.what = "Cache-Control: no-cache is refused with min_ttl 0",
              .status = status,
              .headers = {{"Cache-Control", "no-cache"}},
              .reason = "no-cache"}});
    }
    run({{.what = "302 with Cache-Control: public but no freshness is not stored",
          .status = 302,
          .headers = {{"Cache-Control", "public"}},
          .reason = "status 302"}});
}

TEST_CASE("cache/policy: partial content, 304, 416 and 1xx are never stored") {
    run({
        {.what = "206 with max-age",
         .status = 206,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "status 206"},
        {.what = "206 with min_ttl", .ttl = cf_min, .status = 206, .reason = "status 206"},
        {.what = "304 with max-age",
         .status = 304,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "status 304"},
        {.what = "416 with max-age",
         .status = 416,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "status 416"},
        {.what = "416 with an error caching TTL (CloudFront never caches 416)",
         .status = 416,
         .error_caching_min_ttl = 10,
         .reason = "status 416"},
        {.what = "100", .status = 100, .reason = "status 100"},
        {.what = "101 with max-age",
         .status = 101,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "status 101"},
        {.what = "103", .status = 103, .reason = "status 103"},
        {.what = "a status below 100", .status = 99, .reason = "status not cacheable"},
        {.what = "status 0", .status = 0, .reason = "status not cacheable"},
        {.what = "a status above 599",
         .status = 600,
         .headers = {{"Cache-Control", "max-age=60"}},
         .reason = "status not cacheable"},
        {.what = "status 999", .status = 999, .reason = "status not cacheable"},
    });
}

TEST_CASE("cache/policy: Vary: * is never stored") {
    run({
        {.what = "Vary: *", .headers = {{"Vary", "*"}}, .reason = "vary *"},
        {.what = "a star among other names",
         .headers = {{"Vary", "Accept-Encoding, *"}, {"Cache-Control", "max-age=60"}},
         .reason = "vary *"},
        {.what = "a star on a second Vary line",
         .headers = {{"Vary", "Accept-Encoding"}, {"vary", " * "}},
         .reason = "vary *"},
        {.what = "min_ttl > 0 does not override it",
         .ttl = cf_min,
         .headers = {{"Vary", "*"}},
         .reason = "vary *"},
        {.what = "an error caching TTL does not override it",
         .status = 404,
         .headers = {{"Vary", "*"}},
         .error_caching_min_ttl = 10,
         .reason = "vary *"},
        {.what = "a name containing a star is not the star",
         .headers = {{"Vary", "X-*"}},
         .ttl_s = 86400},
    });
}

TEST_CASE("cache/policy: error_caching_min_ttl stores an error for at least that long") {
    run({
        {.what = "404 with no header: the error caching TTL",
         .status = 404,
         .error_caching_min_ttl = 10,
         .ttl_s = 10},
        {.what = "500 with no header: the error caching TTL",
         .status = 500,
         .error_caching_min_ttl = 10,
         .ttl_s = 10},
        {.what = "414 with no header: the error caching TTL",
         .status = 414,
         .error_caching_min_ttl = 10,
         .ttl_s = 10},
        {.what = "503 with no-store: stored anyway",
         .status = 503,
         .headers = {{"Cache-Control", "no-store"}},
         .error_caching_min_ttl = 30,
         .ttl_s = 30},
        {.what = "502 with private and must-revalidate: stored anyway",
         .status = 502,
         .headers = {{"Cache-Control", "private, must-revalidate"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 10},
        {.what = "404 with private: not stored",
         .status = 404,
         .headers = {{"Cache-Control", "private"}},
         .error_caching_min_ttl = 10,
         .reason = "private"},
        {.what = "501 with no-store: not stored",
         .status = 501,
         .headers = {{"Cache-Control", "no-store"}},
         .error_caching_min_ttl = 10,
         .reason = "no-store"},
        {.what = "414 with no-cache: not stored",
         .status = 414,
         .headers = {{"Cache-Control", "no-cache, max-age=60"}},
         .error_caching_min_ttl = 10,
         .reason = "no-cache"},
        {.what = "a longer max-age wins (the greater of the two)",
         .status = 404,
         .headers = {{"Cache-Control", "max-age=3600"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 3600},
        {.what = "a shorter max-age loses to the error caching TTL",
         .status = 404,
         .headers = {{"Cache-Control", "max-age=5"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 10},
        {.what = "s-maxage counts",
         .status = 502,
         .headers = {{"Cache-Control", "s-maxage=120, max-age=5"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 120},
        {.what = "Expires counts",
         .status = 404,
         .headers = {{"Expires", at(120)}},
         .error_caching_min_ttl = 10,
         .ttl_s = 120},
        {.what = "the header value is capped at max_ttl first",
         .ttl = cf_low_max,
         .status = 502,
         .headers = {{"Cache-Control", "max-age=99999"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 1000},
        {.what = "min_ttl does not apply to error caching",
         .ttl = cf_min,
         .status = 500,
         .error_caching_min_ttl = 10,
         .ttl_s = 10},
        {.what = "zero stores it already stale",
         .status = 404,
         .error_caching_min_ttl = 0,
         .ttl_s = 0},
        {.what = "a negative value counts as zero",
         .status = 404,
         .error_caching_min_ttl = -5,
         .ttl_s = 0},
        {.what = "the origin's Age still counts",
         .status = 404,
         .headers = {{"Age", "3"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 10,
         .age_ms = 3000},
        {.what = "an Authorization request is still refused",
         .status = 404,
         .authorization = true,
         .error_caching_min_ttl = 10,
         .reason = "authorization"},
        {.what = "it is ignored for a 200",
         .status = 200,
         .headers = {{"Cache-Control", "max-age=60"}},
         .error_caching_min_ttl = 10,
         .ttl_s = 60},
        {.what = "it does not rescue a 2xx no-store",
         .status = 200,
         .headers = {{"Cache-Control", "no-store"}},
         .error_caching_min_ttl = 10,
         .reason = "no-store"},
        {.what = "it is ignored for a 3xx",
         .status = 302,
         .error_caching_min_ttl = 10,
         .reason = "status 302"},
    });
}

TEST_CASE("cache/policy: 400, 403, 405, 412 and 415 are cached only with max-age or s-maxage") {
    for (uint16_t status : {400, 403, 405, 412, 415}) {
        INFO("status ", status);
        const std::string reason = "status " + std::to_string(status);
        run({{.what = "no header: not stored, whatever the error caching TTL",
              .status = status,
              .error_caching_min_ttl = 30,
              .reason = reason.c_str()},
             {.what = "Expires alone does not count",
              .status = status,
              .headers = {{"Expires", at(600)}},
              .error_caching_min_ttl = 10,
              .reason = reason.c_str()},
             {.what = "min_ttl > 0 does not make it storable",
              .ttl = cf_min,
              .status = status,
              .error_caching_min_ttl = 10,
              .reason = reason.c_str()},
             {.what = "a short max-age: the error caching TTL",
              .status = status,
              .headers = {{"Cache-Control", "max-age=5"}},
              .error_caching_min_ttl = 30,
              .ttl_s = 30},
             {.what = "a long s-maxage wins",
              .status = status,
              .headers = {{"Cache-Control", "s-maxage=600"}},
              .error_caching_min_ttl = 10,
              .ttl_s = 600},
             {.what = "max-age with no-store: no-store is ignored for this status",
              .status = status,
              .headers = {{"Cache-Control", "no-store, max-age=60"}},
              .error_caching_min_ttl = 10,
              .ttl_s = 60}});
    }
}

TEST_CASE("cache/policy: CloudFront's error caching groups") {
    using perch::cache::error_caching_of;
    using perch::cache::ErrorCaching;
    for (uint16_t s : {404, 414, 500, 501, 502, 503, 504})
        CHECK(error_caching_of(s) == ErrorCaching::always);
    for (uint16_t s : {400, 403, 405, 412, 415})
        CHECK(error_caching_of(s) == ErrorCaching::with_max_age);
    for (uint16_t s : {200, 301, 401, 410, 416, 429, 505, 599})
        CHECK(error_caching_of(s) == ErrorCaching::none);
}

TEST_CASE("cache/policy: not-stored reasons are static strings") {
    RequestHead req;
    ResponseHead resp;
    resp.status = 201;
    const StorageDecision a = decide_storage(req, resp, cf0, T, T);
    const StorageDecision b = decide_storage(req, resp, cf0, T + 1, T + 1);
    REQUIRE(a.reason != nullptr);
    CHECK(a.reason == b.reason); // the same storage, not a formatted copy
    CHECK(std::strcmp(a.reason, "status 201") == 0);
    resp.status = 599;
    CHECK(std::strcmp(decide_storage(req, resp, cf0, T, T).reason, "status 599") == 0);
}

TEST_CASE("cache/policy: huge TTL settings saturate instead of overflowing") {
    constexpr int64_t big = std::numeric_limits<int64_t>::max();
    RequestHead req;
    ResponseHead resp;
    const StorageDecision d = decide_storage(req, resp, {0, big, big}, T, T);
    CHECK(d.store);
    CHECK(d.ttl_ms == big);
    const StorageDecision e = decide_storage(req, resp, {big, 0, 0}, T, T);
    CHECK(e.ttl_ms == big);
}

TEST_CASE("cache/policy: current age grows with resident time and never goes negative") {
    const StoredTimes t{.response_time = T, .initial_age_ms = 5000, .ttl_ms = 60000};
    CHECK(current_age_ms(t, T) == 5000);
    CHECK(current_age_ms(t, T + 1000) == 6000);
    CHECK(current_age_ms(t, T - 10000) == 5000); // a clock step back does not rejuvenate
    const StoredTimes zero{.response_time = T, .initial_age_ms = 0, .ttl_ms = 1000};
    CHECK(current_age_ms(zero, T - 1) == 0);
    const StoredTimes neg{.response_time = T, .initial_age_ms = -50, .ttl_ms = 1000};
    CHECK(current_age_ms(neg, T) == 0);
    const StoredTimes far{.response_time = std::numeric_limits<int64_t>::min(),
                          .initial_age_ms = std::numeric_limits<int64_t>::max(),
                          .ttl_ms = 1};
    CHECK(current_age_ms(far, std::numeric_limits<int64_t>::max()) ==
          std::numeric_limits<int64_t>::max());
}

TEST_CASE("cache/policy: an entry is fresh while its current age is below its TTL") {
    const StoredTimes t{.response_time = T, .initial_age_ms = 5000, .ttl_ms = 60000};
    CHECK(is_fresh(t, T));
    CHECK(is_fresh(t, T + 54999));
    CHECK(!is_fresh(t, T + 55000));
    CHECK(!is_fresh(t, T + 3600000));
    const StoredTimes stale{.response_time = T, .initial_age_ms = 0, .ttl_ms = 0};
    CHECK(!is_fresh(stale, T));
    const StoredTimes aged{.response_time = T, .initial_age_ms = 700000, .ttl_ms = 600000};
    CHECK(!is_fresh(aged, T));
}

TEST_CASE("cache/policy: a decision feeds freshness end to end") {
    RequestHead req;
    ResponseHead resp;
    resp.headers.add("Date", at(-10));
    resp.headers.add("Cache-Control", "max-age=60");
    resp.headers.add("Age", "5");
    const int64_t request_time = T - 200;
    const StorageDecision d = decide_storage(req, resp, cf0, request_time, T);
    REQUIRE(d.store);
    CHECK(d.ttl_ms == 60000);
    CHECK(d.initial_age_ms == 10000); // apparent age 10 s beats Age 5 s + 0.2 s delay
    const StoredTimes t{.response_time = T, .initial_age_ms = d.initial_age_ms, .ttl_ms = d.ttl_ms};
    CHECK(is_fresh(t, T + 49999));
    CHECK(!is_fresh(t, T + 50000));
}

TEST_CASE("cache/policy: a request with no-store is never stored, other request directives "
          "change nothing") {
    ResponseHead resp;
    resp.headers.add("Date", at(0));
    resp.headers.add("Cache-Control", "max-age=60");
    RequestHead no_store;
    no_store.headers.add("Cache-Control", "max-age=0, no-store");
    const StorageDecision refused = decide_storage(no_store, resp, cf0, T, T);
    CHECK_FALSE(refused.store);
    CHECK(std::string(refused.reason) == "request no-store");
    RequestHead no_cache;
    no_cache.headers.add("Cache-Control", "no-cache, max-age=0");
    CHECK(decide_storage(no_cache, resp, cf0, T, T).store);
}

TEST_CASE("cache/policy: stale-while-revalidate and stale-if-error windows") {
    struct Case {
        const char *cache_control;
        int64_t after_expiry_s;  // how long past the TTL "now" is
        bool while_revalidating; // usable_while_revalidating
        bool on_error;           // usable_on_error
    };
    const Case cases[] = {
        {"max-age=10", 5, false, true}, // CloudFront: stale on error without a directive
        {"max-age=10, stale-while-revalidate=30", 29, true, true},
        {"max-age=10, stale-while-revalidate=30", 31, false, true},
        {"max-age=10, stale-if-error=30", 29, false, true},
        {"max-age=10, stale-if-error=30", 31, false, false},
        {"max-age=10, stale-if-error=0", 1, false, false},
        {"max-age=10, must-revalidate, stale-while-revalidate=30", 1, false, false},
        {"max-age=10, proxy-revalidate, stale-if-error=30", 1, false, false},
        // s-maxage implies proxy-revalidate, but an explicit stale-* directive permits it.
        {"s-maxage=10, stale-while-revalidate=30", 1, true, false},
        {"s-maxage=10, stale-while-revalidate=30", 31, false, false},
        {"s-maxage=10, stale-if-error=30", 29, false, true},
        {"s-maxage=10", 1, false, false}, // no implicit stale-on-error
        {"s-maxage=10, proxy-revalidate, stale-while-revalidate=30", 1, false, false},
    };
    for (const Case &c : cases) {
        CAPTURE(c.cache_control);
        CAPTURE(c.after_expiry_s);
        ResponseHead resp;
        resp.headers.add("Date", at(0));
        resp.headers.add("Cache-Control", c.cache_control);
        const StorageDecision d = decide_storage(RequestHead{}, resp, cf0, T, T);
        REQUIRE(d.store);
        const StoredTimes t = perch::cache::stored_times(d, T);
        const int64_t now = T + d.ttl_ms + c.after_expiry_s * 1000;
        CHECK_FALSE(is_fresh(t, now));
        CHECK(perch::cache::usable_while_revalidating(t, now) == c.while_revalidating);
        CHECK(perch::cache::usable_on_error(t, now) == c.on_error);
    }
}

TEST_CASE("cache/policy: with cookies forwarded, Set-Cookie is stored only when shareable") {
    using perch::cache::SetCookieRule;
    const Headers cookie = {{"Set-Cookie", "session=SECRET6"}, {"Cache-Control", "max-age=60"}};
    run({
        {.what = "shared_only: max-age alone does not let it be stored",
         .headers = cookie,
         .set_cookie = SetCookieRule::shared_only,
         .reason = "set-cookie"},
        {.what = "shared_only: min_ttl > 0 does not override it",
         .ttl = cf_min,
         .headers = {{"Set-Cookie", "a=1"}},
         .set_cookie = SetCookieRule::shared_only,
         .reason = "set-cookie"},
        {.what = "shared_only: public allows it",
         .headers = {{"Set-Cookie", "a=1"}, {"Cache-Control", "public, max-age=60"}},
         .set_cookie = SetCookieRule::shared_only,
         .ttl_s = 60},
        {.what = "shared_only: s-maxage allows it",
         .headers = {{"Set-Cookie", "a=1"}, {"Cache-Control", "s-maxage=60"}},
         .set_cookie = SetCookieRule::shared_only,
         .ttl_s = 60},
        {.what = "shared_only: no Set-Cookie, stored as usual",
         .headers = {{"Cache-Control", "max-age=60"}},
         .set_cookie = SetCookieRule::shared_only,
         .ttl_s = 60},
        {.what = "stored (perch.store_set_cookie): CloudFront's way",
         .headers = cookie,
         .set_cookie = SetCookieRule::stored,
         .ttl_s = 60},
        {.what = "stripped (cookies not forwarded): the rest is stored",
         .headers = cookie,
         .set_cookie = SetCookieRule::stripped,
         .ttl_s = 60},
    });
}

#include "http/conditional.hpp"

#include <doctest/doctest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

using perch::core::HeaderMap;
using perch::core::Method;
using perch::http::Precondition;
using perch::http::StoredValidators;

namespace {

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

HeaderMap fields(Fields list) {
    HeaderMap h;
    for (const auto &[n, v] : list)
        h.add(n, v);
    return h;
}

std::string name(Precondition p) {
    switch (p) {
    case Precondition::proceed:
        return "proceed";
    case Precondition::not_modified:
        return "not_modified";
    case Precondition::precondition_failed:
        return "precondition_failed";
    }
    return "?";
}

constexpr std::string_view lm = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr std::string_view before_lm = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr std::string_view after_lm = "Sun, 06 Nov 1994 08:49:38 GMT";
constexpr std::string_view date = "Mon, 07 Nov 1994 00:00:00 GMT";

struct Case {
    const char *what;
    Fields request;
    Method method;
    StoredValidators stored;
    Precondition expected;
};

const StoredValidators full{200, "\"v1\"", lm, date, {}};
const StoredValidators weak{200, "W/\"v1\"", lm, date, {}};
const StoredValidators no_etag{200, "", lm, date, {}};
const StoredValidators date_only{200, "", "", date, {}};
const StoredValidators nothing_but_received{200, "", "", "", 784111777000};
const StoredValidators not_found{404, "\"v1\"", lm, date, {}};

constexpr auto proceed = Precondition::proceed;
constexpr auto not_modified = Precondition::not_modified;
constexpr auto failed = Precondition::precondition_failed;
constexpr auto get = Method::get;
constexpr auto head = Method::head;
constexpr auto post = Method::post;

void run(std::initializer_list<Case> cases) {
    for (const auto &c : cases) {
        INFO(c.what);
        const HeaderMap h = fields(c.request);
        CHECK(name(perch::http::evaluate_preconditions(h, c.method, c.stored)) == name(c.expected));
    }
}

} // namespace

TEST_CASE("http/conditional: entity-tags parse strictly and compare strongly or weakly") {
    auto t = perch::http::parse_entity_tag(" W/\"abc\" ");
    REQUIRE(t);
    CHECK(t->weak);
    CHECK(t->opaque == "abc");
    CHECK(perch::http::parse_entity_tag("\"\"")->opaque.empty());
    for (std::string_view bad : {"abc", "\"abc", "w/\"abc\"", "W/abc", "\"a b\"", "\"a\"b\"", ""}) {
        INFO("tag '", bad, "'");
        CHECK(!perch::http::parse_entity_tag(bad));
    }
    const perch::http::EntityTag s1{"1", false}, w1{"1", true}, s2{"2", false};
    CHECK(perch::http::strong_match(s1, s1));
    CHECK(!perch::http::strong_match(s1, w1));
    CHECK(!perch::http::strong_match(w1, w1));
    CHECK(perch::http::weak_match(s1, w1));
    CHECK(perch::http::weak_match(w1, w1));
    CHECK(!perch::http::weak_match(s1, s2));
}

TEST_CASE("http/conditional: If-None-Match uses weak comparison and answers 304 to GET/HEAD") {
    run({
        {"no precondition proceeds", {}, get, full, proceed},
        {"the stored tag", {{"If-None-Match", "\"v1\""}}, get, full, not_modified},
        {"the stored tag on HEAD", {{"If-None-Match", "\"v1\""}}, head, full, not_modified},
        {"a weak form of the stored tag", {{"If-None-Match", "W/\"v1\""}}, get, full, not_modified},
        {"the stored weak tag", {{"If-None-Match", "\"v1\""}}, get, weak, not_modified},
        {"another tag", {{"If-None-Match", "\"v2\""}}, get, full, proceed},
        {"a list holding the tag",
         {{"If-None-Match", "\"a\", \"v1\" ,\"b\""}},
         get,
         full,
         not_modified},
        {"the tag on a second field line",
         {{"If-None-Match", "\"a\""}, {"if-none-match", "\"v1\""}},
         get,
         full,
         not_modified},
        {"a star", {{"If-None-Match", "*"}}, get, full, not_modified},
        {"a star for POST fails", {{"If-None-Match", "*"}}, post, full, failed},
        {"a match for POST fails", {{"If-None-Match", "\"v1\""}}, post, full, failed},
        {"no stored ETag never matches", {{"If-None-Match", "\"v1\""}}, get, no_etag, proceed},
        {"a malformed tag matches nothing", {{"If-None-Match", "v1"}}, get, full, proceed},
        {"a non-2xx stored response ignores preconditions",
         {{"If-None-Match", "\"v1\""}},
         get,
         not_found,
         proceed},
    });
}

TEST_CASE("http/conditional: If-None-Match takes precedence over If-Modified-Since") {
    run({
        {"an unmatched If-None-Match with a satisfied IMS",
         {{"If-None-Match", "\"v2\""}, {"If-Modified-Since", lm}},
         get,
         full,
         proceed},
        {"a matched If-None-Match with an unsatisfied IMS",
         {{"If-None-Match", "\"v1\""}, {"If-Modified-Since", before_lm}},
         get,
         full,
         not_modified},
    });
}

TEST_CASE("http/conditional: If-Modified-Since compares against Last-Modified, else Date") {
    run({
        {"equal to Last-Modified", {{"If-Modified-Since", lm}}, get, full, not_modified},
        {"after Last-Modified", {{"If-Modified-Since", after_lm}}, get, full, not_modified},
        {"before Last-Modified", {{"If-Modified-Since", before_lm}}, get, full, proceed},
        {"in RFC 850 form",
         {{"If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT"}},
         get,
         full,
         not_modified},
        {"in asctime form",
         {{"If-Modified-Since", "Sun Nov  6 08:49:37 1994"}},
         get,
         full,
         not_modified},
        {"an invalid date is ignored", {{"If-Modified-Since", "0"}}, get, full, proceed},
        {"two field lines are ignored",
         {{"If-Modified-Since", lm}, {"If-Modified-Since", lm}},
         get,
         full,
         proceed},
        {"a list of dates is ignored",
         {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT, x"}},
         get,
         full,
         proceed},
        {"POST ignores it", {{"If-Modified-Since", lm}}, post, full, proceed},
        {"without Last-Modified the stored Date is used (not modified)",
         {{"If-Modified-Since", date}},
         get,
         date_only,
         not_modified},
        {"without Last-Modified the stored Date is used (modified)",
         {{"If-Modified-Since", lm}},
         get,
         date_only,
         proceed},
        {"without Last-Modified or Date the receive time is used",
         {{"If-Modified-Since", lm}},
         get,
         nothing_but_received,
         not_modified},
        {"with no time at all it is ignored",
         {{"If-Modified-Since", lm}},
         get,
         StoredValidators{200, "", "", "", {}},
         proceed},
    });
}

TEST_CASE("http/conditional: If-Match and If-Unmodified-Since fail with 412") {
    run({
        {"If-Match with the stored strong tag", {{"If-Match", "\"v1\""}}, get, full, proceed},
        {"If-Match with another tag", {{"If-Match", "\"v2\""}}, get, full, failed},
        {"If-Match with a weak tag uses strong comparison",
         {{"If-Match", "W/\"v1\""}},
         get,
         full,
         failed},
        {"If-Match against a stored weak tag", {{"If-Match", "\"v1\""}}, get, weak, failed},
        {"If-Match star", {{"If-Match", "*"}}, get, full, proceed},
        {"If-Match with no stored ETag", {{"If-Match", "\"v1\""}}, get, no_etag, failed},
        {"If-Match in a list", {{"If-Match", "\"x\", \"v1\""}}, get, full, proceed},
        {"If-Unmodified-Since at Last-Modified", {{"If-Unmodified-Since", lm}}, get, full, proceed},
        {"If-Unmodified-Since before Last-Modified",
         {{"If-Unmodified-Since", before_lm}},
         get,
         full,
         failed},
        {"If-Unmodified-Since with an invalid date is ignored",
         {{"If-Unmodified-Since", "nope"}},
         get,
         full,
         proceed},
        {"If-Unmodified-Since without a stored Last-Modified is ignored",
         {{"If-Unmodified-Since", before_lm}},
         get,
         date_only,
         proceed},
        {"a passing If-Match makes If-Unmodified-Since irrelevant",
         {{"If-Match", "\"v1\""}, {"If-Unmodified-Since", before_lm}},
         get,
         full,
         proceed},
        {"412 beats 304", {{"If-Match", "\"v2\""}, {"If-None-Match", "\"v1\""}}, get, full, failed},
        {"If-Match passing then If-None-Match matching gives 304",
         {{"If-Match", "\"v1\""}, {"If-None-Match", "\"v1\""}},
         get,
         full,
         not_modified},
    });
}

TEST_CASE("http/conditional: stored validators are read from the stored head text") {
    const std::string_view stored = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/plain\r\n"
                                    "etag:  \"abc\"\r\n"
                                    "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                    "Date: Mon, 07 Nov 1994 00:00:00 GMT\r\n"
                                    "ETag: \"second\"\r\n";
    const StoredValidators v = perch::http::stored_validators(stored);
    CHECK(v.status == 200);
    CHECK(v.etag == "\"abc\"");
    CHECK(v.last_modified == lm);
    CHECK(v.date == date);
    CHECK(perch::http::stored_head_field(stored, "content-type") == "text/plain");
    CHECK(!perch::http::stored_head_field(stored, "vary"));
    CHECK(perch::http::stored_validators("HTTP/1.1 404 Not Found\r\n").status == 404);
    CHECK(perch::http::stored_validators("garbage").status == 0);
}

TEST_CASE("http/conditional: a 304 head keeps the validators and drops body metadata") {
    const std::string_view stored = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/html\r\n"
                                    "Content-Length: 1234\r\n"
                                    "Content-Encoding: gzip\r\n"
                                    "Content-Language: en\r\n"
                                    "Accept-Ranges: bytes\r\n"
                                    "Cache-Control: max-age=60\r\n"
                                    "Content-Location: /a.html\r\n"
                                    "Date: Mon, 07 Nov 1994 00:00:00 GMT\r\n"
                                    "ETag: \"v1\"\r\n"
                                    "Expires: Mon, 07 Nov 1994 00:01:00 GMT\r\n"
                                    "Vary: Accept-Encoding\r\n"
                                    "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                                    "Access-Control-Allow-Origin: *\r\n"
                                    "Transfer-Encoding: chunked\r\n"
                                    "Age: 5\r\n";
    std::string out = "left over";
    perch::http::build_not_modified_head(stored, out);
    CHECK(out == "HTTP/1.1 304 Not Modified\r\n"
                 "Cache-Control: max-age=60\r\n"
                 "Content-Location: /a.html\r\n"
                 "Date: Mon, 07 Nov 1994 00:00:00 GMT\r\n"
                 "ETag: \"v1\"\r\n"
                 "Expires: Mon, 07 Nov 1994 00:01:00 GMT\r\n"
                 "Vary: Accept-Encoding\r\n"
                 "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                 "Access-Control-Allow-Origin: *\r\n");
}

TEST_CASE("http/conditional: stored fields are walked past the status line and odd lines") {
    const std::string_view stored = "HTTP/1.1 200 OK\r\n"
                                    "A: 1\r\n"
                                    "no colon here\r\n"
                                    "B:\t two \r\n"
                                    "C: last, without CRLF";
    std::string seen;
    perch::http::for_each_stored_field(
        stored, [&](std::string_view n, std::string_view v, std::string_view line) {
            seen += std::string(n) + "=" + std::string(v) + "|" + std::string(line) + ";";
        });
    CHECK(seen == "A=1|A: 1;B=two|B:\t two ;C=last, without CRLF|C: last, without CRLF;");
}

TEST_CASE("http/conditional: a 304 selects the stored response only when its validator matches "
          "(RFC 9111 §4.3.4)") {
    using perch::http::not_modified_selects;
    struct SelectCase {
        const char *what;
        std::string_view etag, last_modified;
        Fields not_modified;
        bool selects;
    };
    const SelectCase cases[] = {
        {"the same strong ETag", "\"v1\"", lm, {{"ETag", "\"v1\""}}, true},
        {"another strong ETag", "\"v1\"", lm, {{"ETag", "\"v2\""}}, false},
        {"a strong ETag against a weak stored one", "W/\"v1\"", "", {{"ETag", "\"v1\""}}, false},
        {"a weak ETag matches weakly", "\"v1\"", "", {{"ETag", "W/\"v1\""}}, true},
        {"an ETag when none is stored", "", lm, {{"ETag", "\"v1\""}}, false},
        {"an invalid ETag", "\"v1\"", lm, {{"ETag", "v1"}}, false},
        {"the ETag decides over Last-Modified",
         "\"v1\"",
         lm,
         {{"ETag", "\"v1\""}, {"Last-Modified", after_lm}},
         true},
        {"the same Last-Modified", "", lm, {{"Last-Modified", lm}}, true},
        {"another Last-Modified", "\"v1\"", lm, {{"Last-Modified", after_lm}}, false},
        {"Last-Modified when none is stored", "\"v1\"", "", {{"Last-Modified", lm}}, false},
        {"no validator at all", "\"v1\"", lm, {{"Cache-Control", "max-age=60"}}, true},
    };
    for (const SelectCase &c : cases) {
        INFO(c.what);
        CHECK(not_modified_selects(c.etag, c.last_modified, fields(c.not_modified)) == c.selects);
    }
}

#include "edge/invalidation.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace perch::edge;
using Json = nlohmann::json;

TEST_CASE("edge/invalidation: valid paths are normalized as request paths are") {
    struct Case {
        const char *text;
        const char *path;
        bool prefix;
    };
    const Case cases[] = {
        {"/a.html", "/a.html", false},
        {"/a%2Eb", "/a.b", false},
        {"/a%2fb", "/a%2Fb", false},
        {"/a/../b", "/b", false},
        {"//a///b", "/a/b", false},
        {"/dir/", "/dir/", false},
        {"/Img/A.JPG", "/Img/A.JPG", false}, // case is kept: matching is case-sensitive
        {"/*", "/", true},
        {"/img/*", "/img/", true},
        {"/img*", "/img", true},
        {"/a/..*", "/a/..", true}, // a partial last segment is not a ".." segment
        {"/a/.*", "/a/.", true},
        {"/a/b/../c*", "/a/c", true},
        {"/%7Euser*", "/~user", true},
    };
    for (const Case &c : cases) {
        CAPTURE(c.text);
        InvalidationTarget t;
        REQUIRE(parse_invalidation_path(c.text, t) == nullptr);
        CHECK(t.path == c.path);
        CHECK(t.prefix == c.prefix);
    }
}

TEST_CASE("edge/invalidation: invalid paths are refused with the reason") {
    struct Case {
        std::string text;
        std::string reason;
    };
    const Case cases[] = {
        {"", "must start with '/'"},
        {"a.html", "must start with '/'"},
        {"*", "must start with '/'"},
        {"/a*b", "'*' is allowed only as the last character"},
        {"/**", "'*' is allowed only as the last character"},
        {"/a b", "must be URL-encoded (no spaces, control or non-ASCII characters)"},
        {"/caf\xc3\xa9", "must be URL-encoded (no spaces, control or non-ASCII characters)"},
        {"/a\n", "must be URL-encoded (no spaces, control or non-ASCII characters)"},
        {"/a?x=1", "must not have a query string (a path is invalidated with every query string)"},
        {"/a#f", "must not have a query string (a path is invalidated with every query string)"},
        {"/a%zz", "has a malformed percent-escape"},
        {"/a%00", "has a malformed percent-escape"},
        {"/a%2*", "has a malformed percent-escape"},
        {"/" + std::string(4000, 'a'), "must be at most 4000 characters"},
    };
    for (const Case &c : cases) {
        CAPTURE(c.text);
        InvalidationTarget t;
        const char *why = parse_invalidation_path(c.text, t);
        REQUIRE(why != nullptr);
        CHECK(std::string(why) == c.reason);
    }
    InvalidationTarget t;
    CHECK(parse_invalidation_path("/" + std::string(3999, 'a'), t) == nullptr);
}

TEST_CASE("edge/invalidation: a request body gives the paths as written and their targets") {
    InvalidationBatch batch;
    std::vector<InvalidationTarget> targets;
    auto p = parse_invalidation_batch(
        R"({"paths": ["/a%2Eb", "/img/*"], "caller_reference": "deploy-42"})", batch, targets);
    REQUIRE(!p);
    CHECK(batch.paths == std::vector<std::string>{"/a%2Eb", "/img/*"});
    CHECK(batch.caller_reference == "deploy-42");
    REQUIRE(targets.size() == 2);
    CHECK(targets[0].path == "/a.b");
    CHECK(!targets[0].prefix);
    CHECK(targets[1].path == "/img/");
    CHECK(targets[1].prefix);
}

TEST_CASE("edge/invalidation: each bad request body names its problem") {
    std::string many = "{\"paths\": [";
    for (int i = 0; i < 3001; ++i)
        many += (i ? ",\"/p" : "\"/p") + std::to_string(i) + "\"";
    many += "]}";
    std::string wild = "{\"paths\": [";
    for (int i = 0; i < 16; ++i)
        wild += (i ? ",\"/w" : "\"/w") + std::to_string(i) + "*\"";
    wild += "]}";
    struct Case {
        std::string body;
        const char *code;
        const char *message;
    };
    const Case cases[] = {
        {"{\"paths\":", "MalformedInput", "the body is not valid JSON"},
        {"", "MalformedInput", "the body is not valid JSON"},
        {"[]", "MalformedInput", "the body must be a JSON object with \"paths\""},
        {"{}", "MalformedInput", "paths: missing"},
        {R"({"paths": "/a"})", "MalformedInput", "paths: expected an array of strings"},
        {R"({"paths": []})", "InvalidArgument", "paths: must not be empty"},
        {R"({"paths": ["/a", 1]})", "MalformedInput", "paths[1]: expected a string"},
        {R"({"paths": ["/a", "/b*c"]})", "InvalidArgument",
         "paths[1]: '*' is allowed only as the last character"},
        {R"({"paths": ["/a"], "caller_reference": 5})", "MalformedInput",
         "caller_reference: expected a non-empty string"},
        {R"({"paths": ["/a"], "Paths": []})", "MalformedInput", "Paths: unknown key"},
        {many, "BatchTooLarge", "paths: at most 3000 paths per invalidation"},
        {wild, "BatchTooLarge", "paths: at most 15 paths with '*' per invalidation"},
    };
    for (const Case &c : cases) {
        CAPTURE(c.body.substr(0, 60));
        InvalidationBatch batch;
        std::vector<InvalidationTarget> targets;
        auto p = parse_invalidation_batch(c.body, batch, targets);
        REQUIRE(p);
        CHECK(p->code == c.code);
        CHECK(p->message == c.message);
    }
}

TEST_CASE("edge/invalidation: a record is JSON shaped like CloudFront's Invalidation") {
    InvalidationRecord r;
    r.id = "I2J0I21PCUYOIK";
    r.create_time = 1764081601123; // 2025-11-25T14:40:01.123Z
    r.batch.paths = {"/a.html", "/img/*"};
    r.batch.caller_reference = "deploy-42";
    r.objects_removed = 7;
    Json j = Json::parse(invalidation_record_json(r));
    CHECK(j["id"] == "I2J0I21PCUYOIK");
    CHECK(j["status"] == "Completed");
    CHECK(j["create_time"] == "2025-11-25T14:40:01.123Z");
    CHECK(j["invalidation_batch"]["paths"]["quantity"] == 2);
    CHECK(j["invalidation_batch"]["paths"]["items"] == Json::array({"/a.html", "/img/*"}));
    CHECK(j["invalidation_batch"]["caller_reference"] == "deploy-42");
    CHECK(j["perch"]["objects_removed"] == 7);
}

TEST_CASE("edge/invalidation: ids are 'I' and 13 upper-case letters or digits") {
    for (uint64_t random : {uint64_t(0), uint64_t(12345), ~uint64_t(0)}) {
        std::string id = make_invalidation_id(random);
        CAPTURE(id);
        REQUIRE(id.size() == 14);
        CHECK(id[0] == 'I');
        for (char c : id.substr(1))
            CHECK(((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')));
    }
    CHECK(make_invalidation_id(1) != make_invalidation_id(2));
}

TEST_CASE("edge/invalidation: the log keeps the last records and finds them by id") {
    InvalidationLog log(2);
    for (const char *id : {"I1", "I2", "I3"}) {
        InvalidationRecord r;
        r.id = id;
        r.batch.caller_reference = std::string("ref-") + id;
        log.add(std::move(r));
    }
    CHECK(log.find("I1") == nullptr);
    REQUIRE(log.find("I3"));
    CHECK(log.find("I3")->id == "I3");
    CHECK(log.find_by_caller_reference("ref-I2")->id == "I2");
}

#include "edge/invalidation_batch.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace perch::edge;
using Json = nlohmann::json;

TEST_CASE("edge/invalidation_batch: a request body gives the paths as written and their targets") {
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

TEST_CASE("edge/invalidation_batch: each bad request body names its problem") {
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

TEST_CASE("edge/invalidation_batch: a record is JSON shaped like CloudFront's Invalidation") {
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

TEST_CASE("edge/invalidation_batch: ids are 'I' and 13 upper-case letters or digits") {
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

TEST_CASE("edge/invalidation_batch: the log keeps the last records and finds them by id") {
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

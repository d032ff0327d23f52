#include "edge/admin_handler.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace perch;
using namespace perch::edge;
using Json = nlohmann::json;

namespace {

constexpr const char *token = "s3cret-token-0123456789";

// A store that records invalidations and stores nothing.
class RecordingStore final : public cache::CacheStore {
public:
    core::Ref<cache::CachedObject> lookup(const cache::CacheKey &) override { return nullptr; }
    std::unique_ptr<cache::CacheWriter> begin_insert(const cache::CacheKey &,
                                                     std::optional<uint64_t>) override {
        return nullptr;
    }
    void refresh(const core::Ref<cache::CachedObject> &, core::Ref<cache::CachedObject>) override {}
    uint64_t invalidate(std::string_view path, bool prefix) override {
        calls.emplace_back(std::string(path), prefix);
        return 1;
    }
    cache::StoreStats stats() const override { return {}; }
    std::vector<std::pair<std::string, bool>> calls;
};

core::RequestHead request(core::Method m, std::string target, const char *auth = nullptr) {
    core::RequestHead h;
    h.method = m;
    h.method_text = std::string(core::method_name(m));
    h.target = std::move(target);
    if (auth) h.headers.add("Authorization", auth);
    return h;
}

const std::string bearer = std::string("Bearer ") + token;

} // namespace

TEST_CASE("edge/admin_handler: POST /invalidations with the token invalidates and answers 201") {
    RecordingStore store;
    AdminHandler h(token, store);
    auto r = h.handle(request(core::Method::post, "/invalidations", bearer.c_str()),
                      R"({"paths": ["/a%2Ehtml", "/img/*"]})", 1764081601123, 42);
    CHECK(r.status == 201);
    Json j = Json::parse(r.body);
    CHECK(j["status"] == "Completed");
    CHECK(j["invalidation_batch"]["paths"]["items"] == Json::array({"/a%2Ehtml", "/img/*"}));
    CHECK(j["perch"]["objects_removed"] == 2);
    CHECK(r.location == "/invalidations/" + j["id"].get<std::string>());
    REQUIRE(store.calls.size() == 2);
    CHECK(store.calls[0] == std::pair<std::string, bool>{"/a.html", false});
    CHECK(store.calls[1] == std::pair<std::string, bool>{"/img/", true});

    auto g = h.handle(request(core::Method::get, r.location, bearer.c_str()), "", 0, 0);
    CHECK(g.status == 200);
    CHECK(g.body == r.body);
}

TEST_CASE("edge/admin_handler: a wrong or missing token gets 401 and invalidates nothing") {
    RecordingStore store;
    AdminHandler h(token, store);
    const char *wrong[] = {nullptr,
                           "Bearer nope",
                           "Bearer s3cret-token-012345678",
                           "Bearer s3cret-token-01234567890",
                           "Basic czNjcmV0",
                           "Bearer",
                           "s3cret-token-0123456789"};
    for (const char *auth : wrong) {
        CAPTURE((auth ? auth : "(none)"));
        auto r = h.handle(request(core::Method::post, "/invalidations", auth),
                          R"({"paths": ["/a"]})", 0, 1);
        CHECK(r.status == 401);
        CHECK(r.auth_challenge);
        CHECK(Json::parse(r.body)["error"]["code"] == "AccessDenied");
    }
    CHECK(store.calls.empty());
    // The scheme is case-insensitive (RFC 9110 §11.1).
    auto ok = h.handle(
        request(core::Method::post, "/invalidations", (std::string("bearer ") + token).c_str()),
        R"({"paths": ["/a"]})", 0, 1);
    CHECK(ok.status == 201);
}

TEST_CASE("edge/admin_handler: other paths are 404 with the token, 401 without it, and never "
          "cached content") {
    RecordingStore store;
    AdminHandler h(token, store);
    for (const char *target :
         {"/", "/index.html", "/invalidations/", "/invalidationsX", "/invalidations/a/b"}) {
        CAPTURE(target);
        CHECK(h.handle(request(core::Method::get, target, bearer.c_str()), "", 0, 0).status == 404);
        auto anonymous = h.handle(request(core::Method::get, target), "", 0, 0);
        CHECK(anonymous.status == 401); // nothing about the routes is told without the token
        CHECK(anonymous.auth_challenge);
    }
    auto missing =
        h.handle(request(core::Method::get, "/invalidations/INOPE", bearer.c_str()), "", 0, 0);
    CHECK(missing.status == 404);
    CHECK(Json::parse(missing.body)["error"]["code"] == "NoSuchInvalidation");
}

TEST_CASE("edge/admin_handler: wrong methods get 405 with Allow, bad bodies 400") {
    RecordingStore store;
    AdminHandler h(token, store);
    auto get = h.handle(request(core::Method::get, "/invalidations", bearer.c_str()), "", 0, 0);
    CHECK(get.status == 405);
    CHECK(get.allow == "POST");
    auto del = h.handle(request(core::Method::del, "/invalidations/I1", bearer.c_str()), "", 0, 0);
    CHECK(del.status == 405);
    auto bad = h.handle(request(core::Method::post, "/invalidations", bearer.c_str()),
                        R"({"paths": ["/a*b"]})", 0, 0);
    CHECK(bad.status == 400);
    CHECK(Json::parse(bad.body)["error"]["message"] ==
          "paths[0]: '*' is allowed only as the last character");
    CHECK(store.calls.empty());
}

TEST_CASE("edge/admin_handler: a repeated caller_reference returns the first invalidation") {
    RecordingStore store;
    AdminHandler h(token, store);
    auto post = [&](const char *body, uint64_t random) {
        return h.handle(request(core::Method::post, "/invalidations", bearer.c_str()), body, 0,
                        random);
    };
    auto first = post(R"({"paths": ["/a"], "caller_reference": "r1"})", 1);
    auto again = post(R"({"paths": ["/a"], "caller_reference": "r1"})", 2);
    CHECK(again.status == 201);
    CHECK(again.body == first.body);
    CHECK(store.calls.size() == 1);
    auto other = post(R"({"paths": ["/b"], "caller_reference": "r1"})", 3);
    CHECK(other.status == 409);
    CHECK(store.calls.size() == 1);
}

TEST_CASE("edge/admin_handler: token comparison needs equal length and bytes") {
    CHECK(constant_time_equals("abc", "abc"));
    CHECK(!constant_time_equals("abd", "abc"));
    CHECK(!constant_time_equals("ab", "abc"));
    CHECK(!constant_time_equals("abcabc", "abc"));
    CHECK(!constant_time_equals("", "abc"));
    CHECK(constant_time_equals("", ""));
}

TEST_CASE("edge/admin_handler: a new invalidation is begun, run, then finished; prefixes are "
          "marked as scanning the store") {
    RecordingStore store;
    AdminHandler h(token, store);
    PendingInvalidation exact, prefix;
    auto post = request(core::Method::post, "/invalidations", bearer.c_str());
    CHECK(!h.begin(post, R"({"paths": ["/a"]})", 0, 1, exact));
    CHECK(!exact.scans_store());
    CHECK(!h.begin(post, R"({"paths": ["/a", "/img/*"]})", 0, 2, prefix));
    CHECK(prefix.scans_store());
    CHECK(store.calls.empty()); // nothing removed before run()
    prefix.run(store);
    auto r = h.finish(std::move(prefix));
    CHECK(r.status == 201);
    CHECK(store.calls.size() == 2);
    auto g = h.handle(request(core::Method::get, r.location, bearer.c_str()), "", 0, 0);
    CHECK(g.status == 200); // recorded once finished
}

// perch.admin in the config (apart from config_test.cpp: one block, one file).
#include "config/config.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace perch::config;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string with_admin(const char *admin_json) {
    Json doc = Json::parse(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                    "custom_origin_config": {"http_port": 18000,
                                             "origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}},
        "perch": {"listen": ["http://127.0.0.1:8080"]}})");
    doc["perch"]["admin"] = Json::parse(admin_json);
    return doc.dump();
}

std::string error_of(const std::string &text, const std::string &base_dir = ".") {
    auto result = parse_config(text, base_dir);
    return result ? "ok" : result.error().context;
}

} // namespace

TEST_CASE("config/config: perch.admin sets the admin listener and its token") {
    auto c = parse_config(
        with_admin(R"({"listen": "http://127.0.0.1:9001", "token": "0123456789abcdef"})"), ".");
    REQUIRE(c);
    REQUIRE(c->perch.admin);
    CHECK(c->perch.admin->listen.host == "127.0.0.1");
    CHECK(c->perch.admin->listen.port == 9001);
    CHECK(c->perch.admin->token == "0123456789abcdef");
}

TEST_CASE("config/config: without perch.admin there is no admin listener") {
    auto c = parse_config(with_admin("{}"), ".");
    CHECK(!c); // an empty perch.admin is an error, not "off"
    Json doc = Json::parse(with_admin("{}"));
    doc["perch"].erase("admin");
    auto plain = parse_config(doc.dump(), ".");
    REQUIRE(plain);
    CHECK(!plain->perch.admin);
}

TEST_CASE("config/config: perch.admin.token_file is read, without its final newline") {
    fs::path dir = fs::temp_directory_path() / ("perch-admin-test-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "token") << "abcdefghijklmnopqrstuvwxyz\n";
    auto c = parse_config(
        with_admin(R"({"listen": "http://127.0.0.1:9001", "token_file": "token"})"), dir.string());
    REQUIRE(c);
    CHECK(c->perch.admin->token == "abcdefghijklmnopqrstuvwxyz");
    fs::remove_all(dir);
}

TEST_CASE("config/config: each invalid perch.admin is rejected with its path and reason") {
    struct Case {
        const char *admin;
        const char *expected;
    };
    const Case cases[] = {
        {R"({"token": "0123456789abcdef"})", "perch.admin.listen: missing"},
        {R"({"listen": "127.0.0.1:9001", "token": "0123456789abcdef"})",
         "perch.admin.listen: expected \"http://HOST:PORT\" or \"https://HOST:PORT\""},
        {R"({"listen": "https://127.0.0.1:9001", "token": "0123456789abcdef"})",
         "perch.admin.listen: https:// is not supported for perch.admin yet"},
        {R"({"listen": "http://127.0.0.1:8080", "token": "0123456789abcdef"})",
         "perch.admin.listen: must not use the port of a perch.listen address"},
        {R"({"listen": "http://127.0.0.1:9001"})",
         "perch.admin: needs exactly one of token and token_file"},
        {R"({"listen": "http://127.0.0.1:9001", "token": "0123456789abcdef", "token_file": "t"})",
         "perch.admin: needs exactly one of token and token_file"},
        {R"({"listen": "http://127.0.0.1:9001", "token": ""})",
         "perch.admin.token: the token must be at least 16 characters"},
        {R"({"listen": "http://127.0.0.1:9001", "token": "0123456789 abcdef"})",
         "perch.admin.token: the token must be printable ASCII without spaces"},
        {R"({"listen": "http://127.0.0.1:9001", "token": 5})",
         "perch.admin.token: expected a string"},
        {R"({"listen": "http://127.0.0.1:9001", "token": "0123456789abcdef", "port": 1})",
         "perch.admin.port: unknown key"},
        {R"({"listen": "http://127.0.0.1:9001", "token_file": "/nonexistent/perch-token"})",
         "perch.admin.token_file: \"/nonexistent/perch-token\" does not exist"},
        {R"([])", "perch.admin: expected an object"},
    };
    for (const Case &c : cases) {
        CAPTURE(c.admin);
        CHECK(error_of(with_admin(c.admin)) == c.expected);
    }
}

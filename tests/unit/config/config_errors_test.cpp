// A config with several mistakes: every independent one is reported, each with its JSON path,
// in document order; one mistake is one error, not also the checks that depend on it; the list
// is capped (lib/config/json_reader.cpp, lib/config/config.cpp, lib/config/policies.cpp).
#include "config/config.hpp"
#include "config/json_reader.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using perch::core::Code;
using perch::core::Source;
using namespace perch::config;

namespace {

// The lines of the error of parsing `text`; empty when it parses.
std::vector<std::string> errors_of(const std::string &text) {
    auto result = parse_config(text, ".");
    if (result) return {};
    CHECK(result.error().code == Code::config);
    CHECK(result.error().source == Source::config);
    std::vector<std::string> lines;
    const std::string &context = result.error().context;
    for (size_t at = 0;;) {
        size_t end = context.find('\n', at);
        lines.push_back(context.substr(at, end - at));
        if (end == std::string::npos) break;
        at = end + 1;
    }
    return lines;
}

using Lines = std::vector<std::string>;

} // namespace

template <> struct doctest::StringMaker<Lines> {
    static String convert(const Lines &lines) {
        std::string text = "{";
        for (const std::string &line : lines)
            text += "\n  \"" + line + "\"";
        return (text + "}").c_str();
    }
};

TEST_CASE("config/errors: five unrelated mistakes in different blocks are all reported, in "
          "document order") {
    // perch is written first and policies last, though the parser reads policies first and
    // perch last: the report follows the document.
    auto lines = errors_of(R"({
      "perch": {"workers": -1},
      "distribution": {
        "enabled": "yes",
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1", "connection_attempts": 9,
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-none"}},
      "cache_policy": [{"id": "cp", "name": "bad name",
        "parameters_in_cache_key_and_forwarded_to_origin": {
          "cookies_config": {"cookie_behavior": "none"},
          "headers_config": {"header_behavior": "none"},
          "query_strings_config": {"query_string_behavior": "none"}}}]
    })");
    CHECK(lines == Lines{
                       "perch.workers: must be between 0 and 1024",
                       "distribution.enabled: expected a boolean",
                       "distribution.origin[0].connection_attempts: must be between 1 and 3",
                       "distribution.default_cache_behavior.viewer_protocol_policy: must be one "
                       "of \"allow-all\", \"redirect-to-https\", \"https-only\"",
                       "cache_policy[0].name: must be 1 to 128 letters, digits, '-' or '_'",
                   });
}

TEST_CASE("config/errors: unknown keys come in document order, and a missing key where its "
          "object closes") {
    auto lines = errors_of(R"({"distribution": {
        "zeta": 1,
        "origin": [{"origin_id": "o", "custom_origin_config":
                       {"origin_protocol_policy": "http-only", "bogus": true}}],
        "alpha": 2,
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})");
    CHECK(lines == Lines{
                       "distribution.zeta: unknown key",
                       "distribution.origin[0].custom_origin_config.bogus: unknown key",
                       "distribution.origin[0].domain_name: missing",
                       "distribution.alpha: unknown key",
                   });
}

TEST_CASE("config/errors: a behavior targeting an origin that failed to parse adds no error") {
    // The origin's id parsed, so the behavior finds it: only the origin's own mistake.
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "http://x/",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})") ==
          Lines{"distribution.origin[0].domain_name: must be a host name, without scheme or "
                "path"});
    // The origin's id itself failed: the behavior cannot tell whether it named that origin.
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": 7, "domain_name": "127.0.0.1",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})") ==
          Lines{"distribution.origin[0].origin_id: expected a string"});
    // No origin array at all: one error, not one per behavior.
    CHECK(errors_of(R"({"distribution": {"origin": {},
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})") ==
          Lines{"distribution.origin: expected an array"});
    // With every origin id read, a target that names none of them is its own error.
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "x", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})") ==
          Lines{"distribution.default_cache_behavior.target_origin_id: no origin has origin_id "
                "\"x\""});
}

TEST_CASE("config/errors: an unknown cache_policy_id, a missing key and a bad directory are one "
          "error each") {
    // Unknown cache policy: no follow-on TTL or shape errors; the independent mistake in the
    // same behavior is still reported.
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"], "compress": 1,
                                   "viewer_protocol_policy": "allow-all",
                                   "cache_policy_id": "nope"}}})") ==
          Lines{"distribution.default_cache_behavior.compress: expected a boolean",
                "distribution.default_cache_behavior.cache_policy_id: no cache_policy or AWS "
                "managed cache policy has id \"nope\""});
    // A cache policy whose id failed: a behavior naming another id is not also an error.
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all",
                                   "cache_policy_id": "cp"}},
      "cache_policy": [{"id": "", "name": "Site",
        "parameters_in_cache_key_and_forwarded_to_origin": {
          "cookies_config": {"cookie_behavior": "none"},
          "headers_config": {"header_behavior": "none"},
          "query_strings_config": {"query_string_behavior": "none"}}}]})") ==
          Lines{"cache_policy[0].id: must not be empty"});
    // A missing allowed_methods: not also "cached_methods must be a subset of allowed_methods".
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})") ==
          Lines{"distribution.default_cache_behavior.allowed_methods: missing"});
    // A directory that does not exist: not also "domain_name: missing" or "needs
    // custom_origin_config".
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "perch": {"directory": "/nonexistent-perch-dir"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}}})") ==
          Lines{"distribution.origin[0].perch.directory: \"/nonexistent-perch-dir\" does not "
                "exist"});
    // perch.tls given but broken: an https:// listen address does not also ask for it.
    CHECK(errors_of(R"({"distribution": {
        "origin": [{"origin_id": "o", "domain_name": "127.0.0.1",
                    "custom_origin_config": {"origin_protocol_policy": "http-only"}}],
        "default_cache_behavior": {"target_origin_id": "o", "allowed_methods": ["GET", "HEAD"],
                                   "cached_methods": ["GET", "HEAD"],
                                   "viewer_protocol_policy": "allow-all"}},
      "perch": {"listen": ["https://127.0.0.1:8443"],
                "tls": {"certificate_chain_file": "/nonexistent-perch-chain.pem"}}})") ==
          Lines{"perch.tls.certificate_chain_file: \"/nonexistent-perch-chain.pem\" does not "
                "exist",
                "perch.tls.private_key_file: missing"});
}

TEST_CASE("config/errors: a syntax error is one error, and nothing else is checked") {
    auto lines = errors_of(R"({"distribution": {"enabled": "yes", "bogus": 1,})");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("document: line 1, column "));
}

TEST_CASE("config/errors: every duplicate key is reported, and nothing else is checked") {
    CHECK(errors_of(R"({"distribution": {"enabled": true, "enabled": false, "bogus": 1,
                         "origin": [{"origin_id": "a", "origin_id": "b"}]}})") ==
          Lines{"distribution.enabled: duplicate key",
                "distribution.origin[0].origin_id: duplicate key"});
}

TEST_CASE("config/errors: past 100 errors, one last line counts the rest") {
    std::string text = R"({"distribution": {"tags": {)";
    for (int i = 0; i < 130; ++i)
        text += (i ? ", " : "") + std::string("\"k") + std::to_string(1000 + i) + "\": 1";
    text += "}}}";
    auto lines = errors_of(text);
    REQUIRE(lines.size() == ConfigErrors::max_messages + 1);
    CHECK(lines[0] == "distribution.tags.k1000: expected a string");
    CHECK(lines[99] == "distribution.tags.k1099: expected a string");
    // 30 more tags, then distribution.origin and distribution.default_cache_behavior missing.
    CHECK(lines[100] == "... and 32 more errors");
}

TEST_CASE("config/errors: without a document order, errors stay in the order recorded") {
    ConfigErrors errors;
    CHECK_FALSE(errors.failed());
    errors.fail("b", "second");
    size_t mark = errors.count();
    CHECK_FALSE(errors.failed_since(mark));
    errors.fail("a", "first");
    CHECK(errors.failed_since(mark));
    auto e = errors.take();
    CHECK(e.code == Code::config);
    CHECK(e.context == "b: second\na: first");
}

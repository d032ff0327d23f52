#include "core/status.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using perch::core::Code;
using perch::core::code_message;
using perch::core::code_name;
using perch::core::Error;
using perch::core::Result;
using perch::core::Source;

namespace {

struct PublicStatus {
    std::string name;
    int value;
};

// Every "#define PERCH_OK 0" and "#define PERCH_E_X (-n)" of the public header.
std::vector<PublicStatus> public_statuses() {
    std::ifstream in(PERCH_SOURCE_DIR "/include/perch/perch.h");
    REQUIRE(in);
    std::vector<PublicStatus> out;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string define, name, value;
        words >> define >> name >> value;
        if (define != "#define" || (name != "PERCH_OK" && name.rfind("PERCH_E_", 0) != 0)) continue;
        if (value.size() > 2 && value.front() == '(' && value.back() == ')')
            value = value.substr(1, value.size() - 2);
        out.push_back({name, std::stoi(value)});
    }
    return out;
}

} // namespace

TEST_CASE("core/status: every code equals the public status of the same name") {
    std::vector<PublicStatus> statuses = public_statuses();
    REQUIRE(statuses.size() >= 18);
    std::set<int> values;
    for (const PublicStatus &p : statuses) {
        CAPTURE(p.name);
        CHECK(values.insert(p.value).second); // no value used twice
        CHECK(std::string(code_name(Code(p.value))) == p.name);
        CHECK(std::string(code_message(Code(p.value))) != "unknown status");
    }
    // Appended only: the values run 0, -1, -2 ... without a gap.
    CHECK(*values.begin() == -int(values.size() - 1));
    CHECK(*values.rbegin() == 0);
    CHECK(int(Code::too_large) == -17);
}

TEST_CASE("core/status: codes have short distinct messages; unknown values are named so") {
    std::set<std::string> names, messages;
    for (int v = 0; v >= int(Code::too_large); --v) {
        CAPTURE(v);
        std::string name = code_name(Code(v)), message = code_message(Code(v));
        CHECK(name.rfind(v == 0 ? "PERCH_OK" : "PERCH_E_", 0) == 0);
        CHECK(!message.empty());
        CHECK(names.insert(name).second);
        CHECK(messages.insert(message).second);
    }
    CHECK(std::string(code_name(Code::io)) == "PERCH_E_IO");
    CHECK(std::string(code_message(Code::io)) == "I/O error");
    CHECK(std::string(code_message(Code::ok)) == "success");
    for (int unknown : {1, -18, -1000}) {
        CAPTURE(unknown);
        CHECK(std::string(code_name(Code(unknown))) == "PERCH_E_UNKNOWN");
        CHECK(std::string(code_message(Code(unknown))) == "unknown status");
    }
}

TEST_CASE("core/status: Error::make fills every field, not retryable unless asked") {
    Error e = Error::make(Code::origin_timeout, Source::origin, "origin read timeout");
    CHECK(e.code == Code::origin_timeout);
    CHECK(e.source == Source::origin);
    CHECK(!e.retryable);
    CHECK(e.context == "origin read timeout");
    CHECK(Error::make(Code::origin_connect, Source::origin, "", true).retryable);
    Error d;
    CHECK(d.code == Code::internal); // a default error is never mistaken for success
}

TEST_CASE("core/status: a Result holds either a value or an error") {
    Result<std::string> good(std::string("value"));
    CHECK(good.ok());
    CHECK(static_cast<bool>(good));
    CHECK(good.value() == "value");
    CHECK(*good == "value");
    CHECK(good->size() == 5);
    std::string moved = std::move(good).value();
    CHECK(moved == "value");

    Result<std::string> bad(Error::make(Code::not_found, Source::cache, "no such key"));
    CHECK(!bad.ok());
    CHECK(!static_cast<bool>(bad));
    CHECK(bad.error().code == Code::not_found);
    CHECK(bad.error().source == Source::cache);
    CHECK(bad.error().context == "no such key");

    const Result<int> c(42);
    CHECK(c.value() == 42);
    CHECK(*c.operator->() == 42);
}

TEST_CASE("core/status: Result<void> is ok by default and failed with an error") {
    Result<void> ok;
    CHECK(ok.ok());
    CHECK(static_cast<bool>(ok));
    Result<void> failed(Error::make(Code::config, Source::config, "bad path"));
    CHECK(!failed.ok());
    CHECK(failed.error().code == Code::config);
    CHECK(failed.error().context == "bad path");
}

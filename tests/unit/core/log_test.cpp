#include "core/log.hpp"

#include <doctest/doctest.h>

#include <cstdarg>
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

using perch::core::log_level_name;
using perch::core::Logger;
using perch::core::LogLevel;

namespace {

struct Line {
    LogLevel level;
    std::string request_id;
    std::string message;
};

void record(void *user, LogLevel level, std::string_view request_id, std::string_view message) {
    static_cast<std::vector<Line> *>(user)->push_back(
        Line{level, std::string(request_id), std::string(message)});
}

// What `fn` wrote to stderr (fd 2 points at a temporary file meanwhile).
template <class Fn> std::string stderr_of(Fn &&fn) {
    FILE *tmp = tmpfile();
    REQUIRE(tmp);
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::string out;
    rewind(tmp);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        out.append(buf, n);
    fclose(tmp);
    return out;
}

void vlog_through(const Logger &log, LogLevel l, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log.vlog(l, "v1", fmt, ap);
    va_end(ap);
}

} // namespace

// The public PERCH_LOG_* values are the C API's: capi/log_level.hpp maps them, and
// tests/capi/log_level_map_test.cpp checks that mapping. Here: the order enabled() relies on.
TEST_CASE("core/log: levels are ordered from the most severe and have names") {
    CHECK(int(LogLevel::error) < int(LogLevel::warn));
    CHECK(int(LogLevel::warn) < int(LogLevel::info));
    CHECK(int(LogLevel::info) < int(LogLevel::debug));
    CHECK(std::string(log_level_name(LogLevel::error)) == "error");
    CHECK(std::string(log_level_name(LogLevel::warn)) == "warn");
    CHECK(std::string(log_level_name(LogLevel::info)) == "info");
    CHECK(std::string(log_level_name(LogLevel::debug)) == "debug");
    CHECK(std::string(log_level_name(LogLevel(42))) == "?");
}

TEST_CASE("core/log: a logger passes its level and the more severe ones, and drops the rest") {
    struct Row {
        LogLevel max;
        std::vector<LogLevel> passed;
    };
    const Row rows[] = {
        {LogLevel::error, {LogLevel::error}},
        {LogLevel::warn, {LogLevel::error, LogLevel::warn}},
        {LogLevel::info, {LogLevel::error, LogLevel::warn, LogLevel::info}},
        {LogLevel::debug, {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}},
    };
    for (const Row &row : rows) {
        CAPTURE(int(row.max));
        std::vector<Line> lines;
        Logger log(&record, &lines, row.max);
        for (LogLevel l : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
            CHECK(log.enabled(l) == (int(l) <= int(row.max)));
            log.log(l, {}, "at %s", log_level_name(l));
            vlog_through(log, l, "v at %s", log_level_name(l));
        }
        REQUIRE(lines.size() == 2 * row.passed.size());
        for (size_t i = 0; i < row.passed.size(); ++i) {
            CHECK(lines[2 * i].level == row.passed[i]);
            CHECK(lines[2 * i].message == std::string("at ") + log_level_name(row.passed[i]));
            CHECK(lines[2 * i + 1].request_id == "v1");
            CHECK(lines[2 * i + 1].message == std::string("v at ") + log_level_name(row.passed[i]));
        }
    }
}

TEST_CASE("core/log: the default logger writes warnings and errors to stderr, not info") {
    Logger log;
    CHECK(log.enabled(LogLevel::warn));
    CHECK(!log.enabled(LogLevel::info));
    std::string out = stderr_of([&] {
        log.log(LogLevel::info, {}, "quiet");
        log.log(LogLevel::warn, {}, "loud %d", 1);
    });
    CHECK(out == "perch warn loud 1\n");
}

TEST_CASE("core/log: the sink gets the formatted message and the request id apart") {
    std::vector<Line> lines;
    Logger log(&record, &lines, LogLevel::debug);
    log.log(LogLevel::info, "0123abcd00000001", "GET %s -> %u %s", "/a?b=c", 200u, "Hit");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].level == LogLevel::info);
    CHECK(lines[0].request_id == "0123abcd00000001");
    CHECK(lines[0].message == "GET /a?b=c -> 200 Hit"); // no newline: the sink adds what it needs
}

TEST_CASE("core/log: a stderr line reads 'perch <level> [<request id>] <message>'") {
    std::string out = stderr_of([] {
        Logger::stderr_sink(nullptr, LogLevel::error, "0123abcd00000001", "origin down");
        Logger::stderr_sink(nullptr, LogLevel::debug, "x", "");
    });
    CHECK(out == "perch error [0123abcd00000001] origin down\n"
                 "perch debug [x] \n");
}

TEST_CASE("core/log: a stderr line without a request id has no brackets") {
    std::string out = stderr_of(
        [] { Logger::stderr_sink(nullptr, LogLevel::warn, {}, "shutdown timeout: closing 3"); });
    CHECK(out == "perch warn shutdown timeout: closing 3\n");
    CHECK(out.find('[') == std::string::npos);
}

TEST_CASE("core/log: the stderr sink writes views that are not NUL-terminated as given") {
    const std::string id = "abcdEF", msg = "hello world";
    std::string out = stderr_of([&] {
        Logger::stderr_sink(nullptr, LogLevel::info, std::string_view(id).substr(0, 4),
                            std::string_view(msg).substr(0, 5));
    });
    CHECK(out == "perch info [abcd] hello\n");
}

TEST_CASE("core/log: a long message reaches the sink whole, not truncated") {
    std::vector<Line> lines;
    Logger log(&record, &lines, LogLevel::debug);
    // A request target may be 8 KiB (perch.limits.max_uri_bytes) and is logged in full.
    std::string target = "/" + std::string(9000, 'a') + "/end";
    log.log(LogLevel::debug, "id", "GET %s -> %u", target.c_str(), 404u);
    vlog_through(log, LogLevel::debug, "%s|%s", target.c_str(), target.c_str());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].message.size() == target.size() + 11);
    // Compared as bools: doctest would print both 9 KiB strings on a failure.
    CHECK((lines[0].message == "GET " + target + " -> 404"));
    CHECK(lines[1].message.size() == 2 * target.size() + 1);
    CHECK((lines[1].message == target + "|" + target));
    std::string out = stderr_of([&] { Logger().log(LogLevel::error, {}, "%s", target.c_str()); });
    CHECK(out.size() == target.size() + 13);
    CHECK((out == "perch error " + target + "\n"));
}

TEST_CASE("core/log: a message exactly at the stack buffer's edge is kept whole") {
    std::vector<Line> lines;
    Logger log(&record, &lines, LogLevel::debug);
    for (size_t n : {1022u, 1023u, 1024u, 1025u}) {
        CAPTURE(n);
        lines.clear();
        std::string text(n, 'x');
        text.back() = 'y';
        log.log(LogLevel::info, {}, "%s", text.c_str());
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].message.size() == n);
        CHECK((lines[0].message == text));
    }
}

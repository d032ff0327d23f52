// perch.hpp, the header-only C++20 wrapper, used as a C++ host would: a config loaded from a
// file, a shared cache, a runtime on its own loop (PERCH_LOOP_OWN) listening on port 0 and
// serving a request, invalidation results (removed; a refused path's index and reason),
// moves and share(), a graceful shutdown. Built with -fno-exceptions: the wrapper needs none.
#include <perch/perch.hpp>

#include "loopback.h"
#include "tap.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <unistd.h>
#include <vector>

static_assert(!std::is_copy_constructible_v<perch::config> &&
              std::is_nothrow_move_constructible_v<perch::config>);
static_assert(!std::is_copy_constructible_v<perch::cache> &&
              std::is_nothrow_move_constructible_v<perch::cache>);
static_assert(!std::is_copy_constructible_v<perch::runtime> &&
              std::is_nothrow_move_constructible_v<perch::runtime> &&
              std::is_nothrow_move_assignable_v<perch::runtime>);

namespace {

int g_shutdowns;
perch_runtime *g_shutdown_runtime;

// Writes text to a temporary file; returns its path ("" on failure).
std::string temp_file(const std::string &text) {
    char path[] = "/tmp/perch-cxx-wrapper-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return "";
    bool ok = write(fd, text.data(), text.size()) == ssize_t(text.size());
    close(fd);
    return ok ? path : "";
}

} // namespace

int main(int argc, char **argv) {
    const char *site = argc == 2 ? argv[1] : PERCH_SITE_DIR;

    // Config
    auto missing = perch::config::load_file("/nonexistent/perch.json");
    CHECK(!missing && missing.error().status == PERCH_E_IO &&
              missing.error().message.find("/nonexistent/perch.json") != std::string::npos,
          "config::load_file of a missing file: PERCH_E_IO, the message names the file");
    auto invalid = perch::config::load_json(R"({"distribution": {"origin": []}})");
    CHECK(!invalid && invalid.error().status == PERCH_E_CONFIG &&
              invalid.error().message.find("distribution.") != std::string::npos &&
              std::string(invalid.error().name()) == "PERCH_E_CONFIG",
          "config::load_json of an invalid config: PERCH_E_CONFIG with the JSON path");

    std::string json =
        std::string(R"({"distribution": {"origin": [{"origin_id": "site", )") +
        R"("perch": {"directory": ")" + site + R"("}}], )" +
        R"("default_cache_behavior": {"target_origin_id": "site", )" +
        R"("allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"], )" +
        R"("viewer_protocol_policy": "allow-all"}}, "perch": {"workers": 2}})";
    std::string path = temp_file(json);
    auto loaded = perch::config::load_file(path);
    unlink(path.c_str());
    CHECK(loaded.has_value(), "config::load_file loads a file");
    if (!loaded) {
        std::printf("# %s\n", loaded.error().message.c_str());
        return tap_done();
    }
    perch::config cfg = std::move(loaded).value();
    CHECK(cfg && cfg.workers() == 2, "the config reads perch.workers");
    perch::config other = cfg.share();
    CHECK(other.get() == cfg.get(), "share() gives another owner of the same handle");
    perch::config moved = std::move(other);
    CHECK(!other && moved.get() == cfg.get(), "a moved-from config holds nothing");
    moved = perch::config(); // drops that reference; cfg still holds one
    CHECK(cfg.workers() == 2, "dropping a shared owner leaves the others working");

    // Cache
    auto made = perch::cache::create(cfg, {.memory_bytes = 4u << 20});
    CHECK(made.has_value(), "cache::create with options");
    perch::cache cache = std::move(*made);
    auto st = cache.stats();
    CHECK(st && st->bytes_budget == (4u << 20) && st->entries == 0, "cache.stats()");
    CHECK(!perch::cache::create(perch::config()) &&
              perch::cache::create(perch::config()).error().status == PERCH_E_INVALID_HANDLE,
          "cache::create with an empty config owner is PERCH_E_INVALID_HANDLE");

    // Runtime on its own loop
    perch::runtime_options o;
    o.loop_mode = PERCH_LOOP_OWN;
    o.shared_cache = &cache;
    o.log_level = 7;
    auto refused = perch::runtime::create(cfg, o);
    CHECK(!refused && refused.error().status == PERCH_E_INVALID_ARGUMENT,
          "runtime::create refuses a bad log_level");
    o.log_level = PERCH_LOG_ERROR;
    auto created = perch::runtime::create(cfg, o);
    CHECK(created.has_value(), "runtime::create on its own loop with a shared cache");
    if (!created) return tap_done();
    perch::runtime first = std::move(*created);
    perch::runtime rt;
    rt = std::move(first);
    CHECK(!first && rt, "a runtime moves; the moved-from owner holds nothing");
    auto nothing = first.listen("http://127.0.0.1:0");
    CHECK(!nothing && nothing.error().status == PERCH_E_INVALID_HANDLE,
          "calls on a moved-from runtime: PERCH_E_INVALID_HANDLE");
    auto bad = rt.listen("ftp://127.0.0.1:1");
    CHECK(!bad && bad.error().status == PERCH_E_INVALID_ARGUMENT &&
              bad.error().message.find("ftp://") != std::string::npos,
          "listen(bad url): the error carries the runtime's last_error");
    auto port = rt.listen("http://127.0.0.1:0");
    CHECK(port && *port > 0, "listen on port 0 gives the bound port");
    CHECK(rt.backend_fd() >= 0 && first.backend_fd() == -1, "backend_fd");
    CHECK(rt.shared_cache().get() == cache.get(), "the runtime uses the shared cache");

    static char reply[4096];
    static volatile int done;
    uint16_t p = port.value_or(0);
    std::thread client([p] {
        loopback_exchange(p, "GET /about.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                          reply, sizeof reply);
        done = 1;
    });
    drive_own_loop(rt.get(), &done); // backend_fd + timeout_ms + step, from a poll() loop
    client.join();
    CHECK(std::strstr(reply, "200 OK") && std::strstr(reply, "X-Cache: Miss"),
          "the runtime serves a request");
    auto rs = rt.stats();
    CHECK(rs && rs->requests == 1 && cache.stats()->entries == 1, "runtime and cache stats");

    // Invalidation
    auto refusal = cache.invalidate({"/about.html", "/ok", "no-slash"});
    CHECK(!refusal && refusal.error().status == PERCH_E_INVALID_ARGUMENT &&
              refusal.error().path_refused() && refusal.error().refused_index == 2 &&
              std::strlen(refusal.error().refused_reason) > 0,
          "invalidate: a refused path's index (2) and reason");
    CHECK(!refusal && refusal.error().message.rfind("paths[2]: ", 0) == 0,
          "the message names the path: \"paths[2]: ...\"");
    CHECK(cache.stats()->entries == 1, "a refused list invalidates nothing");
    std::vector<std::string> paths = {"/about%2Ehtml", "/img/*"};
    auto removed = cache.invalidate(paths);
    CHECK(removed && removed->removed == 1, "invalidate(vector<string>): removed counts");
    perch_slice all = {reinterpret_cast<const uint8_t *>("/*"), 2};
    auto none = cache.invalidate(std::span<const perch_slice>(&all, 1));
    CHECK(none && none->removed == 0, "invalidate(span<perch_slice>)");
    perch::cache empty_cache = std::move(cache);
    auto on_empty = cache.invalidate({"/a"});
    CHECK(!on_empty && on_empty.error().status == PERCH_E_INVALID_HANDLE &&
              !on_empty.error().path_refused(),
          "a moved-from cache: PERCH_E_INVALID_HANDLE, no path blamed");

    // Shutdown (the callback takes user first) and run down.
    auto shut = rt.shutdown(
        1000,
        [](void *user, perch_runtime *r) {
            ++*static_cast<int *>(user);
            g_shutdown_runtime = r;
        },
        &g_shutdowns);
    CHECK(shut.has_value() && g_shutdowns == 1 && g_shutdown_runtime == rt.get(),
          "shutdown: the callback fires with (user, runtime)");
    auto ran = rt.run();
    CHECK(ran.has_value(), "run() returns once nothing is left");
    rt = perch::runtime(); // destroys it
    CHECK(!rt, "assigning an empty owner destroys the runtime");
    return tap_done();
}

// Micro benchmark of the cache-hit path, in process: a real Transaction on a real Runtime
// answers GETs from stored objects into a sink that only assembles the iovecs it would hand
// to uv_write (as ViewerConnection does). The objects are stored by a real miss through a
// local-directory origin first. Reports hits/s, ns/hit and heap allocations per hit.
#include "cache/memory_store.hpp"
#include "config/config.hpp"
#include "counting_allocator.hpp"
#include "edge/deployment.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <uv.h>

namespace {

using namespace perch;

class IovecSink final : public edge::ResponseSink, public edge::TransactionDone {
public:
    uv_buf_t bufs[24];
    size_t nbufs = 0;
    uint64_t bytes = 0;
    bool finished = false;
    edge::Transaction *txn = nullptr;

    void send(const edge::ResponseHeadOut *head, const core::BufferSlice *body, size_t count,
              bool last) override {
        nbufs = 0;
        if (head) {
            bufs[nbufs++] = uv_buf_init((char *)head->head->ptr, unsigned(head->head->len));
            if (!head->fields.empty())
                bufs[nbufs++] =
                    uv_buf_init((char *)head->fields.data(), unsigned(head->fields.size()));
        }
        for (size_t i = 0; i < count; ++i)
            bufs[nbufs++] = uv_buf_init((char *)body[i].ptr, unsigned(body[i].len));
        for (size_t i = 0; i < nbufs; ++i)
            bytes += bufs[i].len;
        if (!last) txn->proceed();
    }
    void abort() override {}
    void pause_request_body() override {}
    void resume_request_body() override {}
    void transaction_done() override { finished = true; }
};

core::RequestHead get(const char *path) {
    core::RequestHead r;
    r.method = core::Method::get;
    r.method_text = "GET";
    r.target = path;
    r.headers.add("Host", "bench.example");
    r.headers.add("User-Agent", "wrk");
    r.headers.add("Accept", "*/*");
    return r;
}

} // namespace

int main() {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("perch-bench-" + std::to_string(getpid()));
    fs::create_directories(dir);
    struct Size {
        const char *name;
        size_t bytes;
    } sizes[] = {{"1k", 1024}, {"256k", 256 * 1024}};
    for (auto &s : sizes)
        std::ofstream(dir / (std::string(s.name) + ".bin")) << std::string(s.bytes, 'x');

    std::string json =
        R"({"distribution": {"origin": [{"origin_id": "d", "perch": {"directory": ")" +
        dir.string() + R"("}}], "default_cache_behavior": {"target_origin_id": "d",
        "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
        "viewer_protocol_policy": "allow-all", "default_ttl": 3600}}})";
    auto cfg = config::parse_config(json, dir.string());
    if (!cfg) {
        fprintf(stderr, "config: %s\n", cfg.error().context.c_str());
        return 1;
    }
    auto dep = edge::Deployment::create(std::move(cfg.value()));
    uv_loop_t loop;
    uv_loop_init(&loop);
    cache::MemoryStoreOptions mo;
    auto store = core::Ref<cache::CacheStore>::adopt(new cache::MemoryStore(mo));
    auto *rt = new edge::Runtime(&loop, dep.value(), store, core::Logger());
    IovecSink sink;
    edge::Transaction txn(*rt, &sink, sink);
    sink.txn = &txn;

    printf("hit path (in process, one thread): lookup, response head, body iovecs\n");
    printf("%-6s %12s %10s %14s %12s\n", "size", "hits/s", "ns/hit", "allocs/hit", "MiB/s");
    for (auto &s : sizes) {
        std::string path = std::string("/") + s.name + ".bin";
        core::RequestHead head = get(path.c_str());
        edge::ViewerRequest req;
        req.head = &head;
        req.client_address = "127.0.0.1";
        char id[24];
        // As ViewerConnection does: a new id for each request.
        auto next = [&] { req.request_id = std::string_view(id, rt->next_request_id(id)); };
        // The miss stores the object (file read on libuv's thread pool).
        sink.finished = false;
        next();
        txn.start(req);
        while (!sink.finished)
            uv_run(&loop, UV_RUN_ONCE);
        txn.reset();
        for (int i = 0; i < 1000; ++i) { // warm up: capacities settle
            sink.finished = false;
            next();
            txn.start(req);
            txn.reset();
        }
        const int n = 2'000'000;
        sink.bytes = 0;
        uint64_t a0 = allocations.load();
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            sink.finished = false;
            next();
            txn.start(req);
            if (!sink.finished) {
                fprintf(stderr, "not a hit\n");
                return 1;
            }
            txn.reset();
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        uint64_t allocs = allocations.load() - a0;
        printf("%-6s %12.0f %10.1f %14.3f %12.0f\n", s.name, n / secs, secs * 1e9 / n,
               double(allocs) / n, double(sink.bytes) / secs / 1048576.0);
    }
    rt->close(nullptr, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    fs::remove_all(dir);
    return 0;
}

// A runtime on simulated time for transaction tests: a distribution from JSON, a memory store,
// origin 0 (and any other) replaced by a ScriptedOrigin, and viewers that are pull-model sinks
// recording what they get. Nothing sleeps: the test moves the clock and answers the origin.
#pragma once

#include "cache/memory_store.hpp"
#include "config/config.hpp"
#include "edge/deployment.hpp"
#include "edge/runtime.hpp"
#include "edge/transaction.hpp"
#include "scripted_origin.hpp"
#include "simulated_clock.hpp"
#include "uv_test_loop.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

namespace perch::test {

// One viewer request through a Transaction, as a sink that records the response.
class TestViewer final : public edge::ResponseSink, public edge::TransactionDone {
public:
    explicit TestViewer(edge::Runtime &rt) : txn(rt, this, *this) {}
    ~TestViewer() { txn.cancel(); }

    // Starts `method` `target` with `fields` (Host: test.example unless given).
    void start(std::string target, const Fields &fields = {}, core::Method m = core::Method::get) {
        head.clear();
        head.method = m;
        head.method_text = std::string(core::method_name(m));
        head.target = std::move(target);
        bool host = false;
        for (const auto &[n, v] : fields) {
            head.headers.add(n, v);
            host = host || n == "Host";
        }
        if (!host) head.headers.add("Host", "test.example");
        response_head.clear();
        body.clear();
        status = 0;
        sends = 0;
        last = aborted = done = false;
        edge::ViewerRequest r;
        r.head = &head;
        r.client_address = "192.0.2.1";
        r.request_id = "test-request-id";
        txn.start(r);
    }

    std::optional<std::string> field(std::string_view name) const {
        std::string_view h = response_head;
        for (size_t at = 0; at < h.size();) {
            size_t end = h.find("\r\n", at);
            std::string_view line = h.substr(at, end - at);
            size_t colon = line.find(':');
            if (colon != std::string_view::npos && core::iequals(line.substr(0, colon), name)) {
                std::string_view v = line.substr(colon + 1);
                while (!v.empty() && v.front() == ' ')
                    v.remove_prefix(1);
                return std::string(v);
            }
            if (end == std::string_view::npos) break;
            at = end + 2;
        }
        return std::nullopt;
    }
    std::string x_cache() const { return field("X-Cache").value_or(""); }
    int age() const { return std::stoi(field("Age").value_or("-1")); }

    // The sink: asks for more at once unless `hold` (then the test calls txn.proceed()).
    void send(const edge::ResponseHeadOut *h, const core::BufferSlice *b, size_t n,
              bool is_last) override {
        REQUIRE_FALSE(last);
        REQUIRE_FALSE(aborted);
        ++sends;
        if (h) {
            REQUIRE(response_head.empty()); // the head comes once
            status = h->status;
            response_head.append(h->head->view());
            response_head.append(h->fields);
        }
        for (size_t i = 0; i < n; ++i)
            body.append(b[i].view());
        last = is_last;
        if (!is_last && !hold) txn.proceed();
    }
    void abort() override { aborted = true; }
    void pause_request_body() override { upload_paused = true; }
    void resume_request_body() override { upload_paused = false; }
    void transaction_done() override {
        REQUIRE_FALSE(done); // exactly once
        done = true;
    }

    edge::Transaction txn;
    core::RequestHead head;
    std::string response_head, body;
    uint16_t status = 0;
    size_t sends = 0;
    bool last = false, aborted = false, done = false;
    bool hold = false;
    bool upload_paused = false;
};

class EdgeHarness {
public:
    // `distribution` is the JSON object of "distribution"; every origin is a ScriptedOrigin.
    explicit EdgeHarness(const std::string &distribution, const std::string &extra = "") {
        std::string json = "{\"distribution\": " + distribution + extra + "}";
        auto cfg = config::parse_config(json, "/");
        REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().context));
        auto dep = edge::Deployment::create(std::move(cfg.value()));
        REQUIRE(dep);
        cache::MemoryStoreOptions mo;
        mo.budget_bytes = 256 << 20;
        store = core::Ref<cache::CacheStore>::adopt(new cache::MemoryStore(mo));
        rt = new edge::Runtime(
            loop.get(), dep.value(), store,
            core::Logger(&core::Logger::stderr_sink, nullptr, core::LogLevel::error), nullptr,
            &clock);
        for (size_t i = 0; i < rt->origins().size(); ++i) {
            auto o = std::make_unique<ScriptedOrigin>(clock);
            origins.push_back(o.get());
            rt->origins().replace(i, std::move(o));
        }
    }
    ~EdgeHarness() {
        viewers.clear();
        bool closed = false;
        rt->close([](void *c) { *static_cast<bool *>(c) = true; }, &closed);
        loop.run_until([&] { return closed; });
    }

    TestViewer &viewer() {
        viewers.push_back(std::make_unique<TestViewer>(*rt));
        return *viewers.back();
    }
    // A GET by a new viewer.
    TestViewer &get(std::string target, const Fields &fields = {}) {
        TestViewer &v = viewer();
        v.start(std::move(target), fields);
        return v;
    }
    ScriptedOrigin &origin(size_t i = 0) { return *origins[i]; }
    void advance_s(double s) { clock.advance(int64_t(s * 1000)); }
    // Lets fill wakes and deferred frees run (the runtime's mailbox): a few loop turns.
    void settle() { loop.run_for(1); }

    UvTestLoop loop;
    SimulatedClock clock;
    core::Ref<cache::CacheStore> store;
    edge::Runtime *rt = nullptr;
    std::vector<ScriptedOrigin *> origins;
    std::vector<std::unique_ptr<TestViewer>> viewers;
};

// A distribution with one origin "o" and a default behavior whose legacy TTLs are
// min/default/max, forwarding the query string (so that tests can vary objects by query).
inline std::string one_origin(int default_ttl = 60, int max_ttl = 31536000, int min_ttl = 0,
                              const std::string &more = "") {
    return R"({"origin": [{"origin_id": "o", "domain_name": "origin.test",
        "custom_origin_config": {"http_port": 80, "https_port": 443,
                                 "origin_protocol_policy": "http-only"}}],
      "default_cache_behavior": {"target_origin_id": "o", "viewer_protocol_policy": "allow-all",
        "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
        "cached_methods": ["GET", "HEAD"],
        "forwarded_values": {"query_string": true, "cookies": {"forward": "none"}},
        "min_ttl": )" +
           std::to_string(min_ttl) + ", \"default_ttl\": " + std::to_string(default_ttl) +
           ", \"max_ttl\": " + std::to_string(max_ttl) + "}" + more + "}";
}

} // namespace perch::test

// Benchmarks of the memory store alone (no HTTP), deterministic (seeded):
//  - per-object overhead: heap bytes (mallinfo2) per stored 1 KiB object beyond its key, head
//    and body bytes, beside what the store charges for it (such an object is compact: one
//    allocation, see cache/cached_object.hpp);
//  - hit ratio of S3-FIFO against LRU replaying a Zipf(0.9) trace of 1M requests over 100k
//    keys with the budget at 10% of the working set's bytes (bodies of 768..1279 bytes);
//  - the same for the edge bench's realistic mix (bench/edge/lib/mix_urls.py): sizes by count
//    80% 1-16 KiB, 15% 16-256 KiB, 5% 1-8 MiB, Zipf(0.9) over ranks, budget 10% of the bytes;
//    request and byte hit ratios (what `./dev bench` measures through HTTP, without the noise);
//  - lookup cost on hits and heap allocations per lookup;
//  - invalidation time with 10k and 100k stored objects: an exact path (which should not grow
//    with the store), and a prefix (a scan of every object).
#include "cache/memory_store.hpp"
#include "counting_allocator.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace perch;
using cache::CacheKey;
using cache::EvictionPolicy;
using cache::MemoryStore;
using cache::MemoryStoreOptions;
using Clock = std::chrono::steady_clock;

constexpr size_t key_count = 100'000;
constexpr size_t request_count = 1'000'000;

struct Corpus {
    std::vector<CacheKey> keys;
    std::vector<size_t> body_sizes;
    std::string body = std::string(2048, 'b');
};

Corpus make_corpus(size_t n, size_t paths_per_key = 1) {
    Corpus c;
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < n; ++i) {
        std::string path = "/static/asset-" + std::to_string(i / paths_per_key) + ".js";
        CacheKey k;
        k.text =
            "bench.example\x1f" + path + "\x1fv=" + std::to_string(i % paths_per_key) + "\x1fgzip";
        k.path = path;
        k.finalize();
        c.keys.push_back(std::move(k));
        c.body_sizes.push_back(768 + rng() % 512);
    }
    return c;
}

std::string head_for(size_t body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nETag: \"5f3e-a1b2c3\"\r\n"
           "Cache-Control: max-age=3600\r\nContent-Length: " +
           std::to_string(body) + "\r\n";
}

bool insert(MemoryStore &store, const Corpus &c, size_t i) {
    size_t n = c.body_sizes[i];
    auto w = store.begin_insert(c.keys[i], n);
    if (!w || !w->append(reinterpret_cast<const uint8_t *>(c.body.data()), n)) return false;
    std::string head = head_for(n);
    auto b = core::Buffer::create(head.size());
    b->append(head.data(), head.size());
    cache::CommitInfo info{200, {1'700'000'000'000, 0, 3'600'000}, "\"5f3e-a1b2c3\"", "", ""};
    return bool(w->commit(std::move(b), std::move(info)));
}

void overhead(const Corpus &c) {
    MemoryStoreOptions o;
    o.budget_bytes = 1ull << 32;
    malloc_trim(0);
    size_t before = mallinfo2().uordblks;
    auto store = new MemoryStore(o);
    uint64_t content = 0;
    for (size_t i = 0; i < c.keys.size(); ++i) {
        insert(*store, c, i);
        content += c.keys[i].text.size() + c.body_sizes[i] + head_for(c.body_sizes[i]).size();
    }
    size_t after = mallinfo2().uordblks;
    double n = double(c.keys.size());
    double heap = double(after - before - sizeof(MemoryStore)) / n;
    double charged = double(store->stats().bytes_used) / n;
    printf("per-object overhead, %zu objects of 768..1279 B (key, head and body excluded):\n",
           c.keys.size());
    printf("  heap (mallinfo2):  %6.1f B/object\n", heap - double(content) / n);
    printf("  charged to budget: %6.1f B/object (at most object_overhead %llu, buffer_overhead "
           "%llu; sizeof(CachedObject) %zu, sizeof(Buffer) %zu)\n\n",
           charged - double(content) / n, (unsigned long long)MemoryStore::object_overhead,
           (unsigned long long)MemoryStore::buffer_overhead, sizeof(cache::CachedObject),
           sizeof(core::Buffer));
    delete store;
}

// The eviction policies the hit-ratio runs compare.
constexpr std::pair<const char *, EvictionPolicy> policies[] = {{"S3-FIFO", EvictionPolicy::s3fifo},
                                                                {"LRU", EvictionPolicy::lru}};

MemoryStoreOptions options_for(uint64_t budget, EvictionPolicy policy) {
    MemoryStoreOptions o;
    o.budget_bytes = budget;
    o.eviction = policy;
    return o;
}

// Ranks 0..n-1 with P(rank k) proportional to 1 / (k+1)^s.
std::vector<uint32_t> zipf_trace(size_t n, double s, size_t count, uint64_t seed) {
    std::vector<double> cdf(n);
    double sum = 0;
    for (size_t k = 0; k < n; ++k)
        cdf[k] = sum += 1.0 / std::pow(double(k + 1), s);
    std::vector<uint32_t> perm(n);
    for (size_t k = 0; k < n; ++k)
        perm[k] = uint32_t(k);
    std::mt19937_64 rng(seed);
    std::shuffle(perm.begin(), perm.end(), rng); // popularity unrelated to key order
    std::uniform_real_distribution<double> u(0, sum);
    std::vector<uint32_t> trace(count);
    for (auto &t : trace)
        t = perm[size_t(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin())];
    return trace;
}

void hit_ratio(const Corpus &c) {
    uint64_t working_set = 0;
    {
        MemoryStoreOptions o;
        o.budget_bytes = 1ull << 32;
        MemoryStore probe(o);
        for (size_t i = 0; i < c.keys.size(); ++i)
            insert(probe, c, i);
        working_set = probe.stats().bytes_used;
    }
    auto trace = zipf_trace(c.keys.size(), 0.9, request_count, 7);
    printf("hit ratio, Zipf(0.9), %zu requests over %zu keys, budget 10%% of %.1f MiB:\n",
           request_count, c.keys.size(), double(working_set) / 1048576.0);
    printf("  %-8s %10s %12s %14s %16s\n", "policy", "hit ratio", "evictions", "ns/lookup hit",
           "allocs/lookup");
    for (auto [name, policy] : policies) {
        MemoryStore store(options_for(working_set / 10, policy));
        uint64_t hits = 0;
        for (uint32_t k : trace) {
            if (store.lookup(c.keys[k]))
                ++hits;
            else
                insert(store, c, k);
        }
        // Lookups of stored keys only: the hit path's cost.
        std::vector<uint32_t> stored;
        for (uint32_t k : trace)
            if (stored.size() < 100'000 && store.lookup(c.keys[k])) stored.push_back(k);
        uint64_t a0 = allocations.load();
        auto t0 = Clock::now();
        for (int round = 0; round < 10; ++round)
            for (uint32_t k : stored)
                if (!store.lookup(c.keys[k])) stored[0] = k; // keeps the call
        double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() /
                    double(stored.size() * 10);
        double allocs = double(allocations.load() - a0) / double(stored.size() * 10);
        printf("  %-8s %9.2f%% %12llu %14.1f %16.3f\n", name, 100.0 * double(hits) / request_count,
               (unsigned long long)store.stats().evictions, ns, allocs);
    }
    printf("\n");
}

// The edge bench's mix (bench/edge/lib/mix_urls.py): sizes by count 80% 1-16 KiB in 1 KiB
// steps, 15% 16-256 KiB in 4 KiB steps, 5% 1-8 MiB in 256 KiB steps; popularity by rank.
void mix_hit_ratio(size_t urls, size_t requests) {
    std::vector<CacheKey> keys(urls);
    std::vector<size_t> sizes(urls);
    std::mt19937_64 rng(20261203);
    uint64_t total = 0;
    for (size_t i = 0; i < urls; ++i) {
        double r = std::uniform_real_distribution<double>(0, 1)(rng);
        size_t kib = r < 0.80   ? 1 + rng() % 16
                     : r < 0.95 ? 16 + 4 * (1 + rng() % 60)
                                : 1024 + 256 * (rng() % 29);
        sizes[i] = kib * 1024;
        total += sizes[i];
        keys[i].text = "bench.example\x1f/mix/" + std::to_string(i) + "/" + std::to_string(kib);
        keys[i].path = "/mix/" + std::to_string(i) + "/" + std::to_string(kib);
        keys[i].finalize();
    }
    std::string body(8u << 20, 'm');
    auto trace = zipf_trace(urls, 0.9, requests, 11);
    printf("hit ratio, the edge bench's mix: Zipf(0.9), %zu requests over %zu URLs, budget 10%% "
           "of %.0f MiB:\n",
           requests, urls, double(total) / 1048576.0);
    printf("  %-8s %10s %15s %12s\n", "policy", "hit ratio", "byte hit ratio", "evictions");
    for (auto [name, policy] : policies) {
        MemoryStore store(options_for(total / 10, policy));
        uint64_t hits = 0, hit_bytes = 0, bytes = 0;
        size_t i = 0;
        for (uint32_t k : trace) {
            bool counted = i++ >= requests / 4; // a quarter warms the cache
            if (counted) bytes += sizes[k];
            if (store.lookup(keys[k])) {
                if (counted) ++hits, hit_bytes += sizes[k];
                continue;
            }
            auto w = store.begin_insert(keys[k], sizes[k]);
            if (!w || !w->append(reinterpret_cast<const uint8_t *>(body.data()), sizes[k]))
                continue;
            std::string head = head_for(sizes[k]);
            auto b = core::Buffer::create(head.size());
            b->append(head.data(), head.size());
            cache::CommitInfo info{200, {1'700'000'000'000, 0, 3'600'000}, "", "", ""};
            w->commit(std::move(b), std::move(info));
        }
        size_t counted = requests - requests / 4;
        printf("  %-8s %9.2f%% %14.2f%% %12llu\n", name, 100.0 * double(hits) / double(counted),
               100.0 * double(hit_bytes) / double(bytes),
               (unsigned long long)store.stats().evictions);
    }
    printf("\n");
}

void invalidation(size_t count) {
    // Paths with two keys each (a query string in the key).
    Corpus c = make_corpus(count, 2);
    MemoryStoreOptions o;
    o.budget_bytes = 1ull << 32;
    printf("invalidation with %zu stored objects (%zu paths):\n", count, count / 2);
    {
        MemoryStore store(o);
        for (size_t i = 0; i < c.keys.size(); ++i)
            insert(store, c, i);
        auto t0 = Clock::now();
        uint64_t removed = store.invalidate("/nothing/", true);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        printf("  prefix matching none:   %8.2f ms (scans %llu objects)\n", ms,
               (unsigned long long)store.stats().entries);
        const size_t n = count / 10;
        t0 = Clock::now();
        for (size_t i = 0; i < n; ++i)
            removed += store.invalidate(c.keys[i * 2].path, false);
        double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
        printf("  exact path:             %8.2f us per path (%llu objects removed by %zu calls)\n",
               us, (unsigned long long)removed, n);
        for (size_t i = 0; i < 2 * n; ++i) // back to `count` objects
            insert(store, c, i);
        t0 = Clock::now();
        removed = store.invalidate("/static/", true);
        ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        printf("  prefix /static/* (all): %8.2f ms (%llu objects removed)\n\n", ms,
               (unsigned long long)removed);
    }
}

} // namespace

int main() {
    printf("memory store (one thread)\n\n");
    Corpus c = make_corpus(key_count);
    overhead(c);
    hit_ratio(c);
    mix_hit_ratio(getenv("MIX_URLS") ? size_t(atol(getenv("MIX_URLS"))) : 100'000,
                  getenv("MIX_REQUESTS") ? size_t(atol(getenv("MIX_REQUESTS"))) : 600'000);
    invalidation(key_count / 10); // exact-path time does not grow with the store
    invalidation(key_count);
    return 0;
}

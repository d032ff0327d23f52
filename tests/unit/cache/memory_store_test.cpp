#include "cache/memory_store.hpp"

#include <doctest/doctest.h>

#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using perch::cache::CachedObject;
using perch::cache::CacheKey;
using perch::cache::CacheStore;
using perch::cache::CacheWriter;
using perch::cache::CommitInfo;
using perch::cache::EvictionPolicy;
using perch::cache::MemoryStore;
using perch::cache::MemoryStoreOptions;
using perch::cache::StoredTimes;
using perch::core::Buffer;
using perch::core::BufferSlice;
using perch::core::Ref;

namespace {

const StoredTimes times{1'700'000'000'000, 0, 60'000};

CommitInfo info(uint16_t status, std::string etag = "", std::string last_modified = "",
                std::string vary = "") {
    return {status, times, std::move(etag), std::move(last_modified), std::move(vary)};
}

CacheKey make_key(std::string_view text, std::string_view path) {
    CacheKey k;
    k.text = text;
    k.path = path;
    k.finalize();
    return k;
}

// Keys of one path, so all in one shard: the eviction order is the store's only choice.
CacheKey same_shard_key(int i) {
    return make_key("example.com\x1f/o\x1fv=" + std::to_string(i), "/o");
}

Ref<Buffer> text_buffer(std::string_view text) {
    Ref<Buffer> b = Buffer::create(text.size());
    b->append(text.data(), text.size());
    return b;
}

std::string head_for(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
}

std::string body_of(const CachedObject &o) {
    std::string out;
    for (size_t i = 0; i < o.body_count(); ++i)
        out.append(o.body_buffer(i).view());
    return out;
}

// Stores `body` for `key` (announcing its size unless told not to); null if refused.
Ref<CachedObject> insert(CacheStore &store, const CacheKey &key, std::string_view body,
                         bool announce = true) {
    auto w =
        store.begin_insert(key, announce ? std::optional<uint64_t>(body.size()) : std::nullopt);
    if (!w) return nullptr;
    if (!body.empty() && !w->append(reinterpret_cast<const uint8_t *>(body.data()), body.size()))
        return nullptr;
    return w->commit(text_buffer(head_for(body)), info(200, "\"etag\"", ""));
}

bool append(CacheWriter &w, std::string_view bytes) {
    return w.append(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
}

MemoryStoreOptions options(uint64_t budget, uint64_t max_object = 0,
                           EvictionPolicy eviction = EvictionPolicy::s3fifo) {
    MemoryStoreOptions o;
    o.budget_bytes = budget;
    o.max_object_bytes = max_object;
    o.eviction = eviction;
    return o;
}

} // namespace

TEST_CASE("cache/memory_store: an inserted object is found with the same bytes and head") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("example.com\x1f/index.html\x1f\x1fgzip", "/index.html");
    const std::string body = "<html>hello</html>";
    auto w = store.begin_insert(key, body.size());
    REQUIRE(w);
    CHECK(append(*w, body.substr(0, 6)));
    CHECK(append(*w, body.substr(6)));
    const std::string head = head_for(body);
    Ref<CachedObject> committed =
        w->commit(text_buffer(head), info(203, "\"v1\"", "Tue, 01 Oct 2024 10:00:00 GMT"));
    REQUIRE(committed);

    Ref<CachedObject> found = store.lookup(key);
    REQUIRE(found);
    CHECK(found == committed);
    CHECK(body_of(*found) == body);
    CHECK(found->body_size() == body.size());
    CHECK(found->head_view() == head);
    CHECK(found->status == 203);
    CHECK(found->etag() == "\"v1\"");
    CHECK(found->last_modified() == "Tue, 01 Oct 2024 10:00:00 GMT");
    CHECK(found->times().response_time == times.response_time);
    CHECK(found->times().ttl_ms == times.ttl_ms);
    CHECK(found->key() == key.text);
    CHECK(found->path() == "/index.html");

    auto st = store.stats();
    CHECK(st.entries == 1);
    CHECK(st.inserts == 1);
    CHECK(st.bytes_used == MemoryStore::charge_of(*found));
    CHECK(st.bytes_used >= body.size() + head.size() + key.text.size());
    CHECK(st.bytes_budget == 1 << 20);
}

TEST_CASE("cache/memory_store: a body of unknown length streamed in pieces is kept in order") {
    MemoryStore store(options(16 << 20));
    CacheKey key = make_key("k", "/big");
    std::string body;
    for (int i = 0; body.size() < 200'000; ++i)
        body += "line " + std::to_string(i) + "\n";
    auto w = store.begin_insert(key, std::nullopt);
    REQUIRE(w);
    for (size_t pos = 0; pos < body.size(); pos += 1000)
        REQUIRE(append(*w, std::string_view(body).substr(pos, 1000)));
    REQUIRE(w->commit(text_buffer(head_for(body)), info(200, "", "")));
    Ref<CachedObject> found = store.lookup(key);
    REQUIRE(found);
    CHECK(found->body_count() > 1); // several chunks
    CHECK(found->body_size() == body.size());
    CHECK(body_of(*found) == body);
}

TEST_CASE("cache/memory_store: an empty body is stored") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("empty", "/empty");
    REQUIRE(insert(store, key, ""));
    Ref<CachedObject> found = store.lookup(key);
    REQUIRE(found);
    CHECK(found->body_size() == 0);
    CHECK(body_of(*found).empty());
}

TEST_CASE("cache/memory_store: a lookup for an unknown key misses") {
    MemoryStore store(options(1 << 20));
    REQUIRE(insert(store, make_key("a", "/a"), "A"));
    CHECK(!store.lookup(make_key("b", "/b")));
}

TEST_CASE("cache/memory_store: a key with the same hash but different text never hits") {
    MemoryStore store(options(1 << 20));
    CacheKey a = make_key("example.com\x1f/a", "/a");
    CacheKey b = make_key("example.com\x1f/b", "/b");
    b.hash = a.hash; // a simulated XXH3-128 collision
    REQUIRE(insert(store, a, "body of a"));
    CHECK(!store.lookup(b));
    REQUIRE(store.lookup(a));
    CHECK(body_of(*store.lookup(a)) == "body of a");

    // Storing the colliding key may displace a, but neither lookup may return the other's bytes.
    REQUIRE(insert(store, b, "body of b"));
    Ref<CachedObject> fa = store.lookup(a), fb = store.lookup(b);
    REQUIRE(fb);
    CHECK(body_of(*fb) == "body of b");
    if (fa) CHECK(body_of(*fa) == "body of a");
    CHECK(store.stats().entries == (fa ? 2u : 1u));
}

TEST_CASE("cache/memory_store: a key differing only in the high hash half and text misses") {
    MemoryStore store(options(1 << 20));
    CacheKey a = make_key("same text", "/p");
    REQUIRE(insert(store, a, "x"));
    CacheKey b = a;
    b.text = "other text";
    b.hash.high64 += 64; // same path, same low half
    CHECK(!store.lookup(b));
}

TEST_CASE("cache/memory_store: commit replaces the older object and its readers keep old bytes") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/page");
    REQUIRE(insert(store, key, "version one"));
    Ref<CachedObject> old = store.lookup(key);
    REQUIRE(old);
    const uint8_t *old_bytes = old->body_buffer(0).data();

    Ref<CachedObject> fresh = insert(store, key, "version two, longer");
    REQUIRE(fresh);
    Ref<CachedObject> found = store.lookup(key);
    REQUIRE(found);
    CHECK(found == fresh);
    CHECK(body_of(*found) == "version two, longer");

    // The reader's object is intact: same buffer, same bytes, same head.
    CHECK(body_of(*old) == "version one");
    CHECK(old->body_buffer(0).data() == old_bytes);
    CHECK(old->head_view() == head_for("version one"));

    auto st = store.stats();
    CHECK(st.entries == 1);
    CHECK(st.inserts == 2);
    CHECK(st.bytes_used ==
          MemoryStore::charge_of(*fresh)); // the replaced object is no longer charged
}

TEST_CASE("cache/memory_store: a writer destroyed without commit leaves nothing behind") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/abandoned");
    {
        auto w = store.begin_insert(key, std::nullopt);
        REQUIRE(w);
        CHECK(store.stats().bytes_used > 0); // the insert holds a reservation
        CHECK(append(*w, std::string(50'000, 'z')));
        CHECK(store.stats().bytes_used > 50'000);
        CHECK(!store.lookup(key)); // not visible before commit
    }
    auto st = store.stats();
    CHECK(!store.lookup(key));
    CHECK(st.entries == 0);
    CHECK(st.inserts == 0);
    CHECK(st.bytes_used == 0);
}

TEST_CASE("cache/memory_store: an abandoned replacement keeps the stored object") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/keep");
    Ref<CachedObject> kept = insert(store, key, "kept");
    REQUIRE(kept);
    {
        auto w = store.begin_insert(key, 3);
        REQUIRE(w);
        CHECK(append(*w, "new"));
    }
    CHECK(store.lookup(key) == kept);
    CHECK(store.stats().bytes_used == MemoryStore::charge_of(*kept));
}

TEST_CASE("cache/memory_store: an announced size above max_object_bytes is refused at once") {
    MemoryStore store(options(1 << 20, 1000));
    CacheKey key = make_key("k", "/big");
    CHECK(!store.begin_insert(key, 1001));
    CHECK(store.begin_insert(key, 1000));
    CHECK(store.stats().bytes_used == 0);
}

TEST_CASE("cache/memory_store: max_object_bytes defaults to an eighth of the budget") {
    MemoryStore store(options(80'000));
    CacheKey key = make_key("k", "/big");
    CHECK(!store.begin_insert(key, 10'001));
    CHECK(store.begin_insert(key, 10'000));
}

TEST_CASE("cache/memory_store: appending beyond max_object_bytes fails and commit refuses") {
    const uint64_t max_object = 64 * 1024;
    MemoryStore store(options(16 << 20, max_object));
    CacheKey key = make_key("k", "/too-big");
    SUBCASE("length not announced") {
        auto w = store.begin_insert(key, std::nullopt);
        REQUIRE(w);
        bool ok = true;
        for (int i = 0; i < 64 && ok; ++i) // up to 2 * max_object in 2 KiB pieces
            ok = append(*w, std::string(2048, 'x'));
        CHECK(!ok);
        CHECK(!append(*w, "more")); // a failed writer stays failed
        CHECK(!w->commit(text_buffer("HTTP/1.1 200 OK\r\n"), info(200, "", "")));
    }
    SUBCASE("length announced, then exceeded") {
        auto w = store.begin_insert(key, max_object);
        REQUIRE(w);
        CHECK(append(*w, std::string(max_object, 'x')));
        CHECK(!append(*w, std::string(max_object, 'y')));
        CHECK(!w->commit(text_buffer("HTTP/1.1 200 OK\r\n"), info(200, "", "")));
    }
    CHECK(!store.lookup(key));
    auto st = store.stats();
    CHECK(st.entries == 0);
    CHECK(st.bytes_used == 0);
}

TEST_CASE("cache/memory_store: an object under max_object_bytes of unknown length is stored") {
    // The body's size is what max_object_bytes limits, not the capacity of the chunks the
    // store happened to allocate while the length was unknown.
    struct Row {
        uint64_t max_object;
        size_t body_size, piece;
    };
    const Row rows[] = {
        {64 * 1024, 60 * 1024, 4096}, // chunks of 16+32+64 KiB would exceed the limit
        {64 * 1024, 64 * 1024 - 512, 64 * 1024 - 512},
        {8 * 1024, 100, 100}, // smaller than the store's first chunk size
        {8 * 1024, 8000, 1000},
    };
    for (const Row &row : rows) {
        CAPTURE(row.max_object);
        CAPTURE(row.body_size);
        MemoryStore store(options(16 << 20, row.max_object));
        CacheKey key = make_key("k", "/streamed");
        const std::string body(row.body_size, 's');
        auto w = store.begin_insert(key, std::nullopt);
        REQUIRE(w);
        size_t pos = 0;
        for (; pos < body.size(); pos += row.piece)
            if (!append(*w, std::string_view(body).substr(pos, row.piece))) break;
        CHECK(pos >= body.size());
        Ref<CachedObject> obj = w->commit(text_buffer(head_for(body)), info(200, "", ""));
        CHECK(obj);
        if (obj) CHECK(body_of(*obj) == body);
    }
}

TEST_CASE("cache/memory_store: with LRU eviction a full store evicts the least recently used") {
    // All keys share one shard: the store evicts from the inserting shard first.
    const std::string body(1000, 'b');
    uint64_t charge = 0;
    {
        MemoryStore probe(options(1 << 20));
        charge = MemoryStore::charge_of(*insert(probe, same_shard_key(0), body));
    }
    const uint64_t budget = 4 * charge + charge / 2; // room for four objects
    MemoryStore store(options(budget, 4096, EvictionPolicy::lru));
    for (int i = 0; i < 4; ++i) {
        REQUIRE(insert(store, same_shard_key(i), body));
        CHECK(store.stats().bytes_used <= budget);
    }
    CHECK(store.stats().entries == 4);
    CHECK(store.stats().evictions == 0);

    REQUIRE(store.lookup(same_shard_key(0))); // o0 becomes the most recently used

    REQUIRE(insert(store, same_shard_key(4), body));
    CHECK(store.stats().bytes_used <= budget);
    CHECK(store.stats().evictions == 1);
    CHECK(store.lookup(same_shard_key(0)));
    CHECK(!store.lookup(same_shard_key(1))); // the least recently used went first

    REQUIRE(insert(store, same_shard_key(5), body));
    CHECK(store.stats().bytes_used <= budget);
    CHECK(store.stats().evictions == 2);
    CHECK(!store.lookup(same_shard_key(2)));
    for (int i : {0, 3, 4, 5})
        CHECK(store.lookup(same_shard_key(i)));
    CHECK(store.stats().entries == 4);
}

TEST_CASE("cache/memory_store: bytes_used never exceeds the budget however many objects come") {
    const uint64_t budget = 64 * 1024;
    MemoryStore store(options(budget));
    uint64_t committed = 0;
    for (int i = 0; i < 200; ++i) {
        CAPTURE(i);
        std::string body(500 + (i * 37) % 3000, char('a' + i % 26));
        CacheKey key = make_key("host\x1f/obj" + std::to_string(i), "/obj" + std::to_string(i));
        Ref<CachedObject> obj = insert(store, key, body);
        REQUIRE(obj);
        ++committed;
        auto st = store.stats();
        CHECK(st.bytes_used <= budget);
        CHECK(st.entries + st.evictions == committed);
        Ref<CachedObject> found = store.lookup(key); // the newest object is always kept
        REQUIRE(found);
        CHECK(body_of(*found) == body);
    }
    CHECK(store.stats().evictions > 0);
}

TEST_CASE("cache/memory_store: invalidation removes an exact path or every path with a prefix") {
    MemoryStore store(options(1 << 20));
    const char *paths[] = {"/a", "/a/b", "/a/c/d", "/ab", "/b", "/b/a"};
    for (const char *p : paths)
        REQUIRE(insert(store, make_key(std::string("host\x1f") + p, p), p));
    const uint64_t before = store.stats().bytes_used;

    CHECK(store.invalidate("/a", false) == 1);
    CHECK(!store.lookup(make_key("host\x1f/a", "/a")));
    CHECK(store.lookup(make_key("host\x1f/a/b", "/a/b")));
    CHECK(store.stats().invalidations == 1);
    CHECK(store.stats().bytes_used < before);

    CHECK(store.invalidate("/a/", true) == 2);
    CHECK(!store.lookup(make_key("host\x1f/a/b", "/a/b")));
    CHECK(!store.lookup(make_key("host\x1f/a/c/d", "/a/c/d")));
    CHECK(store.lookup(make_key("host\x1f/ab", "/ab")));

    CHECK(store.invalidate("/nothing", false) == 0);
    CHECK(store.invalidate("/a/b", false) == 0); // already gone
    CHECK(store.invalidate("/b", true) == 2);
    CHECK(store.stats().invalidations == 5);
    CHECK(store.stats().entries == 1);

    CHECK(store.invalidate("/", true) == 1);
    auto st = store.stats();
    CHECK(st.entries == 0);
    CHECK(st.bytes_used == 0);
    CHECK(st.invalidations == 6);
}

TEST_CASE("cache/memory_store: invalidation removes every key of a path") {
    MemoryStore store(options(1 << 20));
    // One path stored under several keys (query strings, encodings).
    REQUIRE(insert(store, make_key("h\x1f/p\x1f\x1f", "/p"), "plain"));
    REQUIRE(insert(store, make_key("h\x1f/p\x1f\x1fgzip", "/p"), "gzip"));
    REQUIRE(insert(store, make_key("h\x1f/p\x1fv=2\x1f", "/p"), "v2"));
    CHECK(store.invalidate("/p", false) == 3);
    CHECK(store.stats().entries == 0);
}

TEST_CASE("cache/memory_store: invalidating one host's keys of a path leaves the other hosts'") {
    MemoryStore store(options(1 << 20));
    const CacheKey a1 = make_key("a.test\x1f/p\x1f\x1f", "/p");
    const CacheKey a2 = make_key("a.test\x1f/p\x1fv=2\x1f", "/p");
    const CacheKey b = make_key("b.test\x1f/p\x1f\x1f", "/p");
    const CacheKey other = make_key("a.test\x1f/q\x1f\x1f", "/q");
    for (const CacheKey *k : {&a1, &a2, &b, &other})
        REQUIRE(insert(store, *k, "x"));
    CHECK(store.invalidate_keys("/p", "a.test\x1f/p\x1f") == 2);
    CHECK(!store.lookup(a1));
    CHECK(!store.lookup(a2));
    CHECK(store.lookup(b));
    CHECK(store.lookup(other));
    CHECK(store.invalidate_keys("/p", "c.test\x1f/p\x1f") == 0);
    CHECK(store.invalidate_keys("/p", "") == 1); // every key of the path
    CHECK(store.stats().entries == 1);
    CHECK(store.stats().invalidations == 3);
}

TEST_CASE("cache/memory_store: a reader keeps an invalidated object's bytes") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/gone");
    REQUIRE(insert(store, key, "still readable"));
    Ref<CachedObject> reader = store.lookup(key);
    CHECK(store.invalidate("/gone", false) == 1);
    CHECK(!store.lookup(key));
    CHECK(body_of(*reader) == "still readable");
}

TEST_CASE("cache/memory_store: an evicted compact object stays readable through a slice until "
          "the slice goes") {
    const std::string body(1000, 'e');
    uint64_t charge = 0;
    {
        MemoryStore probe(options(1 << 20));
        charge = MemoryStore::charge_of(*insert(probe, same_shard_key(0), body));
    }
    MemoryStore store(options(3 * charge, 4096)); // room for three objects
    CacheKey first = same_shard_key(0);
    BufferSlice head, bytes;
    {
        Ref<CachedObject> o = insert(store, first, body);
        REQUIRE(o);
        REQUIRE(o->compact());
        head = o->head_slice(); // what a viewer write in flight holds
        bytes = o->body_slice(0);
    }
    for (int i = 1; i <= 3; ++i) // the third needs the room of the first, never hit
        REQUIRE(insert(store, same_shard_key(i), body));
    REQUIRE(!store.lookup(first));
    CHECK(store.stats().evictions >= 1);
    // The object is gone (it dropped its reference to its buffer); the block lives on.
    CHECK(bytes.buf->ref_count() == 2);
    CHECK(bytes.view() == body);
    CHECK(head.view() == head_for(body));
    head = BufferSlice();
    CHECK(bytes.buf->ref_count() == 1);
    CHECK(bytes.view() == body);
    bytes = BufferSlice(); // frees the block (ASan: no leak, no use after free)
}

TEST_CASE("cache/memory_store: invalidated and evicted compact objects let go of their block") {
    MemoryStore store(options(1 << 20));
    BufferSlice kept[2];
    {
        Ref<CachedObject> a = insert(store, make_key("a", "/a"), "bytes of a");
        Ref<CachedObject> b = insert(store, make_key("b", "/b"), "bytes of b");
        REQUIRE((a && b && a->compact() && b->compact()));
        kept[0] = a->body_slice(0);
        kept[1] = b->body_slice(0);
        CHECK(kept[0].buf->ref_count() == 2); // the object's reference and the slice's
    }
    CHECK(store.invalidate("/a", false) == 1);
    CHECK(kept[0].buf->ref_count() == 1); // the object was destroyed
    CHECK(kept[0].view() == "bytes of a");
    CHECK(kept[1].buf->ref_count() == 2); // still stored
    CHECK(store.invalidate("/", true) == 1);
    CHECK(kept[1].buf->ref_count() == 1);
    CHECK(store.stats().bytes_used == 0);
}

namespace {

// A refreshed copy of `prev` as a revalidation makes it: new head and times, shared body.
Ref<CachedObject> refreshed_copy(const CachedObject &prev, std::string_view head) {
    CommitInfo i{prev.status,
                 {prev.times().response_time + 1000, 0, 120'000},
                 std::string(prev.etag()),
                 "",
                 ""};
    return CachedObject::refreshed(prev, text_buffer(head), i);
}

} // namespace

TEST_CASE("cache/memory_store: refresh replaces the object when it is still the stored one") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/r");
    Ref<CachedObject> prev = insert(store, key, "shared body");
    REQUIRE(prev);
    const std::string new_head = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Refreshed: 1\r\n";
    Ref<CachedObject> fresh = refreshed_copy(*prev, new_head);
    store.refresh(prev, fresh);

    Ref<CachedObject> found = store.lookup(key);
    REQUIRE(found);
    CHECK(found == fresh);
    CHECK(found->head_view() == new_head);
    CHECK(found->times().ttl_ms == 120'000);
    CHECK(&found->body_buffer(0) == &prev->body_buffer(0)); // the body is shared, not copied
    CHECK(body_of(*found) == "shared body");
    auto st = store.stats();
    CHECK(st.entries == 1);
    CHECK(st.bytes_used == MemoryStore::charge_of(*fresh));
}

TEST_CASE("cache/memory_store: a refreshed compact object shares its body and is charged for "
          "the whole block it keeps") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/rc");
    const std::string body(500, 'r');
    Ref<CachedObject> prev = insert(store, key, body);
    REQUIRE(prev);
    REQUIRE(prev->compact());
    const std::string new_head = "HTTP/1.1 200 OK\r\nContent-Length: 500\r\nX-Refreshed: 1\r\n";
    Ref<CachedObject> fresh = refreshed_copy(*prev, new_head);
    CHECK(!fresh->compact());
    REQUIRE(fresh->body_count() == 1);
    CHECK(&fresh->body_buffer(0) == &prev->body_buffer(0)); // shared, not copied
    CHECK(fresh->body_size() == body.size());               // the old head is not body
    CHECK(fresh->etag() == prev->etag());
    // The shared buffer's block holds the previous object: charged in full.
    CHECK(fresh->buffer_bytes() >= prev->allocation_bytes() + fresh->head_slice().buf->capacity());
    store.refresh(prev, fresh);
    CHECK(store.lookup(key) == fresh);
    CHECK(store.stats().bytes_used == MemoryStore::charge_of(*fresh));
    Buffer *shared = &prev->body_buffer(0);
    prev.reset(); // the previous object goes; its block stays for the body
    CHECK(shared->ref_count() == 1);
    CHECK(body_of(*fresh) == body);
    CHECK(fresh->head_view() == new_head);
    // A refresh of the refreshed object shares the same buffer again.
    Ref<CachedObject> again = refreshed_copy(*fresh, new_head);
    CHECK(&again->body_buffer(0) == shared);
    store.refresh(fresh, again);
    fresh.reset();
    CHECK(body_of(*again) == body);
    CHECK(store.invalidate("/rc", false) == 1);
    CHECK(shared->ref_count() == 1); // held by `again` only
    again.reset();                   // frees the block (ASan: no leak)
    CHECK(store.stats().bytes_used == 0);
}

TEST_CASE("cache/memory_store: refresh does nothing when the object was replaced meanwhile") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/r");
    Ref<CachedObject> prev = insert(store, key, "old");
    REQUIRE(prev);
    Ref<CachedObject> newer = insert(store, key, "newer");
    REQUIRE(newer);
    store.refresh(prev, refreshed_copy(*prev, "HTTP/1.1 200 OK\r\n"));
    CHECK(store.lookup(key) == newer);
    auto st = store.stats();
    CHECK(st.entries == 1);
    CHECK(st.bytes_used == MemoryStore::charge_of(*newer));
}

TEST_CASE("cache/memory_store: refresh does nothing when the object was invalidated meanwhile") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("k", "/r");
    Ref<CachedObject> prev = insert(store, key, "old");
    REQUIRE(prev);
    store.invalidate("/r", false);
    store.refresh(prev, refreshed_copy(*prev, "HTTP/1.1 200 OK\r\n"));
    CHECK(!store.lookup(key));
    auto st = store.stats();
    CHECK(st.entries == 0);
    CHECK(st.bytes_used == 0);
}

TEST_CASE("cache/memory_store: concurrent inserts, lookups and invalidations stay consistent") {
    constexpr int key_count = 16;
    constexpr int thread_count = 4;
    constexpr int iterations = 4000;
    auto key_for = [](int i) {
        return make_key("host\x1f/k" + std::to_string(i), "/k" + std::to_string(i));
    };
    // Each key's body is derived from the key, so a reader can tell a torn or mixed object.
    auto body_for = [](int i, int version) {
        return std::string(200 + 50 * (i % 5), char('a' + i)) + "#" + std::to_string(version);
    };
    auto body_matches = [](int i, const std::string &body) {
        size_t hash = body.find('#');
        return hash == size_t(200 + 50 * (i % 5)) && body.find_first_not_of(char('a' + i)) == hash;
    };

    for (uint64_t budget : {uint64_t(64) << 20, uint64_t(12) * 1024}) {
        CAPTURE(budget);
        MemoryStore store(options(budget, 4096));
        std::atomic<int> bad_bodies{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < thread_count; ++t) {
            threads.emplace_back([&, t] {
                uint32_t rng = 2654435761u * uint32_t(t + 1);
                for (int n = 0; n < iterations; ++n) {
                    rng = rng * 1664525u + 1013904223u;
                    int k = int(rng >> 8) % key_count;
                    int op = int(rng >> 20) % 10;
                    if (op < 4) {
                        insert(store, key_for(k), body_for(k, n));
                    } else if (op < 9) {
                        if (Ref<CachedObject> o = store.lookup(key_for(k))) {
                            if (!body_matches(k, body_of(*o)) || o->path() != key_for(k).path)
                                ++bad_bodies;
                        }
                    } else {
                        store.invalidate(key_for(k).path, false);
                    }
                }
            });
        }
        for (auto &th : threads)
            th.join();

        CHECK(bad_bodies == 0);
        uint64_t found = 0, charged = 0;
        for (int k = 0; k < key_count; ++k) {
            if (Ref<CachedObject> o = store.lookup(key_for(k))) {
                ++found;
                charged += MemoryStore::charge_of(*o);
            }
        }
        auto st = store.stats();
        CHECK(st.entries == found);
        CHECK(st.bytes_used == charged); // no reservation leaked
        CHECK(st.bytes_used <= budget);
        // Every object that left was evicted, invalidated or replaced (replacements uncounted).
        CHECK(st.inserts >= st.entries + st.evictions + st.invalidations);
    }
}

TEST_CASE("cache/memory_store: a large body is pool blocks and a heap tail of exactly the rest") {
    MemoryStoreOptions o;
    o.budget_bytes = 64 << 20;
    MemoryStore store(o);
    constexpr size_t block = perch::core::BlockPool::block_size;
    struct Case {
        size_t size;
        bool announced;
        size_t blocks;    // body buffers from the pool
        size_t heap_tail; // capacity of the last buffer when on the heap (0: none)
    };
    for (Case c : {Case{3 * block + 1000, true, 3, 1000}, Case{2 * block, true, 2, 0},
                   Case{block - 1, true, 0, block - 1}, Case{1000, true, 0, 1000},
                   Case{3 * block + 1000, false, 3, 0}}) {
        CAPTURE(c.size);
        CAPTURE(c.announced);
        std::string body(c.size, '\0');
        for (size_t i = 0; i < body.size(); ++i)
            body[i] = char(i * 13 + i / 4096);
        CacheKey key =
            make_key("example.com\x1f/" + std::to_string(c.size) + (c.announced ? "a" : "u"), "/x");
        auto w =
            store.begin_insert(key, c.announced ? std::optional<uint64_t>(c.size) : std::nullopt);
        REQUIRE(w);
        for (size_t at = 0; at < body.size(); at += 7000) // in pieces, as an origin read comes
            REQUIRE(w->append(reinterpret_cast<const uint8_t *>(body.data()) + at,
                              std::min<size_t>(7000, body.size() - at)));
        REQUIRE(w->commit(text_buffer(head_for(body)), info(200, "", "")));
        Ref<CachedObject> got = store.lookup(key);
        REQUIRE(got);
        CHECK(body_of(*got) == body);
        if (c.size <= MemoryStore::compact_max) {
            CHECK(got->compact());
            continue;
        }
        size_t pooled = 0;
        for (size_t i = 0; i < got->body_count(); ++i)
            pooled += got->body_buffer(i).in_pool();
        if (c.announced) {
            CHECK(pooled == c.blocks);
            CHECK(got->body_count() == c.blocks + (c.heap_tail ? 1 : 0));
            if (c.heap_tail)
                CHECK(got->body_buffer(got->body_count() - 1).capacity() == c.heap_tail);
        } else { // 16 KiB, 32 KiB on the heap, then blocks
            CHECK(pooled == c.blocks);
            REQUIRE(got->body_count() == 2 + c.blocks);
            CHECK(got->body_buffer(0).capacity() == 16 * 1024);
            CHECK(got->body_buffer(1).capacity() == 32 * 1024);
            for (size_t i = 2; i < got->body_count(); ++i)
                CHECK(got->body_buffer(i).in_pool());
        }
    }
}

TEST_CASE("cache/memory_store: pool blocks are charged whole, and an evicted body's blocks "
          "serve the next fill") {
    constexpr size_t block = perch::core::BlockPool::block_size;
    MemoryStoreOptions o;
    o.budget_bytes = 4 << 20; // room for about 60 blocks
    o.max_object_bytes = 1 << 20;
    MemoryStore store(o);
    const size_t size = block + 1; // one block and a 1-byte tail
    std::string body(size, 'p');
    {
        auto w = store.begin_insert(make_key("example.com\x1f/p", "/p"), size);
        w->append(reinterpret_cast<const uint8_t *>(body.data()), size);
        w->commit(text_buffer(head_for(body)), info(200, "", ""));
    }
    CHECK(store.stats().bytes_used >= block + 1 + MemoryStore::buffer_overhead);
    // Far more than the budget goes through the store: its blocks are recycled, so memory
    // stays what the budget holds.
    const std::string big(1 << 20, 'b');
    for (int i = 0; i < 200; ++i) {
        auto w = store.begin_insert(
            make_key("example.com\x1f/b" + std::to_string(i), "/b" + std::to_string(i)),
            big.size());
        REQUIRE(w);
        REQUIRE(w->append(reinterpret_cast<const uint8_t *>(big.data()), big.size()));
        REQUIRE(w->commit(text_buffer(head_for(big)), info(200, "", "")));
    }
    Ref<CachedObject> last = store.lookup(make_key("example.com\x1f/b199", "/b199"));
    REQUIRE(last);
    CHECK(body_of(*last) == big);
    REQUIRE(last->body_buffer(0).in_pool());
    // Every block ever mapped fits in the budget, with a slab of rounding: 200 MiB went through.
    perch::core::BlockPool::Stats pool = store.block_stats();
    CHECK(pool.mapped_blocks * block <=
          o.budget_bytes + perch::core::BlockPool::slab_blocks * block);
    CHECK(pool.mapped_blocks - pool.free_blocks <= o.budget_bytes / block);
    // A purge of every large object (or small objects taking their place) leaves their blocks
    // free: beyond what the pool keeps for the next large fill, those give their pages back.
    last.reset();
    CHECK(store.invalidate("/b", true) > 0);
    store.invalidate("/p", false); // evicted long ago, or now
    pool = store.block_stats();
    CHECK(pool.free_blocks == pool.mapped_blocks); // no large body left
    CHECK(pool.resident_free * block <= perch::core::BlockPool::slab_blocks * block);
    CHECK(pool.resident_free > 0); // some kept for the next fill
}

TEST_CASE("cache/memory_store: concurrent inserts never take bytes_used above the budget") {
    // Several threads insert objects of varied sizes (some of unknown length, some abandoned)
    // into a store far smaller than what they insert, while one thread watches bytes_used.
    const uint64_t budget = 256 * 1024;
    MemoryStore store(options(budget, 32 * 1024));
    std::atomic<bool> done{false};
    std::atomic<uint64_t> over{0};
    std::thread watcher([&] {
        while (!done.load())
            if (store.stats().bytes_used > budget) ++over;
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            uint32_t rng = 747796405u * uint32_t(t + 1);
            for (int n = 0; n < 3000; ++n) {
                rng = rng * 1664525u + 1013904223u;
                size_t size = 100 + (rng >> 8) % 20'000;
                CacheKey key = make_key("h\x1f/t" + std::to_string(t) + "/" + std::to_string(n),
                                        "/t" + std::to_string(t) + "/" + std::to_string(n % 50));
                std::string body(size, 'x');
                bool announce = (rng >> 4) % 2;
                auto w = store.begin_insert(key, announce ? std::optional<uint64_t>(size)
                                                          : std::nullopt);
                if (!w) continue;
                for (size_t pos = 0; pos < size; pos += 4096)
                    if (!append(*w, std::string_view(body).substr(pos, 4096))) break;
                if ((rng >> 12) % 8 != 0) w->commit(text_buffer(head_for(body)), info(200));
            }
        });
    }
    for (auto &th : threads)
        th.join();
    done = true;
    watcher.join();
    auto st = store.stats();
    CHECK(over == 0);
    CHECK(st.bytes_peak <= budget);
    CHECK(st.bytes_peak > budget / 2); // the store was really under pressure
    CHECK(st.evictions > 0);
    CHECK(st.bytes_used <= budget);
}

TEST_CASE("cache/memory_store: a small object is one allocation, charged what it takes") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("host\x1f/c\x1f\x1f", "/c");
    Ref<CachedObject> o = insert(store, key, std::string(1000, 'c'));
    REQUIRE(o);
    CHECK(o->compact());
    // The body and its head share the object's own buffer: body first, head after it.
    REQUIRE(o->body_count() == 1);
    const Buffer &b = o->body_buffer(0);
    CHECK(b.size() == 1000);
    CHECK(b.capacity() == 1000 + o->head_view().size());
    CHECK(o->head_slice().buf.get() == &b);
    CHECK(reinterpret_cast<const uint8_t *>(o->head_view().data()) == b.data() + 1000);
    // The object, its text (the key, which holds the path, and the etag, which the head does
    // not) and that buffer are one block, which the object starts.
    const size_t text = key.text.size() + o->etag().size();
    auto round16 = [](size_t n) { return (n + 15) / 16 * 16; };
    CHECK(reinterpret_cast<const char *>(&b) ==
          reinterpret_cast<const char *>(o.get()) + round16(sizeof(CachedObject) + text));
    CHECK(o->allocation_bytes() == b.allocation_bytes());
    CHECK(o->allocation_bytes() ==
          round16(sizeof(CachedObject) + text) + sizeof(Buffer) + round16(b.capacity()));
    CHECK(malloc_usable_size(o.get()) >= o->allocation_bytes());
    // Charged: that block, the allocator's header and the table slots; no other buffer.
    CHECK(o->buffer_count() == 0);
    const uint64_t charge = MemoryStore::charge_of(*o);
    CHECK(charge ==
          MemoryStore::index_overhead + MemoryStore::allocation_overhead + o->allocation_bytes());
    CHECK(charge <= MemoryStore::object_overhead + text + b.capacity());
    CHECK(store.stats().bytes_used == charge);
}

TEST_CASE("cache/memory_store: stored times come back as committed, stale windows in seconds") {
    MemoryStore store(options(1 << 20));
    const int64_t year_ms = 31'536'000'000;
    const StoredTimes cases[] = {
        {1'700'000'000'123, 4'567, 60'000, 0, -1, false},
        {1'700'000'000'123, 90 * 86'400'000ll + 17, 2 * year_ms + 1, 300'000, year_ms, false},
        {1'700'000'000'123, 0, 1, 30'000, 0, true},
        {-5, 1, 2, 86'400'000, 31'536'000, false},
    };
    int n = 0;
    for (const StoredTimes &t : cases) {
        CacheKey key = make_key("t" + std::to_string(n), "/t" + std::to_string(n));
        ++n;
        auto w = store.begin_insert(key, 1);
        REQUIRE(w);
        REQUIRE(append(*w, "x"));
        Ref<CachedObject> o = w->commit(text_buffer(head_for("x")), {200, t, "", "", ""});
        REQUIRE(o);
        StoredTimes got = o->times();
        CHECK(got.response_time == t.response_time);
        CHECK(got.initial_age_ms == t.initial_age_ms);
        CHECK(got.ttl_ms == t.ttl_ms);
        CHECK(got.stale_while_revalidate_ms == t.stale_while_revalidate_ms);
        CHECK(got.stale_if_error_ms == t.stale_if_error_ms);
        CHECK(got.revalidate_when_stale == t.revalidate_when_stale);
    }
    // A fraction of a second in a stale window is dropped (the window only shortens).
    auto w = store.begin_insert(make_key("frac", "/frac"), 1);
    REQUIRE(w);
    REQUIRE(append(*w, "x"));
    Ref<CachedObject> o = w->commit(text_buffer(head_for("x")),
                                    {200, {1000, 0, 1000, 1'999, 2'500, false}, "", "", ""});
    REQUIRE(o);
    CHECK(o->times().stale_while_revalidate_ms == 1'000);
    CHECK(o->times().stale_if_error_ms == 2'000);
}

TEST_CASE("cache/memory_store: validators the head holds are views into it, others are copied") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("host\x1f/h\x1f\x1f", "/h");
    auto w = store.begin_insert(key, 2);
    REQUIRE(w);
    REQUIRE(append(*w, "ok"));
    const std::string head = "HTTP/1.1 200 OK\r\nETag: \"e7\"\r\nContent-Length: 2\r\n";
    Ref<CachedObject> o = w->commit(text_buffer(head), info(200, "\"e7\"",
                                                            "Tue, 01 Oct 2024 "
                                                            "10:00:00 GMT"));
    REQUIRE(o);
    REQUIRE(o->compact());
    std::string_view h = o->head_view();
    CHECK(h == head);
    CHECK(o->etag() == "\"e7\"");
    CHECK(o->etag().data() == h.data() + head.find("\"e7\""));
    CHECK(o->last_modified() == "Tue, 01 Oct 2024 10:00:00 GMT"); // not in the head: a copy
    CHECK((o->last_modified().data() < h.data() || o->last_modified().data() >= h.end()));
}

TEST_CASE("cache/memory_store: vary and validators are kept with the object") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("host\x1f/v\x1f\x1fgzip", "/v");
    auto w = store.begin_insert(key, 2);
    REQUIRE(w);
    REQUIRE(append(*w, "ok"));
    Ref<CachedObject> o =
        w->commit(text_buffer(head_for("ok")), info(200, "\"e1\"", "Tue, 01 Oct 2024 10:00:00 GMT",
                                                    "accept-encoding,accept-language"));
    REQUIRE(o);
    Ref<CachedObject> found = store.lookup(key);
    REQUIRE(found);
    CHECK(found->vary() == "accept-encoding,accept-language");
    CHECK(found->etag() == "\"e1\"");
    CHECK(found->last_modified() == "Tue, 01 Oct 2024 10:00:00 GMT");
    CHECK(found->path() == "/v");
    CHECK(found->key() == key.text);
    CHECK(found->head_view() == head_for("ok"));
    CHECK(body_of(*found) == "ok");
}

TEST_CASE("cache/memory_store: an insert begun before an invalidation of its path is discarded") {
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("host\x1f/page\x1f\x1f", "/page");
    CacheKey other = make_key("host\x1f/other\x1f\x1f", "/other");
    struct Row {
        const char *name;
        const char *path;
        bool prefix;
        bool discards_page;
    };
    const Row rows[] = {
        {"exact path", "/page", false, true},
        {"prefix", "/pa", true, true},
        {"another exact path", "/elsewhere", false, false},
        {"another prefix", "/x", true, false},
    };
    for (const Row &row : rows) {
        CAPTURE(row.name);
        REQUIRE(store.invalidate("/", true) < 100); // a clean store
        auto w = store.begin_insert(key, 3);
        auto w2 = store.begin_insert(other, 3);
        REQUIRE(w);
        REQUIRE(w2);
        REQUIRE(append(*w, "old"));
        REQUIRE(append(*w2, "abc"));
        store.invalidate(row.path, row.prefix); // while the old content is in flight
        Ref<CachedObject> committed = w->commit(text_buffer(head_for("old")), info(200));
        CHECK(bool(committed) == !row.discards_page);
        CHECK(bool(store.lookup(key)) == !row.discards_page);
        CHECK(w2->commit(text_buffer(head_for("abc")), info(200))); // unrelated path
        // An insert begun after the invalidation is stored.
        CHECK(insert(store, key, "new"));
        CHECK(body_of(*store.lookup(key)) == "new");
    }
    auto st = store.stats();
    CHECK(st.discarded == 2);
    // Nothing leaked: only the stored objects are charged.
    uint64_t charged = 0;
    for (const CacheKey *k : {&key, &other})
        if (Ref<CachedObject> o = store.lookup(*k)) charged += MemoryStore::charge_of(*o);
    CHECK(st.bytes_used == charged);
}

TEST_CASE("cache/memory_store: many invalidations between begin and commit still discard") {
    // More invalidations of the shard than it remembers: the commit is discarded to be safe.
    MemoryStore store(options(1 << 20));
    CacheKey key = make_key("host\x1f/p\x1f\x1f", "/p");
    auto w = store.begin_insert(key, 1);
    REQUIRE(append(*w, "x"));
    store.invalidate("/p", false);
    for (int i = 0; i < 100; ++i) {
        store.invalidate("/p" + std::to_string(i), false);
        store.invalidate("/q" + std::to_string(i), true);
    }
    CHECK(!w->commit(text_buffer(head_for("x")), info(200)));
    CHECK(store.stats().bytes_used == 0);
}

TEST_CASE("cache/memory_store: S3-FIFO keeps objects hit while new and evicts one-hit wonders") {
    // All keys share one shard. Objects hit once while in the small queue move to the main
    // queue; a scan of objects never hit again does not push them out.
    const std::string body(1000, 'b');
    uint64_t charge = 0;
    {
        MemoryStore probe(options(1 << 20));
        charge = MemoryStore::charge_of(*insert(probe, same_shard_key(0), body));
    }
    MemoryStore store(options(10 * charge + charge / 2, 4096));
    for (int i = 0; i < 5; ++i) {
        REQUIRE(insert(store, same_shard_key(i), body));
        REQUIRE(store.lookup(same_shard_key(i))); // popular
    }
    for (int i = 100; i < 160; ++i) // a scan of objects seen once
        REQUIRE(insert(store, same_shard_key(i), body));
    CHECK(store.stats().evictions >= 50);
    for (int i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(store.lookup(same_shard_key(i)));
    }
    CHECK(store.stats().bytes_used <= 10 * charge + charge / 2);
}

TEST_CASE("cache/memory_store: room for a large object is taken from the whole store, not "
          "from its own shard") {
    // 20 small objects share the large one's path (so its shard); 2,000 others are spread over
    // the store. Room for the large object is a third of what is stored: taken evenly, its
    // shard keeps most of its objects; taken from its own shard first, it would keep none.
    const std::string small(1000, 's');
    std::vector<CacheKey> neighbours, others;
    for (int i = 0; i < 20; ++i)
        neighbours.push_back(same_shard_key(i));
    for (int i = 0; i < 2000; ++i)
        others.push_back(
            make_key("example.com\x1f/p" + std::to_string(i), "/p" + std::to_string(i)));
    uint64_t used = 0;
    {
        MemoryStore probe(options(64 << 20));
        for (auto &k : neighbours)
            REQUIRE(insert(probe, k, small));
        for (auto &k : others)
            REQUIRE(insert(probe, k, small));
        used = probe.stats().bytes_used;
    }
    MemoryStore store(options(used + used / 50, used));
    for (auto &k : neighbours)
        REQUIRE(insert(store, k, small));
    for (auto &k : others)
        REQUIRE(insert(store, k, small));
    REQUIRE(store.stats().evictions == 0);
    REQUIRE(insert(store, same_shard_key(1000), std::string(used / 3, 'L')));
    int kept = 0;
    for (auto &k : neighbours)
        kept += store.lookup(k) ? 1 : 0;
    CHECK(kept >= 8);
    CHECK(store.stats().bytes_used <= used + used / 50);
}

TEST_CASE("cache/memory_store: many keys of one path are found, replaced and invalidated") {
    MemoryStore store(options(16 << 20));
    std::vector<CacheKey> keys;
    for (int i = 0; i < 500; ++i)
        keys.push_back(same_shard_key(i));
    for (auto &k : keys)
        REQUIRE(insert(store, k, k.text));
    for (int i = 0; i < 500; i += 3) // replacements keep the chain consistent
        REQUIRE(insert(store, keys[size_t(i)], "v2"));
    for (int i = 0; i < 500; ++i) {
        Ref<CachedObject> o = store.lookup(keys[size_t(i)]);
        REQUIRE(o);
        CHECK(body_of(*o) == (i % 3 == 0 ? std::string("v2") : keys[size_t(i)].text));
    }
    CHECK(store.stats().entries == 500);
    CHECK(store.invalidate("/o", false) == 500);
    CHECK(store.stats().entries == 0);
    CHECK(store.stats().bytes_used == 0);
}

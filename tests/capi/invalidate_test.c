/* C API: perch_cache_invalidate reports through its result struct what it removed, or which
 * path it refused and why (the cache handle is shared between threads, so the detail travels
 * through the call, not through the handle); a refused list removes nothing; callers built
 * against a shorter result struct get only the prefix they know. */
#define _POSIX_C_SOURCE 200809L
#include "loopback.h"
#include "tap.h"

#include <perch/perch.h>

#include <pthread.h>
#include <stddef.h>
#include <string.h>

static uint16_t g_port;
static char g_replies[3][4096];
static volatile int g_client_done;

static const char *const objects[] = {"/index.html", "/about.html", "/style.css"};

static void *client(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; ++i) {
        char req[256];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                 objects[i]);
        loopback_exchange(g_port, req, g_replies[i], sizeof g_replies[i]);
    }
    g_client_done = 1;
    return NULL;
}

static uint64_t entries(perch_cache *cache) {
    perch_cache_stats s;
    s.struct_size = sizeof s;
    return perch_cache_get_stats(cache, &s) == PERCH_OK ? s.entries : 9999;
}

static perch_slice slice(const char *s) {
    perch_slice out = {(const uint8_t *)s, strlen(s)};
    return out;
}

/* What a caller compiled against a version with only struct_size and removed passes. */
typedef struct short_result {
    uint32_t struct_size;
    uint64_t removed;
    uint64_t sentinel; /* not part of the caller's struct: must stay untouched */
} short_result;

int main(int argc, char **argv) {
    const char *site = argc == 2 ? argv[1] : PERCH_SITE_DIR;
    perch_config *cfg = site_config(site);
    CHECK(cfg != NULL, "config loads");
    perch_cache *cache = NULL;
    CHECK(perch_cache_create(cfg, NULL, &cache) == PERCH_OK, "a shared cache");
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = PERCH_LOOP_OWN;
    o.cache = cache;
    perch_runtime *rt = NULL;
    CHECK(perch_runtime_create(cfg, &o, &rt) == PERCH_OK, "a runtime using it");
    perch_config_unref(cfg);
    CHECK(perch_runtime_listen(rt, "http://127.0.0.1:0", 18, &g_port) == PERCH_OK, "listen");

    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    drive_own_loop(rt, &g_client_done);
    pthread_join(t, NULL);
    CHECK(strstr(g_replies[0], "200 OK") && strstr(g_replies[2], "200 OK"),
          "three objects fetched");
    CHECK(entries(cache) == 3, "three objects stored");

    /* A refused path: its index and reason come back, and nothing is invalidated. */
    perch_slice refused[3] = {slice("/index.html"), slice("/about.html"), slice("/a*b")};
    perch_cache_invalidate_result r;
    memset(&r, 0xab, sizeof r);
    r.struct_size = sizeof r;
    CHECK(perch_cache_invalidate(cache, refused, 3, &r) == PERCH_E_INVALID_ARGUMENT,
          "a list with an invalid path is refused");
    CHECK(r.refused_index == 2, "refused_index is the invalid path's index (2 of 3)");
    CHECK(r.refused_reason && r.refused_reason[0], "refused_reason says why");
    if (r.refused_reason) printf("# refused_reason: %s\n", r.refused_reason);
    CHECK(r.refused_reason && strstr(r.refused_reason, "'*'") != NULL,
          "the reason is the one for a '*' that is not last");
    CHECK(r.removed == 0 && r.struct_size == sizeof r, "removed is 0; struct_size is kept");
    CHECK(entries(cache) == 3, "a refused list invalidates nothing, not even its valid paths");

    perch_slice first_bad[2] = {slice("img/a.png"), slice("/also bad")};
    r.struct_size = sizeof r;
    CHECK(perch_cache_invalidate(cache, first_bad, 2, &r) == PERCH_E_INVALID_ARGUMENT &&
              r.refused_index == 0 && r.refused_reason && strstr(r.refused_reason, "'/'"),
          "the first refused path is the one reported");
    perch_slice null_ptr[2] = {slice("/index.html"), {NULL, 5}};
    r.struct_size = sizeof r;
    CHECK(perch_cache_invalidate(cache, null_ptr, 2, &r) == PERCH_E_INVALID_ARGUMENT &&
              r.refused_index == 1 && r.refused_reason && r.refused_reason[0],
          "a NULL ptr with a non-zero len is refused, with its index");
    CHECK(perch_cache_invalidate(cache, refused, 3, NULL) == PERCH_E_INVALID_ARGUMENT &&
              entries(cache) == 3,
          "result may be NULL");

    /* A valid call: removed counts, no reason. */
    perch_slice two[2] = {slice("/index.html"), slice("/about%2Ehtml")};
    memset(&r, 0xab, sizeof r);
    r.struct_size = sizeof r;
    CHECK(perch_cache_invalidate(cache, two, 2, &r) == PERCH_OK, "a valid list is accepted");
    CHECK(r.removed == 2 && r.refused_reason == NULL && r.refused_index == 0,
          "removed counts the objects; refused_reason is NULL");
    CHECK(entries(cache) == 1, "the two objects are gone");

    /* An older caller whose struct ends after removed. */
    short_result s;
    s.struct_size = (uint32_t)(offsetof(perch_cache_invalidate_result, removed) + sizeof(uint64_t));
    s.removed = 77;
    s.sentinel = 42;
    perch_slice css = slice("/style.css");
    CHECK(perch_cache_invalidate(cache, &css, 1, (perch_cache_invalidate_result *)(void *)&s) ==
                  PERCH_OK &&
              s.removed == 1 && s.sentinel == 42,
          "a short struct_size (struct_size + removed) gets removed and nothing past it");
    s.removed = 77;
    CHECK(perch_cache_invalidate(cache, refused, 3, (perch_cache_invalidate_result *)(void *)&s) ==
                  PERCH_E_INVALID_ARGUMENT &&
              s.removed == 0 && s.sentinel == 42,
          "a short struct_size on a refusal: removed is 0, nothing past it is written");
    CHECK(entries(cache) == 0, "the last object is gone");

    /* Arguments. */
    r.struct_size = 0;
    r.removed = 77;
    CHECK(perch_cache_invalidate(cache, two, 2, &r) == PERCH_E_INVALID_ARGUMENT && r.removed == 77,
          "a struct_size below sizeof(uint32_t) is refused and result is not written");
    r.struct_size = sizeof r;
    CHECK(perch_cache_invalidate(cache, NULL, 1, &r) == PERCH_E_INVALID_ARGUMENT &&
              r.refused_reason == NULL,
          "paths NULL with a count: refused, no path to blame");
    r.struct_size = sizeof r;
    CHECK(perch_cache_invalidate(NULL, two, 2, &r) == PERCH_E_INVALID_HANDLE && r.removed == 0 &&
              r.refused_reason == NULL,
          "an invalid handle: PERCH_E_INVALID_HANDLE, result says nothing was removed");
    CHECK(perch_cache_invalidate(cache, NULL, 0, &r) == PERCH_OK && r.removed == 0,
          "an empty list is fine");

    perch_runtime_shutdown(rt, 1000, NULL, NULL);
    perch_runtime_run(rt);
    perch_runtime_destroy(rt);
    perch_cache_unref(cache);
    return tap_done();
}

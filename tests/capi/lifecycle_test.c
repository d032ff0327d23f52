/* C API: versions, statuses, configuration loading and errors, handle misuse, size-tagged
 * options, cache invalidation arguments. */
#include "tap.h"

#include <perch/perch.h>

#include <string.h>

static const char good[] =
    "{\"distribution\": {\"origin\": [{\"origin_id\": \"o\", \"domain_name\": \"127.0.0.1\","
    " \"custom_origin_config\": {\"http_port\": 18000, \"origin_protocol_policy\": \"http-only\"}}],"
    " \"default_cache_behavior\": {\"target_origin_id\": \"o\", \"allowed_methods\": [\"GET\", \"HEAD\"],"
    " \"cached_methods\": [\"GET\", \"HEAD\"], \"viewer_protocol_policy\": \"allow-all\"}},"
    " \"perch\": {\"workers\": 3, \"cache\": {\"memory\": \"8MiB\"}, \"shutdown_timeout\": 7}}";

int main(void) {
    CHECK(perch_version() == PERCH_VERSION_HEX, "perch_version matches the header");
    CHECK(strcmp(perch_version_string(), "0.1.0") == 0, "perch_version_string");
    CHECK(strcmp(perch_status_name(PERCH_E_CONFIG), "PERCH_E_CONFIG") == 0, "status names");
    CHECK(strcmp(perch_status_name(-9999), "PERCH_E_UNKNOWN") == 0, "unknown status name");
    CHECK(strcmp(perch_strerror(PERCH_OK), "success") == 0, "strerror of OK");
    CHECK(perch_strerror(-9999) != NULL, "strerror never returns NULL");

    /* Configuration */
    perch_config *cfg = NULL;
    CHECK(perch_config_create(NULL) == PERCH_E_INVALID_ARGUMENT, "config_create(NULL) is refused");
    CHECK(perch_config_create(&cfg) == PERCH_OK && cfg, "config_create");
    CHECK(strcmp(perch_config_last_error(cfg), "") == 0, "a new config has no error");
    CHECK(perch_config_workers(cfg) == 0, "an unloaded config has no workers");
    const char bad[] = "{\"distribution\": {\"origin\": []}}";
    CHECK(perch_config_load_json(cfg, bad, sizeof bad - 1, NULL) == PERCH_E_CONFIG,
          "an invalid config is refused");
    CHECK(strstr(perch_config_last_error(cfg), "distribution.") != NULL,
          "the error names the JSON path");
    CHECK(strcmp(perch_config_last_error(cfg),
                 "distribution.origin: must have at least one origin\n"
                 "distribution.default_cache_behavior: missing") == 0,
          "last_error holds every error of the config, one per line");
    CHECK(perch_config_load_json(cfg, good, sizeof good - 1, NULL) == PERCH_OK,
          "a valid config loads after a failed attempt (nothing half-applied)");
    CHECK(perch_config_load_json(cfg, good, sizeof good - 1, NULL) == PERCH_E_STATE,
          "a config loads once");
    CHECK(perch_config_workers(cfg) == 3, "perch.workers");
    CHECK(perch_config_shutdown_timeout_ms(cfg) == 7000, "perch.shutdown_timeout in ms");
    CHECK(strstr(perch_config_describe(cfg), "origin o: http://127.0.0.1:18000") != NULL,
          "describe lists the origin");
    CHECK(perch_config_listen_url(cfg, 0) &&
              strcmp(perch_config_listen_url(cfg, 0), "http://127.0.0.1:8080") == 0,
          "listen_url gives the default address when perch.listen is absent");
    CHECK(perch_config_listen_url(cfg, 1) == NULL, "listen_url past the last address is NULL");
    CHECK(perch_config_listen_url(NULL, 0) == NULL, "listen_url of NULL is NULL");
    perch_config *other = NULL;
    perch_config_create(&other);
    CHECK(perch_config_listen_url(other, 0) == NULL, "an unloaded config has no listen address");
    CHECK(perch_config_load_file(other, "/nonexistent/perch.json") == PERCH_E_IO,
          "load_file of a missing file is an I/O error");
    perch_config_unref(other);

    /* Handle misuse */
    CHECK(perch_config_load_json(NULL, good, 1, NULL) == PERCH_E_INVALID_HANDLE, "NULL config");
    CHECK(perch_config_load_json((perch_config *)(void *)"garbage!", good, 1, NULL) ==
              PERCH_E_INVALID_HANDLE,
          "a pointer that is not a config is refused");
    perch_config_unref(NULL);
    perch_config_ref(NULL);
    perch_runtime_destroy(NULL);
    perch_cache_unref(NULL);
    CHECK(1, "NULL unref/destroy do nothing");

    /* Cache and size-tagged options */
    perch_cache *cache = NULL;
    CHECK(perch_cache_create(cfg, NULL, &cache) == PERCH_OK, "cache_create with config defaults");
    perch_cache_stats st;
    memset(&st, 0xff, sizeof st);
    st.struct_size = sizeof st;
    CHECK(perch_cache_get_stats(cache, &st) == PERCH_OK && st.bytes_budget == (8u << 20),
          "the cache budget comes from perch.cache.memory");
    CHECK(st.entries == 0 && st.struct_size == sizeof st, "an empty cache");
    /* An older caller that knows only struct_size and entries. */
    struct { uint32_t struct_size; uint64_t entries; uint64_t sentinel; } old;
    old.struct_size = (uint32_t)(2 * sizeof(uint64_t)); /* struct_size (padded) + entries */
    old.sentinel = 42;
    CHECK(perch_cache_get_stats(cache, (perch_cache_stats *)(void *)&old) == PERCH_OK &&
              old.sentinel == 42,
          "stats write only the prefix the caller knows");
    perch_cache_options co;
    perch_cache_options_init(&co, sizeof co);
    CHECK(co.struct_size == sizeof co && co.memory_bytes == 0, "options_init sets defaults");
    co.memory_bytes = 1u << 20;
    perch_cache *small = NULL;
    CHECK(perch_cache_create(NULL, &co, &small) == PERCH_OK, "cache_create with options");
    st.struct_size = sizeof st;
    perch_cache_get_stats(small, &st);
    CHECK(st.bytes_budget == (1u << 20), "options.memory_bytes is honoured");
    perch_cache_unref(small);

    perch_slice paths[2] = {{(const uint8_t *)"/a.html", 7}, {(const uint8_t *)"/img/*", 6}};
    perch_cache_invalidate_result inv;
    inv.struct_size = sizeof inv;
    inv.removed = 99;
    CHECK(perch_cache_invalidate(cache, paths, 2, &inv) == PERCH_OK && inv.removed == 0 &&
              inv.refused_reason == NULL,
          "invalidate exact and prefix paths");
    perch_slice bad_paths[2] = {{(const uint8_t *)"/ok", 3}, {(const uint8_t *)"/a*b", 4}};
    CHECK(perch_cache_invalidate(cache, bad_paths, 2, NULL) == PERCH_E_INVALID_ARGUMENT,
          "a '*' that is not last is refused");
    perch_slice relative = {(const uint8_t *)"a.html", 6};
    CHECK(perch_cache_invalidate(cache, &relative, 1, NULL) == PERCH_E_INVALID_ARGUMENT,
          "a path without a leading '/' is refused");
    CHECK(perch_cache_invalidate((perch_cache *)(void *)cfg, paths, 1, NULL) ==
              PERCH_E_INVALID_HANDLE,
          "a config is not a cache");

    /* Runtime creation arguments */
    perch_runtime *rt = NULL;
    perch_runtime_options ro;
    perch_runtime_options_init(&ro, sizeof ro);
    CHECK(perch_runtime_create(cfg, &ro, &rt) == PERCH_E_INVALID_ARGUMENT,
          "an external loop mode needs a uv_loop");
    ro.loop_mode = 7;
    CHECK(perch_runtime_create(cfg, &ro, &rt) == PERCH_E_INVALID_ARGUMENT, "unknown loop mode");
    perch_config *unloaded = NULL;
    perch_config_create(&unloaded);
    ro.loop_mode = PERCH_LOOP_OWN;
    CHECK(perch_runtime_create(unloaded, &ro, &rt) == PERCH_E_STATE,
          "a runtime needs a loaded config");
    perch_config_unref(unloaded);

    perch_cache_unref(cache);
    perch_config_unref(cfg);
    return tap_done();
}

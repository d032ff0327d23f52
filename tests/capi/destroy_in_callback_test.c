/* C API: a runtime may be destroyed from inside its own shutdown callback, in either loop
 * mode, including when the callback fires from inside perch_runtime_shutdown() (nothing was
 * open) and when it fires from inside the loop (a connection had to finish first). Built
 * with the sanitizers, a use after free here fails the run. */
#define _POSIX_C_SOURCE 200809L
#include "tap.h"

#include <perch/perch.h>

#include <string.h>
#include <uv.h>

static int fired;

static void destroy_it(void *user, perch_runtime *rt) {
    (void)user;
    fired++;
    perch_runtime_destroy(rt);
}

static perch_runtime *make(uint32_t mode, uv_loop_t *loop) {
    static const char json[] =
        "{\"distribution\": {\"origin\": [{\"origin_id\": \"s\", \"perch\": {\"directory\": "
        "\"" PERCH_SITE_DIR "\"}}], \"default_cache_behavior\": {\"target_origin_id\": \"s\","
        " \"allowed_methods\": [\"GET\", \"HEAD\"], \"cached_methods\": [\"GET\", \"HEAD\"],"
        " \"viewer_protocol_policy\": \"allow-all\"}}}";
    perch_config *cfg;
    perch_config_create(&cfg);
    if (perch_config_load_json(cfg, json, sizeof json - 1, NULL) != PERCH_OK) return NULL;
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = mode;
    o.uv_loop = loop;
    perch_runtime *rt = NULL;
    perch_runtime_create(cfg, &o, &rt);
    perch_config_unref(cfg);
    return rt;
}

int main(void) {
    uv_loop_t loop;
    uv_loop_init(&loop);

    perch_runtime *rt = make(PERCH_LOOP_EXTERNAL, &loop);
    CHECK(rt != NULL, "external loop runtime");
    fired = 0;
    CHECK(perch_runtime_shutdown(rt, 1000, destroy_it, NULL) == PERCH_OK,
          "shutdown with nothing open (external loop)");
    CHECK(fired == 1, "the callback fired inside shutdown and destroyed the runtime");
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0, "the host loop runs down");

    rt = make(PERCH_LOOP_OWN, NULL);
    CHECK(rt != NULL, "own loop runtime");
    fired = 0;
    CHECK(perch_runtime_shutdown(rt, 1000, destroy_it, NULL) == PERCH_OK,
          "shutdown with nothing open (own loop)");
    CHECK(fired == 1, "the callback fired inside shutdown and destroyed the runtime");

    /* With a listener: the callback fires from inside the loop after the listener closed. */
    rt = make(PERCH_LOOP_EXTERNAL, &loop);
    const char url[] = "http://127.0.0.1:0";
    CHECK(perch_runtime_listen(rt, url, sizeof url - 1, NULL) == PERCH_OK, "listen");
    fired = 0;
    perch_runtime_shutdown(rt, 1000, destroy_it, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(fired == 1, "destroyed from a callback fired by the loop");
    CHECK(uv_loop_close(&loop) == 0, "every handle of the runtime was closed");
    return tap_done();
}

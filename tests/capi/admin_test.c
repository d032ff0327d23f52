/* C API: the admin endpoint (perch_runtime_listen_admin) on a runtime driven from a poll()
 * loop: a cached object invalidated through POST /invalidations is fetched again; a wrong
 * token is refused; a config without perch.admin gives PERCH_E_NOT_FOUND; the admin address
 * cannot be listened on twice; perch_cache_invalidate checks paths the same way. */
#define _POSIX_C_SOURCE 200809L
#include "loopback.h"
#include "tap.h"

#include <perch/perch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "capi-admin-token-0123456789"

static uint16_t g_viewer_port, g_admin_port;
static char g_replies[6][4096];
static volatile int g_client_done;

static void post_invalidation(const char *token, char *out, size_t cap) {
    const char body[] = "{\"paths\": [\"/about%2Ehtml\"]}";
    char req[512];
    snprintf(req, sizeof req,
             "POST /invalidations HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             token, sizeof body - 1, body);
    loopback_exchange(g_admin_port, req, out, cap);
}

static void *client(void *arg) {
    (void)arg;
    const char get[] = "GET /about.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    loopback_exchange(g_viewer_port, get, g_replies[0], sizeof g_replies[0]); /* Miss */
    loopback_exchange(g_viewer_port, get, g_replies[1], sizeof g_replies[1]); /* Hit */
    post_invalidation("wrong-token-wrong-token", g_replies[2], sizeof g_replies[2]);
    loopback_exchange(g_viewer_port, get, g_replies[3], sizeof g_replies[3]); /* still a Hit */
    post_invalidation(TOKEN, g_replies[4], sizeof g_replies[4]);
    loopback_exchange(g_viewer_port, get, g_replies[5], sizeof g_replies[5]); /* Miss again */
    g_client_done = 1;
    return NULL;
}

static perch_runtime *runtime_for(const char *site, const char *admin, perch_config **cfg_out) {
    char json[2048];
    snprintf(json, sizeof json,
             "{\"distribution\": {\"origin\": [{\"origin_id\": \"site\", \"perch\": {\"directory\": "
             "\"%s\"}}], \"default_cache_behavior\": {\"target_origin_id\": \"site\","
             " \"allowed_methods\": [\"GET\", \"HEAD\"], \"cached_methods\": [\"GET\", \"HEAD\"],"
             " \"viewer_protocol_policy\": \"allow-all\"}}%s}",
             site, admin);
    perch_config *cfg;
    perch_config_create(&cfg);
    if (perch_config_load_json(cfg, json, strlen(json), NULL) != PERCH_OK) {
        printf("# %s\n", perch_config_last_error(cfg));
        perch_config_unref(cfg);
        return NULL;
    }
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = PERCH_LOOP_OWN;
    perch_runtime *rt = NULL;
    perch_runtime_create(cfg, &o, &rt);
    *cfg_out = cfg;
    return rt;
}

int main(int argc, char **argv) {
    const char *site = argc == 2 ? argv[1] : PERCH_SITE_DIR;

    /* Without perch.admin. */
    perch_config *plain_cfg;
    perch_runtime *plain = runtime_for(site, "", &plain_cfg);
    CHECK(plain != NULL, "a runtime without perch.admin");
    CHECK(perch_runtime_listen_admin(plain, NULL) == PERCH_E_NOT_FOUND,
          "listen_admin without perch.admin is PERCH_E_NOT_FOUND");
    CHECK(strstr(perch_runtime_last_error(plain), "perch.admin") != NULL,
          "last_error names perch.admin");
    perch_runtime_destroy(plain);
    perch_config_unref(plain_cfg);
    CHECK(perch_runtime_listen_admin(NULL, NULL) == PERCH_E_INVALID_HANDLE,
          "listen_admin(NULL) is PERCH_E_INVALID_HANDLE");

    /* With perch.admin. */
    g_admin_port = loopback_free_port();
    char admin[256];
    snprintf(admin, sizeof admin,
             ", \"perch\": {\"admin\": {\"listen\": \"http://127.0.0.1:%u\", \"token\": \"%s\"}}",
             (unsigned)g_admin_port, TOKEN);
    perch_config *cfg;
    perch_runtime *rt = runtime_for(site, admin, &cfg);
    CHECK(rt != NULL, "a runtime with perch.admin");
    if (!rt) return tap_done();
    CHECK(perch_runtime_listen(rt, "http://127.0.0.1:0", 18, &g_viewer_port) == PERCH_OK,
          "viewer listener");
    uint16_t bound = 0;
    CHECK(perch_runtime_listen_admin(rt, &bound) == PERCH_OK && bound == g_admin_port,
          "listen_admin binds perch.admin.listen");
    CHECK(perch_runtime_listen_admin(rt, NULL) == PERCH_E_IO,
          "a second admin listener on the same address is refused (no SO_REUSEPORT)");

    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    drive_own_loop(rt, &g_client_done);
    pthread_join(t, NULL);
    CHECK(strstr(g_replies[0], "X-Cache: Miss") != NULL, "first request is a Miss");
    CHECK(strstr(g_replies[1], "X-Cache: Hit") != NULL, "second request is a Hit");
    CHECK(strncmp(g_replies[2], "HTTP/1.1 401", 12) == 0 &&
              strstr(g_replies[2], "WWW-Authenticate: Bearer") != NULL,
          "a wrong token gets 401 with WWW-Authenticate");
    CHECK(strstr(g_replies[3], "X-Cache: Hit") != NULL, "a refused invalidation removes nothing");
    CHECK(strncmp(g_replies[4], "HTTP/1.1 201", 12) == 0 &&
              strstr(g_replies[4], "\"status\":\"Completed\"") != NULL &&
              strstr(g_replies[4], "Location: /invalidations/I") != NULL,
          "POST /invalidations answers 201 with a Completed record and its Location");
    CHECK(strstr(g_replies[5], "X-Cache: Miss") != NULL,
          "after the invalidation (\"/about%2Ehtml\" is \"/about.html\") the object is fetched again");

    /* perch_cache_invalidate shares the admin endpoint's path rules. */
    perch_cache *cache = perch_runtime_cache(rt);
    const char *bad[] = {"/a*b", "a", "/a?x=1", "/a b", "/a%zz"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        perch_slice s = {(const uint8_t *)bad[i], strlen(bad[i])};
        char what[96];
        snprintf(what, sizeof what, "perch_cache_invalidate refuses \"%s\" and says why", bad[i]);
        perch_cache_invalidate_result why;
        why.struct_size = sizeof why;
        CHECK(perch_cache_invalidate(cache, &s, 1, &why) == PERCH_E_INVALID_ARGUMENT &&
                  why.refused_index == 0 && why.refused_reason && why.refused_reason[0],
              what);
    }
    perch_cache_invalidate_result inv;
    inv.struct_size = sizeof inv;
    inv.removed = 99;
    perch_slice all = {(const uint8_t *)"/*", 2};
    CHECK(perch_cache_invalidate(cache, &all, 1, &inv) == PERCH_OK && inv.removed == 1,
          "\"/*\" removes everything");

    CHECK(perch_runtime_shutdown(rt, 1000, NULL, NULL) == PERCH_OK,
          "shutdown closes the admin listener");
    perch_runtime_destroy(rt);
    perch_config_unref(cfg);
    return tap_done();
}

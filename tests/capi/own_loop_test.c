/* C API: a runtime on its own loop, driven through backend_fd + timeout + step from a poll()
 * loop (the embedded-fd mode), serving a real HTTP request from a client thread; reentrancy
 * refused inside callbacks; graceful shutdown and destroy. */
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

static uint16_t g_port;
static char g_reply[2][4096];
static volatile int g_client_done;
static int g_shutdown_calls;
static perch_status g_step_inside_cb;

static void fetch(char *out, size_t cap) {
    loopback_exchange(g_port, "GET /about.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                      out, cap);
}

static void *client(void *arg) {
    (void)arg;
    fetch(g_reply[0], sizeof g_reply[0]);
    fetch(g_reply[1], sizeof g_reply[1]);
    g_client_done = 1;
    return NULL;
}

static void on_shutdown(void *user, perch_runtime *rt) {
    (void)user;
    g_shutdown_calls++;
    g_step_inside_cb = perch_runtime_step(rt);
}

int main(int argc, char **argv) {
    const char *site = argc == 2 ? argv[1] : PERCH_SITE_DIR;
    perch_config *cfg = site_config(site);
    CHECK(cfg != NULL, "config loads");

    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = PERCH_LOOP_OWN;
    perch_runtime *rt = NULL;
    CHECK(perch_runtime_create(cfg, &o, &rt) == PERCH_OK, "runtime on its own loop");
    perch_runtime *rt2 = NULL;
    CHECK(perch_runtime_create(cfg, &o, &rt2) == PERCH_OK, "a second runtime in this process");
    perch_config_unref(cfg); /* the runtime holds its own reference */
    CHECK(perch_runtime_backend_fd(rt) >= 0, "backend fd");
    const char url[] = "http://127.0.0.1:0";
    CHECK(perch_runtime_listen(rt, url, sizeof url - 1, &g_port) == PERCH_OK && g_port > 0,
          "listen on a free port");
    /* Runtimes of one process share an address (SO_REUSEPORT), as perch-proxy's workers do. */
    char same[64];
    int same_len = snprintf(same, sizeof same, "http://127.0.0.1:%u", (unsigned)g_port);
    uint16_t port2 = 0;
    CHECK(perch_runtime_listen(rt2, same, (size_t)same_len, &port2) == PERCH_OK &&
              port2 == g_port,
          "a second runtime listens on the same address");
    perch_runtime_destroy(rt2); /* nobody drives it: its listener must not take connections */
    const char bad_url[] = "ftp://127.0.0.1:1";
    CHECK(perch_runtime_listen(rt, bad_url, sizeof bad_url - 1, NULL) == PERCH_E_INVALID_ARGUMENT,
          "a bad listen url is refused");
    CHECK(strstr(perch_runtime_last_error(rt), "ftp://") != NULL, "last_error names the url");

    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    drive_own_loop(rt, &g_client_done);
    pthread_join(t, NULL);
    CHECK(strstr(g_reply[0], "200 OK") && strstr(g_reply[0], "X-Cache: Miss from perch"),
          "first request: a miss from the directory origin");
    CHECK(strstr(g_reply[1], "X-Cache: Hit from perch") && strstr(g_reply[1], "About"),
          "second request: a hit with the body");

    perch_runtime_stats s;
    s.struct_size = sizeof s;
    CHECK(perch_runtime_get_stats(rt, &s) == PERCH_OK && s.requests == 2 && s.hits == 1 &&
              s.misses == 1,
          "runtime stats count the requests");
    perch_cache_stats cs;
    cs.struct_size = sizeof cs;
    CHECK(perch_cache_get_stats(perch_runtime_cache(rt), &cs) == PERCH_OK && cs.entries == 1,
          "the runtime's own cache holds the object");
    perch_slice p = {(const uint8_t *)"/about.html", 11};
    perch_cache_invalidate_result inv;
    inv.struct_size = sizeof inv;
    CHECK(perch_cache_invalidate(perch_runtime_cache(rt), &p, 1, &inv) == PERCH_OK &&
              inv.removed == 1 && inv.refused_reason == NULL,
          "invalidating the path removes it");

    CHECK(perch_runtime_shutdown(rt, 1000, on_shutdown, NULL) == PERCH_OK, "shutdown");
    CHECK(g_shutdown_calls == 1, "the shutdown callback fired (no connection was open)");
    CHECK(g_step_inside_cb == PERCH_E_REENTRANT, "step from inside a callback is refused");
    CHECK(perch_runtime_run(rt) == PERCH_OK, "run returns once nothing is left");
    perch_runtime_destroy(rt);
    CHECK(1, "destroy after run");
    return tap_done();
}

/* C API: perch_runtime_options.log_level. 0 is the default (PERCH_LOG_WARN) and no level is 0,
 * so PERCH_LOG_ERROR really means errors only; values that are neither 0 nor a PERCH_LOG_*
 * level are refused; perch_log_cb receives the same public PERCH_LOG_* values.
 *
 * Each level gets a runtime that sees the same traffic: a request whose origin refuses the
 * connection (a warning "origin ...", and a debug access line "GET /down -> 502 ...") and a
 * malformed request (info "rejected request ..."). Nothing in the library logs at
 * PERCH_LOG_ERROR yet, so that an error-level line is delivered at PERCH_LOG_ERROR is checked
 * on the level mapping itself (log_level_map_test.cpp). */
#define _POSIX_C_SOURCE 200809L
#include "loopback.h"
#include "tap.h"

#include <perch/perch.h>

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static uint16_t g_port;
static char g_replies[2][4096];
static volatile int g_client_done;

enum { kind_origin, kind_rejected, kind_access, kind_other, kinds };

static int g_count[kinds];
static int g_wrong_level; /* lines whose level is not the one their kind is logged at */
static int g_lines;

static int kind_of(const char *msg, size_t len) {
    if (len >= 7 && !memcmp(msg, "origin ", 7)) return kind_origin;
    if (len >= 16 && !memcmp(msg, "rejected request", 16)) return kind_rejected;
    if (len >= 7 && !memcmp(msg, "access ", 7)) return kind_access;
    return kind_other;
}

static void on_log(void *user, int32_t level, const char *id, size_t id_len, const char *msg,
                   size_t msg_len) {
    (void)user;
    (void)id;
    (void)id_len;
    static const int32_t expected[kinds] = {PERCH_LOG_WARN, PERCH_LOG_INFO, PERCH_LOG_INFO, 0};
    int k = kind_of(msg, msg_len);
    g_count[k]++;
    g_lines++;
    if (k == kind_other || level != expected[k]) {
        g_wrong_level++;
        printf("# unexpected line: level %d: %.*s\n", (int)level, (int)msg_len, msg);
    }
}

static void *client(void *arg) {
    (void)arg;
    loopback_exchange(g_port, "GET /down HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                      g_replies[0], sizeof g_replies[0]);
    loopback_exchange(g_port, "NOT HTTP AT ALL\r\n\r\n", g_replies[1], sizeof g_replies[1]);
    g_client_done = 1;
    return NULL;
}

/* Runs the traffic through a runtime logging at `level`; returns 0 if it could not start. */
static int run_at(perch_config *cfg, int32_t level) {
    memset(g_count, 0, sizeof g_count);
    g_wrong_level = g_lines = 0;
    g_client_done = 0;
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = PERCH_LOOP_OWN;
    o.log = on_log;
    o.log_level = level;
    perch_runtime *rt = NULL;
    if (perch_runtime_create(cfg, &o, &rt) != PERCH_OK) return 0;
    if (perch_runtime_listen(rt, "http://127.0.0.1:0", 18, &g_port) != PERCH_OK) {
        perch_runtime_destroy(rt);
        return 0;
    }
    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    drive_own_loop(rt, &g_client_done);
    pthread_join(t, NULL);
    perch_runtime_shutdown(rt, 1000, NULL, NULL);
    perch_runtime_run(rt);
    perch_runtime_destroy(rt);
    return strstr(g_replies[0], "HTTP/1.1 502") && strstr(g_replies[1], "HTTP/1.1 400");
}

int main(void) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"distribution\": {\"origin\": [{\"origin_id\": \"down\", \"domain_name\": "
             "\"127.0.0.1\", \"connection_attempts\": 1, \"connection_timeout\": 1,"
             " \"custom_origin_config\": {\"http_port\": %u, \"origin_protocol_policy\": "
             "\"http-only\"}}], \"default_cache_behavior\": {\"target_origin_id\": \"down\","
             " \"allowed_methods\": [\"GET\", \"HEAD\"], \"cached_methods\": [\"GET\", \"HEAD\"],"
             " \"viewer_protocol_policy\": \"allow-all\"}}}",
             (unsigned)loopback_free_port());
    perch_config *cfg;
    perch_config_create(&cfg);
    CHECK(perch_config_load_json(cfg, json, strlen(json), NULL) == PERCH_OK, "config loads");
    if (perch_config_last_error(cfg)[0]) printf("# %s\n", perch_config_last_error(cfg));

    CHECK(PERCH_LOG_ERROR != 0 && PERCH_LOG_ERROR < PERCH_LOG_WARN &&
              PERCH_LOG_WARN < PERCH_LOG_INFO && PERCH_LOG_INFO < PERCH_LOG_DEBUG,
          "no level is 0 (the default), and levels grow more verbose");

    /* Out-of-range levels are refused, and nothing is created. */
    const int32_t bad[] = {-1, PERCH_LOG_DEBUG + 1, 100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
        perch_runtime_options o;
        perch_runtime_options_init(&o, sizeof o);
        o.loop_mode = PERCH_LOOP_OWN;
        o.log_level = bad[i];
        perch_runtime *rt = NULL;
        char what[96];
        snprintf(what, sizeof what, "log_level %ld is refused with PERCH_E_INVALID_ARGUMENT",
                 (long)bad[i]);
        CHECK(perch_runtime_create(cfg, &o, &rt) == PERCH_E_INVALID_ARGUMENT && rt == NULL, what);
        o.log = on_log;
        CHECK(perch_runtime_create(cfg, &o, &rt) == PERCH_E_INVALID_ARGUMENT && rt == NULL,
              "... with a log callback as well");
    }

    /* Errors only: the warning is not delivered (nor anything more verbose). */
    CHECK(run_at(cfg, PERCH_LOG_ERROR), "PERCH_LOG_ERROR: the runtime serves the traffic");
    CHECK(g_lines == 0, "PERCH_LOG_ERROR: the origin warning is not delivered, nor info or debug");

    CHECK(run_at(cfg, 0), "0 (default): the runtime serves the traffic");
    CHECK(g_count[kind_origin] >= 1 && g_count[kind_rejected] == 0 && g_count[kind_access] == 0 &&
              g_wrong_level == 0,
          "0 means PERCH_LOG_WARN: the warning arrives with level PERCH_LOG_WARN, nothing more");

    CHECK(run_at(cfg, PERCH_LOG_WARN), "PERCH_LOG_WARN: the runtime serves the traffic");
    CHECK(g_count[kind_origin] >= 1 && g_count[kind_rejected] == 0 && g_count[kind_access] == 0 &&
              g_wrong_level == 0,
          "PERCH_LOG_WARN: the warning arrives with level PERCH_LOG_WARN, nothing more");

    CHECK(run_at(cfg, PERCH_LOG_INFO), "PERCH_LOG_INFO: the runtime serves the traffic");
    CHECK(g_count[kind_origin] >= 1 && g_count[kind_rejected] == 1 && g_count[kind_access] == 1 &&
              g_wrong_level == 0,
          "PERCH_LOG_INFO: warning and info lines (one access line per request), each with its "
          "PERCH_LOG_* level");

    CHECK(run_at(cfg, PERCH_LOG_DEBUG), "PERCH_LOG_DEBUG: the runtime serves the traffic");
    CHECK(g_count[kind_origin] >= 1 && g_count[kind_rejected] == 1 && g_count[kind_access] == 1 &&
              g_wrong_level == 0,
          "PERCH_LOG_DEBUG: warning and info lines, each with its PERCH_LOG_* level");

    perch_config_unref(cfg);
    return tap_done();
}

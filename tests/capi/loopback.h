/* Helpers for the C API tests: one HTTP exchange with a loopback port (from a client thread),
 * and a poll() loop driving a PERCH_LOOP_OWN runtime through backend_fd + timeout + step. */
#ifndef PERCH_TESTS_LOOPBACK_H
#define PERCH_TESTS_LOOPBACK_H

#include <perch/perch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sends req to 127.0.0.1:port and reads until the server closes; out is NUL-terminated
 * ("" if the connection failed). */
static void loopback_exchange(uint16_t port, const char *req, char *out, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out[0] = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || write(fd, req, strlen(req)) < 0) {
        close(fd);
        return;
    }
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, out + n, cap - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(fd);
}

/* A loopback port that was free a moment ago: nobody listens there now, so connections to it
 * are refused (0 if none could be had). */
static inline uint16_t loopback_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A loaded config serving the directory `site` through one behavior (NULL if it failed). */
static inline perch_config *site_config(const char *site) {
    char json[1024];
    snprintf(json, sizeof json,
             "{\"distribution\": {\"origin\": [{\"origin_id\": \"site\", \"perch\": {\"directory\": "
             "\"%s\"}}], \"default_cache_behavior\": {\"target_origin_id\": \"site\","
             " \"allowed_methods\": [\"GET\", \"HEAD\"], \"cached_methods\": [\"GET\", \"HEAD\"],"
             " \"viewer_protocol_policy\": \"allow-all\"}}}",
             site);
    perch_config *cfg = NULL;
    if (perch_config_create(&cfg) != PERCH_OK) return NULL;
    if (perch_config_load_json(cfg, json, strlen(json), NULL) != PERCH_OK) {
        perch_config_unref(cfg);
        return NULL;
    }
    return cfg;
}

/* Drives an own-loop runtime until *until is set (or about 200 s have passed). */
static void drive_own_loop(perch_runtime *rt, volatile int *until) {
    for (int i = 0; i < 20000 && !*until; ++i) {
        struct pollfd p = {perch_runtime_backend_fd(rt), POLLIN, 0};
        int timeout = perch_runtime_timeout_ms(rt);
        poll(&p, 1, timeout < 0 || timeout > 10 ? 10 : timeout);
        perch_runtime_step(rt);
    }
}

#endif

/*
 * Embedding perch in a libuv program: the host owns the loop; perch runs on it.
 *
 *   embed-libuv SITE_DIR
 *
 * Serves SITE_DIR through a perch runtime on a free loopback port, then fetches "/" twice
 * with a small libuv HTTP client of its own, printing each response's status and X-Cache
 * (a Miss, then a Hit), and shuts the runtime down gracefully. Exit status 0 on success.
 */
#define _POSIX_C_SOURCE 200809L

#include <perch/perch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static perch_runtime *g_runtime;
static uv_tcp_t g_client;
static uv_connect_t g_connect;
static uv_write_t g_write;
static char g_response[65536];
static size_t g_response_len;
static int g_requests_done;
static int g_failed;

static const char request[] = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";

static void send_request(void);

static void on_shutdown(void *user, perch_runtime *rt) {
    (void)user;
    perch_runtime_destroy(rt); /* from inside the callback: allowed */
    g_runtime = NULL;
}

static void on_client_closed(uv_handle_t *h) {
    (void)h;
    perch_runtime_shutdown(g_runtime, 1000, on_shutdown, NULL);
}

static void finish(int failed) {
    g_failed |= failed;
    uv_close((uv_handle_t *)&g_client, on_client_closed);
}

/* Prints "<status line> | <X-Cache line>" once a whole response has arrived. */
static int response_complete(void) {
    char *end = strstr(g_response, "\r\n\r\n");
    if (!end) return 0;
    size_t head_len = (size_t)(end - g_response) + 4;
    const char *cl = strstr(g_response, "\r\nContent-Length: ");
    size_t body = cl && cl < end ? (size_t)strtoul(cl + 18, NULL, 10) : 0;
    if (g_response_len < head_len + body) return 0;
    const char *xc = strstr(g_response, "\r\nX-Cache: ");
    int status_len = (int)(strstr(g_response, "\r\n") - g_response);
    int xc_len = xc && xc < end ? (int)(strstr(xc + 2, "\r\n") - (xc + 2)) : 0;
    printf("%.*s | %.*s\n", status_len, g_response, xc_len, xc ? xc + 2 : "");
    memmove(g_response, g_response + head_len + body, g_response_len - head_len - body);
    g_response_len -= head_len + body;
    g_response[g_response_len] = 0;
    return 1;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(g_response + g_response_len,
                       (unsigned)(sizeof g_response - 1 - g_response_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    (void)buf;
    if (n < 0) {
        fprintf(stderr, "embed-libuv: read: %s\n", uv_strerror((int)n));
        uv_read_stop(s);
        finish(1);
        return;
    }
    g_response_len += (size_t)n;
    g_response[g_response_len] = 0;
    if (!response_complete()) return;
    if (++g_requests_done == 2) {
        uv_read_stop(s);
        finish(0);
    } else {
        send_request();
    }
}

static void on_written(uv_write_t *w, int status) {
    (void)w;
    if (status) {
        fprintf(stderr, "embed-libuv: write: %s\n", uv_strerror(status));
        finish(1);
    }
}

static void send_request(void) {
    uv_buf_t b = uv_buf_init((char *)request, sizeof request - 1);
    uv_write(&g_write, (uv_stream_t *)&g_client, &b, 1, on_written);
}

static void on_connected(uv_connect_t *c, int status) {
    if (status) {
        fprintf(stderr, "embed-libuv: connect: %s\n", uv_strerror(status));
        finish(1);
        return;
    }
    uv_read_start(c->handle, on_alloc, on_read);
    send_request();
}

int main(int argc, char **argv) {
    if (argc != 2 || strpbrk(argv[1], "\"\\")) {
        fprintf(stderr, "usage: embed-libuv SITE_DIR\n");
        return 2;
    }
    char json[2048];
    snprintf(json, sizeof json,
             "{\"distribution\": {\"default_root_object\": \"index.html\","
             " \"origin\": [{\"origin_id\": \"site\", \"perch\": {\"directory\": \"%s\"}}],"
             " \"default_cache_behavior\": {\"target_origin_id\": \"site\","
             " \"allowed_methods\": [\"GET\", \"HEAD\"], \"cached_methods\": [\"GET\", \"HEAD\"],"
             " \"viewer_protocol_policy\": \"allow-all\"}}}",
             argv[1]);

    perch_config *config;
    perch_config_create(&config);
    if (perch_config_load_json(config, json, strlen(json), NULL) != PERCH_OK) {
        fprintf(stderr, "embed-libuv: %s\n", perch_config_last_error(config));
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = PERCH_LOOP_EXTERNAL;
    o.uv_loop = loop;
    perch_status st = perch_runtime_create(config, &o, &g_runtime);
    perch_config_unref(config); /* the runtime keeps its own reference */
    if (st != PERCH_OK) {
        fprintf(stderr, "embed-libuv: %s\n", perch_strerror(st));
        return 1;
    }
    uint16_t port = 0;
    const char url[] = "http://127.0.0.1:0";
    if (perch_runtime_listen(g_runtime, url, sizeof url - 1, &port) != PERCH_OK) {
        fprintf(stderr, "embed-libuv: %s\n", perch_runtime_last_error(g_runtime));
        return 1;
    }
    printf("perch %s listening on 127.0.0.1:%u\n", perch_version_string(), port);

    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(loop, &g_client);
    uv_tcp_connect(&g_connect, &g_client, (const struct sockaddr *)&addr, on_connected);

    uv_run(loop, UV_RUN_DEFAULT); /* returns once the runtime and the client have closed */
    uv_loop_close(loop);
    printf("%s\n", g_failed ? "failed" : "done");
    return g_failed;
}
